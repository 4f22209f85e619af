import { checkGradients } from '@strata/autodiff';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';
import { predictionKl } from './kl';
import { randomValues } from './test-helpers';
import { topKLogProbs, topKPredictionKl } from './topk-kl';

const [B, T, V] = [2, 3, 6];
const student = randomValues(B * T * V, 31, 3);
const teacherLogits = randomValues(B * T * V, 32, 3);
const weights = [0.2, 0.2, 0.2, 0.2, 0.2, 0]; // five real tokens, one padding position

function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
  return row.map((z) => z - lse);
}

/** The teacher's top-k of every position, as the cache stores it. */
function teacherTopK(k: number): { ids: number[]; logProbs: number[] } {
  const ids: number[] = [];
  const logProbs: number[] = [];
  for (let i = 0; i < B * T; i++) {
    const lp = logSoftmax(teacherLogits.slice(i * V, (i + 1) * V));
    const order = lp.map((_, v) => v).sort((a, b) => lp[b] - lp[a]).slice(0, k);
    ids.push(...order);
    logProbs.push(...order.map((v) => lp[v]));
  }
  return { ids, logProbs };
}

/** Plain-JS coarse KL over the top-k plus one "rest" outcome, τ = 1. */
function coarseKl(k: number): number {
  const { ids } = teacherTopK(k);
  let total = 0;
  for (let i = 0; i < B * T; i++) {
    const lp = logSoftmax(teacherLogits.slice(i * V, (i + 1) * V));
    const lq = logSoftmax(student.slice(i * V, (i + 1) * V));
    const top = ids.slice(i * k, (i + 1) * k);
    let kl = top.reduce((s, v) => s + Math.exp(lp[v]) * (lp[v] - lq[v]), 0);
    const pRest = 1 - top.reduce((s, v) => s + Math.exp(lp[v]), 0);
    const qRest = lq.reduce((s, l, v) => s + (top.includes(v) ? 0 : Math.exp(l)), 0);
    if (pRest > 1e-4) kl += pRest * Math.log(pRest / qRest);
    total += weights[i] * kl;
  }
  return total;
}

async function topKValue(k: number, tau: number, dtype = DataType.DOUBLE): Promise<number> {
  const { ids, logProbs } = teacherTopK(k);
  const g = new GraphBuilder();
  g.input('z', dtype, [B, T, V]);
  g.input('ids', DataType.INT64, [B, T, k]);
  g.input('lp', dtype, [B, T, k]);
  g.input('w', dtype, [B, T]);
  g.output(topKPredictionKl(g, 'z', 'ids', 'lp', { temperature: tau, tokenWeights: 'w' }), 'kl');
  const F = dtype === DataType.DOUBLE ? Float64Array : Float32Array;
  const type = dtype === DataType.DOUBLE ? 'float64' : 'float32';
  const out = await (await createSession(g.build())).run({
    z: new ort.Tensor(type, F.from(student), [B, T, V]), ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, T, k]),
    lp: new ort.Tensor(type, F.from(logProbs), [B, T, k]), w: new ort.Tensor(type, F.from(weights), [B, T]),
  });
  return Number(out.kl.data[0]);
}

async function fullValue(tau: number): Promise<number> {
  const g = new GraphBuilder();
  g.input('z', DataType.DOUBLE, [B, T, V]);
  g.input('t', DataType.DOUBLE, [B, T, V]);
  g.input('w', DataType.DOUBLE, [B, T]);
  g.output(predictionKl(g, 'z', 't', { temperature: tau, rowWeights: 'w' }), 'kl');
  const out = await (await createSession(g.build())).run({
    z: new ort.Tensor('float64', Float64Array.from(student), [B, T, V]), t: new ort.Tensor('float64', Float64Array.from(teacherLogits), [B, T, V]), w: new ort.Tensor('float64', Float64Array.from(weights), [B, T]),
  });
  return Number(out.kl.data[0]);
}

describe('top-k prediction KL against cached teacher distributions', () => {
  it.each([1, 2])('equals the full-vocabulary KL when k equals the vocabulary (τ = %d)', async (tau) => {
    const full = await fullValue(tau);
    expect(full).toBeGreaterThan(0.1);
    expect(Math.abs((await topKValue(V, tau)) - full)).toBeLessThan(1e-9);
    expect(Math.abs((await topKValue(V, tau, DataType.FLOAT)) - full)).toBeLessThan(1e-5 * full);
  });

  it('with k < V is the KL over the top-k plus one "rest" outcome: below the full KL, rising with k', async () => {
    const full = await fullValue(1);
    let previous = 0;
    for (const k of [1, 2, 4, 5]) {
      const v = await topKValue(k, 1);
      expect(Math.abs(v - coarseKl(k))).toBeLessThan(1e-9);
      expect(v).toBeLessThanOrEqual(full + 1e-12);
      expect(v).toBeGreaterThanOrEqual(previous - 1e-12);
      previous = v;
    }
  });

  it.each([[3, 1], [V, 1], [3, 2]])('gradient w.r.t. the student logits (k = %d, τ = %d)', async (k, tau) => {
    const { ids, logProbs } = teacherTopK(k);
    const r = await checkGradients(
      {
        z: { shape: [B, T, V], values: student },
        ids: { shape: [B, T, k], dtype: DataType.INT64, values: ids, wrt: false },
        lp: { shape: [B, T, k], values: logProbs, wrt: false },
        w: { shape: [B, T], values: weights, wrt: false },
      },
      (g) => topKPredictionKl(g, 'z', 'ids', 'lp', { temperature: tau, tokenWeights: 'w' }),
      { samples: 36 },
    );
    expect(r.checked).toBe(36);
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });

  it('topKLogProbs returns the k most probable ids, their log-probabilities and the log-sum-exp', async () => {
    const g = new GraphBuilder();
    g.input('z', DataType.FLOAT, [B, T, V]);
    const r = topKLogProbs(g, 'z', 3);
    g.output(r.indices, 'ids');
    g.output(r.logProbs, 'lp');
    g.output(r.logSumExp, 'lse');
    const out = await (await createSession(g.build())).run({ z: new ort.Tensor('float32', Float32Array.from(teacherLogits), [B, T, V]) });
    const want = teacherTopK(3);
    expect(Array.from(out.ids.data as BigInt64Array, Number)).toEqual(want.ids);
    (out.lp.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want.logProbs[i], 5));
    const row0 = teacherLogits.slice(0, V);
    expect((out.lse.data as Float32Array)[0]).toBeCloseTo(row0[0] - logSoftmax(row0)[0], 5);
    expect(() => topKLogProbs(g, 'z', 7)).toThrow('top-k: k must be in 1..6, got 7');
  });

  it('rejects mismatched shapes', () => {
    const g = new GraphBuilder();
    g.input('z', DataType.DOUBLE, [B, T, V]);
    g.input('ids', DataType.INT64, [B, T, 7]);
    g.input('lp', DataType.DOUBLE, [B, T, 7]);
    g.input('w', DataType.DOUBLE, [B, T]);
    expect(() => topKPredictionKl(g, 'z', 'ids', 'lp', { temperature: 1, tokenWeights: 'w' })).toThrow('teacher top-k ids must be [2, 3, k] with 1 <= k <= 6, got [2,3,7]');
  });
});
