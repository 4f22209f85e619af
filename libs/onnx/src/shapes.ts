// Static shape and type inference for the default-domain ops Strata builds and differentiates.
// Shapes must be fully static (see onnx-autodiff.md §1): gradient rules read them at build time.
import { DataType } from './dtype';
import { Node, Tensor, attrInt, attrInts, numel } from './ir';

export interface TypeInfo {
  dtype: DataType;
  shape: number[];
}

export type ConstLookup = (name: string) => Tensor | undefined;
type ShapeFn = (node: Node, inputs: (TypeInfo | undefined)[], constant: ConstLookup) => TypeInfo[];

export class ShapeError extends Error {
  constructor(node: Node, message: string) {
    super(`${node.opType} node '${node.name}': ${message}`);
    this.name = 'ShapeError';
  }
}

export function broadcastShapes(a: readonly number[], b: readonly number[], where = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${where}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function normalizeAxis(axis: number, rank: number, node?: Node): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    const msg = `axis ${axis} out of range for rank ${rank}`;
    throw node ? new ShapeError(node, msg) : new Error(msg);
  }
  return a;
}

/** Reads an int64 constant input (axes, shapes, pads, ...) as numbers. */
export function constInts(node: Node, index: number, constant: ConstLookup): number[] | undefined {
  const name = node.inputs[index];
  if (!name) return undefined;
  const t = constant(name);
  if (!t) throw new ShapeError(node, `input ${index} ('${name}') must be a constant for static shapes`);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

function need(node: Node, inputs: (TypeInfo | undefined)[], i: number): TypeInfo {
  const t = inputs[i];
  if (!t) throw new ShapeError(node, `type of input ${i} ('${node.inputs[i]}') is unknown`);
  return t;
}

const same: ShapeFn = (node, ins) => [{ ...need(node, ins, 0), shape: [...need(node, ins, 0).shape] }];

const broadcastN: ShapeFn = (node, ins) => {
  let shape = need(node, ins, 0).shape;
  for (let i = 1; i < node.inputs.length; i++) shape = broadcastShapes(shape, need(node, ins, i).shape, `${node.opType} node '${node.name}'`);
  return [{ dtype: need(node, ins, 0).dtype, shape }];
};

const compare: ShapeFn = (node, ins) => [{ dtype: DataType.BOOL, shape: broadcastN(node, ins, () => undefined)[0].shape }];

function reduceShape(node: Node, shape: number[], axes: number[] | undefined, keepdims: boolean, noopEmpty: boolean): number[] {
  if (!axes || axes.length === 0) {
    if (noopEmpty) return [...shape];
    return keepdims ? shape.map(() => 1) : [];
  }
  const set = new Set(axes.map((a) => normalizeAxis(a, shape.length, node)));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

const reduce: ShapeFn = (node, ins, constant) => {
  const x = need(node, ins, 0);
  const axes = node.inputs.length > 1 && node.inputs[1] ? constInts(node, 1, constant) : attrInts(node, 'axes');
  return [{ dtype: x.dtype, shape: reduceShape(node, x.shape, axes, attrInt(node, 'keepdims', 1) === 1, attrInt(node, 'noop_with_empty_axes', 0) === 1) }];
};

function matmulShape(node: Node, a: number[], b: number[]): number[] {
  if (a.length < 2 || b.length < 2) throw new ShapeError(node, `operands must have rank >= 2 (got [${a}] and [${b}]); reshape 1-D operands first`);
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) throw new ShapeError(node, `inner dimensions differ: [${a}] x [${b}]`);
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), `MatMul node '${node.name}'`);
  return [...batch, m, n];
}

const RULES: Record<string, ShapeFn> = {
  Identity: same,
  Neg: same,
  Abs: same,
  Sign: same,
  Sqrt: same,
  Reciprocal: same,
  Exp: same,
  Log: same,
  Tanh: same,
  Erf: same,
  Sigmoid: same,
  Relu: same,
  Softmax: same,
  LogSoftmax: same,
  CumSum: same,
  Trilu: same,
  Not: same,
  Add: broadcastN,
  Sub: broadcastN,
  Mul: broadcastN,
  Div: broadcastN,
  Pow: (node, ins) => [{ dtype: need(node, ins, 0).dtype, shape: broadcastShapes(need(node, ins, 0).shape, need(node, ins, 1).shape) }],
  Sum: broadcastN,
  Max: broadcastN,
  Min: broadcastN,
  Equal: compare,
  Greater: compare,
  Less: compare,
  GreaterOrEqual: compare,
  LessOrEqual: compare,
  And: compare,
  Or: compare,
  Where: (node, ins) => {
    const shape = broadcastShapes(broadcastShapes(need(node, ins, 0).shape, need(node, ins, 1).shape), need(node, ins, 2).shape);
    return [{ dtype: need(node, ins, 1).dtype, shape }];
  },
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceSumSquare: reduce,
  ReduceLogSumExp: reduce,
  ReduceL2: reduce,
  ArgMax: (node, ins) => {
    const x = need(node, ins, 0);
    const axis = normalizeAxis(attrInt(node, 'axis', 0), x.shape.length, node);
    return [{ dtype: DataType.INT64, shape: reduceShape(node, x.shape, [axis], attrInt(node, 'keepdims', 1) === 1, false) }];
  },
  TopK: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const axis = normalizeAxis(attrInt(node, 'axis', -1), x.shape.length, node);
    const k = constInts(node, 1, constant)![0];
    if (!(k >= 1 && k <= x.shape[axis])) throw new ShapeError(node, `k = ${k} is outside 1..${x.shape[axis]} (the size of axis ${axis})`);
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [{ dtype: x.dtype, shape }, { dtype: DataType.INT64, shape: [...shape] }];
  },
  MatMul: (node, ins) => [{ dtype: need(node, ins, 0).dtype, shape: matmulShape(node, need(node, ins, 0).shape, need(node, ins, 1).shape) }],
  Gemm: (node, ins) => {
    const a = need(node, ins, 0).shape;
    const b = need(node, ins, 1).shape;
    if (a.length !== 2 || b.length !== 2) throw new ShapeError(node, `Gemm needs 2-D operands, got [${a}] and [${b}]`);
    const [m, k] = attrInt(node, 'transA', 0) ? [a[1], a[0]] : a;
    const [k2, n] = attrInt(node, 'transB', 0) ? [b[1], b[0]] : b;
    if (k !== k2) throw new ShapeError(node, `inner dimensions differ: op(A) is [${m},${k}], op(B) is [${k2},${n}]`);
    return [{ dtype: need(node, ins, 0).dtype, shape: [m, n] }];
  },
  Transpose: (node, ins) => {
    const x = need(node, ins, 0);
    const perm = attrInts(node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (perm.length !== x.shape.length) throw new ShapeError(node, `perm [${perm}] does not match rank ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  Reshape: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const target = constInts(node, 1, constant)!;
    const allowZero = attrInt(node, 'allowzero', 0) === 1;
    const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const total = numel(x.shape);
    const minus = shape.filter((d) => d === -1).length;
    if (minus > 1) throw new ShapeError(node, `shape [${target}] has more than one -1`);
    const out = shape.map((d) => (d === -1 ? total / known : d));
    if (numel(out) !== total || out.some((d) => !Number.isInteger(d))) throw new ShapeError(node, `cannot reshape [${x.shape}] to [${target}]`);
    return [{ dtype: x.dtype, shape: out }];
  },
  Flatten: (node, ins) => {
    const x = need(node, ins, 0);
    const axis = attrInt(node, 'axis', 1);
    const a = axis < 0 ? axis + x.shape.length : axis;
    return [{ dtype: x.dtype, shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))] }];
  },
  Squeeze: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const axes = node.inputs[1] ? constInts(node, 1, constant)!.map((a) => normalizeAxis(a, x.shape.length, node)) : undefined;
    if (axes) for (const a of axes) if (x.shape[a] !== 1) throw new ShapeError(node, `cannot squeeze axis ${a} of size ${x.shape[a]}`);
    return [{ dtype: x.dtype, shape: x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
  },
  Unsqueeze: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const rank = x.shape.length + constInts(node, 1, constant)!.length;
    const axes = new Set(constInts(node, 1, constant)!.map((a) => normalizeAxis(a, rank, node)));
    const out: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(axes.has(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape: out }];
  },
  Concat: (node, ins) => {
    const first = need(node, ins, 0);
    const axis = normalizeAxis(attrInt(node, 'axis'), first.shape.length, node);
    const shape = [...first.shape];
    shape[axis] = 0;
    for (let i = 0; i < node.inputs.length; i++) {
      const s = need(node, ins, i).shape;
      if (s.length !== shape.length || s.some((d, k) => k !== axis && d !== first.shape[k])) throw new ShapeError(node, `input ${i} shape [${s}] does not match [${first.shape}] off axis ${axis}`);
      shape[axis] += s[axis];
    }
    return [{ dtype: first.dtype, shape }];
  },
  Split: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const axis = normalizeAxis(attrInt(node, 'axis', 0), x.shape.length, node);
    let sizes = node.inputs[1] ? constInts(node, 1, constant)! : attrInts(node, 'split');
    if (!sizes) {
      const n = node.outputs.length;
      const chunk = Math.ceil(x.shape[axis] / n);
      sizes = Array.from({ length: n }, (_, i) => Math.min(chunk, x.shape[axis] - chunk * i));
    }
    if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) throw new ShapeError(node, `split sizes [${sizes}] do not add up to ${x.shape[axis]}`);
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  Slice: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const p = sliceParams(node, x.shape, constant);
    const shape = [...x.shape];
    for (let i = 0; i < p.axes.length; i++) {
      const { start, end, step } = { start: p.starts[i], end: p.ends[i], step: p.steps[i] };
      shape[p.axes[i]] = Math.max(0, Math.ceil((end - start) / step));
    }
    return [{ dtype: x.dtype, shape }];
  },
  Gather: (node, ins) => {
    const x = need(node, ins, 0);
    const idx = need(node, ins, 1);
    const axis = normalizeAxis(attrInt(node, 'axis', 0), x.shape.length, node);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
  GatherElements: (node, ins) => [{ dtype: need(node, ins, 0).dtype, shape: [...need(node, ins, 1).shape] }],
  ScatterND: same,
  ScatterElements: same,
  Cast: (node, ins) => [{ dtype: attrInt(node, 'to') as DataType, shape: [...need(node, ins, 0).shape] }],
  Expand: (node, ins, constant) => {
    const x = need(node, ins, 0);
    return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, constInts(node, 1, constant)!, `Expand node '${node.name}'`) }];
  },
  Tile: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const reps = constInts(node, 1, constant)!;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d * reps[i]) }];
  },
  Pad: (node, ins, constant) => {
    const x = need(node, ins, 0);
    const pads = constInts(node, 1, constant)!;
    const axes = node.inputs[3] ? constInts(node, 3, constant)!.map((a) => normalizeAxis(a, x.shape.length, node)) : x.shape.map((_, i) => i);
    const shape = [...x.shape];
    axes.forEach((a, i) => (shape[a] += pads[i] + pads[i + axes.length]));
    return [{ dtype: x.dtype, shape }];
  },
  ConstantOfShape: (node, _ins, constant) => {
    const value = node.attributes.value;
    const dtype = value && value.type === 'tensor' ? value.value.dtype : DataType.FLOAT;
    return [{ dtype, shape: constInts(node, 0, constant)! }];
  },
  Constant: (node) => {
    const value = node.attributes.value;
    if (!value || value.type !== 'tensor') throw new ShapeError(node, 'only tensor-valued Constant nodes are supported');
    return [{ dtype: value.value.dtype, shape: [...value.value.dims] }];
  },
  Range: (node, ins, constant) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => constInts(node, i, constant)![0]);
    return [{ dtype: need(node, ins, 0).dtype, shape: [Math.max(0, Math.ceil((limit - start) / delta))] }];
  },
  Shape: (node, ins) => [{ dtype: DataType.INT64, shape: [need(node, ins, 0).shape.length] }],
  LayerNormalization: (node, ins) => {
    const x = need(node, ins, 0);
    const axis = normalizeAxis(attrInt(node, 'axis', -1), x.shape.length, node);
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    const statType = x.dtype === DataType.DOUBLE ? DataType.FLOAT : x.dtype;
    const outs: TypeInfo[] = [{ dtype: x.dtype, shape: [...x.shape] }];
    if (node.outputs.length > 1) outs.push({ dtype: statType, shape: statShape });
    if (node.outputs.length > 2) outs.push({ dtype: statType, shape: [...statShape] });
    return outs;
  },
  Dropout: (node, ins) => {
    const x = need(node, ins, 0);
    const outs: TypeInfo[] = [{ dtype: x.dtype, shape: [...x.shape] }];
    if (node.outputs.length > 1) outs.push({ dtype: DataType.BOOL, shape: [...x.shape] });
    return outs;
  },
};

export interface SliceParams {
  axes: number[];
  starts: number[];
  ends: number[];
  steps: number[];
}

/** Slice's starts/ends clamped and normalized as the ONNX spec describes, per sliced axis. */
export function sliceParams(node: Node, shape: number[], constant: ConstLookup): SliceParams {
  const starts = constInts(node, 1, constant)!;
  const ends = constInts(node, 2, constant)!;
  const axes = node.inputs[3] ? constInts(node, 3, constant)!.map((a) => normalizeAxis(a, shape.length, node)) : starts.map((_, i) => i);
  const steps = node.inputs[4] ? constInts(node, 4, constant)! : starts.map(() => 1);
  const outStarts: number[] = [];
  const outEnds: number[] = [];
  axes.forEach((axis, i) => {
    const dim = shape[axis];
    const step = steps[i];
    if (step === 0) throw new ShapeError(node, 'slice step 0');
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    outStarts.push(s);
    outEnds.push(e);
  });
  return { axes, starts: outStarts, ends: outEnds, steps };
}

export function inferNode(node: Node, inputs: (TypeInfo | undefined)[], constant: ConstLookup): TypeInfo[] {
  if (node.domain && node.domain !== 'ai.onnx') throw new ShapeError(node, `domain '${node.domain}' is not supported (default-domain ops only)`);
  const rule = RULES[node.opType];
  if (!rule) throw new ShapeError(node, `no static shape inference for op '${node.opType}'`);
  return rule(node, inputs, constant);
}

