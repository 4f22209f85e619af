export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export interface AdamWSlot {
  param: Float32Array | Float64Array;
  m: Float32Array | Float64Array;
  v: Float32Array | Float64Array;
  decay: boolean;
}

/**
 * One AdamW update in place (decoupled weight decay, bias correction), `t` counting from 1.
 * Runs in JS on typed arrays: measured faster here than an in-graph update (onnx-autodiff.md §8).
 */
export function adamwUpdate(slot: AdamWSlot, grad: ArrayLike<number>, lr: number, t: number, cfg: AdamWConfig, gradScale = 1): void {
  updateRange(slot, grad, 0, 0, slot.param.length, lr, t, cfg, gradScale);
}

/**
 * AdamW of a table whose gradient is zero outside `rows` (sorted, distinct row ids), given as those rows' sums
 * `[rows.length, width]`: the same arithmetic as adamwUpdate over the dense gradient, without reading a table of
 * zeros. Untouched rows still decay their moments and move, as dense AdamW does.
 */
export function adamwUpdateRows(slot: AdamWSlot, width: number, rows: Int32Array, sums: Float32Array, lr: number, t: number, cfg: AdamWConfig, gradScale = 1): void {
  let at = 0;
  for (let k = 0; k < rows.length; k++) {
    const start = rows[k] * width;
    if (start > at) updateRange(slot, undefined, 0, at, start, lr, t, cfg, gradScale);
    updateRange(slot, sums, k * width - start, start, start + width, lr, t, cfg, gradScale);
    at = start + width;
  }
  if (at < slot.param.length) updateRange(slot, undefined, 0, at, slot.param.length, lr, t, cfg, gradScale);
}

/** Elements [from, to) of one AdamW step; `grad[i + shift]` is element i's gradient, or 0 everywhere without grad. */
function updateRange(slot: AdamWSlot, grad: ArrayLike<number> | undefined, shift: number, from: number, to: number, lr: number, t: number, cfg: AdamWConfig, gradScale: number): void {
  const { beta1, beta2, eps } = cfg;
  const c1 = 1 / (1 - beta1 ** t);
  const c2 = 1 / (1 - beta2 ** t);
  const decay = slot.decay ? lr * cfg.weightDecay : 0;
  const { param, m, v } = slot;
  if (grad === undefined) {
    // The dense loop with g = +0 (a dense gradient's untouched rows are +0, times a positive scale).
    for (let i = from; i < to; i++) {
      const g = 0;
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
      param[i] = param[i] - lr * ((mi * c1) / (Math.sqrt(vi * c2) + eps)) - decay * param[i];
    }
    return;
  }
  for (let i = from; i < to; i++) {
    const g = grad[i + shift] * gradScale;
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
    const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
    param[i] = param[i] - lr * ((mi * c1) / (Math.sqrt(vi * c2) + eps)) - decay * param[i];
  }
}

/**
 * Sums the rows of `updates` ([ids.length, width], row k belonging to table row ids[k], negative ids counted from the
 * end as Gather does) by id, in index order with float32 accumulation (as ONNX Runtime's ScatterElements add does),
 * and returns the touched rows sorted with their sums.
 */
export function sumRowsById(ids: BigInt64Array, updates: Float32Array, width: number, tableRows: number): { rows: Int32Array; sums: Float32Array } {
  const row = new Int32Array(ids.length);
  for (let k = 0; k < ids.length; k++) {
    const r = Number(ids[k]);
    row[k] = r < 0 ? r + tableRows : r;
  }
  const rows = Int32Array.from(new Set(row)).sort();
  const slot = new Int32Array(tableRows);
  rows.forEach((r, k) => (slot[r] = k));
  const sums = new Float32Array(rows.length * width);
  for (let k = 0; k < ids.length; k++) {
    const to = slot[row[k]] * width;
    const from = k * width;
    for (let j = 0; j < width; j++) sums[to + j] += updates[from + j];
  }
  return { rows, sums };
}

/**
 * Global L2 norm over all gradients (for clipping), summed element by element in order; a table's rows given as
 * sorted row sums add exactly what its dense gradient would (its zeros add nothing).
 */
export function globalNorm(grads: (ArrayLike<number> | { sums: Float32Array })[]): number {
  let sum = 0;
  for (const entry of grads) {
    const g = 'sums' in entry ? entry.sums : entry;
    for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  }
  return Math.sqrt(sum);
}
