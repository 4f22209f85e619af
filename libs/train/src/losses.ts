import { GraphBuilder, attr } from '@strata/onnx';

/**
 * Hard-label cross-entropy −Σᵢ wᵢ·log softmax(zᵢ)[yᵢ] with per-row weights w (1/N for real rows, 0 for the
 * padding rows of a last, short batch), so the mean is over real examples only.
 */
export function weightedCrossEntropy(g: GraphBuilder, logits: string, labels: string, weights: string): string {
  const logp = g.op('LogSoftmax', [logits], { axis: attr.i(-1) });
  const picked = g.op('GatherElements', [logp, g.op('Unsqueeze', [labels, g.ints([-1])])], { axis: attr.i(1) });
  const perRow = g.op('Reshape', [picked, g.ints([g.shapeOf(logits)[0]])]);
  return g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [perRow, weights])], { keepdims: attr.i(0) })], {}, { output: 'loss' });
}

