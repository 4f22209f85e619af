import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataError } from './errors';
import { canonicalJson, fingerprintExamples } from './fingerprint';
import { DATA_ROOT_ENV } from './paths';
import { TASK_IDS, getTask, listSplits, loadSplit, resolveSplitName } from './registry';
import { linearizeTriples } from './tasks/dart';
import { NO_LABEL } from './types';

let root: string;
beforeAll(() => (root = mkdtempSync(path.join(tmpdir(), 'strata-registry-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(relative: string, text: string): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function thrown(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError');
}

describe('task registry', () => {
  it('knows the ten built-in tasks with their kinds', () => {
    expect(TASK_IDS).toEqual(['sst2', 'qnli', 'qqp', 'mnli', 'dart', 'wmt16-en-ro', 'commonsenseqa', 'hellaswag', 'spam', 'cmudict-g2p']);
    expect(getTask('mnli')).toMatchObject({ kind: 'classification', labelNames: ['entailment', 'neutral', 'contradiction'] });
    expect(getTask('hellaswag')).toMatchObject({ kind: 'multiple-choice', numChoices: 4 });
    expect(getTask('cmudict-g2p')).toMatchObject({ kind: 'seq2seq', source: 'embedded' });
  });

  it('rejects unknown tasks and splits with the valid names', () => {
    expect(thrown(() => getTask('sst5'))).toMatchObject({ code: 'UNKNOWN_TASK', message: expect.stringContaining('built-in tasks: sst2, qnli') });
    expect(thrown(() => loadSplit('sst2', 'validation', { dataRoot: root }))).toMatchObject({
      code: 'UNKNOWN_SPLIT',
      message: 'task "sst2" has no split "validation"; splits: train, dev, test',
    });
    expect(resolveSplitName('mnli', 'dev')).toBe('dev-matched');
  });

  it('says which path is missing and how to configure the data root', () => {
    const missing = path.join(root, 'nowhere');
    const err = thrown(() => loadSplit('qnli', 'dev', { dataRoot: missing }));
    expect(err.code).toBe('MISSING_DATA');
    expect(err.message).toContain(`${path.join(missing, 'qnli')} does not exist`);
    expect(err.message).toContain('STRATA_DATA_ROOT');
    expect(err.message).toContain('--data-root');
  });

  it('reads the data root from STRATA_DATA_ROOT when no option is given', () => {
    put('sst2/dev.tsv', 'sentence\tlabel\nfine .\t1\n');
    const saved = process.env[DATA_ROOT_ENV];
    process.env[DATA_ROOT_ENV] = root;
    try {
      expect(loadSplit('sst2', 'dev').examples).toEqual([{ id: 'dev-0', textA: 'fine .', label: 1 }]);
    } finally {
      if (saved === undefined) delete process.env[DATA_ROOT_ENV];
      else process.env[DATA_ROOT_ENV] = saved;
    }
  });

  it('names the missing split files and the splits that are there', () => {
    put('qnli/dev.tsv', 'index\tquestion\tsentence\tlabel\n0\tWho?\tHim.\tentailment\n');
    const err = thrown(() => loadSplit('qnli', 'train', { dataRoot: root }));
    expect(err.code).toBe('MISSING_DATA');
    expect(err.message).toBe(`task "qnli" split "train" is not available: ${path.join(root, 'qnli', 'train.tsv')} not found (GLUE train (104,743)). Available splits: dev.`);
    expect(listSplits('qnli', { dataRoot: root }).map((s) => [s.name, s.available])).toEqual([
      ['train', false],
      ['dev', true],
      ['test', false],
    ]);
  });
});

describe('GLUE loaders', () => {
  it('maps label names to ids, keeps pairs, and skips (and counts) rows without a gold label', () => {
    put(
      'mnli/dev_matched.tsv',
      [
        'index\tsentence1\tsentence2\tgold_label',
        '0\tA man.\tA person. \tentailment',
        '1\tA cat.\tA dog.\tcontradiction',
        '2\tHmm.\tMaybe.\t-',
        '3\tSo.\tThen.\t',
        '4\tX.\tY.\tneutral',
      ].join('\n'),
    );
    const split = loadSplit('mnli', 'dev', { dataRoot: root });
    expect(split.split).toBe('dev-matched');
    expect(split.examples).toEqual([
      { id: 'dev-matched-0', textA: 'A man.', textB: 'A person. ', label: 0 },
      { id: 'dev-matched-1', textA: 'A cat.', textB: 'A dog.', label: 2 },
      { id: 'dev-matched-4', textA: 'X.', textB: 'Y.', label: 1 },
    ]);
    expect(split.skipped.count).toBe(2);
    expect(split.skipped.byReason).toEqual({ 'no gold label ("-")': 1, 'missing label': 1 });
    expect(split.skipped.samples[0]).toEqual({ file: path.join(root, 'mnli', 'dev_matched.tsv'), line: 4, reason: 'no gold label ("-")' });
  });

  it('fails on an unknown label, naming file and line', () => {
    const file = put('qnli/dev.tsv', 'index\tquestion\tsentence\tlabel\n0\tQ?\tS.\tentailment\n1\tQ?\tS.\tmaybe\n');
    const err = thrown(() => loadSplit('qnli', 'dev', { dataRoot: root }));
    expect(err).toMatchObject({ code: 'MALFORMED_ROW', file, line: 3 });
    expect(err.message).toBe(`${file}:3: unknown label "maybe" (expected one of: entailment, not_entailment)`);
  });

  it('reads test splits without a label column as unlabeled', () => {
    put('sst2/test.tsv', 'index\tsentence\n0\tgreat fun .\n1\tdull .\n');
    const split = loadSplit('sst2', 'test', { dataRoot: root });
    expect(split.labeled).toBe(false);
    expect(split.examples).toEqual([
      { id: 'test-0', textA: 'great fun .', label: NO_LABEL },
      { id: 'test-1', textA: 'dull .', label: NO_LABEL },
    ]);
  });

  it('reads the unofficial QQP JSON lines with numeric labels', () => {
    put('qqp/unofficial-olora-subset/dev_subset.jsonl', '{"question1": "a?", "question2": "b?", "label": 1, "label_text": "True"}\n');
    const split = loadSplit('qqp', 'unofficial-dev', { dataRoot: root });
    expect(split.examples).toEqual([{ id: 'unofficial-dev-0', textA: 'a?', textB: 'b?', label: 1 }]);
    expect(listSplits('qqp', { dataRoot: root }).find((s) => s.name === 'unofficial-dev')?.official).toBe(false);
  });
});

describe('DART', () => {
  it('linearizes triples as "subject : relation : object | ..."', () => {
    expect(
      linearizeTriples([
        ['Mars Hill College', 'JOINED', '1973'],
        ['Mars Hill College', 'LOCATION', 'Mars Hill, North Carolina'],
      ]),
    ).toBe('Mars Hill College : JOINED : 1973 | Mars Hill College : LOCATION : Mars Hill, North Carolina');
  });

  it('makes every annotation a training row and keeps all references per input for evaluation', () => {
    const entries = [
      { tripleset: [['A', 'B', 'C']], annotations: [{ source: 'x', text: 'A b C.' }, { source: 'x', text: 'C is A.' }] },
      { tripleset: [['D', 'E', 'F'], ['D', 'G', 'H']], annotations: [{ source: 'y', text: '' }, { source: 'y', text: 'D.' }] },
    ];
    put('dart/dart-v1.1.1-full-dev.json', JSON.stringify(entries, null, 2));
    const evalRows = loadSplit('dart', 'dev', { dataRoot: root });
    expect(evalRows.examples).toEqual([
      { id: 'dev-0', source: 'A : B : C', target: 'A b C.', references: ['A b C.', 'C is A.'] },
      { id: 'dev-1', source: 'D : E : F | D : G : H', target: 'D.', references: ['', 'D.'] },
    ]);
    const trainRows = loadSplit('dart', 'dev', { dataRoot: root, rows: 'per-reference' });
    expect(trainRows.examples.map((e) => [e.id, e.target])).toEqual([
      ['dev-0-0', 'A b C.'],
      ['dev-0-1', 'C is A.'],
      ['dev-1-1', 'D.'],
    ]);
    expect(trainRows.skipped.byReason).toEqual({ 'empty reference text': 1 });
  });

  it('fails on a malformed triple with the line where its entry starts', () => {
    const file = put('dart/dart-v1.1.1-full-test.json', '[\n  {"tripleset": [["A", "B", "C"]], "annotations": []},\n  {"tripleset": [["A", "B"]], "annotations": []}\n]\n');
    expect(() => loadSplit('dart', 'test', { dataRoot: root })).toThrow(`${file}:3: tripleset[0] must be 3 strings [subject, relation, object], found ["A","B"]`);
  });
});

describe('wmt16-en-ro', () => {
  it('reads a user-supplied JSON-lines training file in any of the pair layouts', () => {
    const file = put('user/pairs.jsonl', ['{"en": "Hello", "ro": "Salut"}', '{"source": "Yes", "target": "Da"}', '{"translation": {"en": "No", "ro": "Nu"}}', '{"en": "", "ro": "Gol"}'].join('\n'));
    const split = loadSplit('wmt16-en-ro', 'train', { dataRoot: path.join(root, 'absent'), trainFile: file });
    expect(split.examples.map((e) => [e.source, e.target])).toEqual([
      ['Hello', 'Salut'],
      ['Yes', 'Da'],
      ['No', 'Nu'],
    ]);
    expect(split.skipped.byReason).toEqual({ 'empty source': 1 });
  });

  it('reads line-aligned train.source/train.target and rejects files of different lengths', () => {
    put('wmt16-en-ro/train.source', 'one\ntwo\n');
    put('wmt16-en-ro/train.target', 'unu\ndoi\n');
    expect(loadSplit('wmt16-en-ro', 'train', { dataRoot: root }).examples).toEqual([
      { id: 'train-0', source: 'one', target: 'unu' },
      { id: 'train-1', source: 'two', target: 'doi' },
    ]);
    const target = put('wmt16-en-ro/train.target', 'unu\n');
    const err = thrown(() => loadSplit('wmt16-en-ro', 'train', { dataRoot: root }));
    expect(err).toMatchObject({ code: 'MALFORMED_ROW', file: target, line: 2 });
    expect(err.message).toContain('has 2 lines');
  });
});

describe('multiple choice loaders', () => {
  it('maps the CommonsenseQA answer key to a choice index', () => {
    const choices = ['A', 'B', 'C', 'D', 'E'].map((label, i) => ({ label, text: `c${i}` }));
    put('commonsenseqa/dev_rand_split.jsonl', `${JSON.stringify({ answerKey: 'C', id: 'q1', question: { stem: 'Why?', choices } })}\n`);
    expect(loadSplit('commonsenseqa', 'dev', { dataRoot: root }).examples).toEqual([{ id: 'q1', context: 'Why?', choices: ['c0', 'c1', 'c2', 'c3', 'c4'], label: 2 }]);
  });

  it('reads the official HellaSwag layout (activity_label + ctx) and rejects labels out of range', () => {
    const file = put(
      'hellaswag/hellaswag_train.jsonl',
      [
        JSON.stringify({ ind: 4, activity_label: 'Skiing', ctx: 'A man skis. he', endings: ['a', 'b', 'c', 'd'], label: 1 }),
        JSON.stringify({ ind: 5, activity_label: 'Skiing', ctx: 'He', endings: ['a', 'b', 'c', 'd'], label: 7 }),
      ].join('\n'),
    );
    expect(() => loadSplit('hellaswag', 'train', { dataRoot: root })).toThrow(`${file}:2: field "label" must be 0..3`);
    put('hellaswag/hellaswag_train.jsonl', JSON.stringify({ ind: 4, activity_label: 'Skiing', ctx: 'A man skis. he', endings: ['a', 'b', 'c', 'd'], label: 1 }));
    expect(loadSplit('hellaswag', 'train', { dataRoot: root }).examples).toEqual([{ id: 'train-4', context: 'Skiing: A man skis. he', choices: ['a', 'b', 'c', 'd'], label: 1, domain: 'activitynet' }]);
  });

  it('names each HellaSwag example\'s source: the official source_id, else a WikiHow title ("How to ...")', () => {
    put(
      'hellaswag/hellaswag_train.jsonl',
      [
        JSON.stringify({ ind: 1, activity_label: 'Skiing', ctx: 'How to ski. Wax the skis.', endings: ['a', 'b', 'c', 'd'], label: 0, source_id: 'activitynet~v_x' }),
        JSON.stringify({ ind: 2, activity_label: 'Health', ctx: 'Drink water.', endings: ['a', 'b', 'c', 'd'], label: 0, source_id: 'wikihow~123' }),
        JSON.stringify({ ind: 3, query: 'Health: How to sleep well. Dim the lights.', ctx: 'How to sleep well. Dim the lights.', endings: ['a', 'b', 'c', 'd'], label: 2 }),
        JSON.stringify({ ind: 4, query: 'Skiing: A man skis. he', endings: ['a', 'b', 'c', 'd'], label: 2 }),
        JSON.stringify({ ind: 5, query: 'Health: How to rest. Lie down.', endings: ['a', 'b', 'c', 'd'], label: 2 }),
      ].join('\n'),
    );
    expect(loadSplit('hellaswag', 'train', { dataRoot: root }).examples.map((e) => e.domain)).toEqual(['activitynet', 'wikihow', 'wikihow', 'activitynet', 'wikihow']);
  });
});

describe('fingerprint', () => {
  it('is stable under key order and changes with content or label names', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
    const a = fingerprintExamples('classification', [{ id: '1', textA: 'x', label: 0 }], ['neg', 'pos']);
    expect(fingerprintExamples('classification', [{ label: 0, textA: 'x', id: '1' }], ['neg', 'pos'])).toBe(a);
    expect(fingerprintExamples('classification', [{ id: '1', textA: 'x ', label: 0 }], ['neg', 'pos'])).not.toBe(a);
    expect(fingerprintExamples('classification', [{ id: '1', textA: 'x', label: 0 }], ['pos', 'neg'])).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves out reporting fields (the domain of a multiple-choice example), so adding one keeps existing caches valid', () => {
    const mc = { id: 'dev-0', context: 'Skiing: A man skis. he', choices: ['a', 'b', 'c', 'd'], label: 1 };
    const plain = fingerprintExamples('multiple-choice', [mc]);
    expect(fingerprintExamples('multiple-choice', [{ ...mc, domain: 'activitynet' }])).toBe(plain);
    expect(fingerprintExamples('multiple-choice', [{ ...mc, label: 2, domain: 'activitynet' }])).not.toBe(plain);
  });
});

describe('loadSplit: files that hold nothing usable', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-empty-'));
    mkdirSync(path.join(dir, 'sst2'));
    writeFileSync(path.join(dir, 'sst2', 'train.tsv'), 'sentence\tlabel\n');
    mkdirSync(path.join(dir, 'sst2', 'dev.tsv')); // a folder where a file belongs
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file of a split with no examples (a header only)', () => {
    const file = path.join(dir, 'sst2', 'train.tsv');
    expect(() => loadSplit('sst2', 'train', { dataRoot: dir })).toThrow(
      new DataError('MISSING_DATA', 'task "sst2" split "train" has no examples (a header only, or empty)', { file }),
    );
  });

  it('names a directory given where a data file belongs', () => {
    const file = path.join(dir, 'sst2', 'dev.tsv');
    expect(() => loadSplit('sst2', 'dev', { dataRoot: dir })).toThrow(new DataError('MISSING_DATA', 'is a directory; expected a data file', { file }));
  });
});
