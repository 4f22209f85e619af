// Reductions, Softmax/LogSoftmax and LayerNormalization (onnx-autodiff.md §4, reductions and normalisations).
import { attr, attrFloat, attrInt, constInts, DataType, normalizeAxis, numel } from '@strata/onnx';
import type { GradContext } from '../context';
import { registerGradient } from '../registry';

/** The reduced axes of a Reduce* node (axes input since opset 13/18, attribute before), normalized. */
function reducedAxes(c: GradContext): number[] | 'none' {
  const rank = c.shape(c.input(0)).length;
  const lookup = (n: string) => c.g.constantValue(n);
  let axes = c.node.inputs[1] ? constInts(c.node, 1, lookup)! : undefined;
  if (!axes) {
    const a = c.node.attributes.axes;
    axes = a && a.type === 'ints' ? a.value : undefined;
  }
  if (!axes || axes.length === 0) return attrInt(c.node, 'noop_with_empty_axes', 0) ? 'none' : [...Array(rank).keys()];
  return axes.map((a) => normalizeAxis(a, rank, c.node));
}

/** Broadcasts the gradient of a reduction back over the input's shape. */
function expandBack(c: GradContext, axes: number[]): string {
  const x = c.input(0);
  const shape = c.shape(x);
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const g = c.op('Reshape', [c.gy()!, c.ints(kept)]);
  return c.op('Expand', [g, c.ints(shape)]);
}

registerGradient('ReduceSum', (c) => {
  const axes = reducedAxes(c);
  return [axes === 'none' ? c.gy() : expandBack(c, axes), undefined];
});

registerGradient('ReduceMean', (c) => {
  const axes = reducedAxes(c);
  if (axes === 'none') return [c.gy(), undefined];
  const shape = c.shape(c.input(0));
  const n = numel(axes.map((a) => shape[a]));
  return [c.op('Mul', [expandBack(c, axes), c.scalar(1 / n, c.input(0))]), undefined];
});

registerGradient('ReduceSumSquare', (c) => {
  const axes = reducedAxes(c);
  const x = c.input(0);
  const g = axes === 'none' ? c.gy()! : expandBack(c, axes);
  return [c.op('Mul', [g, c.op('Mul', [x, c.scalar(2, x)])]), undefined];
});

registerGradient('Softmax', (c) => {
  const y = c.output();
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), c.shape(y).length, c.node);
  const gy = c.gy()!;
  const dot = c.op('ReduceSum', [c.op('Mul', [gy, y]), c.ints([axis])], { keepdims: attr.i(1) });
  return [c.op('Mul', [y, c.op('Sub', [gy, dot])])];
});

registerGradient('LogSoftmax', (c) => {
  const y = c.output();
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), c.shape(y).length, c.node);
  const gy = c.gy()!;
  const total = c.op('ReduceSum', [gy, c.ints([axis])], { keepdims: attr.i(1) });
  return [c.op('Sub', [gy, c.op('Mul', [c.op('Exp', [y]), total])])];
});

registerGradient('LayerNormalization', (c) => {
  const [x, scale, bias] = [c.input(0), c.input(1), c.input(2)];
  const shape = c.shape(x);
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), shape.length, c.node);
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  const normAxes = c.ints(shape.map((_, i) => i).slice(axis));
  const batchAxes = shape.map((_, i) => i).slice(0, axis);
  const mean = (t: string) => c.op('ReduceMean', [t, normAxes], { keepdims: attr.i(1) });
  let xhat: string;
  let r: string;
  if (c.dtype(x) === DataType.FLOAT) {
    // Reuse the statistics the forward kernel computes anyway (its Mean/InvStdDev outputs).
    const outs = c.g.extendOutputs(c.node, 3);
    r = outs[2];
    xhat = c.op('Mul', [c.op('Sub', [x, outs[1]]), r]);
  } else {
    // Those outputs are float32 even for float64 inputs, so recompute in the input's precision.
    const centered = c.op('Sub', [x, mean(x)]);
    r = c.op('Reciprocal', [c.op('Sqrt', [c.op('Add', [mean(c.op('Mul', [centered, centered])), c.scalar(eps, x)])])]);
    xhat = c.op('Mul', [centered, r]);
  }
  // Mean/InvStdDev outputs of the forward node are not differentiated (nothing in Strata consumes them).
  const gy = c.gyOrZeros(0);
  const sumBatch = (t: string) => (batchAxes.length ? c.op('ReduceSum', [t, c.ints(batchAxes)], { keepdims: attr.i(0) }) : t);
  const dScale = c.wants(1) ? c.reshapeTo(sumBatch(c.op('Mul', [gy, xhat])), scale) : undefined;
  const dBias = bias && c.wants(2) ? c.reshapeTo(sumBatch(gy), bias) : undefined;
  let dx: string | undefined;
  if (c.wants(0)) {
    const g = c.op('Mul', [gy, scale]);
    const inner = c.op('Sub', [c.op('Sub', [g, mean(g)]), c.op('Mul', [xhat, mean(c.op('Mul', [g, xhat]))])]);
    dx = c.op('Mul', [r, inner]);
  }
  return [dx, dScale, dBias];
});
