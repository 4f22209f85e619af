// The KD loss's terms as extra graph outputs, so the training curves can show what the total is made of. Each is
// the term as weighted in the total (w·term), so the logged terms sum to the logged loss up to float rounding.
import type { GraphBuilder } from '@strata/onnx';
import type { KdLossWeights } from '@strata/kd';

export const LOSS_TERMS = ['ce', 'kl', 'hidden'] as const;
export type LossTerm = (typeof LOSS_TERMS)[number];

/** The graph output holding a term's weighted value (fixed names, so every shape bucket's graph reads alike). */
export const lossTermOutput = (term: LossTerm) => `loss_term.${term}`;

/**
 * Adds `loss_term.<term>` = weight · term for each present term with a nonzero weight (the terms totalKdLoss sums),
 * and returns those output names for TrainGraph.fetch.
 */
export function exposeLossTerms(g: GraphBuilder, terms: Partial<Record<LossTerm, string>>, weights: KdLossWeights): string[] {
  const out: string[] = [];
  for (const k of LOSS_TERMS) {
    const t = terms[k];
    if (t === undefined || weights[k] === 0) continue;
    const weighted = weights[k] === 1 ? t : g.op('Mul', [t, g.scalar(weights[k], g.dtypeOf(t))]);
    out.push(g.op('Identity', [weighted], {}, { output: lossTermOutput(k) }));
  }
  return out;
}
