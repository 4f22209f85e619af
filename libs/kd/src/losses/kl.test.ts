import { DataType, GraphBuilder } from '@strata/onnx';
import { GradCheckInput, checkGradients } from '@strata/autodiff';
import { predictionKl } from './kl';
import { klReference, randomValues, runScalar } from './test-helpers';

const B = 3;
const C = 5;
const s = randomValues(B * C, 11, 3);
const t = randomValues(B * C, 12, 3);
const w = [0.5, 0.5, 0]; // two real rows, one padding row

async function expectGradients(inputs: Record<string, GradCheckInput>, build: (g: GraphBuilder) => string): Promise<void> {
  const r = await checkGradients(inputs, build, { samples: 30 });
  expect(r.checked).toBeGreaterThan(0);
  if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
}

describe('predictionKl', () => {
  it('is 0 when the student logits equal the teacher logits', async () => {
    for (const tau of [1, 2]) {
      const v = await runScalar({ s: { shape: [B, C], values: s }, t: { shape: [B, C], values: s } }, (g) => predictionKl(g, 's', 't', { temperature: tau }));
      expect(Math.abs(v)).toBeLessThan(1e-12);
    }
  });

  it('matches plain JS at τ = 1 and τ = 2, unweighted (mean over rows)', async () => {
    for (const tau of [1, 2]) {
      const v = await runScalar({ s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t } }, (g) => predictionKl(g, 's', 't', { temperature: tau }));
      expect(Math.abs(v - klReference(s, t, C, tau))).toBeLessThan(1e-9);
      expect(v).toBeGreaterThan(0);
    }
  });

  it('with row weights averages over real rows only; padding rows do not matter', async () => {
    const feeds = { s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t }, w: { shape: [B], values: w } };
    const build = (g: GraphBuilder) => predictionKl(g, 's', 't', { temperature: 2, rowWeights: 'w' });
    const v = await runScalar(feeds, build);
    expect(Math.abs(v - klReference(s, t, C, 2, w))).toBeLessThan(1e-9);
    expect(Math.abs(v - klReference(s.slice(0, 2 * C), t.slice(0, 2 * C), C, 2))).toBeLessThan(1e-9);
    const t2 = [...t.slice(0, 2 * C), ...randomValues(C, 99, 10)];
    const v2 = await runScalar({ ...feeds, t: { shape: [B, C], values: t2 } }, build);
    expect(Math.abs(v2 - v)).toBeLessThan(1e-12);
  });

  it('works on [B, T, V] logits with a [B, T] token-weight mask', async () => {
    const tw = [0.25, 0.25, 0, 0.25, 0.25, 0];
    const ss = randomValues(2 * 3 * 4, 21, 2);
    const tt = randomValues(2 * 3 * 4, 22, 2);
    const v = await runScalar(
      { s: { shape: [2, 3, 4], values: ss }, t: { shape: [2, 3, 4], values: tt }, w: { shape: [2, 3], values: tw } },
      (g) => predictionKl(g, 's', 't', { temperature: 2, rowWeights: 'w' }),
    );
    expect(Math.abs(v - klReference(ss, tt, 4, 2, tw))).toBeLessThan(1e-9);
  });

  it('stays finite when teacher probabilities underflow (float32 graph)', async () => {
    const tt = [1000, 0, -1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const v = await runScalar({ s: { shape: [B, C], values: s }, t: { shape: [B, C], values: tt } }, (g) => predictionKl(g, 's', 't', { temperature: 1 }), DataType.FLOAT);
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - klReference(s, tt, C, 1))).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)));
  });

  it('float32 graph matches plain JS', async () => {
    const v = await runScalar({ s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t } }, (g) => predictionKl(g, 's', 't', { temperature: 2 }), DataType.FLOAT);
    expect(Math.abs(v - klReference(s, t, C, 2))).toBeLessThan(1e-5);
  });

  it.each([1, 2])('gradient w.r.t. student logits (τ = %d), teacher and row weights not differentiated', async (tau) => {
    await expectGradients(
      { s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t, wrt: false }, w: { shape: [B], values: w, wrt: false } },
      (g) => predictionKl(g, 's', 't', { temperature: tau, rowWeights: 'w' }),
    );
    await expectGradients({ s: { shape: [B, C], values: s }, t: { shape: [B, C], values: t, wrt: false } }, (g) => predictionKl(g, 's', 't', { temperature: tau }));
  });

  it('rejects bad shapes and temperatures', () => {
    const g = new GraphBuilder();
    g.input('s', DataType.DOUBLE, [B, C]);
    g.input('t', DataType.DOUBLE, [B, C + 1]);
    g.input('u', DataType.DOUBLE, [B, C]);
    g.input('w', DataType.DOUBLE, [B + 1]);
    expect(() => predictionKl(g, 's', 't', { temperature: 1 })).toThrow(/same shape/);
    expect(() => predictionKl(g, 's', 'u', { temperature: 0 })).toThrow(/temperature/);
    expect(() => predictionKl(g, 's', 'u', { temperature: 1, rowWeights: 'w' })).toThrow(/rowWeights/);
  });
});
