import { DataType, GraphBuilder } from '@strata/onnx';
import { checkGradients } from '@strata/autodiff';
import { KD_LOSS_DEFAULTS, kdLossConfig } from './config';
import { hiddenMse } from './hidden';
import { predictionKl } from './kl';
import { projectPairs } from './projection';
import { KD_LOSS_WEIGHTS, totalKdLoss } from './total';
import { runScalar } from './test-helpers';

const scalars = { ce: { shape: [], values: [0.7] }, kl: { shape: [], values: [0.2] }, hidden: { shape: [], values: [0.05] } };

describe('totalKdLoss', () => {
  it('defaults to CE 1, KL 1, hidden 3', async () => {
    expect(KD_LOSS_WEIGHTS).toEqual({ ce: 1, kl: 1, hidden: 3 });
    const v = await runScalar(scalars, (g) => totalKdLoss(g, { ce: 'ce', kl: 'kl', hidden: 'hidden' }));
    expect(Math.abs(v - (0.7 + 0.2 + 3 * 0.05))).toBeLessThan(1e-12);
  });

  it('omits missing terms (strategy none: no hidden term) and zero weights; merges partial weights', async () => {
    expect(await runScalar(scalars, (g) => totalKdLoss(g, { ce: 'ce', kl: 'kl' }))).toBeCloseTo(0.9, 12);
    expect(await runScalar(scalars, (g) => totalKdLoss(g, { ce: 'ce', kl: 'kl', hidden: 'hidden' }, { kl: 0.5, hidden: 0 }))).toBeCloseTo(0.8, 12);
    expect(await runScalar(scalars, (g) => totalKdLoss(g, { hidden: 'hidden' }))).toBeCloseTo(0.15, 12);
    expect(await runScalar(scalars, (g) => totalKdLoss(g, { kl: 'kl' }), DataType.FLOAT)).toBeCloseTo(0.2, 6);
  });

  it('rejects no terms and non-scalar terms', () => {
    const g = new GraphBuilder();
    g.input('v', DataType.DOUBLE, [2]);
    g.input('ce', DataType.DOUBLE, []);
    expect(() => totalKdLoss(g, {})).toThrow(/at least one/);
    expect(() => totalKdLoss(g, { ce: 'ce' }, { ce: 0 })).toThrow(/at least one/);
    expect(() => totalKdLoss(g, { kl: 'v' })).toThrow(/scalar/);
  });

  it('end to end: gradient of CE-free KL + projected hidden loss w.r.t. logits, states and projections', async () => {
    const [B, S, Ds, Dt, C] = [2, 3, 2, 4, 3];
    const proj = (name: string) => ({ declare: (n: string) => (expect(n).toBe(name), n) });
    const r = await checkGradients(
      {
        z: { shape: [B, C] },
        zt: { shape: [B, C], wrt: false },
        w: { shape: [B], values: [1, 0], wrt: false },
        s0: { shape: [B, S, Ds] },
        t0: { shape: [B, S, Dt], wrt: false },
        s1: { shape: [B, S, Dt] },
        t1: { shape: [B, S, Dt], wrt: false },
        'kd.projection.0.weight': { shape: [Dt, Ds] },
        mask: { shape: [B, S], values: [1, 1, 1, 1, 0, 0], wrt: false },
      },
      (g) => {
        const pairs = projectPairs(g, proj('kd.projection.0.weight'), [{ student: 's0', teacher: 't0' }, { student: 's1', teacher: 't1' }]);
        return totalKdLoss(g, { kl: predictionKl(g, 'z', 'zt', { temperature: 2, rowWeights: 'w' }), hidden: hiddenMse(g, pairs, 'mask') });
      },
      { samples: 10 },
    );
    expect(r.checked).toBe(6 + 10 + 10 + 8); // all of z and the weight, 10 samples of each state
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });
});

describe('kdLossConfig', () => {
  it('has the METHOD.md §4 defaults', () => {
    expect(KD_LOSS_DEFAULTS).toEqual({ kl: 1, hidden: 3, ce: 1, temperature: 1, hiddenLoss: 'mse', normalize: 'token', kd: 'forward-kl' });
    expect(kdLossConfig()).toEqual(KD_LOSS_DEFAULTS);
    expect(kdLossConfig({ temperature: 2, normalize: 'element' })).toEqual({ ...KD_LOSS_DEFAULTS, temperature: 2, normalize: 'element' });
  });

  it('names the bad field', () => {
    expect(() => kdLossConfig({ hidden: -1 })).toThrow(/loss\.hidden/);
    expect(() => kdLossConfig({ temperature: 0 })).toThrow(/loss\.temperature/);
    expect(() => kdLossConfig({ normalize: 'sum' as never })).toThrow(/loss\.normalize/);
    expect(() => kdLossConfig({ hiddenLoss: 'l1' as never })).toThrow(/loss\.hiddenLoss/);
    expect(() => kdLossConfig({ kd: 'kl' as never })).toThrow("loss.kd must be one of forward-kl, reverse-kl, js, tvd, skew-kl, got 'kl'");
    expect(() => kdLossConfig({ kd: 'js', skewAlpha: 0.2 })).toThrow("loss.skewAlpha only applies to kind 'skew-kl', not 'js'");
    expect(() => kdLossConfig({ kd: 'skew-kl', skewAlpha: 1 })).toThrow('loss.skewAlpha must be in [0, 1), got 1');
    expect(kdLossConfig({ kd: 'skew-kl', skewAlpha: 0.3 })).toMatchObject({ kd: 'skew-kl', skewAlpha: 0.3 });
  });
});

