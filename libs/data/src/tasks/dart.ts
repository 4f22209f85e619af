import { malformedRow } from '../errors';
import { type JsonLine, SkipCollector, readJsonArray, readJsonLines, describe as describeValue } from '../io';
import type { LoadOptions, Seq2SeqExample, Seq2SeqSplit } from '../types';
import { type SplitInfo, type TaskDefinition, firstExisting, makeSplit, referenceRows } from './task';

/** A DART triple: subject, relation, object. */
export type Triple = readonly [string, string, string];

/** DART source text: `subject : relation : object | subject : relation : object | ...` (METHOD.md §6). */
export function linearizeTriples(triples: readonly Triple[]): string {
  return triples.map(([s, p, o]) => `${s} : ${p} : ${o}`).join(' | ');
}

function readTripleset(row: JsonLine, file: string): Triple[] {
  const value = row.value.tripleset;
  if (!Array.isArray(value) || value.length === 0) {
    throw malformedRow(file, row.line, `"tripleset" must be a non-empty array of [subject, relation, object], found ${describeValue(value)}`);
  }
  return value.map((triple, i) => {
    if (!Array.isArray(triple) || triple.length !== 3 || !triple.every((part) => typeof part === 'string')) {
      throw malformedRow(file, row.line, `tripleset[${i}] must be 3 strings [subject, relation, object], found ${JSON.stringify(triple)}`);
    }
    return [triple[0], triple[1], triple[2]] as const;
  });
}

function readAnnotations(row: JsonLine, file: string): string[] {
  const value = row.value.annotations;
  if (!Array.isArray(value)) throw malformedRow(file, row.line, `"annotations" must be an array, found ${describeValue(value)}`);
  return value.map((a, i) => {
    const text = typeof a === 'object' && a !== null ? (a as Record<string, unknown>).text : undefined;
    if (typeof text !== 'string') throw malformedRow(file, row.line, `annotations[${i}].text must be a string, found ${describeValue(text)}`);
    return text;
  });
}

const SPLITS = [
  {
    name: 'train',
    // The official JSON if someone provides it; else the flattened JSON Lines (one reference per line).
    files: ['dart-v1.1.1-full-train.json', 'train.jsonl.gz', 'train.jsonl'],
    description: 'DART v1.1.1 train: 62,659 (triple set, reference) pairs',
  },
  { name: 'dev', files: ['dart-v1.1.1-full-dev.json'], description: 'DART v1.1.1 dev: 2,768 triple sets / 6,980 references' },
  { name: 'test', files: ['dart-v1.1.1-full-test.json'], description: 'DART v1.1.1 test: 5,097 triple sets / 12,552 references' },
] as const;

export const dart: TaskDefinition<'seq2seq'> = {
  id: 'dart',
  kind: 'seq2seq',
  description: 'DART v1.1.1 data-to-text: linearized triples -> English sentence',
  source: 'shared',
  splitNames: SPLITS.map((s) => s.name),
  notes: [
    'Source = triples linearized as "subject : relation : object | ...".',
    'Rows: train gives one row per reference; dev/test give one row per triple set with all references (option rows changes this).',
    'The shared train file is flattened (one reference per line); its triple sets cannot be regrouped, so per-input rows of it still have one reference each.',
    'Test has one empty reference (empty upstream too): kept among the references; skipped (and counted) as a per-reference training row.',
  ],
  splits(dir: string | undefined): SplitInfo[] {
    return SPLITS.map((s) => {
      const found = firstExisting(dir ?? '', s.files);
      return { name: s.name, available: found.exists, files: [found.file], labeled: true, official: true, description: s.description };
    });
  },
  load(info: SplitInfo, _dir, options: LoadOptions): Seq2SeqSplit {
    const file = info.files[0];
    const rows = referenceRows(info.name, options);
    const skipped = new SkipCollector();
    const examples: Seq2SeqExample[] = [];
    if (file.endsWith('.json')) {
      // Official layout: a JSON array of {tripleset, annotations: [{source, text}, ...]}.
      readJsonArray(file).forEach((row, i) => {
        const source = linearizeTriples(readTripleset(row, file));
        const references = readAnnotations(row, file);
        if (references.length === 0) return skipped.skip(file, row.line, 'no annotations');
        if (rows === 'per-input') {
          const target = references.find((r) => r.trim() !== '');
          if (target === undefined) return skipped.skip(file, row.line, 'empty reference text');
          examples.push({ id: `${info.name}-${i}`, source, target, references });
          return;
        }
        references.forEach((target, j) => {
          if (target.trim() === '') return skipped.skip(file, row.line, 'empty reference text');
          examples.push({ id: `${info.name}-${i}-${j}`, source, target, references });
        });
      });
    } else {
      // Flattened layout: one {id, tripleset, text} per line.
      readJsonLines(file).forEach((row, i) => {
        const source = linearizeTriples(readTripleset(row, file));
        const target = row.value.text;
        if (typeof target !== 'string') throw malformedRow(file, row.line, `field "text" must be a string, found ${describeValue(target)}`);
        if (target.trim() === '') return skipped.skip(file, row.line, 'empty reference text');
        const id = typeof row.value.id === 'string' ? row.value.id : `${info.name}-${i}`;
        examples.push({ id, source, target, references: [target] });
      });
    }
    return makeSplit('seq2seq', { task: 'dart', split: info.name, examples, skipped, labeled: true, files: [file] });
  },
};
