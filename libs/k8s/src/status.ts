// The Experiment's status subresource, written by the controller. One zod schema gives both the TypeScript type and
// the status part of the CRD's OpenAPI schema (through the same translation as the spec).
import { z } from 'zod';

export const PHASES = ['Pending', 'TrainingTeacher', 'Caching', 'Training', 'Evaluating', 'Succeeded', 'Failed', 'Invalid'] as const;
export type Phase = (typeof PHASES)[number];

/** Condition types, in the order they normally turn True. */
export const CONDITION_TYPES = ['Accepted', 'TeacherReady', 'CacheReady', 'Registered', 'StudentsComplete', 'Ready', 'SpecChanged'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const conditionSchema = z.strictObject({
  type: z.enum(CONDITION_TYPES),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.int().nonnegative().optional(),
});
export type Condition = z.output<typeof conditionSchema>;

export const CACHE_STATES = ['queued', 'running', 'complete', 'failed'] as const;
export type CacheState = (typeof CACHE_STATES)[number];

export const experimentStatusSchema = z.strictObject({
  observedGeneration: z.int().nonnegative().optional(),
  phase: z.enum(PHASES),
  message: z.string(),
  cellsTotal: z.int().nonnegative(),
  cellsDone: z.int().nonnegative(),
  cellsFailed: z.int().nonnegative(),
  /** The failed cells' ids (the Indexed Job's failed indexes mapped through planGrid). */
  failedCells: z.array(z.string()).optional(),
  /** The teacher the cache is made from: a path under the artifacts volume, and its depth and width. */
  teacher: z.strictObject({ path: z.string(), layers: z.int().positive(), hidden: z.int().positive() }).optional(),
  /** The teacher-inference cache job (POST /v1/caches). */
  cache: z
    .strictObject({
      key: z.string(),
      topic: z.string(),
      state: z.enum(CACHE_STATES),
      produced: z.int().nonnegative().optional(),
      total: z.int().nonnegative().optional(),
    })
    .optional(),
  /** The evaluator knows the experiment (POST /v1/experiments). */
  registered: z.boolean().optional(),
  /** Where the results are: paths under the artifacts volume and the evaluator's report URL. */
  results: z.strictObject({ path: z.string(), report: z.string(), url: z.string() }).optional(),
  conditions: z.array(conditionSchema),
});
export type ExperimentStatus = z.output<typeof experimentStatusSchema>;
