// Maps field paths of a parsed YAML document to 1-based line:col, so every problem points into the file.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

export type FieldPath = ReadonlyArray<PropertyKey>;

/** `spec.students.depths[1]` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export interface Position {
  line: number;
  col: number;
}

/** A manifest's text parsed once, kept to locate fields for later checks (teacher, files). */
export class ManifestSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(readonly text: string, readonly fileName: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  position(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /**
   * The position of `path`: a scalar's value, the key of a block collection, or (for a missing field) the key of
   * its deepest present ancestor; with `preferKey`, the key of the last field. The document start when nothing matches.
   */
  locate(path: FieldPath, preferKey = false): Position {
    let node: unknown = this.doc.contents;
    let at: Position = node && (node as Node).range ? this.position((node as Node).range![0]) : { line: 1, col: 1 };
    for (const [i, key] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
        if (!pair) return at;
        const keyNode = pair.key as Node | null;
        const value = pair.value as Node | null;
        const keyAt = keyNode && keyNode.range ? this.position(keyNode.range[0]) : at;
        if (preferKey && i === path.length - 1) at = keyAt;
        else if (value && value.range && (isScalar(value) || (value as { flow?: boolean }).flow)) at = this.position(value.range[0]);
        else at = keyAt;
        node = value;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key] as Node | undefined;
        if (!item || !item.range) return at;
        at = this.position(item.range[0]);
        node = item;
      } else {
        return at;
      }
    }
    return at;
  }
}
