/** Label id used for rows of an unlabeled split (GLUE test sets), as Hugging Face datasets do. */
export const NO_LABEL = -1;

/** Single-sentence or sentence-pair classification (GLUE, spam). */
export interface ClassificationExample {
  id: string;
  textA: string;
  textB?: string;
  /** Index into the task's `labelNames`; `NO_LABEL` (-1) on unlabeled splits. */
  label: number;
}

/** Sequence to sequence (translation, data-to-text, grapheme-to-phoneme). */
export interface Seq2SeqExample {
  id: string;
  source: string;
  /** The training target (for an input with several references, the first one or this row's one). */
  target: string;
  /** Every reference of this input, in file order, for evaluation (BLEU against all references). */
  references?: string[];
}

/** Multiple choice (CommonsenseQA, HellaSwag). */
export interface MultipleChoiceExample {
  id: string;
  context: string;
  choices: string[];
  /** Index of the correct choice; `NO_LABEL` (-1) on unlabeled splits. */
  label: number;
  /** Where the example comes from, for tasks built from several sources (HellaSwag: activitynet or wikihow). */
  domain?: string;
}

export type TaskKind = 'classification' | 'seq2seq' | 'multiple-choice';

export interface ExampleByKind {
  classification: ClassificationExample;
  seq2seq: Seq2SeqExample;
  'multiple-choice': MultipleChoiceExample;
}

/** One skipped row: where, and why. */
export interface SkippedRow {
  file: string;
  line: number;
  reason: string;
}

/** Every row a loader did not turn into an example. Nothing is dropped without being counted here. */
export interface SkipReport {
  count: number;
  /** Count per reason. */
  byReason: Record<string, number>;
  /** The first few skipped rows (at most 20), for messages. */
  samples: SkippedRow[];
}

interface SplitBase<K extends TaskKind> {
  task: string;
  split: string;
  kind: K;
  examples: ExampleByKind[K][];
  /** sha256 (hex) over the canonical serialization of kind, label names and examples; see `fingerprintExamples`. */
  fingerprint: string;
  skipped: SkipReport;
  /** False for splits without gold labels (their labels are `NO_LABEL`). */
  labeled: boolean;
  /** The files read, absolute (for embedded tasks: inside the npm package). */
  files: string[];
}

export interface ClassificationSplit extends SplitBase<'classification'> {
  labelNames: readonly string[];
}
export type Seq2SeqSplit = SplitBase<'seq2seq'>;
export interface MultipleChoiceSplit extends SplitBase<'multiple-choice'> {
  numChoices: number;
}

export interface SplitByKind {
  classification: ClassificationSplit;
  seq2seq: Seq2SeqSplit;
  'multiple-choice': MultipleChoiceSplit;
}

export type DataSplit = ClassificationSplit | Seq2SeqSplit | MultipleChoiceSplit;

/** How seq2seq inputs with several references become rows. */
export type ReferenceRows = 'per-reference' | 'per-input';

export interface LoadOptions {
  /**
   * Folder that holds one sub-folder per task. Default: `STRATA_DATA_ROOT`, else `<repo>/../shared/data`.
   */
  dataRoot?: string;
  /**
   * Seq2seq tasks with several references per input (DART, CMUdict): `per-reference` makes every reference a
   * training row; `per-input` gives one row per input with all its references. Default: `per-reference` for
   * `train`, `per-input` for every other split.
   */
  rows?: ReferenceRows;
  /** Seed of the hash that splits the embedded tasks (spam, cmudict-g2p) into train/dev/test. */
  splitSeed?: number;
  /** wmt16-en-ro: a user-supplied training file of JSON lines, `{"en","ro"}`, `{"source","target"}` or `{"translation":{"en","ro"}}`. */
  trainFile?: string;
  /** wmt16-en-ro: user-supplied line-aligned training files (`train.source` / `train.target` style). */
  trainSourceFile?: string;
  trainTargetFile?: string;
}
