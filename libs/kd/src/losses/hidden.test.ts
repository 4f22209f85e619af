import { DataType, GraphBuilder } from '@strata/onnx';
import { GradCheckInput, checkGradients } from '@strata/autodiff';
import { HiddenNormalize } from './config';
import { hiddenMse } from './hidden';
import { hiddenReference, randomValues, runScalar } from './test-helpers';

const [B, S, D] = [2, 3, 4];
const shape = [B, S, D];
const mask = [1, 1, 1, 1, 1, 0]; // the last token of the second example is padding
const s0 = randomValues(B * S * D, 31);
const t0 = randomValues(B * S * D, 32);
const s1 = randomValues(B * S * D, 33);
const t1 = randomValues(B * S * D, 34);
const NORMS: HiddenNormalize[] = ['token', 'bert-reference', 'element', 'cosine'];

const twoPairFeeds = (tt0 = t0, tt1 = t1) => ({
  s0: { shape, values: s0 },
  t0: { shape, values: tt0 },
  s1: { shape, values: s1 },
  t1: { shape, values: tt1 },
  mask: { shape: [B, S], values: mask },
});
const twoPairs = (normalize: HiddenNormalize) => (g: GraphBuilder) =>
  hiddenMse(g, [{ student: 's0', teacher: 't0' }, { student: 's1', teacher: 't1' }], 'mask', { normalize });

describe('hiddenMse values', () => {
  it('token MSE on a 2×3×4 case with one padded token equals the JS reference', async () => {
    const one = await runScalar({ s0: { shape, values: s0 }, t0: { shape, values: t0 }, mask: { shape: [B, S], values: mask } }, (g) =>
      hiddenMse(g, [{ student: 's0', teacher: 't0' }], 'mask'),
    );
    expect(Math.abs(one - hiddenReference([{ s: s0, t: t0 }], mask, D, 'token', B))).toBeLessThan(1e-9);
    // By hand: Σ over the 5 valid tokens of Σ_h d², divided by 5.
    let byHand = 0;
    for (let i = 0; i < 5; i++) for (let h = 0; h < D; h++) byHand += (s0[i * D + h] - t0[i * D + h]) ** 2;
    expect(Math.abs(one - byHand / 5)).toBeLessThan(1e-9);
  });

  it.each(NORMS)('%s over two pairs equals the JS reference (float64, 1e-9)', async (normalize) => {
    const v = await runScalar(twoPairFeeds(), twoPairs(normalize));
    const ref = hiddenReference([{ s: s0, t: t0 }, { s: s1, t: t1 }], mask, D, normalize, B);
    expect(Math.abs(v - ref)).toBeLessThan(1e-9);
  });

  it('normalizations relate as documented', async () => {
    const [token, bert, element] = await Promise.all(['token', 'bert-reference', 'element'].map((n) => runScalar(twoPairFeeds(), twoPairs(n as HiddenNormalize))));
    expect(Math.abs(bert - token / B)).toBeLessThan(1e-12);
    expect(Math.abs(element - (token * 2) / D)).toBeLessThan(1e-12); // summed over 2 pairs, divided by width
  });

  it('bert-reference divides by an explicit batchSize', async () => {
    const token = await runScalar(twoPairFeeds(), twoPairs('token'));
    const v = await runScalar(twoPairFeeds(), (g) =>
      hiddenMse(g, [{ student: 's0', teacher: 't0' }, { student: 's1', teacher: 't1' }], 'mask', { normalize: 'bert-reference', batchSize: 5 }),
    );
    expect(Math.abs(v - token / 5)).toBeLessThan(1e-12);
  });

  it.each(NORMS)('%s: teacher values at padding positions do not change the loss', async (normalize) => {
    const before = await runScalar(twoPairFeeds(), twoPairs(normalize));
    const tt0 = [...t0];
    const tt1 = [...t1];
    for (let h = 0; h < D; h++) {
      tt0[5 * D + h] = 100 + h;
      tt1[5 * D + h] = -7 * h;
    }
    const after = await runScalar(twoPairFeeds(tt0, tt1), twoPairs(normalize));
    expect(after).toBe(before);
  });

  it('cosine: identical vectors give 0, opposite vectors 4 (scale-invariant)', async () => {
    const single = (tt: number[]) =>
      runScalar({ s: { shape, values: s0 }, t: { shape, values: tt }, mask: { shape: [B, S], values: mask } }, (g) =>
        hiddenMse(g, [{ student: 's', teacher: 't' }], 'mask', { normalize: 'cosine' }),
      );
    expect(Math.abs(await single(s0))).toBeLessThan(1e-12);
    expect(Math.abs(await single(s0.map((v) => 3 * v)))).toBeLessThan(1e-12);
    expect(Math.abs((await single(s0.map((v) => -v))) - 4)).toBeLessThan(1e-9);
    expect(Math.abs((await single(s0.map((v) => -0.5 * v))) - 4)).toBeLessThan(1e-9);
  });

  it('an all-padding mask gives 0, not NaN', async () => {
    const feeds = { ...twoPairFeeds(), mask: { shape: [B, S], values: [0, 0, 0, 0, 0, 0] } };
    for (const n of NORMS) expect(await runScalar(feeds, twoPairs(n))).toBe(0);
  });

  it.each(NORMS)('%s: float32 graph matches the JS reference', async (normalize) => {
    const v = await runScalar(twoPairFeeds(), twoPairs(normalize), DataType.FLOAT);
    const ref = hiddenReference([{ s: s0, t: t0 }, { s: s1, t: t1 }], mask, D, normalize, B);
    expect(Math.abs(v - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
  });

  it('rejects mismatched shapes, an empty pair list and a mask of the wrong type', () => {
    const g = new GraphBuilder();
    g.input('s', DataType.DOUBLE, shape);
    g.input('t', DataType.DOUBLE, [B, S, D + 1]);
    g.input('u', DataType.DOUBLE, shape);
    g.input('m', DataType.DOUBLE, [B, S]);
    g.input('mf', DataType.FLOAT, [B, S]);
    g.input('m3', DataType.DOUBLE, [B, S + 1]);
    expect(() => hiddenMse(g, [{ student: 's', teacher: 't' }], 'm')).toThrow(/one shape/);
    expect(() => hiddenMse(g, [], 'm')).toThrow(/at least one/);
    expect(() => hiddenMse(g, [{ student: 's', teacher: 'u' }], 'mf')).toThrow(/float type/);
    expect(() => hiddenMse(g, [{ student: 's', teacher: 'u' }], 'm3')).toThrow(/do not match mask/);
  });
});

describe('hiddenMse gradients (float64 finite differences)', () => {
  it.each(NORMS)('%s w.r.t. both students; teachers and mask not differentiated', async (normalize) => {
    const inputs: Record<string, GradCheckInput> = {
      s0: { shape, values: s0 },
      t0: { shape, values: t0, wrt: false },
      s1: { shape, values: s1 },
      t1: { shape, values: t1, wrt: false },
      mask: { shape: [B, S], values: mask, wrt: false },
    };
    const r = await checkGradients(inputs, twoPairs(normalize), { samples: 24 });
    expect(r.checked).toBe(48);
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });
});
