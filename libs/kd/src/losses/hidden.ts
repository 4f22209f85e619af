import { GraphBuilder, attr } from '@strata/onnx';
import { KdError } from '../errors';
import type { HiddenNormalize } from './config';

export interface HiddenPair {
  /** Student state [B, S, D] (already projected to the teacher width). */
  student: string;
  /** Teacher state [B, S, D], a graph input (cached teacher outputs, no gradient). */
  teacher: string;
}

export interface HiddenMseOptions {
  /** Default 'token'. */
  normalize?: HiddenNormalize;
  /** Divisor of 'bert-reference' (examples in the batch); default the mask's static batch dimension. */
  batchSize?: number;
}

/**
 * Added to the valid-token count Σmask before dividing, so an all-padding batch gives loss 0 instead of NaN.
 * It is below float32 resolution for any count ≥ 1, so it changes no real value.
 */
export const TOKEN_COUNT_EPS = 1e-12;

/**
 * Added to Σx² inside the per-token norm of 'cosine' (norm = √(Σx² + ε)), so a zero vector normalizes to 0
 * instead of NaN. Relative effect on a vector of norm r is ε/(2r²).
 */
export const COSINE_NORM_EPS = 1e-12;

/**
 * Hidden-state matching loss over matched pairs, masked by a float [B, S] valid-token mask (1 valid, 0 padding).
 * N = ReduceSum(mask) + TOKEN_COUNT_EPS, computed in the graph. With d = student − teacher:
 * - `token` (default): per pair Σ_{b,s} mask·Σ_h d² / N, averaged over pairs.
 * - `bert-reference`: `token` divided by `batchSize` (the reference's effective λ is 3/B).
 * - `element`: per pair Σ mask·d² / (N·D) (mean over valid tokens and hidden units), summed over pairs.
 * - `cosine`: per pair Σ mask·‖ŝ − t̂‖² / N with x̂ = x/√(Σx² + COSINE_NORM_EPS), i.e. 2 − 2cos per token;
 *   averaged over pairs.
 * Returns the scalar loss name.
 */
export function hiddenMse(g: GraphBuilder, pairs: readonly HiddenPair[], mask: string, options: HiddenMseOptions = {}): string {
  const normalize = options.normalize ?? 'token';
  if (pairs.length === 0) throw new KdError('hiddenMse needs at least one matched pair');
  const maskShape = g.shapeOf(mask);
  if (maskShape.length !== 2) throw new KdError(`mask must be [B, S], got [${maskShape}]`);
  const batchSize = options.batchSize ?? maskShape[0];
  if (!(batchSize > 0)) throw new KdError(`batchSize must be > 0, got ${batchSize}`);
  const dtype = g.dtypeOf(pairs[0].student);
  if (g.dtypeOf(mask) !== dtype) throw new KdError(`mask must have the states' float type`);
  const keep0 = { keepdims: attr.i(0) };
  const count = g.op('Add', [g.op('ReduceSum', [mask], keep0), g.scalar(TOKEN_COUNT_EPS, dtype)]);

  const normalized = (x: string): string => {
    const norm = g.op('Sqrt', [g.op('Add', [g.op('ReduceSumSquare', [x, g.ints([-1])], { keepdims: attr.i(1) }), g.scalar(COSINE_NORM_EPS, dtype)])]);
    return g.op('Div', [x, norm]);
  };

  const terms = pairs.map((p, k) => {
    const ss = g.shapeOf(p.student);
    const ts = g.shapeOf(p.teacher);
    if (ss.length !== 3 || ss.join(',') !== ts.join(','))
      throw new KdError(`pair ${k}: student [${ss}] and teacher [${ts}] must both be [B, S, D] of one shape (project the student first)`);
    if (ss[0] !== maskShape[0] || ss[1] !== maskShape[1]) throw new KdError(`pair ${k}: states [${ss}] do not match mask [${maskShape}]`);
    if (g.dtypeOf(p.student) !== dtype || g.dtypeOf(p.teacher) !== dtype) throw new KdError(`pair ${k}: all states must share one float type`);
    const d = normalize === 'cosine' ? g.op('Sub', [normalized(p.student), normalized(p.teacher)]) : g.op('Sub', [p.student, p.teacher]);
    const perToken = g.op('ReduceSumSquare', [d, g.ints([-1])], keep0); // [B, S]
    const total = g.op('ReduceSum', [g.op('Mul', [perToken, mask])], keep0);
    const perPair = g.op('Div', [total, count]);
    return normalize === 'element' ? g.op('Div', [perPair, g.scalar(ss[2], dtype)]) : perPair;
  });
  const sum = terms.length === 1 ? terms[0] : g.op('Sum', terms);
  if (normalize === 'element') return sum;
  const divisor = normalize === 'bert-reference' ? pairs.length * batchSize : pairs.length;
  return divisor === 1 ? sum : g.op('Div', [sum, g.scalar(divisor, dtype)]);
}
