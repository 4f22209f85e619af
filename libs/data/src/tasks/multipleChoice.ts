import { malformedRow } from '../errors';
import { type JsonLine, SkipCollector, readJsonLines, describe as describeValue } from '../io';
import { type MultipleChoiceExample, type MultipleChoiceSplit, NO_LABEL } from '../types';
import { type SplitInfo, type TaskDefinition, firstExisting, makeSplit } from './task';

interface FileSplit {
  name: string;
  files: readonly string[];
  description: string;
}

function fileSplits(specs: readonly FileSplit[], dir: string | undefined): SplitInfo[] {
  return specs.map((s) => {
    const found = firstExisting(dir ?? '', s.files);
    return { name: s.name, available: found.exists, files: [found.file], labeled: !s.name.startsWith('test'), official: true, description: s.description };
  });
}

const CSQA_SPLITS: readonly FileSplit[] = [
  { name: 'train', files: ['train_rand_split.jsonl'], description: 'CommonsenseQA v1.11 train (9,741)' },
  { name: 'dev', files: ['dev_rand_split.jsonl'], description: 'CommonsenseQA v1.11 dev (1,221)' },
  { name: 'test', files: ['test_rand_split_no_answers.jsonl'], description: 'CommonsenseQA test, no answers' },
];

/** CommonsenseQA: question stem, 5 choices (A-E), answer key -> choice index. */
function commonsenseRow(row: JsonLine, file: string, split: string, skipped: SkipCollector): MultipleChoiceExample | undefined {
  const q = row.value.question;
  if (typeof q !== 'object' || q === null) throw malformedRow(file, row.line, `field "question" must be an object, found ${describeValue(q)}`);
  const question = q as Record<string, unknown>;
  const stem = question.stem;
  if (typeof stem !== 'string') throw malformedRow(file, row.line, `field "question.stem" must be a string, found ${describeValue(stem)}`);
  const rawChoices = question.choices;
  if (!Array.isArray(rawChoices) || rawChoices.length !== 5) {
    throw malformedRow(file, row.line, `field "question.choices" must be an array of 5 choices, found ${describeValue(rawChoices)}`);
  }
  const labels: string[] = [];
  const choices = rawChoices.map((c, i) => {
    const choice = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    if (typeof choice.text !== 'string' || typeof choice.label !== 'string') {
      throw malformedRow(file, row.line, `question.choices[${i}] must be {"label": string, "text": string}`);
    }
    labels.push(choice.label);
    return choice.text;
  });
  const id = typeof row.value.id === 'string' ? row.value.id : `${split}-${row.line}`;
  const key = row.value.answerKey;
  if (key === undefined || key === null || key === '') {
    if (split.startsWith('test')) return { id, context: stem, choices, label: NO_LABEL };
    skipped.skip(file, row.line, 'missing answerKey');
    return undefined;
  }
  const label = typeof key === 'string' ? labels.indexOf(key) : -1;
  if (label < 0) throw malformedRow(file, row.line, `answerKey ${JSON.stringify(key)} is not one of the choice labels ${labels.join(', ')}`);
  return { id, context: stem, choices, label };
}

export const commonsenseqa: TaskDefinition<'multiple-choice'> = {
  id: 'commonsenseqa',
  kind: 'multiple-choice',
  description: 'CommonsenseQA v1.11 (random split): a question and 5 answer choices',
  source: 'shared',
  numChoices: 5,
  splitNames: CSQA_SPLITS.map((s) => s.name),
  notes: ['Context is the question stem; choices keep the file order A-E; label is the index of answerKey.'],
  splits: (dir) => fileSplits(CSQA_SPLITS, dir),
  load(info: SplitInfo): MultipleChoiceSplit {
    const file = info.files[0];
    const skipped = new SkipCollector();
    const examples: MultipleChoiceExample[] = [];
    for (const row of readJsonLines(file)) {
      const example = commonsenseRow(row, file, info.name, skipped);
      if (example) examples.push(example);
    }
    const labeled = examples.some((e) => e.label !== NO_LABEL);
    return makeSplit('multiple-choice', { task: 'commonsenseqa', split: info.name, examples, skipped, labeled, files: [file], numChoices: 5 });
  },
};

const HELLASWAG_SPLITS: readonly FileSplit[] = [
  { name: 'train', files: ['hellaswag_train.jsonl'], description: 'HellaSwag train (39,905)' },
  { name: 'dev', files: ['hellaswag_val.jsonl'], description: 'HellaSwag validation (10,042)' },
  { name: 'test', files: ['hellaswag_test.jsonl'], description: 'HellaSwag test, no labels' },
];

/**
 * HellaSwag mixes two sources that differ in kind (one-sentence ActivityNet captions, multi-step WikiHow articles),
 * so scores are worth reading per source. The official `source_id` names it; the shared file dropped that field, and
 * there every WikiHow context starts with its article title, "How to ...". That rule gives 6,800 WikiHow examples
 * of the validation set's 6,799 (one ActivityNet caption also starts so).
 */
function hellaswagDomain(v: Record<string, unknown>, context: string): string {
  if (typeof v.source_id === 'string' && v.source_id.includes('~')) return v.source_id.slice(0, v.source_id.indexOf('~'));
  const ctx = typeof v.ctx === 'string' ? v.ctx : context.slice(context.indexOf(': ') + 2);
  return /^How to /.test(ctx) ? 'wikihow' : 'activitynet';
}

/**
 * HellaSwag: context = `activity_label: ctx` (the shared file's `query`, or built from the official fields),
 * 4 endings, label 0-3. Reads both the shared converted file and the official JSON lines.
 */
function hellaswagRow(row: JsonLine, file: string, split: string, skipped: SkipCollector): MultipleChoiceExample | undefined {
  const v = row.value;
  let context: string;
  if (typeof v.query === 'string') context = v.query;
  else if (typeof v.ctx === 'string' && typeof v.activity_label === 'string') context = `${v.activity_label}: ${v.ctx}`;
  else throw malformedRow(file, row.line, 'expected "query", or "activity_label" and "ctx" strings');
  const endings = v.endings;
  if (!Array.isArray(endings) || endings.length !== 4 || !endings.every((e) => typeof e === 'string')) {
    throw malformedRow(file, row.line, `field "endings" must be 4 strings, found ${describeValue(endings)}`);
  }
  const ind = v.ind;
  const id = `${split}-${typeof ind === 'number' || typeof ind === 'string' ? ind : row.line - 1}`;
  const domain = hellaswagDomain(v, context);
  const label = typeof v.label === 'string' && /^\d$/.test(v.label) ? Number(v.label) : v.label;
  if (label === undefined || label === null || label === '') {
    if (split.startsWith('test')) return { id, context, choices: endings as string[], label: NO_LABEL, domain };
    skipped.skip(file, row.line, 'missing label');
    return undefined;
  }
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label > 3) {
    throw malformedRow(file, row.line, `field "label" must be 0..3, found ${describeValue(v.label)}`);
  }
  return { id, context, choices: endings as string[], label, domain };
}

export const hellaswag: TaskDefinition<'multiple-choice'> = {
  id: 'hellaswag',
  kind: 'multiple-choice',
  description: 'HellaSwag: pick the plausible ending of 4',
  source: 'shared',
  numChoices: 4,
  splitNames: HELLASWAG_SPLITS.map((s) => s.name),
  notes: [
    'Only the validation set is in the shared data (as split "dev"); there is no train split here. Carving a training set out of it is up to the experiment, not this loader.',
    'The shared file comes from an lm-eval-harness-style preprocessing (bracket tags removed); context = "activity_label: ctx".',
  ],
  splits: (dir) => fileSplits(HELLASWAG_SPLITS, dir),
  load(info: SplitInfo): MultipleChoiceSplit {
    const file = info.files[0];
    const skipped = new SkipCollector();
    const examples: MultipleChoiceExample[] = [];
    for (const row of readJsonLines(file)) {
      const example = hellaswagRow(row, file, info.name, skipped);
      if (example) examples.push(example);
    }
    const labeled = examples.some((e) => e.label !== NO_LABEL);
    return makeSplit('multiple-choice', { task: 'hellaswag', split: info.name, examples, skipped, labeled, files: [file], numChoices: 4 });
  },
};
