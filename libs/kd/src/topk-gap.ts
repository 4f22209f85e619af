// How much of the prediction KL a top-k teacher cache keeps: the KL of the top-k + rest coarsening (what
// topKPredictionKl trains on) against the full-vocabulary KL, from full teacher and student logits.
import { TOPK_REST_FLOOR } from './losses/topk-kl';

export interface TopKGap {
  k: number;
  /** Mean over positions of KL(p ‖ q) over the whole vocabulary. */
  fullKl: number;
  /** Mean over positions of the top-k + rest KL (never above fullKl). */
  topKKl: number;
  /** (fullKl − topKKl) / fullKl. */
  relativeGap: number;
  /** Mean teacher probability outside its top-k. */
  restMass: number;
}

function logSoftmaxRow(z: ArrayLike<number>, offset: number, V: number, out: Float64Array): void {
  let m = -Infinity;
  for (let v = 0; v < V; v++) m = Math.max(m, z[offset + v]);
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(z[offset + v] - m);
  const lse = m + Math.log(s);
  for (let v = 0; v < V; v++) out[v] = z[offset + v] - lse;
}

/**
 * For each k: mean full KL and mean top-k KL over `rows` positions of [rows, V] teacher and student logits (τ = 1),
 * the top-k chosen from the teacher as the cache does. Pure JS in float64.
 */
export function topKGap(teacherLogits: ArrayLike<number>, studentLogits: ArrayLike<number>, rows: number, V: number, ks: readonly number[]): TopKGap[] {
  if (teacherLogits.length !== rows * V || studentLogits.length !== rows * V) throw new Error(`topKGap: logits must be [${rows}, ${V}]`);
  const lp = new Float64Array(V);
  const lq = new Float64Array(V);
  const sums = ks.map(() => ({ top: 0, rest: 0 }));
  let full = 0;
  const order = new Int32Array(V);
  for (let r = 0; r < rows; r++) {
    logSoftmaxRow(teacherLogits, r * V, V, lp);
    logSoftmaxRow(studentLogits, r * V, V, lq);
    for (let v = 0; v < V; v++) {
      full += Math.exp(lp[v]) * (lp[v] - lq[v]);
      order[v] = v;
    }
    const sorted = Array.from(order).sort((a, b) => lp[b] - lp[a]);
    ks.forEach((k, i) => {
      let kl = 0;
      let pTop = 0;
      let qTop = 0;
      for (let j = 0; j < Math.min(k, V); j++) {
        const v = sorted[j];
        const p = Math.exp(lp[v]);
        kl += p * (lp[v] - lq[v]);
        pTop += p;
        qTop += Math.exp(lq[v]);
      }
      const pRest = 1 - pTop > TOPK_REST_FLOOR ? 1 - pTop : 0;
      if (pRest > 0) kl += pRest * Math.log(pRest / Math.max(1 - qTop, 1e-30));
      sums[i].top += kl;
      sums[i].rest += Math.max(0, 1 - pTop);
    });
  }
  return ks.map((k, i) => {
    const fullKl = full / rows;
    const topKKl = sums[i].top / rows;
    return { k, fullKl, topKKl, relativeGap: fullKl > 0 ? (fullKl - topKKl) / fullKl : 0, restMass: sums[i].rest / rows };
  });
}
