import { DataType, GraphBuilder } from '@strata/onnx';
import { checkGradients } from '@strata/autodiff';
import { PREDICTION_DIVERGENCES, type PredictionDivergence, predictionDivergence } from './divergences';
import { predictionKl } from './kl';
import { type Fed, klReference, randomValues, runScalar } from './test-helpers';

const B = 3;
const C = 5;
const s = randomValues(B * C, 41, 3);
const t = randomValues(B * C, 42, 3);
const w = [0.5, 0.5, 0]; // two real rows, one padding row
const KINDS = PREDICTION_DIVERGENCES;

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}
const softmax = (z: number[]): number[] => logSoftmax(z).map(Math.exp);

/**
 * Σ a·(log a − log b); the mixtures' log b is taken of the summed probabilities, so the reference shares no
 * log-sum-exp trick with the graph. Classes with a = 0 add 0 (the limit of a·log a).
 */
const klOf = (logA: number[], logB: number[]): number => logA.reduce((acc, l, c) => acc + (Math.exp(l) === 0 ? 0 : Math.exp(l) * (l - logB[c])), 0);

/** The documented definitions in plain double-precision JS: τ²·Σ_rows w_r·D(p_r, q_r), w defaulting to 1/rows. */
function reference(kind: PredictionDivergence, sv: number[], tv: number[], classes: number, tau: number, weights?: number[], alpha = 0.1): number {
  const rows = sv.length / classes;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const lq = logSoftmax(sv.slice(r * classes, (r + 1) * classes).map((v) => v / tau));
    const lp = logSoftmax(tv.slice(r * classes, (r + 1) * classes).map((v) => v / tau));
    const [p, q] = [lp.map(Math.exp), lq.map(Math.exp)];
    let d: number;
    if (kind === 'forward-kl') d = klOf(lp, lq);
    else if (kind === 'reverse-kl') d = klOf(lq, lp);
    else if (kind === 'tvd') d = 0.5 * p.reduce((acc, x, c) => acc + Math.abs(x - q[c]), 0);
    else if (kind === 'js') {
      const logM = p.map((x, c) => Math.log((x + q[c]) / 2));
      d = 0.5 * klOf(lp, logM) + 0.5 * klOf(lq, logM);
    } else d = klOf(lp, p.map((x, c) => Math.log(alpha * x + (1 - alpha) * q[c])));
    total += (weights ? weights[r] : 1 / rows) * d;
  }
  return tau * tau * total;
}

const feeds = (sv: number[], tv: number[], shape = [B, C], weights?: { shape: number[]; values: number[] }): Record<string, Fed> => ({
  s: { shape, values: sv },
  t: { shape, values: tv },
  ...(weights ? { w: weights } : {}),
});

describe('predictionDivergence', () => {
  it.each(KINDS)('%s matches plain JS at τ = 1, 2, 4, unweighted and with row weights', async (kind) => {
    for (const tau of [1, 2, 4]) {
      const plain = await runScalar(feeds(s, t), (g) => predictionDivergence(g, 's', 't', { kind, temperature: tau }));
      expect(Math.abs(plain - reference(kind, s, t, C, tau))).toBeLessThan(1e-9);
      expect(plain).toBeGreaterThan(1e-3);
      const weighted = await runScalar(feeds(s, t, [B, C], { shape: [B], values: w }), (g) => predictionDivergence(g, 's', 't', { kind, temperature: tau, rowWeights: 'w' }));
      expect(Math.abs(weighted - reference(kind, s, t, C, tau, w))).toBeLessThan(1e-9);
      // The padding row is ignored, so the weighted loss is the plain mean over the two real rows.
      expect(Math.abs(weighted - reference(kind, s.slice(0, 2 * C), t.slice(0, 2 * C), C, tau))).toBeLessThan(1e-9);
    }
  });

  it.each(KINDS)('%s works on [B, T, V] logits with a [B, T] token-weight mask, in float64 and float32', async (kind) => {
    const tw = [0.25, 0.25, 0, 0.25, 0.25, 0];
    const ss = randomValues(2 * 3 * 4, 51, 2);
    const tt = randomValues(2 * 3 * 4, 52, 2);
    const build = (g: GraphBuilder) => predictionDivergence(g, 's', 't', { kind, temperature: 2, rowWeights: 'w' });
    const want = reference(kind, ss, tt, 4, 2, tw);
    expect(Math.abs((await runScalar(feeds(ss, tt, [2, 3, 4], { shape: [2, 3], values: tw }), build)) - want)).toBeLessThan(1e-9);
    expect(Math.abs((await runScalar(feeds(ss, tt, [2, 3, 4], { shape: [2, 3], values: tw }), build, DataType.FLOAT)) - want)).toBeLessThan(1e-5);
  });

  it.each(KINDS)('%s is 0 when the student logits equal the teacher logits', async (kind) => {
    for (const tau of [1, 2]) {
      const v = await runScalar(feeds(s, s), (g) => predictionDivergence(g, 's', 't', { kind, temperature: tau }));
      expect(Math.abs(v)).toBeLessThan(1e-12);
    }
  });

  it.each(KINDS)('%s stays finite and correct when probabilities underflow (float32 graph)', async (kind) => {
    // Row 0: the teacher puts ~e^-1000 on two classes; row 1: the student does; both sides' underflowed classes coincide
    // in row 2, where the mixture's log must still be finite.
    const tt = [1000, 0, -1000, 0, 0, 0, 0, 0, 0, 0, 0, 900, 0, 0, 0];
    const ss = [0, 0, 0, 0, 0, 1000, -1000, 0, 0, 0, 0, 900, 0, 0, 0];
    const v = await runScalar(feeds(ss, tt), (g) => predictionDivergence(g, 's', 't', { kind, temperature: 1 }), DataType.FLOAT);
    expect(Number.isFinite(v)).toBe(true);
    const want = reference(kind, ss, tt, C, 1);
    expect(Math.abs(v - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
  });

  it('forward-kl is predictionKl, and reverse-kl is predictionKl with the sides swapped', async () => {
    for (const tau of [1, 3]) {
      const fwd = await runScalar(feeds(s, t), (g) => predictionDivergence(g, 's', 't', { kind: 'forward-kl', temperature: tau }));
      expect(fwd).toBe(await runScalar(feeds(s, t), (g) => predictionKl(g, 's', 't', { temperature: tau })));
      const rev = await runScalar(feeds(s, t), (g) => predictionDivergence(g, 's', 't', { kind: 'reverse-kl', temperature: tau }));
      expect(Math.abs(rev - klReference(t, s, C, tau))).toBeLessThan(1e-9);
      expect(Math.abs(rev - fwd)).toBeGreaterThan(1e-3);
    }
  });

  it('js is symmetric and at most τ²·log 2; tvd is at most τ² and obeys Pinsker (tvd² <= KL/2)', async () => {
    const far = randomValues(B * C, 43, 30); // nearly one-hot rows: the bounds are close to tight
    for (const tau of [1, 2]) {
      const v = (kind: PredictionDivergence, a: number[], b: number[]) => runScalar(feeds(a, b), (g) => predictionDivergence(g, 's', 't', { kind, temperature: tau }));
      const js = await v('js', s, t);
      expect(Math.abs(js - (await v('js', t, s)))).toBeLessThan(1e-12);
      expect(await v('js', far, t)).toBeLessThanOrEqual(tau * tau * Math.log(2));
      const tvd = await v('tvd', far, t);
      expect(tvd / (tau * tau)).toBeLessThanOrEqual(1);
      expect(tvd / (tau * tau)).toBeGreaterThan(0.5);
      const kl = await v('forward-kl', s, t);
      expect(((await v('tvd', s, t)) / (tau * tau)) ** 2).toBeLessThanOrEqual(kl / (tau * tau) / 2);
    }
  });

  it('skew-kl: α = 0 is the forward KL, it falls to 0 as α → 1 within (1 − α)·KL and −log α, default α = 0.1', async () => {
    const v = (alpha?: number) => runScalar(feeds(s, t), (g) => predictionDivergence(g, 's', 't', { kind: 'skew-kl', temperature: 2, skewAlpha: alpha }));
    const kl = reference('forward-kl', s, t, C, 2);
    expect(Math.abs((await v(0)) - kl)).toBeLessThan(1e-9);
    expect(await v()).toBe(await v(0.1));
    let previous = kl;
    for (const alpha of [0.1, 0.5, 0.9, 0.999]) {
      const skew = await v(alpha);
      expect(Math.abs(skew - reference('skew-kl', s, t, C, 2, undefined, alpha))).toBeLessThan(1e-9);
      expect(skew).toBeGreaterThan(0);
      expect(skew).toBeLessThan(previous);
      expect(skew).toBeLessThanOrEqual((1 - alpha) * kl + 1e-12);
      expect(skew).toBeLessThanOrEqual(4 * -Math.log(alpha) + 1e-12);
      previous = skew;
    }
    expect(previous).toBeLessThan(1e-2 * kl);
  });

  it.each(KINDS.flatMap((kind) => [1, 2].map((tau) => [kind, tau] as const)))('%s gradient w.r.t. the student logits (τ = %d)', async (kind, tau) => {
    if (kind === 'tvd') {
      // |p − q| has a kink at p = q: the finite differences (h = 1e-6) must not cross it.
      const gap = Math.min(...Array.from({ length: B }, (_, r) => {
        const q = softmax(s.slice(r * C, (r + 1) * C).map((v) => v / tau));
        const p = softmax(t.slice(r * C, (r + 1) * C).map((v) => v / tau));
        return Math.min(...p.map((x, c) => Math.abs(x - q[c])));
      }));
      expect(gap).toBeGreaterThan(1e-3);
    }
    for (const weighted of [true, false]) {
      const r = await checkGradients(
        { s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t, wrt: false }, ...(weighted ? { w: { shape: [B], values: w, wrt: false } } : {}) },
        (g) => predictionDivergence(g, 's', 't', { kind, temperature: tau, ...(weighted ? { rowWeights: 'w' } : {}), ...(kind === 'skew-kl' ? { skewAlpha: 0.3 } : {}) }),
        { samples: B * C },
      );
      expect(r.checked).toBe(B * C);
      if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
    }
  });

  it('rejects unknown kinds, misplaced or out-of-range skewAlpha, bad shapes and temperatures', () => {
    const g = new GraphBuilder();
    g.input('s', DataType.DOUBLE, [B, C]);
    g.input('t', DataType.DOUBLE, [B, C + 1]);
    g.input('u', DataType.DOUBLE, [B, C]);
    g.input('w', DataType.DOUBLE, [B + 1]);
    expect(() => predictionDivergence(g, 's', 'u', { kind: 'hellinger' as PredictionDivergence, temperature: 1 })).toThrow(/unknown prediction divergence 'hellinger'/);
    expect(() => predictionDivergence(g, 's', 'u', { kind: 'js', temperature: 1, skewAlpha: 0.1 })).toThrow(/skewAlpha only applies/);
    expect(() => predictionDivergence(g, 's', 'u', { kind: 'skew-kl', temperature: 1, skewAlpha: 1 })).toThrow(/\[0, 1\)/);
    expect(() => predictionDivergence(g, 's', 'u', { kind: 'skew-kl', temperature: 1, skewAlpha: -0.1 })).toThrow(/\[0, 1\)/);
    for (const kind of KINDS) {
      expect(() => predictionDivergence(g, 's', 't', { kind, temperature: 1 })).toThrow(/same shape/);
      expect(() => predictionDivergence(g, 's', 'u', { kind, temperature: 0 })).toThrow(/temperature/);
      expect(() => predictionDivergence(g, 's', 'u', { kind, temperature: 1, rowWeights: 'w' })).toThrow(/rowWeights/);
    }
  });
});
