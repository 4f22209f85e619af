import { DataType, GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';

/**
 * Teacher mass outside the stored top-k below this is treated as 0: 1 − Σ exp(log p) of float32 log-probabilities
 * carries rounding noise of ~k·6e-8, which must not turn into a "remainder" the student is pulled towards.
 */
export const TOPK_REST_FLOOR = 1e-4;

/** Added inside log(q_rest) so a student with no mass outside the top-k gives a finite loss. */
const TINY = 1e-30;

export interface TopKKlOptions {
  /** Softmax temperature τ; the KL is multiplied by τ². */
  temperature: number;
  /** [B, T] weights (1/N on the N real target tokens, 0 on padding). */
  tokenWeights: string;
}

/**
 * Token-level KL(p_teacher ‖ q_student) against a cached top-k teacher distribution (METHOD.md §4, seq2seq and causal
 * LM): student logits [B, T, V]; teacher top-k token ids (int64) and log-probabilities, [B, T, k].
 *
 * τ = 1: the distributions are compared over k + 1 outcomes, the top-k tokens and "any other token": p_i are the
 * stored teacher probabilities, p_rest = 1 − Σ p_i (0 below TOPK_REST_FLOOR), q_i the student's softmax at those ids,
 * q_rest the student's mass on all other ids (summed exactly, not 1 − Σ q_i). This is the KL of the two distributions
 * coarsened to those k + 1 outcomes, so it never exceeds the full KL and equals it when k = V.
 * τ ≠ 1: the tempered teacher distribution cannot be rebuilt from k logits, so it is renormalized over the top-k
 * (p_i ∝ exp(log p_i / τ), p_rest = 0) against the student's softmax(z/τ) at those ids; again exact when k = V.
 * Returns τ²·Σ_{b,t} w_{b,t}·KL_{b,t}.
 */
/** Shapes and types of a top-k loss's inputs, named in the error when wrong; returns [B, T, V] and k. */
export function checkTopKInputs(g: GraphBuilder, studentLogits: string, teacherIndices: string, teacherLogProbs: string, tokenWeights: string, tau: number): { B: number; T: number; V: number; k: number } {
  if (!Number.isFinite(tau) || tau <= 0) throw new KdError(`temperature must be > 0, got ${tau}`);
  const zs = g.shapeOf(studentLogits);
  const is = g.shapeOf(teacherIndices);
  if (zs.length !== 3) throw new KdError(`student logits must be [B, T, V], got [${zs}]`);
  const [B, T, V] = zs;
  const k = is[2];
  if (is.length !== 3 || is[0] !== B || is[1] !== T || !(k >= 1 && k <= V))
    throw new KdError(`teacher top-k ids must be [${B}, ${T}, k] with 1 <= k <= ${V}, got [${is}]`);
  if (g.shapeOf(teacherLogProbs).join(',') !== is.join(',')) throw new KdError(`teacher top-k log-probs [${g.shapeOf(teacherLogProbs)}] must match the ids [${is}]`);
  if (g.dtypeOf(teacherIndices) !== DataType.INT64) throw new KdError('teacher top-k ids must be int64');
  if (g.shapeOf(tokenWeights).join(',') !== `${B},${T}`) throw new KdError(`tokenWeights must be [${B}, ${T}], got [${g.shapeOf(tokenWeights)}]`);
  return { B, T, V, k };
}

export function topKPredictionKl(g: GraphBuilder, studentLogits: string, teacherIndices: string, teacherLogProbs: string, options: TopKKlOptions): string {
  const { temperature: tau, tokenWeights } = options;
  const { B, T, V, k } = checkTopKInputs(g, studentLogits, teacherIndices, teacherLogProbs, tokenWeights, tau);
  const dtype = g.dtypeOf(studentLogits);
  const s = (v: number) => g.scalar(v, dtype);
  const keep0 = { keepdims: attr.i(0) };
  const last = g.ints([-1]);

  const scaled = tau === 1 ? studentLogits : g.op('Div', [studentLogits, s(tau)]);
  const logQ = g.op('LogSoftmax', [scaled], { axis: attr.i(-1) });
  const logQk = g.op('GatherElements', [logQ, teacherIndices], { axis: attr.i(2) }); // [B, T, k]

  let perToken: string;
  if (tau === 1) {
    const p = g.op('Exp', [teacherLogProbs]);
    const rest = g.op('Sub', [s(1), g.op('ReduceSum', [p, last], keep0)]);
    const pRest = g.op('Mul', [rest, g.op('Cast', [g.op('Greater', [rest, s(TOPK_REST_FLOOR)])], { to: attr.i(dtype) })]);
    // The student's mass off the teacher's top-k ids, summed over those ids exactly.
    const inTopK = g.op('ScatterElements', [g.op('Expand', [s(0), g.ints([B, T, V])]), teacherIndices, g.op('Expand', [s(1), g.ints([B, T, k])])], { axis: attr.i(2) });
    const qRest = g.op('ReduceSum', [g.op('Mul', [g.op('Exp', [logQ]), g.op('Sub', [s(1), inTopK])]), last], keep0);
    const logQRest = g.op('Log', [g.op('Add', [qRest, s(TINY)])]);
    const logPRest = g.op('Log', [g.op('Add', [pRest, s(TINY)])]);
    const topTerm = g.op('ReduceSum', [g.op('Mul', [p, g.op('Sub', [teacherLogProbs, logQk])]), last], keep0);
    perToken = g.op('Add', [topTerm, g.op('Mul', [pRest, g.op('Sub', [logPRest, logQRest])])]);
  } else {
    const logP = g.op('LogSoftmax', [g.op('Div', [teacherLogProbs, s(tau)])], { axis: attr.i(-1) });
    perToken = g.op('ReduceSum', [g.op('Mul', [g.op('Exp', [logP]), g.op('Sub', [logP, logQk])]), last], keep0);
  }
  const loss = g.op('ReduceSum', [g.op('Mul', [perToken, tokenWeights])], keep0);
  return tau === 1 ? loss : g.op('Mul', [loss, s(tau * tau)]);
}

/**
 * Graph outputs for caching a teacher's vocabulary distribution: the top-k token ids, their log-probabilities and
 * each position's log-sum-exp of the logits, from logits [B, T, V] (the activation record's top-k kind).
 */
export function topKLogProbs(g: GraphBuilder, logits: string, k: number): { indices: string; logProbs: string; logSumExp: string } {
  const shape = g.shapeOf(logits);
  if (!(Number.isInteger(k) && k >= 1 && k <= shape[shape.length - 1])) throw new KdError(`top-k: k must be in 1..${shape[shape.length - 1]}, got ${k}`);
  const logp = g.op('LogSoftmax', [logits], { axis: attr.i(-1) });
  const [logProbs, indices] = g.opN('TopK', [logp, g.ints([k])], { axis: attr.i(-1), largest: attr.i(1), sorted: attr.i(1) }, { outputs: 2 });
  const logSumExp = g.op('ReduceLogSumExp', [logits, g.ints([-1])], { keepdims: attr.i(0) });
  return { indices, logProbs, logSumExp };
}
