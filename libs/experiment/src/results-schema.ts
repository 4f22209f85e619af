// results.json (schemaVersion 2) as a zod schema: it validates a results file and emits docs/results.schema.json
// (scripts/gen-results-schema.ts; a test keeps the committed file equal to what this emits). The TypeScript types
// in report.ts stay the source the code is written against; the checks at the bottom fail to compile when the two
// drift apart.
import { PREDICTION_DIVERGENCES } from '@strata/kd';
import { z } from 'zod';
import type { DevPoint, ExperimentResults, LatencyResults, ModelSize, ResultCell, TrainCurves } from './report';

const count = z.number().int().nonnegative();
const layerPair = z.tuple([count, count]).describe('[student hidden state, teacher hidden state]; hidden state 0 is the embedding output');
const layerMap = z.array(layerPair).describe('Resolved layer map: one pair per matched student hidden state; [] for strategy none');
const metrics = z.record(z.string(), z.number()).describe('Metric values on the paper\'s scale (accuracy and F1 in percent, BLEU 0-100; gold_nll in nats, per in percent), keyed by metric name');
const seconds = z.number().nonnegative();

export const trainCurvesSchema = z
  .object({
    step: z.array(count).describe('Global training step of each logged point (step 1 and every 10th step)'),
    loss: z.array(z.number()).describe('The optimized total loss at that step'),
    ce: z.array(z.number()).optional().describe('Cross-entropy on the gold labels as weighted in the total (w_ce · CE); present when the term is on'),
    kl: z.array(z.number()).optional().describe('Prediction KL to the teacher as weighted in the total (w_kl · KL)'),
    hidden: z.array(z.number()).optional().describe('Hidden-state matching loss as weighted in the total (w_hidden · MSE); absent for strategy none'),
  })
  .strict()
  .describe('Training curves, one entry per logged step; all arrays have equal length and ce + kl + hidden = loss up to float rounding');

export const devPointSchema = z
  .object({
    epoch: z.number().int().positive().describe('1-based epoch'),
    step: count.describe('Global step at which the epoch ended'),
    metrics,
  })
  .strict()
  .describe('Eval-split metrics after one epoch');

export const modelSizeSchema = z
  .object({
    parameters: count.describe('Trained parameters (floats), embeddings and classifier included'),
    onnxBytes: count.describe('Size of the exported .onnx file in bytes'),
  })
  .strict();

export const resultCellSchema = z
  .object({
    id: z.string().describe('Grid cell id, <strategy>-<init>-d<depth>-s<seed>'),
    strategy: z.string().describe("The strategy's label in the manifest"),
    init: z.enum(['random', 'copy']).describe('Student initialization: random, or weight copy from the teacher'),
    seed: z.number().int(),
    depth: z.number().int().positive().describe('Student layers (per stack for generation students)'),
    layerMap: layerMap.nullable().describe('The resolved map; null when it changed per epoch (then layerMapsPerEpoch), or for a generation student whose maps are per stack'),
    layerMapsPerEpoch: z.array(layerMap).optional().describe('Only when layerMap is null: the map of each epoch'),
    stackMaps: z.record(z.string(), layerMap.nullable()).optional().describe('Generation students: the map of each stack (encoder, decoder); null when it changed per epoch'),
    stackMapsPerEpoch: z.array(z.record(z.string(), layerMap)).optional().describe("Only when a stack's map changed per epoch: every stack's maps of each epoch"),
    metrics,
    curves: trainCurvesSchema,
    dev: z.array(devPointSchema).optional().describe('Eval-split metrics after each epoch (classification students)'),
    hash: z.string().describe('Content hash of the cell (settings, teacher, cache); a re-run reuses a finished cell with the same hash'),
    wallSeconds: seconds.describe('Wall-clock seconds of the cell: training summed over resumed segments (waiting for teacher records and per-epoch scoring included), final scoring and export'),
    student: modelSizeSchema.describe('Size of the exported student'),
    seconds: z.object({ train: seconds, eval: seconds }).strict().optional().describe('Generation students: training and evaluation seconds'),
    steps: count.optional().describe('Generation students: training steps'),
    kd: z.enum(PREDICTION_DIVERGENCES).optional().describe('The prediction divergence the student trained with, when not forward-kl'),
    skewAlpha: z.number().min(0).lt(1).optional().describe("skew-kl cells: the teacher's share α of the mixture, when the manifest gave it"),
  })
  .strict()
  .describe('One finished student; also students/<cellId>/result.json');

const latencyPoint = { batch1Ms: z.number().positive().describe('Median ms of one forward pass at batch 1'), batch32Ms: z.number().positive().describe('Median ms of one forward pass at batch 32') };

export const latencySchema = z
  .object({
    seqLen: z.number().int().positive().describe('Tokens per example, every position real'),
    runs: z.number().int().positive().describe('Timed runs per batch size after one warm-up; the median is reported'),
    threads: z.number().int().positive().describe('ONNX Runtime intra-op threads'),
    teacher: z.object(latencyPoint).strict(),
    students: z.array(z.object({ depth: z.number().int().positive(), cellId: z.string().describe('The cell whose .onnx was timed (every cell of a depth has the same graph)'), ...latencyPoint }).strict()),
  })
  .strict()
  .describe('CPU inference latency measured with onnxruntime-node at the end of the run (classification experiments)');

const stateError = z
  .object({ examples: count, relRms: z.number(), maxAbs: z.number(), logitsMaxAbs: z.number(), sameArgmax: z.number() })
  .strict()
  .describe('int8 against float32 teacher states on the first examples');

export const experimentResultsSchema = z
  .object({
    $schema: z.string().optional().describe('May name this schema'),
    schemaVersion: z.literal(2).describe('Format version of this file; cells written before version 2 read through upgradeCell'),
    experiment: z.string().describe('metadata.name of the manifest'),
    task: z.string(),
    teacher: z
      .object({
        metrics: metrics.describe("The teacher's metrics ({} for a given teacher that was not scored)"),
        layers: z.number().int().positive().optional(),
        hidden: z.number().int().positive().optional(),
        hash: z.string().optional().describe('sha256 of teacher.onnx'),
        warnings: z.array(z.string()).optional(),
        ...modelSizeSchema.shape,
      })
      .strict(),
    teacherCache: z.object({ teacherPrecision: z.literal('int8'), int8Error: stateError.optional() }).strict().optional().describe('Present when the cached states came from the teacher quantized to int8'),
    cells: z.array(resultCellSchema),
    missingCells: z.array(z.string()).optional().describe("Ids of the grid's cells not finished yet, when a run trained a subset (strata experiment run --cells); absent when every cell finished"),
    angles: z
      .array(z.object({ cellId: z.string(), layers: z.array(z.object({ studentLayer: z.number().int().positive(), acuteFraction: z.number().min(0).max(1), meanCosine: z.number().optional() }).strict()) }).strict())
      .optional()
      .describe('Angle analysis of the first seed\'s students: fraction of acute angles per student layer'),
    latency: latencySchema.optional(),
    plots: z.array(z.object({ title: z.string(), file: z.string().describe('Relative to the results folder') }).strict()).optional(),
    createdAt: z.string().describe('ISO 8601 time the results were aggregated'),
    versions: z.record(z.string(), z.string()).describe('Versions of the packages and runtimes that produced the results'),
    setup: z.record(z.string(), z.unknown()).optional().describe('Generation experiments: splits, sizes, cache'),
    timings: z
      .object({
        teacherTrain: seconds.optional(),
        teacherSteps: count.optional(),
        teacherEval: seconds.optional(),
        cache: seconds.optional(),
        students: z.record(z.string(), z.object({ train: seconds, eval: seconds, steps: count }).strict()),
        studentsWall: seconds.optional(),
        parallelism: z.number().int().positive().optional(),
        angles: seconds.optional(),
        total: seconds.optional(),
      })
      .strict()
      .optional()
      .describe('Generation experiments: wall-clock seconds per stage (stages reused from an earlier run count 0)'),
  })
  .strict()
  .describe("An experiment's results.json (docs/RESULTS-FORMAT.md)");

/** The JSON Schema of results.json, as committed in docs/results.schema.json. */
export function resultsJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(experimentResultsSchema, { target: 'draft-2020-12' });
  return { $schema, $id: 'https://strata.dev/schemas/results.schema.json', title: 'Strata results.json, schemaVersion 2', ...rest };
}

// Compile-time drift checks: each side must accept the other, and both must name the same fields (optional ones too).
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Keys<T> = T extends readonly unknown[] ? never : T extends object ? { [K in keyof T]-?: K | `${K & string}.${Keys<NonNullable<T[K]>> & string}` }[keyof T] : never;
type Same<A, B> = Mutual<A, B> extends true ? Mutual<Keys<A>, Keys<B>> : false;
const same = <A, B>(ok: Same<A, B>) => ok;
same<z.infer<typeof trainCurvesSchema>, TrainCurves>(true);
same<z.infer<typeof devPointSchema>, DevPoint>(true);
same<z.infer<typeof modelSizeSchema>, ModelSize>(true);
same<z.infer<typeof resultCellSchema>, ResultCell>(true);
same<z.infer<typeof latencySchema>, LatencyResults>(true);
same<Omit<z.infer<typeof experimentResultsSchema>, '$schema' | 'setup' | 'timings'>, ExperimentResults>(true);

/** Where the schema is committed, relative to the repository root, and the command that rewrites it. */
export const RESULTS_SCHEMA_PATH = 'docs/results.schema.json';
export const RESULTS_SCHEMA_COMMAND = 'npx tsx libs/experiment/scripts/results-schema.ts';

/** The committed file's exact text. */
export const resultsSchemaText = () => `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`;

/** Problems of a parsed results.json against the schema, each as `path: message` ([] when it conforms). */
export function resultsProblems(value: unknown): string[] {
  const r = experimentResultsSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
