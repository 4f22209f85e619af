import { GradContext, checkGradients, registerGradient, weightedSum } from './index';

describe('checkGradients', () => {
  it('catches a wrong rule (so the rule suite can fail)', async () => {
    // Deliberately wrong: gives the whole gradient to both inputs of Max.
    registerGradient('Max', (c: GradContext) => [c.gy(), c.gy()]);
    const r = await checkGradients({ a: { shape: [4], values: [1, -1, 2, 0.5] }, b: { shape: [4], values: [0, 0, 0, 0] } }, (g) => weightedSum(g, g.op('Max', ['a', 'b'])));
    expect(r.checked).toBe(8);
    expect(r.maxError).toBeGreaterThan(0.01);
    expect(r.worst).toMatch(/analytic .*, finite difference/);
  });
});
