// Shape and data-movement ops (onnx-autodiff.md §4, shape and data movement).
import { attr, attrInt, attrInts, constInts, DataType, normalizeAxis, numel, sliceParams } from '@strata/onnx';
import type { GradContext } from '../context';
import { registerGradient } from '../registry';

registerGradient('Transpose', (c) => {
  const rank = c.shape(c.input(0)).length;
  const perm = attrInts(c.node, 'perm') ?? [...Array(rank).keys()].reverse();
  const inv: number[] = new Array(rank);
  perm.forEach((p, i) => (inv[p] = i));
  return [c.op('Transpose', [c.gy()!], { perm: attr.ints(inv) })];
});

// Pure reshapes: the gradient is the output gradient read in the input's shape.
registerGradient(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'], (c) => [c.reshapeTo(c.gy()!, c.input(0)), undefined]);

registerGradient('Concat', (c) => {
  const first = c.input(0);
  const axis = normalizeAxis(attrInt(c.node, 'axis'), c.shape(first).length, c.node);
  const sizes = c.node.inputs.map((x) => c.shape(x)[axis]);
  const parts = c.g.opN('Split', [c.gy()!, c.ints(sizes)], { axis: attr.i(axis) }, { outputs: sizes.length, name: c.g.fresh(`grad/${c.node.name}/Split`) });
  return c.node.inputs.map((_, i) => (c.wants(i) ? parts[i] : undefined));
});

registerGradient('Split', (c) => {
  const axis = normalizeAxis(attrInt(c.node, 'axis', 0), c.shape(c.input(0)).length, c.node);
  // An output nobody used contributes zeros of its own shape, so the Concat keeps the input's shape.
  const parts = c.node.outputs.map((_, i) => c.gyOrZeros(i));
  return [c.op('Concat', parts, { axis: attr.i(axis) }), undefined];
});

registerGradient('Slice', (c) => {
  const x = c.input(0);
  const shape = c.shape(x);
  const p = sliceParams(c.node, shape, (n) => c.g.constantValue(n));
  const gy = c.gy()!;
  if (p.steps.every((s) => s === 1)) {
    const pads = new Array(2 * shape.length).fill(0);
    p.axes.forEach((a, i) => {
      pads[a] = p.starts[i];
      pads[a + shape.length] = shape[a] - Math.max(p.ends[i], p.starts[i]);
    });
    return [c.op('Pad', [gy, c.ints(pads)]), undefined, undefined, undefined, undefined];
  }
  // Strided or reversed slices: scatter the gradient into zeros at build-time indices.
  const outShape = c.shape(gy);
  const n = numel(outShape);
  const indices = new BigInt64Array(n * shape.length);
  const coord = new Array(outShape.length).fill(0);
  for (let k = 0; k < n; k++) {
    for (let d = 0; d < shape.length; d++) {
      const j = p.axes.indexOf(d);
      indices[k * shape.length + d] = BigInt(j < 0 ? coord[d] : p.starts[j] + coord[d] * p.steps[j]);
    }
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++coord[d] < outShape[d]) break;
      coord[d] = 0;
    }
  }
  const idx = c.g.constant(indices, DataType.INT64, [...outShape, shape.length], 'slice_grad_indices');
  return [c.op('ScatterND', [c.zeros(x), idx, gy], { reduction: attr.s('add') }), undefined, undefined, undefined, undefined];
});

/**
 * Sums the rows of `g` (shape [...idShape, ...rest]) into a [rows, ...rest] tensor by their ids: repeated ids
 * accumulate. Written as ScatterElements with reduction 'add' (each element's row id spelled out) rather than
 * ScatterND 'add', because ONNX Runtime's CPU ScatterND adds in parallel without atomics: with two intra-op threads
 * and repeated ids (every embedding lookup) it loses updates, so embedding gradients came out wrong and
 * run-dependent. ORT's ScatterElements adds in one loop; libs/autodiff tests the rule on two threads, and
 * `strata bench gather-grad` times it against the scatter it replaced. Slice's gradient keeps ScatterND: its
 * indices never repeat.
 */
/** Tables up to this many rows take the one-hot product in sumRowsById. */
export const ONE_HOT_MAX_ROWS = 16;

function sumRowsById(c: GradContext, ids: string, g: string, rows: number, rest: number[], dtype: DataType): string {
  const width = rest.reduce((p, d) => p * d, 1);
  const flat = c.op('Cast', [c.op('Reshape', [ids, c.ints([-1, 1])])], { to: attr.i(DataType.INT64) });
  // Gather counts negative ids from the end.
  const wrapped = c.op('Where', [c.op('Less', [flat, c.ints([0])]), c.op('Add', [flat, c.ints([rows])]), flat]);
  const updates = c.op('Reshape', [g, c.ints([-1, width])]);
  if (rows <= ONE_HOT_MAX_ROWS) {
    // A few rows (token types): one-hot^T x updates, one small product, instead of a scatter whose index tensor
    // alone is as large as the updates (about 10 ms a step for BERT's 2 token types at batch 32 x 128).
    const range = c.g.constant(BigInt64Array.from({ length: rows }, (_, r) => BigInt(r)), DataType.INT64, [1, rows]);
    const oneHot = c.op('Cast', [c.op('Equal', [wrapped, range])], { to: attr.i(dtype) });
    return c.op('Reshape', [c.op('Gemm', [oneHot, updates], { transA: attr.i(1) }), c.ints([rows, ...rest])]);
  }
  const count = c.shape(ids).reduce((p, d) => p * d, 1);
  const index = c.op('Expand', [wrapped, c.ints([count, width])]);
  const zeros = c.op('Expand', [c.g.constant([0], dtype, [1]), c.ints([rows, width])]);
  const summed = c.op('ScatterElements', [zeros, index, updates], { axis: attr.i(0), reduction: attr.s('add') });
  return c.op('Reshape', [summed, c.ints([rows, ...rest])]);
}

/** Adds rows of `gy` into zeros shaped like the gathered tensor: repeated ids accumulate. */
function gatherBack(c: GradContext, data: string, ids: string, axis: number, gy: string): string {
  const shape = c.shape(data);
  const idShape = c.shape(ids);
  const q = idShape.length;
  if (axis === 0) return sumRowsById(c, ids, gy, shape[0], shape.slice(1), c.dtype(data));
  // Move the gathered axis to the front, scatter there, and move it back.
  const pre = [...Array(axis).keys()];
  const idAxes = [...Array(q).keys()].map((i) => axis + i);
  const post = [...Array(shape.length - axis - 1).keys()].map((i) => axis + q + i);
  const g = c.op('Transpose', [gy], { perm: attr.ints([...idAxes, ...pre, ...post]) });
  const scattered = sumRowsById(c, ids, g, shape[axis], [...shape.slice(0, axis), ...shape.slice(axis + 1)], c.dtype(data));
  const back = [...Array(shape.length).keys()].map((i) => (i < axis ? i + 1 : i === axis ? 0 : i));
  return c.op('Transpose', [scattered], { perm: attr.ints(back) });
}

registerGradient('Gather', (c) => {
  const data = c.input(0);
  const axis = normalizeAxis(attrInt(c.node, 'axis', 0), c.shape(data).length, c.node);
  return [gatherBack(c, data, c.input(1), axis, c.gy()!), undefined];
});

registerGradient('GatherElements', (c) => {
  const data = c.input(0);
  const axis = normalizeAxis(attrInt(c.node, 'axis', 0), c.shape(data).length, c.node);
  return [c.op('ScatterElements', [c.zeros(data), c.input(1), c.gy()!], { axis: attr.i(axis), reduction: attr.s('add') }), undefined];
});

registerGradient('Pad', (c) => {
  const x = c.input(0);
  const shape = c.shape(x);
  const mode = c.node.attributes.mode;
  if (mode && mode.type === 'string' && mode.value !== 'constant') throw new Error(`Pad node '${c.node.name}': only constant padding is differentiable here (mode '${mode.value}')`);
  const pads = constInts(c.node, 1, (n) => c.g.constantValue(n))!;
  const axes = c.node.inputs[3] ? constInts(c.node, 3, (n) => c.g.constantValue(n))!.map((a) => normalizeAxis(a, shape.length, c.node)) : shape.map((_, i) => i);
  const starts = axes.map((_, i) => pads[i]);
  const ends = axes.map((a, i) => pads[i] + shape[a]);
  if (pads.some((p) => p < 0)) throw new Error(`Pad node '${c.node.name}': negative pads are not differentiable here`);
  return [c.op('Slice', [c.gy()!, c.ints(starts), c.ints(ends), c.ints(axes)]), undefined, undefined, undefined];
});
