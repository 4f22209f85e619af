// The experiment manifest (docs ARCHITECTURE.md, Contracts): one zod schema for the CLI and the Kubernetes custom
// resource. `experimentManifestSchema` is exported as is so the CRD's OpenAPI schema can be generated from it.
// Field-level checks against the registries (task ids, strategy names) live here; cross-field checks in validate.ts.
import { TASK_IDS, isTaskId } from '@strata/data';
import { layerSelectionNames } from '@strata/kd';
import { z } from 'zod';

export const API_VERSION = 'strata.dev/v1alpha1';
export const KIND = 'Experiment';

/** Kubernetes object names: a DNS-1123 label (lower-case alphanumerics and '-', at most 63 characters). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Strategies in the order of the paper's Table 1; other registered strategies follow in manifest order. */
export const TABLE1_STRATEGIES = ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random'] as const;

export const STUDENT_INITS = ['random', 'copy'] as const;
export const CACHE_DTYPES = ['float16', 'bfloat16', 'float32'] as const;
export const CACHE_STORES = ['file', 'kafka'] as const;
export const TEACHER_PRECISIONS = ['float32', 'int8'] as const;
export const TOKENIZER_KINDS = ['wordpiece', 'bpe', 'unigram', 'word-level'] as const;
export const HIDDEN_LOSSES = ['mse'] as const;
/** METHOD.md §4: `token` is Strata's; the others reproduce the reference code's scalings. */
export const HIDDEN_NORMALIZATIONS = ['token', 'bert-reference', 'element', 'cosine'] as const;
export const PROJECTIONS = ['auto', 'none'] as const;

const positiveInt = z.int().positive();
const nonNegative = z.number().nonnegative();
const positive = z.number().positive();
const path = z.string().min(1);

const taskId = z.string().superRefine((task, ctx) => {
  if (!isTaskId(task)) ctx.addIssue({ code: 'custom', message: `unknown task '${task}'; known tasks: ${TASK_IDS.join(', ')}` });
});

const strategyName = z.string().superRefine((name, ctx) => {
  const known = layerSelectionNames();
  if (!known.includes(name)) ctx.addIssue({ code: 'custom', message: `unknown strategy '${name}'; known strategies: ${known.join(', ')}` });
});

/** A teacher trained by Strata from scratch; defaults fit a small laptop run (same as the teacher stage's). */
export const teacherTrainSchema = z.strictObject({
  layers: positiveInt.default(6),
  hidden: positiveInt.default(128),
  heads: positiveInt.default(4),
  intermediate: positiveInt.default(512),
  maxLength: positiveInt.default(64),
  vocabSize: positiveInt.default(8000),
  tokenizer: z.enum(TOKENIZER_KINDS).default('wordpiece'),
  epochs: positiveInt.default(3),
  batchSize: positiveInt.default(32),
  lr: positive.default(5e-4),
  warmupRatio: z.number().min(0).max(1).default(0.1),
  dropout: z.number().min(0).max(1).default(0.1),
  seed: z.int().default(1),
  // --- generation tasks (encoder-decoder and decoder-only teachers) ---
  /** Seq2seq: most target tokens, EOS included (default maxLength). */
  maxTargetLength: positiveInt.optional(),
  /** Label smoothing of the teacher's token cross-entropy (default 0). */
  labelSmoothing: z.number().min(0).lt(1).optional(),
  /** Decoder-only: key/value heads (grouped-query attention; default heads / 2) and head size (default hidden / heads). */
  kvHeads: positiveInt.optional(),
  headDim: positiveInt.optional(),
  /** Encoder-decoder: pre-LN layers (mBART's layout and names) instead of BART's post-LN (default false). */
  preLayerNorm: z.boolean().optional(),
  // --- end generation tasks ---
});

/**
 * Fine-tuning of a pretrained teacher (`teacher.pretrained`): the reference fine-tunes BERT with AdamW and linear
 * decay, lr 2e-5 to 5e-5, batch 32, 3 epochs (METHOD.md §6); the architecture comes from the checkpoint's config.json.
 */
export const teacherFinetuneSchema = z.strictObject({
  epochs: positiveInt.default(3),
  batchSize: positiveInt.default(32),
  lr: positive.default(5e-5),
  warmupRatio: z.number().min(0).max(1).default(0.1),
  /** Longest input in tokens (truncation); at most the checkpoint's max_position_embeddings. */
  maxLength: positiveInt.default(128),
  /** Overrides the checkpoint's dropout rates (BERT: hidden and attention; BART: dropout; Qwen3: the residual branches). */
  dropout: z.number().min(0).lt(1).optional(),
  seed: z.int().default(1),
  /** Seq2seq tasks: most target tokens, EOS included (default maxLength). */
  maxTargetLength: positiveInt.optional(),
  /** Generation tasks: label smoothing of the token cross-entropy (default 0). */
  labelSmoothing: z.number().min(0).lt(1).optional(),
  /**
   * Training examples the teacher fine-tunes on (a deterministic subset; default data.maxTrainExamples). A teacher
   * may see the whole split while the cache and the students use data.maxTrainExamples of it.
   */
  maxTrainExamples: positiveInt.optional(),
});

/**
 * Exactly one of `onnx` (a given frozen teacher: Strata's export or any BERT-family ONNX export, e.g. optimum's),
 * `pretrained` (a Hugging Face checkpoint folder, fine-tuned on the task first) or `train` (from scratch).
 */
export const teacherSchema = z
  .strictObject({
    onnx: path.optional(),
    /** A Hugging Face checkpoint folder: config.json, model.safetensors (or shards), tokenizer.json. */
    pretrained: path.optional(),
    finetune: teacherFinetuneSchema.optional(),
    /** tokenizer.json of the teacher (default: the one beside the ONNX file or in the checkpoint folder). */
    tokenizer: path.optional(),
    /** An ONNX teacher's hidden-state tensors, embeddings first (default: found in the graph). */
    hiddenStates: z.array(z.string().min(1)).min(2).optional(),
    train: teacherTrainSchema.optional(),
  })
  .superRefine((t, ctx) => {
    const given = (['onnx', 'pretrained', 'train'] as const).filter((k) => t[k] !== undefined);
    if (given.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'give one of onnx: <teacher.onnx>, pretrained: <Hugging Face checkpoint folder> or train: { layers, hidden, ... }' });
    } else if (given.length > 1) {
      ctx.addIssue({ code: 'custom', message: `give one of onnx, pretrained or train, not ${given.join(' and ')}` });
    }
    if (t.finetune !== undefined && t.pretrained === undefined) ctx.addIssue({ code: 'custom', path: ['finetune'], message: 'finetune applies to a pretrained teacher only (teacher.pretrained)' });
    if (t.hiddenStates !== undefined && t.onnx === undefined) ctx.addIssue({ code: 'custom', path: ['hiddenStates'], message: 'hiddenStates applies to an ONNX teacher only (teacher.onnx)' });
    if (t.tokenizer !== undefined && t.train !== undefined) ctx.addIssue({ code: 'custom', path: ['tokenizer'], message: 'a teacher trained from scratch trains its own tokenizer; tokenizer applies to onnx or pretrained' });
  });

export const cacheSchema = z.strictObject({
  dtype: z.enum(CACHE_DTYPES).default('float16'),
  store: z.enum(CACHE_STORES).default('file'),
  /** Generation tasks: vocabulary entries of the teacher's distribution cached per target token (top-k + log-sum-exp; default 64). */
  topK: positiveInt.optional(),
  /**
   * The teacher's weight products while caching: float32 (default) or int8 (dynamic quantization, ONNX Runtime's
   * integer kernels; about twice as fast here, at a hidden-state error the cache stage measures and logs).
   */
  teacherPrecision: z.enum(TEACHER_PRECISIONS).default('float32'),
});

/**
 * Upper bounds on the grid's lists: far above any real grid (the paper's has 5 strategies, 2 inits, 3 seeds), low
 * enough that a typo or a generated file cannot make validation itself take minutes and gigabytes.
 */
export const MAX_LIST = { depths: 64, inits: 8, strategies: 64, seeds: 1000, layers: 1024 } as const;

const teacherLayerList = z.array(positiveInt).min(1).max(MAX_LIST.layers, `at most ${MAX_LIST.layers} layers`);

/** A strategy with options: `label` names its cells (default: the strategy name); `explicit` gives the map. */
export const strategyWithOptionsSchema = z.strictObject({
  name: strategyName,
  label: z.string().regex(DNS1123_LABEL, 'label must be lower-case letters, digits and -').optional(),
  /** Strategy `explicit`: teacher layer (1..L_t) per student layer, one list, or one list per depth (`"3": [4, 8, 12]`). */
  explicit: z.union([teacherLayerList, z.record(z.string().regex(/^[1-9][0-9]*$/, 'keys are student depths'), teacherLayerList)]).optional(),
  /** Overrides whether hs[0] is matched (METHOD.md §2: on for encoder and encoder-decoder models). */
  matchEmbeddings: z.boolean().optional(),
});

/** A strategy: a registered name, or a name with options. */
export const strategyEntrySchema = z.union([strategyName, strategyWithOptionsSchema]);

/** METHOD.md §4 defaults: CE 1, KL 1, hidden λ 3, τ 1, per-token MSE. */
export const lossSchema = z.strictObject({
  ce: nonNegative.default(1),
  kl: nonNegative.default(1),
  hidden: nonNegative.default(3),
  temperature: positive.default(1),
  hiddenLoss: z.enum(HIDDEN_LOSSES).default('mse'),
  normalize: z.enum(HIDDEN_NORMALIZATIONS).default('token'),
});

export const studentsSchema = z.strictObject({
  depths: z.array(positiveInt).min(1, 'list at least one student depth').max(MAX_LIST.depths, `at most ${MAX_LIST.depths} student depths`).default([3]),
  inits: z.array(z.enum(STUDENT_INITS)).min(1, 'list at least one init').max(MAX_LIST.inits, `at most ${MAX_LIST.inits} inits`).default(['random', 'copy']),
  strategies: z.array(strategyEntrySchema).min(1, 'list at least one strategy').max(MAX_LIST.strategies, `at most ${MAX_LIST.strategies} strategies`).default([...TABLE1_STRATEGIES]),
  seeds: z.array(z.int()).min(1, 'list at least one seed').max(MAX_LIST.seeds, `at most ${MAX_LIST.seeds} seeds`).default([1, 2, 3]),
  loss: lossSchema.prefault({}),
  epochs: positiveInt.default(5),
  batchSize: positiveInt.default(32),
  lr: positive.default(5e-4),
  /** Student width; default the teacher's (weight copy needs it equal). */
  hidden: positiveInt.optional(),
  /** `auto`: a trained bias-free projection per matched pair when widths differ; `none`: widths must match. */
  projection: z.enum(PROJECTIONS).default('auto'),
  /** Generation tasks: label smoothing of the students' token cross-entropy (default 0). */
  labelSmoothing: z.number().min(0).lt(1).optional(),
});

export const evalSchema = z.strictObject({
  split: z.string().min(1).default('dev'),
  metrics: z.array(z.string().min(1)).min(1).optional(),
  // --- generation tasks ---
  /** Beam width of generation (1 = greedy; default 4). */
  beam: positiveInt.optional(),
  /** Score = Σ log p / length^lengthPenalty (Hugging Face's length_penalty; default 1). */
  lengthPenalty: z.number().optional(),
  /** CommonsenseQA: most tokens of a generated answer (exact match; default 12). */
  maxAnswerLength: positiveInt.optional(),
  // --- end generation tasks ---
});

export const analysisSchema = z.strictObject({
  angles: z.boolean().default(true),
  split: z.string().min(1).optional(),
});

export const dataSchema = z.strictObject({
  root: path.optional(),
  maxTrainExamples: positiveInt.optional(),
  maxEvalExamples: positiveInt.optional(),
  /** The split students and the teacher train on (e.g. `unofficial-train` where only a sample is available). */
  trainSplit: z.string().min(1).default('train'),
  // --- generation tasks ---
  /** wmt16-en-ro: user-supplied training pairs, JSON lines ({"en","ro"}, {"source","target"} or {"translation":{...}}). */
  trainFile: path.optional(),
  /** wmt16-en-ro: user-supplied line-aligned training files (train.source / train.target). */
  trainSourceFile: path.optional(),
  trainTargetFile: path.optional(),
  /**
   * Train on one part of a split and evaluate on the rest, cut by a seeded hash of the example ids (HellaSwag: only
   * its validation set is available). Replaces trainSplit and eval.split.
   */
  carve: z.strictObject({ from: z.string().min(1), evalFraction: z.number().gt(0).lt(1), seed: z.int().default(1) }).optional(),
  // --- end generation tasks ---
});

export const resourcesSchema = z.strictObject({
  /** Student runs at once (the Indexed Job's parallelism; embedded mode's worker count). */
  parallelism: positiveInt.optional(),
});

export const specSchema = z.strictObject({
  task: taskId,
  teacher: teacherSchema,
  cache: cacheSchema.prefault({}),
  students: studentsSchema.prefault({}),
  eval: evalSchema.prefault({}),
  analysis: analysisSchema.prefault({}),
  data: dataSchema.prefault({}),
  resources: resourcesSchema.optional(),
});

export const metadataSchema = z.looseObject({
  name: z.string().max(63, 'name must be at most 63 characters').regex(DNS1123_LABEL, 'name must be a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit'),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const experimentManifestSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: metadataSchema,
  spec: specSchema,
});

/** A validated manifest with every default filled in. */
export type ExperimentManifest = z.output<typeof experimentManifestSchema>;
/** A manifest as written (defaults optional). */
export type ExperimentManifestInput = z.input<typeof experimentManifestSchema>;
export type TeacherTrainSpec = z.output<typeof teacherTrainSchema>;
export type TeacherFinetuneSpec = z.output<typeof teacherFinetuneSchema>;
export type StrategyEntry = z.output<typeof strategyEntrySchema>;
export type StrategyWithOptions = z.output<typeof strategyWithOptionsSchema>;
export type LossConfig = z.output<typeof lossSchema>;
export type StudentInit = (typeof STUDENT_INITS)[number];
