// Token error rates by Levenshtein distance: phoneme error rate for grapheme-to-phoneme.
import { MetricsError } from './errors';
import { pySplit } from './text';

/** Levenshtein distance between two token sequences (substitutions, insertions and deletions cost 1). */
export function editDistance(a: readonly string[], b: readonly string[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

export interface ErrorRate {
  /** Σ edits / Σ reference tokens, 0-1 scale (can exceed 1 when hypotheses are long). */
  rate: number;
  edits: number;
  referenceTokens: number;
  /** Hypotheses equal to one of their references. */
  exact: number;
}

/**
 * Phoneme error rate over whitespace-separated phonemes. With several references (alternative pronunciations), each
 * hypothesis is scored against the reference it is closest to (fewest edits; on ties the longer reference), as G2P
 * evaluations on CMUdict do.
 */
export function phonemeErrorRate(hypotheses: readonly string[], references: readonly (readonly string[])[]): ErrorRate {
  if (hypotheses.length !== references.length) throw new MetricsError(`phonemeErrorRate: ${hypotheses.length} hypotheses but ${references.length} reference lists`);
  if (hypotheses.length === 0) throw new MetricsError('phonemeErrorRate: no hypotheses given');
  let edits = 0;
  let referenceTokens = 0;
  let exact = 0;
  hypotheses.forEach((hyp, i) => {
    const refs = references[i];
    if (!Array.isArray(refs) || refs.length === 0) throw new MetricsError(`phonemeErrorRate: hypothesis ${i + 1} has no references`);
    const h = pySplit(hyp);
    let best = { d: Infinity, n: 0 };
    for (const ref of refs) {
      const r = pySplit(ref);
      const d = editDistance(h, r);
      if (d < best.d || (d === best.d && r.length > best.n)) best = { d, n: r.length };
    }
    edits += best.d;
    referenceTokens += best.n;
    if (best.d === 0) exact++;
  });
  if (referenceTokens === 0) throw new MetricsError('phonemeErrorRate: the references hold no tokens');
  return { rate: edits / referenceTokens, edits, referenceTokens, exact };
}
