import { GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';
import { predictionKl, type PredictionKlOptions } from './kl';

/** The prediction losses on offer, the divergences DistillKit and NVIDIA ModelOpt let a distillation run choose from. */
export const PREDICTION_DIVERGENCES = ['forward-kl', 'reverse-kl', 'js', 'tvd', 'skew-kl'] as const;
export type PredictionDivergence = (typeof PREDICTION_DIVERGENCES)[number];

/** DistiLLM's default skew (its `skew_lambda`, 0.1). */
export const SKEW_KL_DEFAULT_ALPHA = 0.1;

export interface PredictionDivergenceOptions extends PredictionKlOptions {
  kind: PredictionDivergence;
  /** Teacher share α of the skew-kl mixture, 0 <= α < 1 (default SKEW_KL_DEFAULT_ALPHA); only with kind 'skew-kl'. */
  skewAlpha?: number;
}

/**
 * A divergence between softmax(teacher/τ) = p and softmax(student/τ) = q, per row over the last (class) axis of
 * logits [..., C], reduced and scaled exactly as predictionKl (Σ wᵢ·Dᵢ with rowWeights, else the mean; times τ²), so
 * the kinds' magnitudes compare:
 * - forward-kl: KL(p ‖ q), predictionKl itself;
 * - reverse-kl: KL(q ‖ p), mode-seeking;
 * - js: Jensen–Shannon, ½KL(p ‖ m) + ½KL(q ‖ m) with m = (p + q)/2; symmetric, at most log 2;
 * - tvd: total variation, ½Σ|p − q|; at most 1;
 * - skew-kl: KL(p ‖ αp + (1 − α)q), DistiLLM's skew forward KL (Ko et al. 2024, arXiv:2402.03898: the mixture
 *   puts weight α on the teacher and 1 − α on the student). α = 0 is the forward KL;
 *   it falls to 0 as α → 1 (bounded by (1 − α)·KL(p ‖ q) and by −log α), so α = 1 is rejected: it has no gradient.
 * The teacher logits get no gradient (cached teacher outputs). Returns the scalar loss name.
 */
export function predictionDivergence(g: GraphBuilder, studentLogits: string, teacherLogits: string, options: PredictionDivergenceOptions): string {
  const { kind, temperature: tau, rowWeights } = options;
  const alpha = checkKind(kind, options.skewAlpha);
  // skew-kl at α = 0 is exactly the forward KL, and its mixture would need log α = −∞.
  if (kind === 'forward-kl' || (kind === 'skew-kl' && alpha === 0)) return predictionKl(g, studentLogits, teacherLogits, { temperature: tau, rowWeights });

  if (!Number.isFinite(tau) || tau <= 0) throw new KdError(`temperature must be > 0, got ${tau}`);
  const shape = g.shapeOf(studentLogits);
  const tShape = g.shapeOf(teacherLogits);
  if (shape.length < 1 || shape.join(',') !== tShape.join(','))
    throw new KdError(`student logits [${shape}] and teacher logits [${tShape}] must have the same shape`);
  if (rowWeights !== undefined && g.shapeOf(rowWeights).join(',') !== shape.slice(0, -1).join(','))
    throw new KdError(`rowWeights [${g.shapeOf(rowWeights)}] must have the logits' shape without the class axis, [${shape.slice(0, -1)}]`);
  const dtype = g.dtypeOf(studentLogits);
  const s = (v: number): string => g.scalar(v, dtype);
  const scaled = (z: string): string => (tau === 1 ? z : g.op('Div', [z, s(tau)]));
  const logQ = g.op('LogSoftmax', [scaled(studentLogits)], { axis: attr.i(-1) });
  const logP = g.op('LogSoftmax', [scaled(teacherLogits)], { axis: attr.i(-1) });
  const perRow = divergencePerRow(g, kind, { p: g.op('Exp', [logP]), logP, q: g.op('Exp', [logQ]), logQ }, alpha);

  // No axes input: every row axis is reduced, [B] rows and [B, T] tokens alike.
  const loss =
    rowWeights !== undefined
      ? g.op('ReduceSum', [g.op('Mul', [perRow, rowWeights])], { keepdims: attr.i(0) })
      : g.op('ReduceMean', [perRow], { keepdims: attr.i(0) });
  return tau === 1 ? loss : g.op('Mul', [loss, s(tau * tau)]);
}

/** Validates kind and skewAlpha; returns the skew-kl α (its default when not given). */
export function checkKind(kind: PredictionDivergence, skewAlpha: number | undefined): number {
  if (!(PREDICTION_DIVERGENCES as readonly string[]).includes(kind)) throw new KdError(`unknown prediction divergence '${kind}', expected one of ${PREDICTION_DIVERGENCES.join(', ')}`);
  if (skewAlpha !== undefined && kind !== 'skew-kl') throw new KdError(`skewAlpha only applies to kind 'skew-kl', not '${kind}'`);
  const alpha = skewAlpha ?? SKEW_KL_DEFAULT_ALPHA;
  if (kind === 'skew-kl' && !(Number.isFinite(alpha) && alpha >= 0 && alpha < 1)) throw new KdError(`skewAlpha must be in [0, 1), got ${alpha}`);
  return alpha;
}

/**
 * The divergence of each row over the last axis, given both sides' probabilities and finite log-probabilities
 * (shared by the full-vocabulary and the top-k losses). Not for 'forward-kl', and skew-kl needs 0 < α < 1.
 */
export function divergencePerRow(
  g: GraphBuilder,
  kind: Exclude<PredictionDivergence, 'forward-kl'>,
  d: { p: string; logP: string; q: string; logQ: string },
  alpha: number,
): string {
  const { p, logP, q, logQ } = d;
  // Made on use: an initializer no node reads draws an onnxruntime warning.
  const half = (): string => g.scalar(0.5, g.dtypeOf(p));
  const rowSum = (x: string): string => g.op('ReduceSum', [x, g.ints([-1])], { keepdims: attr.i(0) });
  // Σ a·(log a − log b) with both logs finite, so a class whose a underflowed to 0 adds 0, not 0·(−∞).
  const kl = (a: string, logA: string, logB: string): string => rowSum(g.op('Mul', [a, g.op('Sub', [logA, logB])]));
  if (kind === 'reverse-kl') return kl(q, logQ, logP);
  if (kind === 'tvd') return g.op('Mul', [rowSum(g.op('Abs', [g.op('Sub', [p, q])])), half()]);
  if (kind === 'js') {
    const logM = logMixture(g, logP, logQ, 0.5);
    return g.op('Mul', [g.op('Add', [kl(p, logP, logM), kl(q, logQ, logM)]), half()]);
  }
  return kl(p, logP, logMixture(g, logP, logQ, alpha));
}

/**
 * log(α·e^a + (1 − α)·e^b) for log-probabilities a, b, 0 < α < 1, as a log-sum-exp shifted by max(a, b): both
 * exponentials are then <= 1 and one of them is the weight itself, so the log never sees 0 even where p and q both
 * underflow. The max is (x + y + |x − y|)/2 because the autodiff has no Max gradient; its gradient through the shift
 * cancels exactly, so the kink of |·| does not reach the loss.
 */
function logMixture(g: GraphBuilder, a: string, b: string, alpha: number): string {
  const dtype = g.dtypeOf(a);
  const x = g.op('Add', [a, g.scalar(Math.log(alpha), dtype)]);
  const y = g.op('Add', [b, g.scalar(Math.log(1 - alpha), dtype)]);
  const top = g.op('Mul', [g.op('Add', [g.op('Add', [x, y]), g.op('Abs', [g.op('Sub', [x, y])])]), g.scalar(0.5, dtype)]);
  const sum = g.op('Add', [g.op('Exp', [g.op('Sub', [x, top])]), g.op('Exp', [g.op('Sub', [y, top])])]);
  return g.op('Add', [top, g.op('Log', [sum])]);
}
