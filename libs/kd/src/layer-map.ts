// Shared types and checks of the layer-selection strategies (docs METHOD.md §2).
// Indices are hidden-state indices: hs[0] is the embedding output, hs[k] the output of layer k (1-based).
import { KdError } from './errors';

/** One matched pair: [student hidden-state index, teacher hidden-state index]. */
export type LayerPair = [studentHs: number, teacherHs: number];

/** A resolved layer map: the pairs whose hidden MSE is averaged (embedding pair first, then student layers 1..L_s). */
export type LayerMap = LayerPair[];

/** `encoder` (BERT-style) and `encoder-decoder` models match embeddings by default; `decoder` (decoder-only) models do not. */
export type Architecture = 'encoder' | 'encoder-decoder' | 'decoder';

export const ARCHITECTURES: readonly Architecture[] = ['encoder', 'encoder-decoder', 'decoder'];

export interface LayerMapOptions {
  /** Default `encoder`. Decides whether the embedding pair is matched by default. */
  architecture?: Architecture;
  /** Overrides the architecture's default for the embedding pair (hs[0]). */
  matchEmbeddings?: boolean;
  /** Strategy `explicit`: the teacher layer (1..L_t) matched by each student layer 1..L_s. */
  explicit?: readonly number[];
  /**
   * Salt for the seeded strategies, so the stacks of an encoder-decoder draw independent maps from one seed
   * (e.g. `encoder`, `decoder`). Default: no salt.
   */
  stack?: string;
}

export interface LayerMapInput {
  /** Teacher depth L_t. */
  teacherLayers: number;
  /** Student depth L_s (at most L_t). */
  studentLayers: number;
  /** The run's seed; required by `out-of-order-random` and `rail-kd`. */
  seed?: number;
  /** The epoch (0-based); required by `rail-kd`, which draws a fresh subset each epoch. */
  epoch?: number;
  options?: LayerMapOptions;
}

/** Throws unless both depths are positive integers and the student is no deeper than the teacher. */
export function checkDepths(teacherLayers: number, studentLayers: number): void {
  if (!Number.isInteger(teacherLayers) || teacherLayers < 1) {
    throw new KdError(`teacherLayers must be a positive integer, got ${teacherLayers}`);
  }
  if (!Number.isInteger(studentLayers) || studentLayers < 1) {
    throw new KdError(`studentLayers must be a positive integer, got ${studentLayers}`);
  }
  if (studentLayers > teacherLayers) {
    throw new KdError(`studentLayers (${studentLayers}) is deeper than teacherLayers (${teacherLayers}); a student must have at most L_t layers`);
  }
}

/**
 * Checks a per-student-layer list of teacher layers: one entry per student layer, each an integer in 1..L_t.
 * `field` names the list in error messages.
 */
export function checkTeacherLayerList(list: readonly number[] | undefined, teacherLayers: number, studentLayers: number, field: string): readonly number[] {
  if (list === undefined) throw new KdError(`${field} is required: one teacher layer (1..${teacherLayers}) per student layer`);
  if (!Array.isArray(list)) throw new KdError(`${field} must be an array of teacher layers`);
  if (list.length !== studentLayers) {
    throw new KdError(`${field} has ${list.length} entries but studentLayers is ${studentLayers}; give one teacher layer per student layer`);
  }
  list.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 1 || t > teacherLayers) {
      throw new KdError(`${field}[${i}] = ${t} is not a teacher layer: must be an integer in 1..${teacherLayers}`);
    }
  });
  return list;
}

/** Whether hs[0] is matched: `matchEmbeddings` if given, else true except for decoder-only models. */
export function matchesEmbeddings(options: LayerMapOptions | undefined): boolean {
  const architecture = options?.architecture ?? 'encoder';
  if (!ARCHITECTURES.includes(architecture)) {
    throw new KdError(`options.architecture must be one of ${ARCHITECTURES.join(', ')}, got '${architecture}'`);
  }
  if (options?.matchEmbeddings !== undefined) return options.matchEmbeddings;
  return architecture !== 'decoder';
}

/** Student layer k (1..L_s) matches teacher hs[ceil(k * L_t / L_s)]: the forward map of METHOD.md §2, without the embedding pair. */
export function forwardTeacherLayers(teacherLayers: number, studentLayers: number): number[] {
  checkDepths(teacherLayers, studentLayers);
  // Integer ceil division keeps 12→9 etc. exact (no float rounding).
  return Array.from({ length: studentLayers }, (_, i) => Math.floor(((i + 1) * teacherLayers + studentLayers - 1) / studentLayers));
}

/** Pairs student layers 1..L_s with `teacher` in order. */
export function pairInOrder(teacher: readonly number[]): LayerMap {
  return teacher.map((t, i): LayerPair => [i + 1, t]);
}
