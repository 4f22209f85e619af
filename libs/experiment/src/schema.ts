// The experiment manifest (docs ARCHITECTURE.md, Contracts): one zod schema for the CLI and the Kubernetes custom
// resource. `experimentManifestSchema` is exported as is so the CRD's OpenAPI schema can be generated from it.
// Field-level checks against the registries (task ids, strategy names) live here; cross-field checks in validate.ts.
// Every field's `.describe()` text is its one-line meaning in docs/MANIFEST.md (manifest-doc.ts renders it; a test
// keeps the file current) and in the CRD (`kubectl explain`), so say what the field does, not how it is coded.
import { TASK_IDS, isTaskId } from '@strata/data';
import { PREDICTION_DIVERGENCES, SKEW_KL_DEFAULT_ALPHA, layerSelectionNames } from '@strata/kd';
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
export const PROJECTIONS = ['auto', 'shared', 'none'] as const;
export { PREDICTION_DIVERGENCES };

/**
 * What docs/MANIFEST.md says that JSON Schema cannot: the default of an optional field whose absence means a value
 * computed elsewhere (`default`), and allowed values checked in code rather than by an enum (`values`). Kept in a
 * registry of its own so it stays out of z.toJSONSchema's output, which the CRD is made from.
 */
export interface ManifestFieldDoc {
  default?: string;
  values?: () => readonly string[];
}
export const manifestFieldDocs = z.registry<ManifestFieldDoc>();
const computed = (text: string): ManifestFieldDoc => ({ default: text });

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
export const teacherTrainSchema = z
  .strictObject({
    layers: positiveInt.default(6).describe('Transformer layers L_t (in each stack of an encoder-decoder).'),
    hidden: positiveInt.default(128).describe('Hidden size.'),
    heads: positiveInt.default(4).describe('Attention heads; must divide hidden.'),
    intermediate: positiveInt.default(512).describe('Inner size of the feed-forward blocks.'),
    maxLength: positiveInt.default(64).describe('Longest input in tokens; longer inputs are truncated.'),
    vocabSize: positiveInt.default(8000).describe('Vocabulary size of the tokenizer trained with the teacher.'),
    tokenizer: z.enum(TOKENIZER_KINDS).default('wordpiece').describe("Kind of tokenizer trained on the task's training text (word-level: one token per whitespace-separated symbol)."),
    epochs: positiveInt.default(3).describe('Training epochs.'),
    batchSize: positiveInt.default(32).describe('Examples per training step.'),
    lr: positive.default(5e-4).describe('Peak AdamW learning rate (linear warm-up, then linear decay).'),
    warmupRatio: z.number().min(0).max(1).default(0.1).describe('Fraction of the training steps spent warming up the learning rate.'),
    dropout: z.number().min(0).max(1).default(0.1).describe('Dropout rate.'),
    seed: z.int().default(1).describe('Seed of the initialization, the data order and the dropout masks.'),
    // --- generation tasks (encoder-decoder and decoder-only teachers) ---
    maxTargetLength: positiveInt.optional().describe('Seq2seq: most target tokens, EOS included (also the generation limit).').register(manifestFieldDocs, computed('maxLength')),
    labelSmoothing: z.number().min(0).lt(1).optional().describe("Generation tasks: label smoothing of the teacher's token cross-entropy.").register(manifestFieldDocs, computed('0')),
    kvHeads: positiveInt.optional().describe('Decoder-only: key/value heads (grouped-query attention).').register(manifestFieldDocs, computed('heads / 2')),
    headDim: positiveInt.optional().describe('Decoder-only: size of each attention head.').register(manifestFieldDocs, computed('hidden / heads')),
    preLayerNorm: z.boolean().optional().describe("Encoder-decoder: pre-LN layers (mBART's layout and names) instead of BART's post-LN.").register(manifestFieldDocs, computed('false')),
    // --- end generation tasks ---
  })
  .describe('A teacher trained from scratch: a BERT-style encoder for classification, an encoder-decoder (seq2seq) or decoder-only model (multiple choice) for generation tasks.');

/**
 * Fine-tuning of a pretrained teacher (`teacher.pretrained`): the reference fine-tunes BERT with AdamW and linear
 * decay, lr 2e-5 to 5e-5, batch 32, 3 epochs (METHOD.md §6); the architecture comes from the checkpoint's config.json.
 */
export const teacherFinetuneSchema = z
  .strictObject({
    epochs: positiveInt.default(3).describe('Fine-tuning epochs.'),
    batchSize: positiveInt.default(32).describe('Examples per training step.'),
    lr: positive.default(5e-5).describe('Peak AdamW learning rate (linear warm-up, then linear decay; the reference uses 2e-5 to 5e-5).'),
    warmupRatio: z.number().min(0).max(1).default(0.1).describe('Fraction of the training steps spent warming up the learning rate.'),
    maxLength: positiveInt.default(128).describe("Longest input in tokens (truncation); at most the checkpoint's max_position_embeddings."),
    dropout: z.number().min(0).lt(1).optional().describe("Overrides the checkpoint's dropout rates (BERT: hidden and attention; BART: dropout; Qwen3: the residual branches).").register(manifestFieldDocs, computed("the checkpoint's")),
    seed: z.int().default(1).describe('Seed of the new head, the data order and the dropout masks.'),
    maxTargetLength: positiveInt.optional().describe('Seq2seq: most target tokens, EOS included.').register(manifestFieldDocs, computed('maxLength')),
    labelSmoothing: z.number().min(0).lt(1).optional().describe('Generation tasks: label smoothing of the token cross-entropy.').register(manifestFieldDocs, computed('0')),
    maxTrainExamples: positiveInt
      .optional()
      .describe('Training examples the teacher fine-tunes on (a deterministic subset), so the teacher may see the whole split while the cache and the students use data.maxTrainExamples.')
      .register(manifestFieldDocs, computed('data.maxTrainExamples')),
  })
  .describe("Fine-tuning of a pretrained teacher on the task (AdamW, linear decay; the architecture comes from the checkpoint's config.json).");

/**
 * Exactly one of `onnx` (a given frozen teacher: Strata's export or any BERT-family ONNX export, e.g. optimum's),
 * `pretrained` (a Hugging Face checkpoint folder, fine-tuned on the task first) or `train` (from scratch).
 */
export const teacherSchema = z
  .strictObject({
    onnx: path.optional().describe("A frozen teacher .onnx: Strata's export or a BERT-family ONNX export (e.g. optimum-cli export onnx)."),
    pretrained: path.optional().describe('A Hugging Face checkpoint folder (config.json, model.safetensors or shards, tokenizer.json), fine-tuned on the task first.'),
    finetune: teacherFinetuneSchema.optional(),
    tokenizer: path.optional().describe("The teacher's tokenizer.json (onnx or pretrained teachers).").register(manifestFieldDocs, computed('the one beside the ONNX file or in the checkpoint folder')),
    hiddenStates: z.array(z.string().min(1)).min(2).optional().describe("Names of an ONNX teacher's hidden-state tensors, embeddings first.").register(manifestFieldDocs, computed('found in the graph')),
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
  })
  .describe('The teacher to distill: exactly one of onnx (a given frozen model), pretrained (a checkpoint fine-tuned on the task first) or train (trained from scratch). Relative paths resolve against the manifest\'s folder.');

export const cacheSchema = z
  .strictObject({
    dtype: z.enum(CACHE_DTYPES).default('float16').describe('Stored precision of the cached hidden states.'),
    store: z.enum(CACHE_STORES).default('file').describe('Where the cache lives: files in the run folder, or Kafka topics (needs experiment run --transport kafka).'),
    topK: positiveInt.optional().describe("Generation tasks: entries of the teacher's next-token distribution cached per target token (top-k plus log-sum-exp).").register(manifestFieldDocs, computed('64')),
    teacherPrecision: z
      .enum(TEACHER_PRECISIONS)
      .default('float32')
      .describe("The teacher's weight products while caching; int8 is dynamic quantization, about twice as fast on CPU, at a hidden-state error the cache stage logs."),
  })
  .describe("The cache of the teacher's hidden states: computed once, read by every student.");

/**
 * Upper bounds on the grid's lists: far above any real grid (the paper's has 5 strategies, 2 inits, 3 seeds), low
 * enough that a typo or a generated file cannot make validation itself take minutes and gigabytes.
 */
export const MAX_LIST = { depths: 64, inits: 8, strategies: 64, seeds: 1000, layers: 1024 } as const;

const teacherLayerList = z.array(positiveInt).min(1).max(MAX_LIST.layers, `at most ${MAX_LIST.layers} layers`);

/** A strategy with options: `label` names its cells (default: the strategy name); `explicit` gives the map. */
export const strategyWithOptionsSchema = z
  .strictObject({
    name: strategyName.describe('A registered layer-selection strategy.').register(manifestFieldDocs, { values: layerSelectionNames }),
    label: z
      .string()
      .regex(DNS1123_LABEL, 'label must be lower-case letters, digits and -')
      .optional()
      .describe("Names this variant's cells, so one strategy can appear twice with different options.")
      .register(manifestFieldDocs, computed('name')),
    explicit: z
      .union([teacherLayerList, z.record(z.string().regex(/^[1-9][0-9]*$/, 'keys are student depths'), teacherLayerList)])
      .optional()
      .describe('Strategy explicit only: the teacher layer (1..L_t) each student layer matches; one list, or one list per student depth ("3": [4, 8, 12]).'),
    matchEmbeddings: z
      .boolean()
      .optional()
      .describe('Whether the embeddings (hs[0]) are matched too.')
      .register(manifestFieldDocs, computed('true for encoder and encoder-decoder models (METHOD.md §2)')),
  })
  .describe('A strategy with options, in place of its bare name.');

/** A strategy: a registered name, or a name with options. */
export const strategyEntrySchema = z.union([strategyName, strategyWithOptionsSchema]);

/** METHOD.md §4 defaults: CE 1, KL 1, hidden λ 3, τ 1, per-token MSE. */
export const lossSchema = z
  .strictObject({
    ce: nonNegative.default(1).describe('Weight of the cross-entropy against the gold labels.'),
    kl: nonNegative.default(1).describe("Weight of the KL divergence to the teacher's output distribution."),
    hidden: nonNegative.default(3).describe('Weight λ of the hidden-state matching term.'),
    temperature: positive.default(1).describe('Softmax temperature τ of the KL term.'),
    hiddenLoss: z.enum(HIDDEN_LOSSES).default('mse').describe('Distance between matched student and teacher hidden states.'),
    normalize: z
      .enum(HIDDEN_NORMALIZATIONS)
      .default('token')
      .describe('Scaling of the hidden loss: token (per valid token, averaged over pairs), bert-reference (token / batch size, as the reference code), element (per token and unit, summed over pairs), cosine (2 - 2cos per token).'),
    kd: z
      .enum(PREDICTION_DIVERGENCES)
      .default('forward-kl')
      .describe("The prediction term between the teacher's (p) and the student's (q) temperature-scaled distributions: forward-kl KL(p‖q), reverse-kl KL(q‖p), js (Jensen-Shannon), tvd (total variation), skew-kl KL(p‖αp+(1-α)q); each times τ², on top-k cached logits too (reverse-kl needs the full distribution)."),
    skewAlpha: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe("skew-kl only: the teacher's share α of the mixture the student is compared through.")
      .register(manifestFieldDocs, computed(String(SKEW_KL_DEFAULT_ALPHA))),
  })
  .describe('The students\' loss: ce x CE + kl x KL + hidden x hidden-state matching (METHOD.md §4).');

export const studentsSchema = z
  .strictObject({
    depths: z.array(positiveInt).min(1, 'list at least one student depth').max(MAX_LIST.depths, `at most ${MAX_LIST.depths} student depths`).default([3]).describe('Student depths in layers (in each stack of an encoder-decoder).'),
    inits: z
      .array(z.enum(STUDENT_INITS))
      .min(1, 'list at least one init')
      .max(MAX_LIST.inits, `at most ${MAX_LIST.inits} inits`)
      .default(['random', 'copy'])
      .describe("Student initializations: random, or copy (the teacher's embeddings and the layers of the forward map, METHOD.md §3)."),
    strategies: z
      .array(strategyEntrySchema)
      .min(1, 'list at least one strategy')
      .max(MAX_LIST.strategies, `at most ${MAX_LIST.strategies} strategies`)
      .default([...TABLE1_STRATEGIES])
      .describe('Layer-selection strategies: a registered name, or { name, label?, explicit?, matchEmbeddings? }.')
      .register(manifestFieldDocs, { values: layerSelectionNames }),
    seeds: z.array(z.int()).min(1, 'list at least one seed').max(MAX_LIST.seeds, `at most ${MAX_LIST.seeds} seeds`).default([1, 2, 3]).describe('Seeds; each adds one cell per depth, init and strategy.'),
    loss: lossSchema.prefault({}),
    epochs: positiveInt.default(5).describe('Student training epochs.'),
    batchSize: positiveInt.default(32).describe('Examples per training step.'),
    lr: positive.default(5e-4).describe('Peak AdamW learning rate.'),
    hidden: positiveInt.optional().describe("Student width; narrower (or wider) than the teacher's, the hidden loss goes through trained projections, and weight copy is refused.").register(manifestFieldDocs, computed("the teacher's")),
    heads: positiveInt.optional().describe('Student attention heads; must divide the student width.').register(manifestFieldDocs, computed("the teacher's, if they divide the student width")),
    intermediate: positiveInt.optional().describe('Student feed-forward size.').register(manifestFieldDocs, computed("the teacher's, scaled by student width / teacher width")),
    projection: z
      .enum(PROJECTIONS)
      .default('auto')
      .describe('Where student and teacher widths differ: auto trains a bias-free linear projection (student width → teacher width) per matched pair, shared trains one for every pair, none refuses different widths. Projections train with the student and are left out of its export.'),
    divergences: z
      .array(z.enum(PREDICTION_DIVERGENCES))
      .min(1)
      .max(PREDICTION_DIVERGENCES.length)
      .optional()
      .describe("Prediction losses to compare: one cell per divergence (a grid axis in place of loss.kd); cells other than forward-kl's add the divergence to their label, e.g. forward-js-random-d3-s1.")
      .register(manifestFieldDocs, computed('[loss.kd]')),
    labelSmoothing: z.number().min(0).lt(1).optional().describe("Generation tasks: label smoothing of the students' token cross-entropy.").register(manifestFieldDocs, computed('0')),
  })
  .describe('The grid of students: one cell per depth x init x strategy x seed, all trained from the same cache.');

export const evalSchema = z
  .strictObject({
    split: z.string().min(1).default('dev').describe("The split the teacher and the students are scored on: one of the task's splits or an alias (mnli: dev is dev-matched)."),
    metrics: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Metric names; part of each cell's hash, while the evaluator reports the task's full set.")
      .register(manifestFieldDocs, computed("the task's")),
    // --- generation tasks ---
    beam: positiveInt.optional().describe('Generation: beam width (1 = greedy).').register(manifestFieldDocs, computed('4')),
    lengthPenalty: z.number().optional().describe("Generation: beam score = sum of log p / length^lengthPenalty (Hugging Face's length_penalty).").register(manifestFieldDocs, computed('1')),
    maxAnswerLength: positiveInt.optional().describe('CommonsenseQA: most tokens of a generated answer (exact match).').register(manifestFieldDocs, computed('12')),
    // --- end generation tasks ---
  })
  .describe('How the teacher and the students are scored.');

export const analysisSchema = z
  .strictObject({
    angles: z.boolean().default(true).describe('Whether to run the angle analysis.'),
    split: z.string().min(1).optional().describe('The split the analysis reads.').register(manifestFieldDocs, computed('eval.split')),
  })
  .describe('The angle analysis of METHOD.md §5, after the students.');

export const dataSchema = z
  .strictObject({
    root: path.optional().describe('Folder holding the task folders.').register(manifestFieldDocs, computed('$STRATA_DATA_ROOT, else ../shared/data')),
    maxTrainExamples: positiveInt.optional().describe('Training examples used (a deterministic subset, chosen by a hash of the example ids).').register(manifestFieldDocs, computed('all')),
    maxEvalExamples: positiveInt.optional().describe('Evaluation examples scored (a deterministic subset).').register(manifestFieldDocs, computed('all')),
    trainSplit: z.string().min(1).default('train').describe('The split the teacher and the students train on (e.g. unofficial-train where only a sample is available).'),
    // --- generation tasks ---
    trainFile: path.optional().describe('wmt16-en-ro: your training pairs as JSON lines ({"en","ro"}, {"source","target"} or {"translation":{...}}).'),
    trainSourceFile: path.optional().describe('wmt16-en-ro: line-aligned training sources (train.source), with trainTargetFile.'),
    trainTargetFile: path.optional().describe('wmt16-en-ro: line-aligned training targets (train.target), with trainSourceFile.'),
    carve: z
      .strictObject({
        from: z.string().min(1).describe('The split to cut in two.'),
        evalFraction: z.number().gt(0).lt(1).describe('Fraction of it held out for evaluation.'),
        seed: z.int().default(1).describe('Seed of the hash that assigns each example.'),
      })
      .optional()
      .describe('Train on one part of a split and evaluate on the rest, cut by a seeded hash of the example ids (HellaSwag: only its validation set is available); replaces trainSplit and eval.split.'),
    // --- end generation tasks ---
  })
  .describe('Which data, and how much of it. Relative paths resolve against the manifest\'s folder.');

export const resourcesSchema = z
  .strictObject({
    parallelism: positiveInt
      .optional()
      .describe('Students trained at once: worker threads embedded, student processes with --transport kafka, pods of the Indexed Job on Kubernetes.')
      .register(manifestFieldDocs, computed('1 embedded; up to 5 with --transport kafka; 4 on Kubernetes')),
  })
  .describe('Compute of the run.');

export const specSchema = z
  .strictObject({
    task: taskId.describe('Built-in task: its dataset, splits and metrics.').register(manifestFieldDocs, { values: () => TASK_IDS }),
    teacher: teacherSchema,
    cache: cacheSchema.prefault({}),
    students: studentsSchema.prefault({}),
    eval: evalSchema.prefault({}),
    analysis: analysisSchema.prefault({}),
    data: dataSchema.prefault({}),
    resources: resourcesSchema.optional(),
  })
  .describe('The experiment: a teacher, one cache of its hidden states, a grid of students (depth x init x strategy x seed), evaluation and analysis.');

export const metadataSchema = z
  .looseObject({
    name: z
      .string()
      .max(63, 'name must be at most 63 characters')
      .regex(DNS1123_LABEL, 'name must be a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit')
      .describe('Names the run: its default output folder runs/<name>/, and on Kubernetes the Experiment and its Jobs (at most 48 characters there).'),
    namespace: z.string().optional().describe('Kubernetes namespace; the CLI ignores it.'),
    labels: z.record(z.string(), z.string()).optional().describe('Kubernetes labels; the CLI ignores them.'),
    annotations: z.record(z.string(), z.string()).optional().describe('Kubernetes annotations; the CLI ignores them.'),
  })
  .describe('Object metadata as in Kubernetes; other Kubernetes metadata fields are accepted and ignored.');

export const experimentManifestSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION).describe('Version of the manifest format.'),
    kind: z.literal(KIND).describe('Kind of object.'),
    metadata: metadataSchema,
    spec: specSchema,
  })
  .describe('A Strata knowledge-distillation experiment.');

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
