import { malformedRow } from '../errors';
import { type JsonLine, SkipCollector, readJsonLines, readTsv, describe as describeValue } from '../io';
import { type ClassificationExample, type ClassificationSplit, type LoadOptions, NO_LABEL } from '../types';
import { type SplitInfo, type TaskDefinition, firstExisting, makeSplit } from './task';

/** How a split's label column is written: a numeric id (`0`/`1`) or a label name (`entailment`). */
type LabelFormat = 'id' | 'name';

interface TsvSplitSpec {
  format: 'tsv';
  name: string;
  file: string;
  description: string;
  official: boolean;
}

interface JsonlSplitSpec {
  format: 'jsonl';
  name: string;
  file: string;
  description: string;
  official: boolean;
}

interface GlueSpec {
  id: string;
  description: string;
  labelNames: readonly string[];
  /** TSV columns. */
  columns: { a: string; b?: string; label: string; labelFormat: LabelFormat; id?: string };
  /** JSONL fields (unofficial subsets). */
  jsonFields?: { a: string; b?: string; label: string };
  /** Label values that mean "no gold label" (skipped, counted). */
  noGoldLabel?: readonly string[];
  splits: readonly (TsvSplitSpec | JsonlSplitSpec)[];
  aliases?: Readonly<Record<string, string>>;
  notes: readonly string[];
}

function glueTask(spec: GlueSpec): TaskDefinition<'classification'> {
  return {
    id: spec.id,
    kind: 'classification',
    description: spec.description,
    source: 'shared',
    labelNames: spec.labelNames,
    splitNames: spec.splits.map((s) => s.name),
    aliases: spec.aliases,
    notes: spec.notes,
    splits(dir: string | undefined): SplitInfo[] {
      return spec.splits.map((s) => {
        const found = firstExisting(dir ?? '', [s.file]);
        return {
          name: s.name,
          available: found.exists,
          files: [found.file],
          // Test splits (name starts with "test") carry no labels in GLUE.
          labeled: !s.name.startsWith('test'),
          official: s.official,
          description: s.description,
        };
      });
    },
    load(info: SplitInfo, _dir, _options: LoadOptions): ClassificationSplit {
      const split = spec.splits.find((s) => s.name === info.name);
      if (!split) throw new Error(`unreachable: unknown split ${info.name}`);
      const file = info.files[0];
      const skipped = new SkipCollector();
      const examples: ClassificationExample[] = [];
      let labeled: boolean;
      if (split.format === 'tsv') {
        const c = spec.columns;
        const table = readTsv(file, c.b ? [c.a, c.b] : [c.a]);
        labeled = table.has(c.label);
        const idColumn = c.id && table.has(c.id) ? c.id : table.has('index') ? 'index' : undefined;
        table.rows.forEach((row, i) => {
          const id = `${split.name}-${idColumn ? row.get(idColumn) : i}`;
          const textA = row.get(c.a);
          const textB = c.b ? row.get(c.b) : undefined;
          let label = NO_LABEL;
          if (labeled) {
            const raw = row.get(c.label);
            const parsed = parseLabel(raw, c.labelFormat, spec, file, row.line);
            if (typeof parsed === 'string') return skipped.skip(file, row.line, parsed);
            label = parsed;
          }
          if (textA.trim() === '' || (textB !== undefined && textB.trim() === '')) return skipped.skip(file, row.line, 'empty text');
          examples.push(textB === undefined ? { id, textA, label } : { id, textA, textB, label });
        });
      } else {
        const f = spec.jsonFields;
        if (!f) throw new Error(`unreachable: ${spec.id} has no JSONL fields`);
        labeled = true;
        readJsonLines(file).forEach((row: JsonLine, i) => {
          const textA = jsonText(row, f.a, file);
          const textB = f.b ? jsonText(row, f.b, file) : undefined;
          const raw = row.value[f.label];
          let parsed: number | string;
          if (typeof raw === 'number') parsed = parseLabel(String(raw), 'id', spec, file, row.line);
          else if (typeof raw === 'string') parsed = parseLabel(raw, 'name', spec, file, row.line);
          else throw malformedRow(file, row.line, `field "${f.label}" must be a label name or id, found ${describeValue(raw)}`);
          if (typeof parsed === 'string') return skipped.skip(file, row.line, parsed);
          if (textA.trim() === '' || (textB !== undefined && textB.trim() === '')) return skipped.skip(file, row.line, 'empty text');
          const id = `${split.name}-${i}`;
          examples.push(textB === undefined ? { id, textA, label: parsed } : { id, textA, textB, label: parsed });
        });
      }
      return makeSplit('classification', {
        task: spec.id,
        split: split.name,
        examples,
        skipped,
        labeled,
        files: [file],
        labelNames: spec.labelNames,
      });
    },
  };
}

function jsonText(row: JsonLine, key: string, file: string): string {
  const value = row.value[key];
  if (typeof value !== 'string') throw malformedRow(file, row.line, `field "${key}" must be a string, found ${describeValue(value)}`);
  return value;
}

/** A label id, or a skip reason (string) for rows without a gold label; unknown labels are malformed rows. */
function parseLabel(raw: string, format: LabelFormat, spec: GlueSpec, file: string, line: number): number | string {
  const value = raw.trim();
  if (value === '') return 'missing label';
  if (spec.noGoldLabel?.includes(value)) return `no gold label ("${value}")`;
  if (format === 'id') {
    const id = Number(value);
    if (Number.isInteger(id) && id >= 0 && id < spec.labelNames.length && /^\d+$/.test(value)) return id;
  } else {
    const id = spec.labelNames.indexOf(value);
    if (id >= 0) return id;
  }
  const expected = format === 'id' ? spec.labelNames.map((_, i) => i).join(', ') : spec.labelNames.join(', ');
  throw malformedRow(file, line, `unknown label "${raw}" (expected one of: ${expected})`);
}

const tsv = (name: string, file: string, description: string): TsvSplitSpec => ({ format: 'tsv', name, file, description, official: true });

export const sst2 = glueTask({
  id: 'sst2',
  description: 'GLUE SST-2: binary sentiment of movie-review sentences (GLUE TSV)',
  labelNames: ['negative', 'positive'],
  columns: { a: 'sentence', label: 'label', labelFormat: 'id' },
  splits: [
    tsv('train', 'train.tsv', 'GLUE train (67,349)'),
    tsv('dev', 'dev.tsv', 'GLUE dev (872)'),
    tsv('test', 'test.tsv', 'GLUE test, no labels'),
  ],
  notes: ['GLUE text is lower-cased and tokenized, with a trailing space; it is kept as is.'],
});

export const qnli = glueTask({
  id: 'qnli',
  description: 'GLUE QNLI: does the sentence answer the question (GLUE TSV)',
  labelNames: ['entailment', 'not_entailment'],
  columns: { a: 'question', b: 'sentence', label: 'label', labelFormat: 'name' },
  splits: [
    tsv('train', 'train.tsv', 'GLUE train (104,743)'),
    tsv('dev', 'dev.tsv', 'GLUE dev (5,463)'),
    tsv('test', 'test.tsv', 'GLUE test, no labels'),
  ],
  notes: [],
});

export const qqp = glueTask({
  id: 'qqp',
  description: 'GLUE QQP: are two Quora questions paraphrases (GLUE TSV; unofficial JSONL sample)',
  labelNames: ['not_duplicate', 'duplicate'],
  columns: { a: 'question1', b: 'question2', label: 'is_duplicate', labelFormat: 'id', id: 'id' },
  jsonFields: { a: 'question1', b: 'question2', label: 'label' },
  splits: [
    tsv('train', 'train.tsv', 'GLUE train (363,846)'),
    tsv('dev', 'dev.tsv', 'GLUE dev (40,430)'),
    tsv('test', 'test.tsv', 'GLUE test, no labels'),
    {
      format: 'jsonl',
      name: 'unofficial-train',
      file: 'unofficial-olora-subset/train_subset.jsonl',
      description: 'O-LoRA sample of QQP train (2,000); NOT the GLUE split, smoke tests only',
      official: false,
    },
    {
      format: 'jsonl',
      name: 'unofficial-dev',
      file: 'unofficial-olora-subset/dev_subset.jsonl',
      description: 'O-LoRA sample (7,600); NOT the GLUE dev set, smoke tests only',
      official: false,
    },
  ],
  notes: ['The unofficial-* splits are an undocumented O-LoRA sample; do not report their numbers as GLUE QQP results.'],
});

export const mnli = glueTask({
  id: 'mnli',
  description: 'GLUE MNLI: premise/hypothesis entailment, 3 classes (GLUE TSV; unofficial JSONL sample)',
  labelNames: ['entailment', 'neutral', 'contradiction'],
  columns: { a: 'sentence1', b: 'sentence2', label: 'gold_label', labelFormat: 'name' },
  jsonFields: { a: 'premise', b: 'hypothesis', label: 'label' },
  noGoldLabel: ['-'],
  splits: [
    tsv('train', 'train.tsv', 'GLUE train (392,702)'),
    tsv('dev-matched', 'dev_matched.tsv', 'GLUE dev matched (9,815)'),
    tsv('dev-mismatched', 'dev_mismatched.tsv', 'GLUE dev mismatched (9,832)'),
    tsv('test-matched', 'test_matched.tsv', 'GLUE test matched, no labels'),
    tsv('test-mismatched', 'test_mismatched.tsv', 'GLUE test mismatched, no labels'),
    {
      format: 'jsonl',
      name: 'unofficial-train',
      file: 'unofficial-olora-subset/train_subset.jsonl',
      description: 'O-LoRA sample of MNLI train (3,000); NOT the GLUE split, smoke tests only',
      official: false,
    },
    {
      format: 'jsonl',
      name: 'unofficial-dev',
      file: 'unofficial-olora-subset/dev_subset.jsonl',
      description: 'O-LoRA sample of MultiNLI dev matched (7,600, incl. 131 "-" labels, skipped); NOT the GLUE dev set',
      official: false,
    },
  ],
  aliases: { dev: 'dev-matched', test: 'test-matched' },
  notes: [
    'Label ids follow Hugging Face datasets (entailment 0, neutral 1, contradiction 2).',
    '"dev" means dev-matched. Rows with gold label "-" (no annotator consensus) are skipped and counted.',
    'The unofficial-* splits are an undocumented O-LoRA sample; do not report their numbers as MNLI-m/mm accuracy.',
  ],
});
