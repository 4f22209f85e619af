import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from './errors';
import { SkipCollector, invalidUtf8Offset, readJsonArray, readJsonLines, readTextFile, readTsv } from './io';

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

describe('invalid UTF-8', () => {
  it('fails with file, line and byte offset instead of replacing bytes with U+FFFD', () => {
    // Latin-1 'café' in the second row: before, it read as 'caf\ufffd' and the tokenizer learned one more token.
    const bytes = Buffer.concat([Buffer.from('sentence\tlabel\ngood\t1\ncaf'), Buffer.from([0xe9]), Buffer.from('\t0\n')]);
    const file = write('latin1.tsv', bytes);
    expect(() => readTsv(file)).toThrow(
      new DataError('MALFORMED_ROW', 'not UTF-8 at byte offset 25 (bytes 0xe9 0x09 0x30 0x0a); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)', { file, line: 3 }),
    );
    expect(() => readJsonLines(write('bad.jsonl', Buffer.from([0x7b, 0x7d, 0x0a, 0xff, 0x0a])))).toThrow(/bad\.jsonl:2: not UTF-8 at byte offset 3 \(bytes 0xff 0x0a\)/);
    const gz = write('bad.tsv.gz', gzipSync(Buffer.from([0x61, 0x0a, 0x62, 0xc3])));
    expect(() => readTextFile(gz)).toThrow(/bad\.tsv\.gz:2: not UTF-8 at byte offset 3 \(bytes 0xc3\)/);
  });

  it('finds the first ill-formed sequence as Unicode table 3-7 defines it', () => {
    const at = (...b: number[]) => invalidUtf8Offset(Uint8Array.from(b));
    expect(at(0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80)).toBe(-1); // a é € 😀
    expect(at(0x61, 0xc0, 0xaf)).toBe(1); // overlong '/'
    expect(at(0xe0, 0x80, 0xaf)).toBe(0); // overlong three-byte form
    expect(at(0x61, 0xed, 0xa0, 0x80)).toBe(1); // a UTF-16 surrogate
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // above U+10FFFF
    expect(at(0x61, 0x62, 0xe2, 0x82)).toBe(2); // truncated at the end
    expect(at(0x80)).toBe(0); // a lone continuation byte
    expect(at(0xf5, 0x80, 0x80, 0x80)).toBe(0);
  });
});
