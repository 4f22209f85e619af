// chrF (Popović 2015) and chrF++ (Popović 2017), a port of sacreBLEU 2.x `metrics/chrf.py`:
// character n-grams of orders 1..charOrder (whitespace removed by default) plus, for chrF++, word
// n-grams of orders 1..wordOrder; per-order precision and recall are averaged over the orders that
// have both hypothesis and reference n-grams (sacreBLEU's default "effective order"), then combined
// into F-beta. Each segment keeps the statistics of its best-scoring reference; corpus chrF sums them.
import { MetricsError } from './errors';
import { alignReferences, type ReferenceStream } from './references';
import { codePoints, pyFixed, pyFloatStr, pyRemoveWhitespace, pySplit } from './text';
import { SACREBLEU_VERSION } from './version';

export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  readonly charOrder?: number;
  /** Word n-gram order (default 0; 2 gives chrF++). */
  readonly wordOrder?: number;
  /**
   * Weight of recall relative to precision (default 2). A string is read as the Python literal it would be in
   * sacreBLEU: '2' is an int (name 'chrF2'), '2.0' a float (name 'chrF2.0'); a number is an int when integral.
   */
  readonly beta?: number | string;
  /** Lowercase hypotheses and references (default false). */
  readonly lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false). */
  readonly whitespace?: boolean;
  /**
   * Average per-order F scores with epsilon smoothing like chrF++.py, NLTK and Moses, instead of
   * sacreBLEU's default effective-order averaging (default false; the signature then says `eff:no`).
   */
  readonly epsSmoothing?: boolean;
}

export interface ChrfScore {
  /** 'chrF2', or 'chrF2++' for wordOrder 2 (one '+' per word order), as sacreBLEU names it. */
  readonly name: string;
  /** On a 0-100 scale. */
  readonly score: number;
  readonly char_order: number;
  readonly word_order: number;
  readonly beta: number;
  /** sacreBLEU 2.x signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2`. */
  readonly signature: string;
}

interface ResolvedChrfOptions {
  readonly charOrder: number;
  readonly wordOrder: number;
  readonly beta: number;
  /** How Python prints beta in the metric's name: '2' for an int, '2.0' for a float. */
  readonly betaName: string;
  readonly lowercase: boolean;
  readonly whitespace: boolean;
  readonly epsSmoothing: boolean;
}

function resolveBeta(value: number | string): { beta: number; betaName: string } {
  if (typeof value === 'number') return { beta: value, betaName: Number.isInteger(value) ? String(value) : pyFloatStr(value) };
  const text = value.trim();
  const beta = text === '' ? NaN : Number(text);
  if (/^[+-]?\d+$/.test(text)) return { beta, betaName: String(beta) };
  return { beta, betaName: pyFloatStr(beta) };
}

function resolveOptions(options: ChrfOptions): ResolvedChrfOptions {
  const charOrder = options.charOrder ?? 6;
  const wordOrder = options.wordOrder ?? 0;
  const { beta, betaName } = resolveBeta(options.beta ?? 2);
  if (!Number.isInteger(charOrder) || charOrder < 0) {
    throw new MetricsError(`chrF: charOrder must be an integer >= 0, got ${charOrder}`);
  }
  if (!Number.isInteger(wordOrder) || wordOrder < 0) {
    throw new MetricsError(`chrF: wordOrder must be an integer >= 0, got ${wordOrder}`);
  }
  if (charOrder + wordOrder === 0) throw new MetricsError('chrF: charOrder and wordOrder are both 0');
  if (!(Number.isFinite(beta) && beta >= 0)) throw new MetricsError(`chrF: beta must be a finite number >= 0, got ${String(options.beta)}`);
  return {
    charOrder,
    wordOrder,
    beta,
    betaName,
    lowercase: options.lowercase ?? false,
    whitespace: options.whitespace ?? false,
    epsSmoothing: options.epsSmoothing ?? false,
  };
}

type Counts = Map<string, number>;

function count(grams: Iterable<string>): Counts {
  const counts: Counts = new Map();
  for (const g of grams) counts.set(g, (counts.get(g) ?? 0) + 1);
  return counts;
}

function* charNgrams(chars: readonly string[], n: number): Generator<string> {
  for (let i = 0; i + n <= chars.length; i++) yield chars.slice(i, i + n).join('');
}

function* wordNgrams(words: readonly string[], n: number): Generator<string> {
  for (let i = 0; i + n <= words.length; i++) yield words.slice(i, i + n).join(' ');
}

/** string.punctuation: the characters chrF++ separates from the start or end of a word. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * chrF++ word splitting (after m-popovic/chrF): one trailing, or else one leading, punctuation mark is
 * split off each word of two or more characters; '(hi)' becomes '(hi' and ')' (sacreBLEU #124).
 */
function chrfWords(sentence: string): string[] {
  const words: string[] = [];
  for (const word of pySplit(sentence)) {
    const chars = codePoints(word);
    if (chars.length === 1) {
      words.push(word);
    } else if (PUNCTUATION.has(chars[chars.length - 1])) {
      words.push(chars.slice(0, -1).join(''), chars[chars.length - 1]);
    } else if (PUNCTUATION.has(chars[0])) {
      words.push(chars[0], chars.slice(1).join(''));
    } else {
      words.push(word);
    }
  }
  return words;
}

/** n-gram counts per order: character orders 1..charOrder, then word orders 1..wordOrder. */
function allNgrams(segment: string, o: ResolvedChrfOptions): Counts[] {
  const sentence = o.lowercase ? segment.toLowerCase() : segment;
  const chars = codePoints(o.whitespace ? sentence : pyRemoveWhitespace(sentence));
  const orders: Counts[] = [];
  for (let n = 1; n <= o.charOrder; n++) orders.push(count(charNgrams(chars, n)));
  if (o.wordOrder > 0) {
    const words = chrfWords(sentence);
    for (let n = 1; n <= o.wordOrder; n++) orders.push(count(wordNgrams(words, n)));
  }
  return orders;
}

/** [hyp n-grams, ref n-grams, matches] per order, flattened; hypothesis n-grams count only where the reference has n-grams of that order. */
function matchStatistics(hyp: readonly Counts[], ref: readonly Counts[]): number[] {
  const stats: number[] = [];
  hyp.forEach((hypGrams, k) => {
    const refGrams = ref[k];
    let hypCount = 0;
    let matches = 0;
    for (const [gram, c] of hypGrams) {
      hypCount += c;
      matches += Math.min(c, refGrams.get(gram) ?? 0);
    }
    let refCount = 0;
    for (const c of refGrams.values()) refCount += c;
    stats.push(refGrams.size > 0 ? hypCount : 0, refCount, matches);
  });
  return stats;
}

/** Port of sacreBLEU `CHRF._compute_f_score`: the score (0-100) of flattened [hyp, ref, match] statistics. */
function fScore(stats: readonly number[], o: ResolvedChrfOptions): number {
  const eps = 1e-16;
  const factor = o.beta ** 2;
  const orders = o.charOrder + o.wordOrder;
  let epsScore = 0;
  let avgPrec = 0;
  let avgRec = 0;
  let effectiveOrder = 0;
  for (let i = 0; i < orders; i++) {
    const [nHyp, nRef, nMatch] = stats.slice(3 * i, 3 * i + 3);
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    epsScore += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder += 1;
    }
  }
  if (o.epsSmoothing) return (100 * epsScore) / orders;
  if (effectiveOrder === 0) {
    avgPrec = 0;
    avgRec = 0;
  } else {
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
  }
  if (avgPrec + avgRec === 0) return 0;
  // same operation order as sacreBLEU, so results agree to the last bit
  const score = ((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
  return 100 * score;
}

function signature(nrefs: number | 'var', o: ResolvedChrfOptions): string {
  return [
    `nrefs:${nrefs}`,
    `case:${o.lowercase ? 'lc' : 'mixed'}`,
    `eff:${o.epsSmoothing ? 'no' : 'yes'}`,
    `nc:${o.charOrder}`,
    `nw:${o.wordOrder}`,
    `space:${o.whitespace ? 'yes' : 'no'}`,
    `version:${SACREBLEU_VERSION}`,
  ].join('|');
}

function chrf(hypotheses: readonly string[], references: readonly ReferenceStream[], o: ResolvedChrfOptions): ChrfScore {
  const { segments, nrefs } = alignReferences('chrF', hypotheses, references);
  const totals = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  hypotheses.forEach((hypothesis, i) => {
    const hypGrams = allNgrams(hypothesis, o);
    let best: number[] = [];
    let bestScore = -1;
    for (const ref of segments[i]) {
      const stats = matchStatistics(hypGrams, allNgrams(ref, o));
      const score = fScore(stats, o);
      if (score > bestScore) {
        bestScore = score;
        best = stats;
      }
    }
    best.forEach((v, k) => (totals[k] += v));
  });
  return {
    name: `chrF${o.betaName}${'+'.repeat(o.wordOrder)}`,
    score: fScore(totals, o),
    char_order: o.charOrder,
    word_order: o.wordOrder,
    beta: o.beta,
    signature: signature(nrefs, o),
  };
}

/**
 * Corpus chrF, matching sacreBLEU 2.x `CHRF(...).corpus_score(hypotheses, references)` (chrF2 by
 * default, chrF++ with `wordOrder: 2`). `references` is a list of streams aligned with `hypotheses`.
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly ReferenceStream[],
  options: ChrfOptions = {},
): ChrfScore {
  return chrf(hypotheses, references, resolveOptions(options));
}

/** chrF of one hypothesis against its references (the best-scoring reference counts). */
export function sentenceChrf(hypothesis: string, references: readonly string[], options: ChrfOptions = {}): ChrfScore {
  if (!Array.isArray(references)) {
    throw new MetricsError('chrF: sentence references must be an array of strings (one entry per reference)');
  }
  return chrf([hypothesis], references.map((ref) => [ref]), resolveOptions(options));
}

/** sacreBLEU's one-line rendering, e.g. `chrF2 = 59.74`. */
export function formatChrf(score: ChrfScore): string {
  return `${score.name} = ${pyFixed(score.score, 2)}`;
}
