// Angle analysis (docs METHOD.md §5): for every student layer, the mean cosine over all teacher-layer pairs,
// the fraction of acute angles and a histogram of cosines, over the valid (unmasked) tokens of every batch added.
import { KdError } from '../errors';
import { ANGLE_EPSILON } from './angle-cosine';

/** Padded hidden states of one batch. Widths must agree: if the teacher is wider, project its states first. */
export interface AngleBatch {
  /** B */
  batchSize: number;
  /** S */
  seqLen: number;
  /** D, the width of every student and teacher state. */
  hiddenSize: number;
  /** Teacher width before projection, if known; an error unless it equals `hiddenSize`. */
  teacherHiddenSize?: number;
  /** One [B][S][D] row-major array per entry of the accumulator's `studentLayers`, in that order. */
  student: readonly ArrayLike<number>[];
  /** One [B][S][D] row-major array per entry of the accumulator's `teacherLayers`, in that order. */
  teacher: readonly ArrayLike<number>[];
  /** [B][S]; a token counts where the mask is non-zero. int64 masks welcome. */
  attentionMask: ArrayLike<number> | BigInt64Array;
}

/** One histogram bin over [lo, hi); the last bin also holds cos = 1. */
export interface HistogramBin {
  lo: number;
  hi: number;
  count: number;
}

/** The angle statistics of one student layer. */
export interface StudentLayerAngles {
  studentLayer: number;
  /** Row and column labels of `meanCosine`. */
  teacherLayers: number[];
  /** T x T row-major; entry (i, j) is the mean cosine over valid tokens; symmetric, diagonal 1. NaN before any token. */
  meanCosine: number[];
  /** Share of off-diagonal angles (pairs i < j, each token) with cos > 0. NaN when there are none. */
  fractionAcute: number;
  /** Cosines of the off-diagonal angles (pairs i < j, each token) in equal bins over [-1, 1]. */
  histogram: HistogramBin[];
  /** Valid tokens seen. */
  tokenCount: number;
  /** Off-diagonal angles seen: tokenCount x T(T-1)/2. */
  angleCount: number;
}

function checkLayers(name: string, layers: readonly number[]): void {
  if (layers.length === 0) throw new KdError(`${name} is empty; give at least one hidden-state index`);
  if (new Set(layers).size !== layers.length) throw new KdError(`${name} [${layers.join(', ')}] repeats a layer`);
  for (const l of layers) if (!Number.isInteger(l) || l < 0) throw new KdError(`${name} holds ${l}; hidden-state indices are integers >= 0`);
}

/** Accumulates the angle statistics of METHOD.md §5 over batches; `result()` may be called at any time. */
export class AngleAccumulator {
  readonly studentLayers: readonly number[];
  readonly teacherLayers: readonly number[];
  readonly histogramBins: number;
  private readonly sums: Float64Array[];
  private readonly acute: number[];
  private readonly counts: Float64Array[];
  private tokens = 0;

  constructor(studentLayers: readonly number[], teacherLayers: readonly number[], histogramBins = 40) {
    checkLayers('studentLayers', studentLayers);
    checkLayers('teacherLayers', teacherLayers);
    if (!Number.isInteger(histogramBins) || histogramBins < 1) throw new KdError(`histogramBins is ${histogramBins}; need an integer >= 1`);
    this.studentLayers = [...studentLayers];
    this.teacherLayers = [...teacherLayers];
    this.histogramBins = histogramBins;
    const T = teacherLayers.length;
    this.sums = studentLayers.map(() => new Float64Array(T * T));
    this.acute = studentLayers.map(() => 0);
    this.counts = studentLayers.map(() => new Float64Array(histogramBins));
  }

  add(batch: AngleBatch): void {
    const { batchSize: B, seqLen: S, hiddenSize: D } = batch;
    for (const [name, v] of [['batchSize', B], ['seqLen', S], ['hiddenSize', D]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new KdError(`${name} is ${v}; need an integer >= 0`);
    }
    if (batch.teacherHiddenSize !== undefined && batch.teacherHiddenSize !== D) {
      throw new KdError(`teacher width ${batch.teacherHiddenSize} differs from student width ${D}; project the teacher states to width ${D} before angle analysis`);
    }
    const L = this.studentLayers.length;
    const T = this.teacherLayers.length;
    if (batch.student.length !== L) throw new KdError(`${batch.student.length} student arrays for ${L} studentLayers [${this.studentLayers.join(', ')}]`);
    if (batch.teacher.length !== T) throw new KdError(`${batch.teacher.length} teacher arrays for ${T} teacherLayers [${this.teacherLayers.join(', ')}]`);
    if (batch.attentionMask.length !== B * S) throw new KdError(`attentionMask has ${batch.attentionMask.length} values; B x S = ${B}x${S} = ${B * S}`);
    const want = B * S * D;
    const checkStates = (who: string, layers: readonly number[], arrays: readonly ArrayLike<number>[]) =>
      arrays.forEach((h, k) => {
        if (h.length !== want) {
          const hint = who === 'teacher' && B * S > 0 && h.length % (B * S) === 0 ? `; width ${h.length / (B * S)} differs from ${D}: project the teacher states first` : '';
          throw new KdError(`${who} hidden states of layer ${layers[k]} have ${h.length} values; B x S x D = ${B}x${S}x${D} = ${want}${hint}`);
        }
      });
    checkStates('student', this.studentLayers, batch.student);
    checkStates('teacher', this.teacherLayers, batch.teacher);

    const diffs = new Float64Array(T * D);
    const norms = new Float64Array(T);
    const bins = this.histogramBins;
    for (let tok = 0; tok < B * S; tok++) {
      if (Number(batch.attentionMask[tok]) === 0) continue;
      this.tokens++;
      const base = tok * D;
      for (let l = 0; l < L; l++) {
        const s = batch.student[l];
        for (let i = 0; i < T; i++) {
          const t = batch.teacher[i];
          let n = 0;
          for (let k = 0; k < D; k++) {
            const d = t[base + k] - s[base + k];
            diffs[i * D + k] = d;
            n += d * d;
          }
          norms[i] = Math.sqrt(n);
        }
        const sum = this.sums[l];
        const counts = this.counts[l];
        for (let i = 0; i < T; i++) {
          sum[i * T + i] += 1; // the angle between a direction and itself
          for (let j = i + 1; j < T; j++) {
            let dot = 0;
            for (let k = 0; k < D; k++) dot += diffs[i * D + k] * diffs[j * D + k];
            const cos = dot / (norms[i] * norms[j] + ANGLE_EPSILON);
            sum[i * T + j] += cos;
            sum[j * T + i] += cos;
            if (cos > 0) this.acute[l]++;
            counts[Math.min(bins - 1, Math.max(0, Math.floor(((cos + 1) / 2) * bins)))]++;
          }
        }
      }
    }
  }

  result(): StudentLayerAngles[] {
    const T = this.teacherLayers.length;
    const n = this.tokens;
    const angleCount = (n * T * (T - 1)) / 2;
    return this.studentLayers.map((studentLayer, l) => ({
      studentLayer,
      teacherLayers: [...this.teacherLayers],
      meanCosine: Array.from(this.sums[l], (v) => (n === 0 ? NaN : v / n)),
      fractionAcute: angleCount === 0 ? NaN : this.acute[l] / angleCount,
      histogram: Array.from(this.counts[l], (count, b) => ({ lo: -1 + (2 * b) / this.histogramBins, hi: -1 + (2 * (b + 1)) / this.histogramBins, count })),
      tokenCount: n,
      angleCount,
    }));
  }
}
