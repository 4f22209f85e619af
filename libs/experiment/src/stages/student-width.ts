// Students narrower (or wider) than their teacher: the student's shape from the manifest's width fields, and the
// trained projections that carry its hidden states to the teacher's width for the hidden loss. Pure, except the
// projection file helpers at the end.
import * as fs from 'node:fs';
import { projectPairs, projectionParamName, type LayerMap } from '@strata/kd';
import { DataType, type GraphBuilder } from '@strata/onnx';
import type { BertConfig, ParamSpec } from '@strata/nn';
import { readSafetensors, writeSafetensors } from '@strata/hub';

/** The manifest's students.hidden / heads / intermediate / projection, as a trainer takes them. */
export interface StudentWidth {
  hidden?: number;
  heads?: number;
  intermediate?: number;
  /** auto: one projection per matched pair (FitNets); shared: one for every pair; none: refuse a width change. */
  projection?: 'auto' | 'shared' | 'none';
}

/** File beside a student's checkpoint holding its trained projections (not part of the exported student). */
export const PROJECTIONS_FILE = 'projections.safetensors';

const PROJECTION_PREFIX = 'kd.projection.';
export const isProjectionParam = (name: string): boolean => name.startsWith(PROJECTION_PREFIX);

/**
 * The student's width, heads and feed-forward size: the teacher's unless the manifest gives them. A narrower student
 * keeps the teacher's heads when they divide its width (so the head size shrinks with it), and scales the FFN with
 * the width (TinyBERT's 312-wide student keeps BERT's 4x ratio). Throws naming the field that does not fit.
 */
export function studentShape(teacher: { hidden: number; heads: number; intermediate: number }, width: StudentWidth = {}): { hidden: number; heads: number; intermediate: number } {
  const hidden = width.hidden ?? teacher.hidden;
  if (hidden !== teacher.hidden && width.projection === 'none')
    throw new Error(`students.hidden ${hidden} differs from the teacher's ${teacher.hidden}, and students.projection is none; use projection: auto or shared`);
  const heads = width.heads ?? teacher.heads;
  if (hidden % heads !== 0)
    throw new Error(width.heads === undefined ? `students.hidden ${hidden} is not divisible by the teacher's ${heads} heads; set students.heads` : `students.hidden ${hidden} is not divisible by students.heads ${heads}`);
  const intermediate = width.intermediate ?? Math.max(1, Math.round((teacher.intermediate * hidden) / teacher.hidden));
  return { hidden, heads, intermediate };
}

/** A BERT student of `depth` layers at the manifest's width (the classification twin of generation's withWidth). */
export function studentBertConfig(teacher: BertConfig, depth: number, width?: StudentWidth): BertConfig {
  return { ...teacher, layers: depth, ...studentShape(teacher, width) };
}

/**
 * The projection parameters a student trains ([] at equal widths): weight [teacherWidth, studentWidth] per matched
 * pair, keyed `<stack prefix><k>` (`''` for a one-stack encoder, `encoder.` / `decoder.` for a seq2seq model's
 * stacks), or one shared by every pair. `pairs` gives each stack's most pairs in any epoch. Appended after the
 * model's own, so its initialization (drawn in spec order from the seed) is the same as without them.
 */
export function projectionSpecs(pairs: number | Readonly<Record<string, number>>, studentWidth: number, teacherWidth: number, projection: StudentWidth['projection']): ParamSpec[] {
  if (studentWidth === teacherWidth) return [];
  const perStack = typeof pairs === 'number' ? { '': pairs } : pairs;
  const total = Object.values(perStack).reduce((a, b) => a + b, 0);
  const keys: (string | number)[] =
    projection === 'shared' ? (total > 0 ? ['shared'] : []) : Object.entries(perStack).flatMap(([prefix, n]) => Array.from({ length: n }, (_, k) => `${prefix}${k}`));
  return keys.map((k) => ({ name: projectionParamName(k), shape: [teacherWidth, studentWidth], init: 'normal', decay: true }));
}

/**
 * Hidden-loss pairs, projected where the widths differ; the projection weights are graph inputs (trained parameters),
 * keyed `<prefix><k>` as projectionSpecs names them.
 */
export function projectedPairs(g: GraphBuilder, pairs: { student: string; teacher: string }[], projection: StudentWidth['projection'], prefix = ''): { student: string; teacher: string }[] {
  return projectPairs(g, { declare: (name, shape) => g.input(name, DataType.FLOAT, shape) }, pairs, { shared: projection === 'shared', prefix });
}

/**
 * Saves the projections among a student's parameters, with the layer map of each stack prefix they belong to
 * (`{ '': map }` for an encoder classifier). None among the parameters: no file, false.
 */
export function writeProjections(file: string, params: ReadonlyMap<string, Float32Array>, shapes: readonly ParamSpec[], maps: Readonly<Record<string, LayerMap>>): boolean {
  const specs = shapes.filter((p) => isProjectionParam(p.name));
  if (specs.length === 0) return false;
  writeSafetensors(file, specs.map((p) => ({ name: p.name, dtype: 'F32', shape: p.shape, data: params.get(p.name)! })), { layerMaps: JSON.stringify(maps) });
  return true;
}

/**
 * A student's projections of one stack (`prefix` as in projectionSpecs) per student hidden-state index, as
 * [teacherWidth, studentWidth] row-major weights: the first pair's of each student layer (so layers matched twice use
 * one). Undefined when the file does not exist.
 */
export function readProjections(file: string, prefix = ''): Map<number, { weight: Float32Array; teacherWidth: number; studentWidth: number }> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const f = readSafetensors(file);
  const map = (JSON.parse(f.metadata.layerMaps ?? '{}') as Record<string, LayerMap>)[prefix] ?? [];
  const out = new Map<number, { weight: Float32Array; teacherWidth: number; studentWidth: number }>();
  map.forEach(([s], k) => {
    if (out.has(s)) return;
    const name = [projectionParamName(`${prefix}${k}`), projectionParamName('shared')].find((n) => f.has(n));
    if (!name) return;
    const [teacherWidth, studentWidth] = f.info(name).shape;
    out.set(s, { weight: f.float32(name), teacherWidth, studentWidth });
  });
  return out;
}

/** y = x·Wᵀ over rows of a [N, studentWidth] array (the angle analysis' view of a student state in teacher space). */
export function projectRows(x: Float32Array, p: { weight: Float32Array; teacherWidth: number; studentWidth: number }): Float32Array {
  const { weight: w, teacherWidth: dt, studentWidth: ds } = p;
  const rows = x.length / ds;
  const y = new Float32Array(rows * dt);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < dt; o++) {
      let sum = 0;
      for (let i = 0; i < ds; i++) sum += x[r * ds + i] * w[o * ds + i];
      y[r * dt + o] = sum;
    }
  return y;
}
