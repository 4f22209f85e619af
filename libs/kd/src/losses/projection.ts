import { GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';

/**
 * Anything that declares a parameter and returns its tensor name; `@strata/nn`'s ParamDeclarer fits
 * (`declare(name, shape, 'normal')` makes a decayed, normal(0, 0.02)-initialized weight).
 */
export interface ParamDeclare {
  declare(name: string, shape: number[], init: 'normal' | 'zeros' | 'ones', decay?: boolean): string;
}

/** Name of the k-th matched pair's projection weight. */
export function projectionParamName(key: string | number): string {
  return `kd.projection.${key}.weight`;
}

/**
 * Declares a bias-free, trained linear map from the student width to the teacher width, weight
 * `kd.projection.<key>.weight` of shape [teacherWidth, studentWidth] (Hugging Face Linear layout), and returns
 * a function applying it to a [..., studentWidth] tensor (Reshape to rows, Gemm with transB = 1, Reshape back).
 * Each matched pair gets its own projection (its own key).
 */
export function projection(
  g: GraphBuilder,
  declare: ParamDeclare,
  key: string | number,
  studentWidth: number,
  teacherWidth: number,
): (x: string) => string {
  if (!(Number.isInteger(studentWidth) && studentWidth > 0 && Number.isInteger(teacherWidth) && teacherWidth > 0))
    throw new KdError(`projection widths must be positive integers, got ${studentWidth} -> ${teacherWidth}`);
  const w = declare.declare(projectionParamName(key), [teacherWidth, studentWidth], 'normal');
  return (x: string): string => {
    const shape = g.shapeOf(x);
    if (shape[shape.length - 1] !== studentWidth)
      throw new KdError(`projection '${key}' expects a last dimension of ${studentWidth}, got [${shape}]`);
    const lead = shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const flat = shape.length === 2 ? x : g.op('Reshape', [x, g.ints([rows, studentWidth])]);
    const y = g.op('Gemm', [flat, w], { transB: attr.i(1) });
    return shape.length === 2 ? y : g.op('Reshape', [y, g.ints([...lead, teacherWidth])]);
  };
}

/**
 * Projects each pair's student state to its teacher's width when the widths differ: pair k through its own
 * `kd.projection.<k>.weight` (FitNets' regressor per hint), or every pair through one `kd.projection.shared.weight`
 * with `shared`; `prefix` keys the per-pair ones `<prefix><k>` (a model with several stacks). Pairs of equal width
 * pass through unchanged.
 */
export function projectPairs(
  g: GraphBuilder,
  declare: ParamDeclare,
  pairs: readonly { student: string; teacher: string }[],
  options: { shared?: boolean; prefix?: string } = {},
): { student: string; teacher: string }[] {
  let shared: { ds: number; dt: number; apply: (x: string) => string } | undefined;
  return pairs.map((p, k) => {
    const ds = g.shapeOf(p.student).at(-1)!;
    const dt = g.shapeOf(p.teacher).at(-1)!;
    if (ds === dt) return { ...p };
    if (!options.shared) return { student: projection(g, declare, `${options.prefix ?? ''}${k}`, ds, dt)(p.student), teacher: p.teacher };
    shared ??= { ds, dt, apply: projection(g, declare, 'shared', ds, dt) };
    if (shared.ds !== ds || shared.dt !== dt) throw new KdError(`a shared projection maps one width to one width; pair ${k} is ${ds} -> ${dt}, an earlier pair ${shared.ds} -> ${shared.dt}`);
    return { student: shared.apply(p.student), teacher: p.teacher };
  });
}
