import { checkGradients } from '@strata/autodiff';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';
import { PREDICTION_DIVERGENCES, type PredictionDivergence, predictionDivergence } from './divergences';
import { randomValues } from './test-helpers';
import { topKPredictionDivergence } from './topk-divergences';
import { topKPredictionKl } from './topk-kl';

const [B, T, V] = [2, 3, 6];
const student = randomValues(B * T * V, 61, 3);
const teacherLogits = randomValues(B * T * V, 62, 3);
const weights = [0.2, 0.2, 0.2, 0.2, 0.2, 0]; // five real tokens, one padding position
const BOUNDED = PREDICTION_DIVERGENCES.filter((kind) => kind !== 'reverse-kl');

function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((acc, z) => acc + Math.exp(z - m), 0));
  return row.map((z) => z - lse);
}

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

/** Divergence of two distributions given as probabilities, the documented definitions in plain JS. */
function divergence(kind: PredictionDivergence, p: number[], q: number[], alpha = 0.1): number {
  const kl = (a: number[], b: number[]) => a.reduce((acc, x, c) => acc + (x === 0 ? 0 : x * Math.log(x / b[c])), 0);
  if (kind === 'forward-kl') return kl(p, q);
  if (kind === 'reverse-kl') return kl(q, p);
  if (kind === 'tvd') return 0.5 * p.reduce((acc, x, c) => acc + Math.abs(x - q[c]), 0);
  const m = (w: number) => p.map((x, c) => w * x + (1 - w) * q[c]);
  if (kind === 'js') return 0.5 * kl(p, m(0.5)) + 0.5 * kl(q, m(0.5));
  return kl(p, m(alpha));
}

/** The (k + 1)-outcome coarse distributions the doc comment defines, for τ = 1 and τ ≠ 1, reduced in plain JS. */
function coarseReference(kind: PredictionDivergence, k: number, tau: number): number {
  const { ids, logProbs } = teacherTopK(k);
  let total = 0;
  for (let i = 0; i < B * T; i++) {
    const top = ids.slice(i * k, (i + 1) * k);
    const lp = logProbs.slice(i * k, (i + 1) * k);
    const q = logSoftmax(student.slice(i * V, (i + 1) * V).map((z) => z / tau)).map(Math.exp);
    let p: number[];
    let pRest: number;
    if (tau === 1) {
      p = lp.map(Math.exp);
      const rest = 1 - p.reduce((a, b) => a + b, 0);
      pRest = rest > 1e-4 ? rest : 0;
    } else {
      p = logSoftmax(lp.map((l) => l / tau)).map(Math.exp);
      pRest = 0;
    }
    const qRest = q.reduce((acc, x, v) => acc + (top.includes(v) ? 0 : x), 0);
    total += weights[i] * divergence(kind, [...p, pRest], [...top.map((v) => q[v]), qRest]);
  }
  return tau * tau * total;
}

async function topKValue(kind: PredictionDivergence, k: number, tau: number, dtype = DataType.DOUBLE): Promise<number> {
  const { ids, logProbs } = teacherTopK(k);
  const g = new GraphBuilder();
  g.input('z', dtype, [B, T, V]);
  g.input('ids', DataType.INT64, [B, T, k]);
  g.input('lp', dtype, [B, T, k]);
  g.input('w', dtype, [B, T]);
  g.output(topKPredictionDivergence(g, 'z', 'ids', 'lp', { kind, temperature: tau, tokenWeights: 'w' }), 'd');
  const F = dtype === DataType.DOUBLE ? Float64Array : Float32Array;
  const type = dtype === DataType.DOUBLE ? 'float64' : 'float32';
  const session = await createSession(g.build());
  const out = await session.run({
    z: new ort.Tensor(type, F.from(student), [B, T, V]),
    ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, T, k]),
    lp: new ort.Tensor(type, F.from(logProbs), [B, T, k]),
    w: new ort.Tensor(type, F.from(weights), [B, T]),
  });
  await session.release();
  return Number(out.d.data[0]);
}

async function fullValue(kind: PredictionDivergence, tau: number): Promise<number> {
  const g = new GraphBuilder();
  g.input('z', DataType.DOUBLE, [B, T, V]);
  g.input('t', DataType.DOUBLE, [B, T, V]);
  g.input('w', DataType.DOUBLE, [B, T]);
  g.output(predictionDivergence(g, 'z', 't', { kind, temperature: tau, rowWeights: 'w' }), 'd');
  const session = await createSession(g.build());
  const out = await session.run({
    z: new ort.Tensor('float64', Float64Array.from(student), [B, T, V]),
    t: new ort.Tensor('float64', Float64Array.from(teacherLogits), [B, T, V]),
    w: new ort.Tensor('float64', Float64Array.from(weights), [B, T]),
  });
  await session.release();
  return Number(out.d.data[0]);
}

describe('top-k prediction divergences against cached teacher distributions', () => {
  it.each(PREDICTION_DIVERGENCES.flatMap((kind) => [1, 2].map((tau) => [kind, tau] as const)))(
    '%s equals the full-vocabulary value when k equals the vocabulary (τ = %d)',
    async (kind, tau) => {
      const full = await fullValue(kind, tau);
      expect(full).toBeGreaterThan(0.01);
      expect(Math.abs((await topKValue(kind, V, tau)) - full)).toBeLessThan(1e-9);
      expect(Math.abs((await topKValue(kind, V, tau, DataType.FLOAT)) - full)).toBeLessThan(1e-5);
    },
  );

  it('forward-kl is topKPredictionKl', async () => {
    for (const [k, tau] of [[3, 1], [3, 2]]) {
      const { ids, logProbs } = teacherTopK(k);
      const g = new GraphBuilder();
      g.input('z', DataType.DOUBLE, [B, T, V]);
      g.input('ids', DataType.INT64, [B, T, k]);
      g.input('lp', DataType.DOUBLE, [B, T, k]);
      g.input('w', DataType.DOUBLE, [B, T]);
      g.output(topKPredictionKl(g, 'z', 'ids', 'lp', { temperature: tau, tokenWeights: 'w' }), 'kl');
      const session = await createSession(g.build());
      const out = await session.run({
        z: new ort.Tensor('float64', Float64Array.from(student), [B, T, V]),
        ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, T, k]),
        lp: new ort.Tensor('float64', Float64Array.from(logProbs), [B, T, k]),
        w: new ort.Tensor('float64', Float64Array.from(weights), [B, T]),
      });
      await session.release();
      expect(await topKValue('forward-kl', k, tau)).toBe(Number(out.kl.data[0]));
    }
  });

  it.each(BOUNDED)('%s with k < V is the divergence over the top-k plus one "rest" outcome, at most the full value at τ = 1', async (kind) => {
    const full = await fullValue(kind, 1);
    for (const k of [1, 2, 4, 5]) {
      for (const tau of [1, 2]) expect(Math.abs((await topKValue(kind, k, tau)) - coarseReference(kind, k, tau))).toBeLessThan(1e-9);
      // Merging outcomes never increases an f-divergence (data processing); it holds while p_rest is not floored.
      expect(await topKValue(kind, k, 1)).toBeLessThanOrEqual(full + 1e-12);
    }
  });

  it.each(BOUNDED.flatMap((kind) => [[kind, 3, 1], [kind, 3, 2], [kind, V, 1]] as const))('%s gradient w.r.t. the student logits (k = %d, τ = %d)', async (kind, k, tau) => {
    const { ids, logProbs } = teacherTopK(k);
    const r = await checkGradients(
      {
        z: { shape: [B, T, V], values: student },
        ids: { shape: [B, T, k], dtype: DataType.INT64, values: ids, wrt: false },
        lp: { shape: [B, T, k], values: logProbs, wrt: false },
        w: { shape: [B, T], values: weights, wrt: false },
      },
      (g) => topKPredictionDivergence(g, 'z', 'ids', 'lp', { kind, temperature: tau, tokenWeights: 'w', ...(kind === 'skew-kl' ? { skewAlpha: 0.3 } : {}) }),
      { samples: 36 },
    );
    expect(r.checked).toBe(36);
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });

  it('refuses reverse-kl with k < V, and mismatched shapes', () => {
    const g = new GraphBuilder();
    g.input('z', DataType.DOUBLE, [B, T, V]);
    g.input('ids', DataType.INT64, [B, T, 3]);
    g.input('lp', DataType.DOUBLE, [B, T, 3]);
    g.input('bad', DataType.INT64, [B, T, 7]);
    g.input('badlp', DataType.DOUBLE, [B, T, 7]);
    g.input('w', DataType.DOUBLE, [B, T]);
    expect(() => topKPredictionDivergence(g, 'z', 'ids', 'lp', { kind: 'reverse-kl', temperature: 1, tokenWeights: 'w' })).toThrow(/reverse-kl needs the full teacher distribution \(k = 6\), got top-3/);
    expect(() => topKPredictionDivergence(g, 'z', 'bad', 'badlp', { kind: 'js', temperature: 1, tokenWeights: 'w' })).toThrow('teacher top-k ids must be [2, 3, k] with 1 <= k <= 6, got [2,3,7]');
    expect(() => topKPredictionDivergence(g, 'z', 'ids', 'lp', { kind: 'tvd', temperature: 1, tokenWeights: 'w', skewAlpha: 0.5 })).toThrow(/skewAlpha only applies/);
  });
});
