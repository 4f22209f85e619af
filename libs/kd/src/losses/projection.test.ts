import { DataType, GraphBuilder } from '@strata/onnx';
import { checkGradients } from '@strata/autodiff';
import { hiddenMse } from './hidden';
import { ParamDeclare, projectPairs, projection, projectionParamName } from './projection';
import { hiddenReference, randomValues, runScalar } from './test-helpers';

const [B, S, Ds, Dt] = [2, 3, 3, 5];
const mask = [1, 1, 0, 1, 1, 1];
const x = randomValues(B * S * Ds, 41);
const w = randomValues(Dt * Ds, 42); // [Dt, Ds], HF Linear layout
const t = randomValues(B * S * Dt, 43);

/** A declarer over inputs that already exist (checkGradients declares every input up front). */
const existing = (declared: { name: string; shape: number[]; init: string }[] = []): ParamDeclare => ({
  declare(name, shape, init) {
    declared.push({ name, shape, init });
    return name;
  },
});

/** Plain-JS y = x·Wᵀ on rows. */
function project(xs: number[], ws: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < xs.length / Ds; r++) for (let o = 0; o < Dt; o++) out.push(Array.from({ length: Ds }, (_, i) => xs[r * Ds + i] * ws[o * Ds + i]).reduce((a, b) => a + b, 0));
  return out;
}

describe('projection', () => {
  it('declares kd.projection.<k>.weight [teacherWidth, studentWidth] and maps [B,S,Ds] to [B,S,Dt]', () => {
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [B, S, Ds]);
    const declared: { name: string; shape: number[]; init: string }[] = [];
    const decl: ParamDeclare = {
      declare(name, shape, init) {
        declared.push({ name, shape, init });
        return g.input(name, DataType.FLOAT, shape);
      },
    };
    const y = projection(g, decl, 2, Ds, Dt)('x');
    expect(declared).toEqual([{ name: 'kd.projection.2.weight', shape: [Dt, Ds], init: 'normal' }]);
    expect(projectionParamName(2)).toBe('kd.projection.2.weight');
    expect(g.shapeOf(y)).toEqual([B, S, Dt]);
    expect(g.dtypeOf(y)).toBe(DataType.FLOAT);
    expect(() => projection(g, decl, 3, Dt, Ds)('x')).toThrow(/last dimension/);
    expect(() => projection(g, decl, 4, 0, Ds)).toThrow(/positive integers/);
  });

  it('computes x·Wᵀ (float64 and float32), and the projected hidden loss matches JS', async () => {
    const ref = hiddenReference([{ s: project(x, w), t }], mask, Dt, 'token', B);
    const feeds = { x: { shape: [B, S, Ds], values: x }, 'kd.projection.0.weight': { shape: [Dt, Ds], values: w }, t: { shape: [B, S, Dt], values: t }, mask: { shape: [B, S], values: mask } };
    const build = (g: GraphBuilder) => hiddenMse(g, [{ student: projection(g, existing(), 0, Ds, Dt)('x'), teacher: 't' }], 'mask');
    expect(Math.abs((await runScalar(feeds, build)) - ref)).toBeLessThan(1e-9);
    expect(Math.abs((await runScalar(feeds, build, DataType.FLOAT)) - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
  });

  it('also maps plain [N, Ds] rows', async () => {
    const v = await runScalar({ x: { shape: [B * S, Ds], values: x }, 'kd.projection.0.weight': { shape: [Dt, Ds], values: w } }, (g) =>
      g.op('ReduceSum', [projection(g, existing(), 0, Ds, Dt)('x')], { keepdims: { type: 'int', value: 0 } }),
    );
    expect(Math.abs(v - project(x, w).reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
  });

  it('projectPairs gives each differing pair its own projection and passes equal widths through', () => {
    const g = new GraphBuilder();
    g.input('s0', DataType.DOUBLE, [B, S, Ds]);
    g.input('t0', DataType.DOUBLE, [B, S, Dt]);
    g.input('s1', DataType.DOUBLE, [B, S, Dt]);
    g.input('t1', DataType.DOUBLE, [B, S, Dt]);
    g.input('s2', DataType.DOUBLE, [B, S, Ds]);
    g.input('t2', DataType.DOUBLE, [B, S, Dt]);
    const names: string[] = [];
    const decl: ParamDeclare = { declare: (name, shape) => (names.push(name), g.input(name, DataType.DOUBLE, shape)) };
    const out = projectPairs(g, decl, [{ student: 's0', teacher: 't0' }, { student: 's1', teacher: 't1' }, { student: 's2', teacher: 't2' }]);
    expect(names).toEqual(['kd.projection.0.weight', 'kd.projection.2.weight']);
    expect(out[1]).toEqual({ student: 's1', teacher: 't1' });
    expect(g.shapeOf(out[0].student)).toEqual([B, S, Dt]);
    expect(g.shapeOf(out[2].student)).toEqual([B, S, Dt]);
  });

  it('projectPairs with shared declares one projection for every differing pair', () => {
    const g = new GraphBuilder();
    for (const n of ['s0', 's2']) g.input(n, DataType.DOUBLE, [B, S, Ds]);
    for (const n of ['t0', 's1', 't1', 't2']) g.input(n, DataType.DOUBLE, [B, S, Dt]);
    const names: string[] = [];
    const decl: ParamDeclare = { declare: (name, shape) => (names.push(name), g.input(name, DataType.DOUBLE, shape)) };
    const out = projectPairs(g, decl, [{ student: 's0', teacher: 't0' }, { student: 's1', teacher: 't1' }, { student: 's2', teacher: 't2' }], { shared: true });
    expect(names).toEqual(['kd.projection.shared.weight']);
    expect(out[1]).toEqual({ student: 's1', teacher: 't1' });
    expect(g.shapeOf(out[2].student)).toEqual([B, S, Dt]);
    const h = new GraphBuilder();
    h.input('a', DataType.DOUBLE, [B, S, Ds]);
    h.input('b', DataType.DOUBLE, [B, S, 2]);
    h.input('t', DataType.DOUBLE, [B, S, Dt]);
    const hDecl: ParamDeclare = { declare: (name, shape) => h.input(name, DataType.DOUBLE, shape) };
    expect(() => projectPairs(h, hDecl, [{ student: 'a', teacher: 't' }, { student: 'b', teacher: 't' }], { shared: true })).toThrow(/one width to one width/);
  });

  it.each(['token', 'cosine'] as const)('gradient of the %s hidden loss w.r.t. the student state and the projection weight', async (normalize) => {
    const r = await checkGradients(
      {
        x: { shape: [B, S, Ds], values: x },
        'kd.projection.0.weight': { shape: [Dt, Ds], values: w },
        t: { shape: [B, S, Dt], values: t, wrt: false },
        mask: { shape: [B, S], values: mask, wrt: false },
      },
      (g) => hiddenMse(g, [{ student: projection(g, existing(), 0, Ds, Dt)('x'), teacher: 't' }], 'mask', { normalize }),
      { samples: 15 },
    );
    expect(r.checked).toBe(30);
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });
});
