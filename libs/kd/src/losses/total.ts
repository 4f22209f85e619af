import { GraphBuilder } from '@strata/onnx';
import { KdError } from '../errors';

export interface KdLossTerms {
  /** Hard-label cross-entropy (scalar). */
  ce?: string;
  /** Prediction KL (scalar). */
  kl?: string;
  /** Hidden-state term (scalar); absent for strategy `none`. */
  hidden?: string;
}

export interface KdLossWeights {
  ce: number;
  kl: number;
  hidden: number;
}

export const KD_LOSS_WEIGHTS: Readonly<KdLossWeights> = Object.freeze({ ce: 1, kl: 1, hidden: 3 });

/**
 * Weighted sum w_ce·ce + w_kl·kl + w_hidden·hidden over the terms present (missing terms, and terms with weight 0,
 * are left out). Missing weights default to CE 1, KL 1, hidden 3 (METHOD.md §4). Returns the scalar loss name.
 */
export function totalKdLoss(g: GraphBuilder, terms: KdLossTerms, weights: Partial<KdLossWeights> = {}): string {
  const w: KdLossWeights = { ...KD_LOSS_WEIGHTS, ...weights };
  const parts: string[] = [];
  for (const k of ['ce', 'kl', 'hidden'] as const) {
    const t = terms[k];
    if (t === undefined) continue;
    if (!Number.isFinite(w[k])) throw new KdError(`weight ${k} must be finite, got ${w[k]}`);
    if (g.shapeOf(t).length !== 0) throw new KdError(`loss term ${k} ('${t}') must be a scalar, got [${g.shapeOf(t)}]`);
    if (w[k] === 0) continue;
    parts.push(w[k] === 1 ? t : g.op('Mul', [t, g.scalar(w[k], g.dtypeOf(t))]));
  }
  if (parts.length === 0) throw new KdError('totalKdLoss needs at least one present term with a nonzero weight');
  return parts.length === 1 ? g.op('Identity', [parts[0]]) : g.op('Sum', parts);
}
