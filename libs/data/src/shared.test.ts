// Real-data tests: the figures below are the ones each /work/shared/data/<task>/SOURCE.md states.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataError } from './errors';
import { listSplits, loadSplit } from './registry';
import { describeShared } from './testing';
import type { ClassificationSplit, DataSplit, MultipleChoiceSplit } from './types';

function labelCounts(split: ClassificationSplit | MultipleChoiceSplit): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of split.examples) {
    const name = split.kind === 'classification' ? split.labelNames[e.label] : String(e.label);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

function expectMissing(fn: () => DataSplit, fragment: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('MISSING_DATA');
    expect((err as DataError).message).toContain(fragment);
    return;
  }
  throw new Error('expected MISSING_DATA');
}

describeShared('sst2', 'sst2 (shared data)', () => {
  it('has the official GLUE train and dev sizes and label counts', () => {
    const train = loadSplit('sst2', 'train');
    expect(train.examples).toHaveLength(67349);
    expect(labelCounts(train)).toEqual({ negative: 29780, positive: 37569 });
    expect(train.examples[0]).toEqual({ id: 'train-0', textA: 'hide new secretions from the parental units ', label: 0 });
    const dev = loadSplit('sst2', 'dev');
    expect(dev.examples).toHaveLength(872);
    expect(labelCounts(dev)).toEqual({ negative: 428, positive: 444 });
    expect(dev.skipped.count).toBe(0);
    expect(dev.fingerprint).toBe(loadSplit('sst2', 'dev').fingerprint);
    expect(dev.fingerprint).not.toBe(train.fingerprint);
  });

  it('fails on a corrupted copy of dev.tsv with the file and line of the bad row', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'strata-sst2-'));
    try {
      const lines = readFileSync(loadSplit('sst2', 'dev').files[0], 'utf8').split('\n');
      lines[100] = lines[100].replace('\t', ' '); // line 101 of the file loses its label field separator
      mkdirSync(path.join(root, 'sst2'));
      const file = path.join(root, 'sst2', 'dev.tsv');
      writeFileSync(file, lines.join('\n'));
      expect(() => loadSplit('sst2', 'dev', { dataRoot: root })).toThrow(`${file}:101: expected 2 tab-separated fields (as in the header), found 1`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describeShared('qnli', 'qnli (shared data)', () => {
  it('has the official dev set only', () => {
    const dev = loadSplit('qnli', 'dev');
    expect(dev.examples).toHaveLength(5463);
    expect(labelCounts(dev)).toEqual({ entailment: 2702, not_entailment: 2761 });
    expect(dev.examples[0].textA).toBe('What came into force after the new constitution was herald?');
    expectMissing(() => loadSplit('qnli', 'train'), 'Available splits: dev.');
  });
});

describeShared('qqp', 'qqp (shared data)', () => {
  it('has only the unofficial O-LoRA sample, marked as such', () => {
    const train = loadSplit('qqp', 'unofficial-train');
    const dev = loadSplit('qqp', 'unofficial-dev');
    expect(labelCounts(train)).toEqual({ not_duplicate: 1239, duplicate: 761 });
    expect(labelCounts(dev)).toEqual({ not_duplicate: 4871, duplicate: 2729 });
    expect(listSplits('qqp').filter((s) => s.available).map((s) => [s.name, s.official])).toEqual([
      ['unofficial-train', false],
      ['unofficial-dev', false],
    ]);
    expectMissing(() => loadSplit('qqp', 'dev'), 'Available splits: unofficial-train, unofficial-dev.');
  });
});

describeShared('mnli', 'mnli (shared data)', () => {
  it('loads dev matched with the official label distribution; dev mismatched when present', () => {
    const matched = loadSplit('mnli', 'dev');
    expect(matched.split).toBe('dev-matched');
    expect(matched.examples).toHaveLength(9815);
    expect(labelCounts(matched)).toEqual({ entailment: 3479, neutral: 3123, contradiction: 3213 });
    expect(matched.examples[0]).toEqual({ id: 'dev-matched-0', textA: 'The new rights are nice enough', textB: 'Everyone really likes the newest benefits ', label: 1 });
    if (listSplits('mnli').find((s) => s.name === 'dev-mismatched')?.available) {
      expect(loadSplit('mnli', 'dev-mismatched').examples).toHaveLength(9832);
    } else {
      expectMissing(() => loadSplit('mnli', 'dev-mismatched'), 'dev_mismatched.tsv not found');
    }
  });

  it('counts the 131 "-" labels of the unofficial dev sample as skipped', () => {
    const dev = loadSplit('mnli', 'unofficial-dev');
    expect(dev.examples).toHaveLength(7469);
    expect(dev.skipped).toMatchObject({ count: 131, byReason: { 'no gold label ("-")': 131 } });
    expect(labelCounts(dev)).toEqual({ entailment: 2681, contradiction: 2435, neutral: 2353 });
    expect(labelCounts(loadSplit('mnli', 'unofficial-train'))).toEqual({ contradiction: 1010, neutral: 995, entailment: 995 });
  });
});

describeShared('dart', 'dart (shared data)', () => {
  it('dev: 2,768 triple sets with 6,980 references; linearized sources', () => {
    const dev = loadSplit('dart', 'dev');
    expect(dev.examples).toHaveLength(2768);
    expect(dev.examples.reduce((n, e) => n + (e.references?.length ?? 0), 0)).toBe(6980);
    expect(dev.examples[0]).toEqual({
      id: 'dev-0',
      source: 'Mars Hill College : JOINED : 1973 | Mars Hill College : LOCATION : Mars Hill, North Carolina',
      target: 'A school from Mars Hill, North Carolina, joined in 1973.',
      references: ['A school from Mars Hill, North Carolina, joined in 1973.'],
    });
    expect(loadSplit('dart', 'dev', { rows: 'per-reference' }).examples).toHaveLength(6980);
  });

  it('test: 5,097 triple sets with 12,552 references; the one empty reference is kept for eval, skipped as a training row', () => {
    const test = loadSplit('dart', 'test');
    expect(test.examples).toHaveLength(5097);
    expect(test.examples.reduce((n, e) => n + (e.references?.length ?? 0), 0)).toBe(12552);
    const rows = loadSplit('dart', 'test', { rows: 'per-reference' });
    expect(rows.examples).toHaveLength(12551);
    expect(rows.skipped.byReason).toEqual({ 'empty reference text': 1 });
  });

  it('train: 62,659 (triple set, reference) rows', () => {
    const train = loadSplit('dart', 'train');
    expect(train.examples).toHaveLength(62659);
    expect(train.examples[1]).toMatchObject({
      id: 'train-1',
      source: '[TABLECONTEXT] : MARKER_NAME : Old Turnpike | [TABLECONTEXT] : [TITLE] : List of New York State Historic Markers in Sullivan County, New York',
      target: 'Old Turnpike is a Historic Marker in Sullivan County, New York.',
    });
  });
});

describeShared('wmt16-en-ro', 'wmt16-en-ro (shared data)', () => {
  it('has newsdev2016 and newstest2016, no training pairs', () => {
    const dev = loadSplit('wmt16-en-ro', 'dev');
    const test = loadSplit('wmt16-en-ro', 'test');
    expect(dev.examples).toHaveLength(1999);
    expect(test.examples).toHaveLength(1999);
    expect(dev.examples[0]).toEqual({
      id: 'dev-0',
      source: "Brazil's Former Presidential Chief-of-Staff to Stand Trial",
      target: 'Fostul șef al cabinetului prezidențial brazilian este adus în fața instanței',
    });
    expect(test.examples[0].target).toBe('Șeful ONU declară că nu există soluții militare în Siria');
    expectMissing(() => loadSplit('wmt16-en-ro', 'train'), 'trainFile');
  });
});

describeShared('commonsenseqa', 'commonsenseqa (shared data)', () => {
  it('has the official train and dev sizes and answer-key counts', () => {
    const train = loadSplit('commonsenseqa', 'train');
    const dev = loadSplit('commonsenseqa', 'dev');
    expect(train.examples).toHaveLength(9741);
    expect(labelCounts(train)).toEqual({ 0: 1909, 1: 1973, 2: 1946, 3: 1985, 4: 1928 });
    expect(labelCounts(dev)).toEqual({ 0: 239, 1: 255, 2: 241, 3: 251, 4: 235 });
    expect(dev.examples[0].context).toMatch(/^A revolving door is convenient for two direction travel/);
    expect(dev.examples[0].choices[dev.examples[0].label]).toBe('bank');
    expect(new Set(train.examples.map((e) => e.id)).size).toBe(9741);
  });
});

describeShared('hellaswag', 'hellaswag (shared data)', () => {
  it('has the validation set only, as split dev', () => {
    const dev = loadSplit('hellaswag', 'dev');
    expect(dev.examples).toHaveLength(10042);
    expect(labelCounts(dev)).toEqual({ 0: 2515, 1: 2485, 2: 2584, 3: 2458 });
    expect(dev.examples[0]).toMatchObject({ context: 'Roof shingle removal: A man is sitting on a roof. he', label: 3 });
    expect(dev.examples[0].choices[3]).toBe('starts pulling up roofing on a roof.');
    // The official counts are 3,243 ActivityNet and 6,799 WikiHow; the shared file lacks source_id (see hellaswagDomain).
    expect(dev.examples.filter((e) => e.domain === 'wikihow')).toHaveLength(6800);
    expect(dev.examples.filter((e) => e.domain === 'activitynet')).toHaveLength(3242);
    expect(listSplits('hellaswag').filter((s) => s.available).map((s) => s.name)).toEqual(['dev']);
  });
});
