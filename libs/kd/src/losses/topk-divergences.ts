import { GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';
import { type PredictionDivergence, checkKind, divergencePerRow } from './divergences';
import { TOPK_REST_FLOOR, checkTopKInputs, type TopKKlOptions, topKPredictionKl } from './topk-kl';

/** Added inside the rest bucket's logs (as topk-kl.ts does) so an empty bucket gives a finite log. */
const TINY = 1e-30;

export interface TopKDivergenceOptions extends TopKKlOptions {
  kind: PredictionDivergence;
  /** As PredictionDivergenceOptions.skewAlpha. */
  skewAlpha?: number;
}

/**
 * predictionDivergence against a cached top-k teacher distribution, over the same k + 1 outcomes topKPredictionKl
 * uses (the top-k ids and one "rest" bucket), so forward-kl is topKPredictionKl itself and k = V gives the
 * full-vocabulary value:
 * - τ = 1: p_i the stored teacher probabilities, p_rest = 1 − Σ p_i (0 below TOPK_REST_FLOOR); q_i the student's
 *   softmax at the ids, q_rest its mass on all other ids (summed exactly).
 * - τ ≠ 1: p renormalized over the top-k (p_i ∝ exp(log p_i / τ)), p_rest = 0; q from softmax(z/τ) as above.
 * Every kind is then the divergence of these two (k + 1)-outcome distributions, times τ², summed with tokenWeights.
 *
 * reverse-kl is refused for k < V: p_rest is 0 whenever τ ≠ 1 or the tail is under the floor, and Σ q log(q/p)
 * is infinite there (finite only through TINY, as ~69·q_rest, a penalty set by the constant, not the teacher).
 * JS, TVD and skew-kl stay bounded when p_rest = 0, so they are kept.
 */
export function topKPredictionDivergence(g: GraphBuilder, studentLogits: string, teacherIndices: string, teacherLogProbs: string, options: TopKDivergenceOptions): string {
  const { kind, temperature: tau, tokenWeights } = options;
  const alpha = checkKind(kind, options.skewAlpha);
  if (kind === 'forward-kl' || (kind === 'skew-kl' && alpha === 0)) return topKPredictionKl(g, studentLogits, teacherIndices, teacherLogProbs, { temperature: tau, tokenWeights });
  const { B, T, V, k } = checkTopKInputs(g, studentLogits, teacherIndices, teacherLogProbs, tokenWeights, tau);
  if (kind === 'reverse-kl' && k < V) throw new KdError(`reverse-kl needs the full teacher distribution (k = ${V}), got top-${k}: the teacher's tail is unknown, and the student's mass there would be divided by 0`);

  const dtype = g.dtypeOf(studentLogits);
  const s = (v: number) => g.scalar(v, dtype);
  const last = g.ints([-1]);
  const keep1 = { keepdims: attr.i(1) };
  const logOf = (x: string) => g.op('Log', [g.op('Add', [x, s(TINY)])]);
  const cat = (a: string, b: string) => g.op('Concat', [a, b], { axis: attr.i(2) });

  const logQ = g.op('LogSoftmax', [tau === 1 ? studentLogits : g.op('Div', [studentLogits, s(tau)])], { axis: attr.i(-1) });
  const logQk = g.op('GatherElements', [logQ, teacherIndices], { axis: attr.i(2) });
  const inTopK = g.op('ScatterElements', [g.op('Expand', [s(0), g.ints([B, T, V])]), teacherIndices, g.op('Expand', [s(1), g.ints([B, T, k])])], { axis: attr.i(2) });
  const qRest = g.op('ReduceSum', [g.op('Mul', [g.op('Exp', [logQ]), g.op('Sub', [s(1), inTopK])]), last], keep1); // [B, T, 1]

  let logPk: string;
  let pRest: string;
  if (tau === 1) {
    logPk = teacherLogProbs;
    const rest = g.op('Sub', [s(1), g.op('ReduceSum', [g.op('Exp', [teacherLogProbs]), last], keep1)]);
    pRest = g.op('Mul', [rest, g.op('Cast', [g.op('Greater', [rest, s(TOPK_REST_FLOOR)])], { to: attr.i(dtype) })]);
  } else {
    logPk = g.op('LogSoftmax', [g.op('Div', [teacherLogProbs, s(tau)])], { axis: attr.i(-1) });
    pRest = g.op('Expand', [s(0), g.ints([B, T, 1])]);
  }
  const perToken = divergencePerRow(
    g,
    kind,
    { p: cat(g.op('Exp', [logPk]), pRest), logP: cat(logPk, logOf(pRest)), q: cat(g.op('Exp', [logQk]), qRest), logQ: cat(logQk, logOf(qRest)) },
    alpha,
  );
  const loss = g.op('ReduceSum', [g.op('Mul', [perToken, tokenWeights])], { keepdims: attr.i(0) });
  return tau === 1 ? loss : g.op('Mul', [loss, s(tau * tau)]);
}
