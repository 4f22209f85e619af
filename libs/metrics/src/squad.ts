// SQuAD exact match (the official evaluate-v1.1 script's `normalize_answer` and
// `metric_max_over_ground_truths`).
import { MetricsError } from './errors';
import { pySplit } from './text';

/** Python's string.punctuation (ASCII only, like the SQuAD script). */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's `\b(a|an|the)\b`: Python 3 word characters are Unicode letters, numbers and '_'
// (JavaScript's \b is ASCII-only, so the boundaries are spelled out).
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD answer normalization: lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace. */
export function normalizeSquadAnswer(answer: string): string {
  const lowered = answer.toLowerCase();
  const noPunctuation = Array.from(lowered).filter((ch) => !PUNCTUATION.has(ch)).join('');
  return pySplit(noPunctuation.replace(ARTICLES, ' ')).join(' ');
}

/** 1 when the normalized prediction equals the normalized form of any gold answer, else 0. */
export function exactMatch(pred: string, golds: readonly string[]): 0 | 1 {
  if (!Array.isArray(golds) || golds.length === 0) {
    throw new MetricsError('exactMatch: no gold answers given (expected at least one)');
  }
  const normalized = normalizeSquadAnswer(pred);
  return golds.some((gold) => normalizeSquadAnswer(gold) === normalized) ? 1 : 0;
}

/** Mean exact match over examples (0-1 scale; SQuAD reports it x100). `golds[i]` holds the answers of example i. */
export function meanExactMatch(preds: readonly string[], golds: readonly (readonly string[])[]): number {
  if (!Array.isArray(preds) || !Array.isArray(golds)) throw new MetricsError('meanExactMatch: predictions and golds must be arrays');
  if (preds.length !== golds.length) {
    throw new MetricsError(`meanExactMatch: ${preds.length} predictions but ${golds.length} gold answer lists`);
  }
  if (preds.length === 0) throw new MetricsError('meanExactMatch: no examples (predictions are empty)');
  let sum = 0;
  preds.forEach((pred, i) => {
    if (!Array.isArray(golds[i]) || golds[i].length === 0) {
      throw new MetricsError(`meanExactMatch: example ${i + 1} has no gold answers`);
    }
    sum += exactMatch(pred, golds[i]);
  });
  return sum / preds.length;
}
