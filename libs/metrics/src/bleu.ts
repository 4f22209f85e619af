// Corpus and sentence BLEU, a port of sacreBLEU 2.x `metrics/bleu.py` (Papineni et al. 2002 with
// the mteval-v13a conventions): clipped n-gram counts against the per-n-gram maximum over the
// references, closest reference length for the brevity penalty (ties -> shorter), corpus-level
// aggregation of the statistics, and the Chen & Cherry (2014) smoothing methods.
import { BLEU_TOKENIZERS, tokenizeBleu, type BleuTokenizer } from './bleu-tokenizers';
import { MetricsError } from './errors';
import { alignReferences, type ReferenceStream } from './references';
import { pyFixed, pyRstrip, pySplit } from './text';
import { SACREBLEU_VERSION } from './version';

/**
 * - `exp`: NIST/mteval-v13a smoothing; the k-th order with no match gets precision 1 / (2^k * total).
 * - `floor`: an order with no match gets `smoothValue` (default 0.1) matches.
 * - `add-k`: `smoothValue` (default 1) is added to the matches and totals of every order n > 1.
 * - `none`: no smoothing; any order with no match makes the score 0.
 */
export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

export const BLEU_SMOOTHING_METHODS: readonly BleuSmoothing[] = ['exp', 'floor', 'add-k', 'none'];

const SMOOTH_DEFAULTS: Readonly<Record<BleuSmoothing, number | undefined>> = {
  exp: undefined,
  floor: 0.1,
  'add-k': 1,
  none: undefined,
};

export interface BleuOptions {
  /** Tokenizer applied to hypotheses and references (default '13a'). */
  readonly tokenize?: BleuTokenizer;
  /** Lowercase hypotheses and references before tokenizing (default false). */
  readonly lowercase?: boolean;
  /** Default 'exp'. */
  readonly smooth?: BleuSmoothing;
  /** Parameter of 'floor' (default 0.1) and 'add-k' (default 1); ignored by the other methods. */
  readonly smoothValue?: number;
  /**
   * Average only over the n-gram orders the hypotheses contain (orders with a zero total are left out)
   * instead of always over `maxNgramOrder`. Default false for corpus BLEU, true for sentence BLEU.
   */
  readonly effectiveOrder?: boolean;
  /** Highest n-gram order (default 4). */
  readonly maxNgramOrder?: number;
}

/** A BLEU result with sacreBLEU's field names; `score` and `precisions` are on a 0-100 scale. */
export interface BleuScore {
  readonly score: number;
  /** Clipped n-gram matches per order 1..maxNgramOrder (with 'add-k', including the added k for n > 1, as sacreBLEU reports them). */
  readonly counts: readonly number[];
  /** Hypothesis n-grams per order (with 'add-k', including the added k for n > 1). */
  readonly totals: readonly number[];
  readonly precisions: readonly number[];
  /** Brevity penalty. */
  readonly bp: number;
  /** Hypothesis tokens in the corpus. */
  readonly sys_len: number;
  /** Sum over segments of the reference length closest to the hypothesis length. */
  readonly ref_len: number;
  /** sacreBLEU 2.x signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2`. */
  readonly signature: string;
}

interface ResolvedBleuOptions {
  readonly tokenize: BleuTokenizer;
  readonly lowercase: boolean;
  readonly smooth: BleuSmoothing;
  readonly smoothValue: number | undefined;
  readonly effectiveOrder: boolean;
  readonly maxNgramOrder: number;
}

function resolveOptions(options: BleuOptions, effectiveOrderDefault: boolean): ResolvedBleuOptions {
  const tokenize = options.tokenize ?? '13a';
  if (!BLEU_TOKENIZERS.includes(tokenize)) {
    throw new MetricsError(`BLEU: unknown tokenizer '${String(tokenize)}' (expected one of ${BLEU_TOKENIZERS.join(', ')})`);
  }
  const smooth = options.smooth ?? 'exp';
  if (!BLEU_SMOOTHING_METHODS.includes(smooth)) {
    throw new MetricsError(
      `BLEU: unknown smoothing method '${String(smooth)}' (expected one of ${BLEU_SMOOTHING_METHODS.join(', ')})`,
    );
  }
  if (options.smoothValue !== undefined && !(Number.isFinite(options.smoothValue) && options.smoothValue >= 0)) {
    throw new MetricsError(`BLEU: smoothValue must be a finite number >= 0, got ${options.smoothValue}`);
  }
  const maxNgramOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1) {
    throw new MetricsError(`BLEU: maxNgramOrder must be an integer >= 1, got ${maxNgramOrder}`);
  }
  return {
    tokenize,
    lowercase: options.lowercase ?? false,
    smooth,
    smoothValue: options.smoothValue ?? SMOOTH_DEFAULTS[smooth],
    effectiveOrder: options.effectiveOrder ?? effectiveOrderDefault,
    maxNgramOrder,
  };
}

function signature(nrefs: number | 'var', o: ResolvedBleuOptions): string {
  // sacreBLEU prints the parameter of floor/add-k with two decimals: smooth:floor[0.10], smooth:add-k[1.00]
  const smooth = o.smoothValue !== undefined && SMOOTH_DEFAULTS[o.smooth] !== undefined
    ? `${o.smooth}[${pyFixed(o.smoothValue, 2)}]`
    : o.smooth;
  return [
    `nrefs:${nrefs}`,
    `case:${o.lowercase ? 'lc' : 'mixed'}`,
    `eff:${o.effectiveOrder ? 'yes' : 'no'}`,
    `tok:${o.tokenize}`,
    `smooth:${smooth}`,
    `version:${SACREBLEU_VERSION}`,
  ].join('|');
}

function preprocess(segment: string, o: ResolvedBleuOptions): string[] {
  const cased = o.lowercase ? segment.toLowerCase() : segment;
  return pySplit(tokenizeBleu(pyRstrip(cased), o.tokenize));
}

/** n-gram counts per order (index n - 1); tokens never contain spaces, so ' ' is a safe joiner. */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number>[] {
  const orders: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const gram = tokens.slice(i, i + n).join(' ');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    orders.push(counts);
  }
  return orders;
}

/** The reference length closest to the hypothesis length; on a tie, the shorter one. */
function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const refLen of refLens) {
    const diff = Math.abs(hypLen - refLen);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = refLen;
    } else if (diff === closestDiff && refLen < closestLen) {
      closestLen = refLen;
    }
  }
  return closestLen;
}

/** sacreBLEU's `my_log`: log with log(0) floored to -9999999999. */
function flooredLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** Port of sacreBLEU `BLEU.compute_bleu` over corpus-level sufficient statistics. */
function computeBleu(
  counts: readonly number[],
  totals: readonly number[],
  sysLen: number,
  refLen: number,
  o: ResolvedBleuOptions,
  sig: string,
): BleuScore {
  const correct = [...counts];
  const total = [...totals];
  const order = o.maxNgramOrder;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions: number[] = new Array<number>(order).fill(0);
  const result = (score: number): BleuScore => ({
    score, counts: correct, totals: total, precisions, bp, sys_len: sysLen, ref_len: refLen, signature: sig,
  });

  // No match at any order: 0, whatever the smoothing (sacreBLEU #141).
  if (!correct.some((c) => c !== 0)) return result(0);

  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (o.smooth === 'add-k' && n > 1) {
      correct[n - 1] += o.smoothValue as number;
      total[n - 1] += o.smoothValue as number;
    }
    if (total[n - 1] === 0) break;
    if (o.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (o.smooth === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]);
      } else if (o.smooth === 'floor') {
        precisions[n - 1] = (100 * (o.smoothValue as number)) / total[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += flooredLog(p);
  return result(bp * Math.exp(logSum / effOrder));
}

function bleu(
  hypotheses: readonly string[],
  references: readonly ReferenceStream[],
  o: ResolvedBleuOptions,
): BleuScore {
  const { segments, nrefs } = alignReferences('BLEU', hypotheses, references);
  const maxOrder = o.maxNgramOrder;
  const counts = new Array<number>(maxOrder).fill(0);
  const totals = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hypothesis, i) => {
    // Per n-gram, the maximum count over this segment's references.
    const refMax: Map<string, number>[] = Array.from({ length: maxOrder }, () => new Map<string, number>());
    const refLens: number[] = [];
    for (const ref of segments[i]) {
      const tokens = preprocess(ref, o);
      refLens.push(tokens.length);
      ngramCounts(tokens, maxOrder).forEach((grams, k) => {
        for (const [gram, c] of grams) refMax[k].set(gram, Math.max(refMax[k].get(gram) ?? 0, c));
      });
    }
    const hypTokens = preprocess(hypothesis, o);
    sysLen += hypTokens.length;
    refLen += closestRefLength(hypTokens.length, refLens);
    ngramCounts(hypTokens, maxOrder).forEach((grams, k) => {
      for (const [gram, c] of grams) {
        totals[k] += c;
        counts[k] += Math.min(c, refMax[k].get(gram) ?? 0);
      }
    });
  });
  return computeBleu(counts, totals, sysLen, refLen, o, signature(nrefs, o));
}

/**
 * Corpus BLEU, matching sacreBLEU 2.x `BLEU(...).corpus_score(hypotheses, references)`.
 * `references` is a list of streams, each aligned with `hypotheses` (stream s holds the s-th reference
 * of every segment); a null/undefined entry means that segment has fewer references; '' is a reference of length 0 (sacreBLEU >= 2.2).
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly ReferenceStream[],
  options: BleuOptions = {},
): BleuScore {
  return bleu(hypotheses, references, resolveOptions(options, false));
}

/**
 * Sentence BLEU of one hypothesis against its references, matching sacreBLEU 2.x `sentence_bleu`:
 * effective order and 'exp' smoothing by default.
 */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuScore {
  if (!Array.isArray(references)) {
    throw new MetricsError('BLEU: sentence references must be an array of strings (one entry per reference)');
  }
  return bleu([hypothesis], references.map((ref) => [ref]), resolveOptions(options, true));
}

/**
 * sacreBLEU's one-line rendering:
 * `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`.
 */
export function formatBleu(score: BleuScore): string {
  const ratio = score.ref_len ? score.sys_len / score.ref_len : 0;
  const precisions = score.precisions.map((p) => pyFixed(p, 1)).join('/');
  const lengths = `hyp_len = ${score.sys_len} ref_len = ${score.ref_len}`;
  return `BLEU = ${pyFixed(score.score, 2)} ${precisions} (BP = ${pyFixed(score.bp, 3)} ratio = ${pyFixed(ratio, 3)} ${lengths})`;
}
