import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from './errors';
import { SkipCollector, readJsonArray, readJsonLines, readTextFile, readTsv } from './io';

let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'strata-io-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('readTsv', () => {
  it('reads fields by header name, tabs only (quotes are text), CRLF tolerated', () => {
    const file = write('ok.tsv', 'sentence\tlabel\r\nsays "hi" \t1\r\nbye\t0\r\n');
    const table = readTsv(file, ['sentence']);
    expect(table.rows.map((r) => [r.line, r.get('sentence'), r.get('label')])).toEqual([
      [2, 'says "hi" ', '1'],
      [3, 'bye', '0'],
    ]);
  });

  it('fails on a row with the wrong number of fields, naming file and line', () => {
    const file = write('bad.tsv', 'sentence\tlabel\ngood\t1\nno label here\nalso good\t0\n');
    expect(() => readTsv(file)).toThrow(new DataError('MALFORMED_ROW', 'expected 2 tab-separated fields (as in the header), found 1', { file, line: 3 }));
    try {
      readTsv(file);
    } catch (err) {
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).message).toBe(`${file}:3: expected 2 tab-separated fields (as in the header), found 1`);
      expect((err as DataError).line).toBe(3);
    }
  });

  it('fails when a required column is missing from the header', () => {
    const file = write('nohead.tsv', 'text\tlabel\na\t1\n');
    expect(() => readTsv(file, ['sentence'])).toThrow(`${file}:1: header lacks column "sentence" (header: text, label)`);
  });
});

describe('readJsonLines', () => {
  it('skips blank lines and keeps 1-based line numbers', () => {
    const file = write('ok.jsonl', '{"a":1}\n\n{"a":2}\n');
    expect(readJsonLines(file)).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { a: 2 } },
    ]);
  });

  it('names the line of invalid JSON and of non-objects', () => {
    const bad = write('bad.jsonl', '{"a":1}\n{"a":\n');
    expect(() => readJsonLines(bad)).toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
    const arr = write('arr.jsonl', '[1,2]\n');
    expect(() => readJsonLines(arr)).toThrow(`${arr}:1: expected a JSON object`);
  });

  it('reads gzip files', () => {
    const file = write('z.jsonl.gz', gzipSync('{"x":"é"}\n'));
    expect(readJsonLines(file)).toEqual([{ line: 1, value: { x: 'é' } }]);
    expect(() => readTextFile(path.join(dir, 'absent.txt'))).toThrow('file not found');
  });
});

describe('readJsonArray', () => {
  it('gives the line each top-level entry starts on, ignoring brackets inside strings', () => {
    const file = write('arr.json', '[\n  {\n    "t": "[{,"\n  },\n  {"t": "x\\"]"},\n\n  {\n "t": 3}\n]\n');
    expect(readJsonArray(file).map((e) => e.line)).toEqual([2, 5, 7]);
  });

  it('names the line of a syntax error', () => {
    const file = write('broken.json', '[\n  {"a": 1},\n  {"a": }\n]\n');
    expect(() => readJsonArray(file)).toThrow(/broken\.json:3: invalid JSON in the entry starting on this line/);
  });
});

describe('SkipCollector', () => {
  it('counts every skipped row by reason and keeps the first 20 as samples', () => {
    const skips = new SkipCollector();
    for (let i = 0; i < 25; i++) skips.skip('f.tsv', i + 2, i % 5 === 0 ? 'missing label' : 'empty text');
    const report = skips.report();
    expect(report.count).toBe(25);
    expect(report.byReason).toEqual({ 'missing label': 5, 'empty text': 20 });
    expect(report.samples).toHaveLength(20);
    expect(report.samples[0]).toEqual({ file: 'f.tsv', line: 2, reason: 'missing label' });
  });
});
