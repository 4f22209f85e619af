import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError, malformedRow } from './errors';
import type { SkipReport, SkippedRow } from './types';

/** Whole file as UTF-8 text; `.gz` files are gunzipped; a UTF-8 BOM is dropped; invalid UTF-8 is an error. */
export function readTextFile(file: string): string {
  if (!existsSync(file)) throw new DataError('MISSING_DATA', `file not found: ${file}`);
  if (statSync(file).isDirectory()) throw new DataError('MISSING_DATA', 'is a directory; expected a data file', { file });
  let bytes: Buffer = readFileSync(file);
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = decodeUtf8(bytes, file);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 text of `bytes`, refusing what is not UTF-8 instead of replacing it with U+FFFD (which would change the
 * data without a word: a tokenizer would learn the replacement character). The error names the file, the line and
 * the byte offset of the first bad sequence, as Python's decoder counts it.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    const at = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const shown = Array.from(bytes.subarray(at, Math.min(at + 4, bytes.length)), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw new DataError('MALFORMED_ROW', `not UTF-8 at byte offset ${at} (bytes ${shown}); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)`, { file, line });
  }
}

/**
 * Offset of the first byte that does not begin a well-formed UTF-8 sequence (Unicode's table 3-7: no overlong
 * forms, surrogates or code points above U+10FFFF), or -1 when all of `bytes` is UTF-8.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => k < n && bytes[k] >= lo && bytes[k] <= hi;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) i += 1;
    else if (b >= 0xc2 && b <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return i;
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else return i;
  }
  return -1;
}

/** Lines without their terminators (LF or CRLF); the empty string after a final newline is not a line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  return lines;
}

export interface TsvRow {
  /** 1-based line number in the file. */
  line: number;
  /** Field values by header name. */
  get(column: string): string;
}

export interface TsvTable {
  file: string;
  header: string[];
  rows: TsvRow[];
  has(column: string): boolean;
}

/**
 * A GLUE-style TSV: a header line, then rows split on tabs only (no quoting: GLUE text contains bare `"`).
 * Every row must have exactly as many fields as the header.
 */
export function readTsv(file: string, requiredColumns: readonly string[] = []): TsvTable {
  const lines = splitLines(readTextFile(file));
  if (lines.length === 0) throw malformedRow(file, 1, 'empty file: expected a header line');
  const header = lines[0].split('\t');
  const index = new Map(header.map((name, i) => [name, i]));
  for (const column of requiredColumns) {
    if (!index.has(column)) throw malformedRow(file, 1, `header lacks column "${column}" (header: ${header.join(', ')})`);
  }
  const rows: TsvRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].split('\t');
    const line = i + 1;
    if (fields.length !== header.length) {
      throw malformedRow(file, line, `expected ${header.length} tab-separated fields (as in the header), found ${fields.length}`);
    }
    rows.push({
      line,
      get(column: string): string {
        const at = index.get(column);
        if (at === undefined) throw malformedRow(file, line, `no column "${column}"`);
        return fields[at];
      },
    });
  }
  return { file, header, rows, has: (column) => index.has(column) };
}

export interface JsonLine {
  line: number;
  value: Record<string, unknown>;
}

/** JSON Lines: one object per non-blank line. A line that is not a JSON object is a `MALFORMED_ROW` error. */
export function readJsonLines(file: string): JsonLine[] {
  const lines = splitLines(readTextFile(file));
  const out: JsonLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (err) {
      throw malformedRow(file, i + 1, `invalid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw malformedRow(file, i + 1, 'expected a JSON object');
    }
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return out;
}

/**
 * A file holding one JSON array of objects (the official DART files). Returns each entry with the 1-based line
 * on which it starts, so row errors can name a line; a syntax error names the line of the entry that holds it.
 */
export function readJsonArray(file: string): JsonLine[] {
  const text = readTextFile(file);
  const spans = topLevelEntrySpans(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    for (const span of spans) {
      try {
        JSON.parse(text.slice(span.start, span.end));
      } catch (entryErr) {
        throw malformedRow(file, span.line, `invalid JSON in the entry starting on this line: ${(entryErr as Error).message.split('\n')[0]}`);
      }
    }
    const position = /position (\d+)/.exec(message);
    throw malformedRow(file, position ? lineAt(text, Number(position[1])) : 1, `invalid JSON: ${message}`);
  }
  if (!Array.isArray(value)) throw malformedRow(file, 1, 'expected a JSON array of entries');
  return value.map((entry, i) => {
    const line = spans[i]?.line ?? 1;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw malformedRow(file, line, `entry ${i} is not a JSON object`);
    return { line, value: entry as Record<string, unknown> };
  });
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where each element of a top-level JSON array starts (1-based line, offset) and ends (offset of the `,` or `]`
 * after it): a small scanner over strings and nesting that tolerates invalid JSON inside elements.
 */
function topLevelEntrySpans(text: string): { line: number; start: number; end: number }[] {
  const spans: { line: number; start: number; end: number }[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectingValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character (never a newline in valid JSON)
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (depth === 1 && expectingValue && c !== 93) {
      spans.push({ line, start: i, end: text.length });
      expectingValue = false;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth === 1 && c === 91) expectingValue = true;
    } else if (c === 93 || c === 125) {
      if (depth === 1 && spans.length > 0) spans[spans.length - 1].end = i;
      depth--;
    } else if (c === 44 && depth === 1) {
      if (spans.length > 0) spans[spans.length - 1].end = i;
      expectingValue = true;
    }
  }
  return spans;
}

/** Collects skipped rows with their reasons; `report()` is what a split returns. */
export class SkipCollector {
  private readonly byReason: Record<string, number> = {};
  private readonly samples: SkippedRow[] = [];
  private count = 0;

  skip(file: string, line: number, reason: string): void {
    this.count++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.samples.length < 20) this.samples.push({ file, line, reason });
  }

  report(): SkipReport {
    return { count: this.count, byReason: { ...this.byReason }, samples: [...this.samples] };
  }
}

/** A string field of a JSON row, or a `MALFORMED_ROW` error naming the field. */
export function stringField(row: JsonLine, key: string, file: string): string {
  const value = row.value[key];
  if (typeof value !== 'string') throw malformedRow(file, row.line, `field "${key}" must be a string, found ${describe(value)}`);
  return value;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}
