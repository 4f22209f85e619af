import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatTaskStats, lengthPercentiles, taskStats } from './stats';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'strata-stats-'));
  mkdirSync(path.join(root, 'sst2'));
  const rows = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => `${Array.from({ length: (i % 10) + 1 }, (_, w) => `word${(w + offset) % 7}`).join(' ')} \t${i % 3 === 0 ? 0 : 1}`);
  writeFileSync(path.join(root, 'sst2', 'train.tsv'), ['sentence\tlabel', ...rows(100, 0)].join('\n'));
  writeFileSync(path.join(root, 'sst2', 'dev.tsv'), ['sentence\tlabel', ...rows(10, 3), 'no label here\t'].join('\n'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lengthPercentiles', () => {
  it('uses nearest-rank percentiles', () => {
    const lengths = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(lengthPercentiles(lengths)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
    expect(lengthPercentiles([7])).toEqual({ p50: 7, p90: 7, p99: 7, max: 7 });
    expect(lengthPercentiles([])).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe('taskStats', () => {
  it('reports sizes, label balance, skipped rows and whitespace lengths', async () => {
    const stats = await taskStats('sst2', { dataRoot: root, tokenizer: 'whitespace' });
    expect(stats.tokenizer.kind).toBe('whitespace');
    expect(stats.splits.map((s) => [s.split, s.rows, s.skipped.count])).toEqual([
      ['train', 100, 0],
      ['dev', 10, 1],
    ]);
    expect(stats.splits[0].labels).toEqual({ negative: 34, positive: 66 });
    expect(stats.splits[0].lengths.input).toEqual({ p50: 5, p90: 9, p99: 10, max: 10 });
    expect(stats.splits[1].skipped.byReason).toEqual({ 'missing label': 1 });
    expect(stats.unavailable.map((u) => u.split)).toEqual(['test']);
    const text = formatTaskStats(stats);
    expect(text).toContain('token lengths: whitespace-separated words');
    expect(text).toContain('labels train: negative 34 (34.0%), positive 66 (66.0%)');
    expect(text).toContain('skipped dev: 1 missing label');
  });

  it('counts WordPiece tokens with [CLS]/[SEP], trained on the train split', async () => {
    const stats = await taskStats('sst2', { dataRoot: root });
    expect(stats.tokenizer).toMatchObject({ kind: 'wordpiece', trainedOn: 'train' });
    // Every word of this corpus is in the vocabulary: whitespace length + 2 special tokens.
    expect(stats.splits[0].lengths.input).toEqual({ p50: 7, p90: 11, p99: 12, max: 12 });
  });

  it('fails clearly when the data folder is missing', async () => {
    await expect(taskStats('qnli', { dataRoot: root })).rejects.toThrow(`data for task "qnli" not found: ${path.join(root, 'qnli')} does not exist`);
  });
});
