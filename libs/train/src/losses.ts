import { GraphBuilder, attr } from '@strata/onnx';

/**
 * Token-level cross-entropy for teacher forcing: logits [B, T, V], int64 labels [B, T] and float weights [B, T]
 * (1/N on the N real target tokens, 0 on padding). With label smoothing ε (as torch's CrossEntropyLoss):
 * −Σ w·[(1−ε)·log q_y + (ε/V)·Σ_v log q_v]. Returns the scalar loss name (`output`).
 */
export function tokenCrossEntropy(g: GraphBuilder, logits: string, labels: string, weights: string, labelSmoothing = 0, output = 'loss'): string {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new Error(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const shape = g.shapeOf(logits);
  if (shape.length !== 3) throw new Error(`tokenCrossEntropy: logits must be [B, T, V], got [${shape}]`);
  const [B, T] = shape;
  for (const [name, t] of [['labels', labels], ['weights', weights]] as const)
    if (g.shapeOf(t).join(',') !== `${B},${T}`) throw new Error(`tokenCrossEntropy: ${name} must be [${B}, ${T}], got [${g.shapeOf(t)}]`);
  const dtype = g.dtypeOf(logits);
  const logp = g.op('LogSoftmax', [logits], { axis: attr.i(-1) });
  const picked = g.op('Reshape', [g.op('GatherElements', [logp, g.op('Unsqueeze', [labels, g.ints([-1])])], { axis: attr.i(2) }), g.ints([B, T])]);
  let perToken = picked;
  if (labelSmoothing > 0) {
    const uniform = g.op('ReduceMean', [logp, g.ints([-1])], { keepdims: attr.i(0) });
    perToken = g.op('Add', [g.op('Mul', [picked, g.scalar(1 - labelSmoothing, dtype)]), g.op('Mul', [uniform, g.scalar(labelSmoothing, dtype)])]);
  }
  return g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [perToken, weights])], { keepdims: attr.i(0) })], {}, { output });
}

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

