import { GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';

export interface PredictionKlOptions {
  /** Softmax temperature τ; the KL is multiplied by τ² (Hinton). */
  temperature: number;
  /**
   * Per-row weights, shaped like the logits without their last (class) axis: 1/N for the N real rows, 0 for
   * padding rows (as libs/train's weightedCrossEntropy). The loss is Σ wᵢ·KLᵢ. Without it, the plain mean
   * over all rows.
   */
  rowWeights?: string;
}

/**
 * KL(p_teacher ‖ p_student) on softmax(logits/τ), times τ², for logits [..., C] (classification: [B, C]).
 * Both sides go through LogSoftmax, so p·log p stays finite where p underflows. The teacher logits are meant
 * to be a graph input (cached teacher outputs) and get no gradient. Returns the scalar loss name.
 */
export function predictionKl(g: GraphBuilder, studentLogits: string, teacherLogits: string, options: PredictionKlOptions): string {
  const { temperature: tau, rowWeights } = options;
  if (!Number.isFinite(tau) || tau <= 0) throw new KdError(`temperature must be > 0, got ${tau}`);
  const shape = g.shapeOf(studentLogits);
  const tShape = g.shapeOf(teacherLogits);
  if (shape.length < 1 || shape.join(',') !== tShape.join(','))
    throw new KdError(`student logits [${shape}] and teacher logits [${tShape}] must have the same shape`);
  const dtype = g.dtypeOf(studentLogits);
  const scaled = (z: string): string => (tau === 1 ? z : g.op('Div', [z, g.scalar(tau, dtype)]));
  const logQ = g.op('LogSoftmax', [scaled(studentLogits)], { axis: attr.i(-1) });
  const logP = g.op('LogSoftmax', [scaled(teacherLogits)], { axis: attr.i(-1) });
  const p = g.op('Exp', [logP]);
  const perRow = g.op('ReduceSum', [g.op('Mul', [p, g.op('Sub', [logP, logQ])]), g.ints([-1])], { keepdims: attr.i(0) });
  let loss: string;
  if (rowWeights !== undefined) {
    const wShape = g.shapeOf(rowWeights);
    if (wShape.join(',') !== shape.slice(0, -1).join(','))
      throw new KdError(`rowWeights [${wShape}] must have the logits' shape without the class axis, [${shape.slice(0, -1)}]`);
    loss = g.op('ReduceSum', [g.op('Mul', [perRow, rowWeights])], { keepdims: attr.i(0) });
  } else {
    loss = g.op('ReduceMean', [perRow], { keepdims: attr.i(0) });
  }
  return tau === 1 ? loss : g.op('Mul', [loss, g.scalar(tau * tau, dtype)]);
}
