import { corpusBleu, formatBleu, sentenceBleu } from './bleu';
import { MetricsError } from './errors';
import { SACREBLEU_VERSION } from './version';

// The example of the sacreBLEU 2.x README ("Using SacreBLEU from Python").
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe('corpusBleu: sacreBLEU README example', () => {
  const result = corpusBleu(HYPS, REFS);

  it('matches the published score and statistics', () => {
    // README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18);
    // sacreBLEU's test_bleu.py asserts |score - 48.530827| < 1e-8. Closed form from the statistics
    // below, evaluated with bc -l to 30 digits: 48.5308270099298811151964...
    expect(Math.abs(result.score - 48.53082700992988)).toBeLessThan(1e-9);
    expect(Math.abs(result.score - 48.530827)).toBeLessThan(1e-8);
    expect(result.counts).toEqual([14, 7, 5, 3]);
    expect(result.totals).toEqual([17, 14, 11, 8]);
    expect(result.sys_len).toBe(17);
    expect(result.ref_len).toBe(18);
    expect(result.bp).toBeCloseTo(Math.exp(1 - 18 / 17), 15);
    expect(result.precisions[0]).toBeCloseTo((100 * 14) / 17, 12);
  });

  it('renders the README line and the 2.x signature', () => {
    expect(formatBleu(result)).toBe('BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)');
    expect(result.signature).toBe(`nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:${SACREBLEU_VERSION}`);
    expect(SACREBLEU_VERSION).toBe('2.4.2');
  });

  it('matches the published scores of the other tokenizers and smoothing none (test_bleu.py)', () => {
    expect(Math.abs(corpusBleu(HYPS, REFS, { tokenize: 'none' }).score - 49.1919566)).toBeLessThan(1e-7);
    expect(Math.abs(corpusBleu(HYPS, REFS, { tokenize: 'intl' }).score - 43.91623493)).toBeLessThan(1e-8);
    expect(Math.abs(corpusBleu(HYPS, REFS, { smooth: 'none' }).score - 48.530827)).toBeLessThan(1e-8);
  });

  it.each([
    [1, '77.65'],
    [2, '60.50'],
    [3, '53.93'],
    [4, '48.53'],
    [5, '46.14'],
    [6, '43.28'],
  ])('maxNgramOrder %i gives %s (test_bleu.py)', (maxNgramOrder, expected) => {
    const r = corpusBleu(HYPS, REFS, { maxNgramOrder });
    expect(r.score.toFixed(2)).toBe(expected);
    expect(r.counts).toHaveLength(maxNgramOrder);
  });

  it('skips null references: README "variable number of references" example', () => {
    const r = corpusBleu(HYPS, [[null, REFS[0][1], REFS[0][2]], REFS[1]]);
    expect(formatBleu(r)).toBe('BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)');
    // bc -l: e(1-19/17) * e((l(1400/17)+l(300/7)+l(300/11)+l(12.5))/4) = 29.4436576509648755...
    expect(Math.abs(r.score - 29.443657650964875)).toBeLessThan(1e-9);
    expect(r.signature.startsWith('nrefs:var|')).toBe(true);
    expect(corpusBleu(HYPS, [[undefined, REFS[0][1], REFS[0][2]], REFS[1]]).signature.startsWith('nrefs:var|')).toBe(true);
  });

  // sacreBLEU 2.2 and later keep '' as a reference of length 0 and drop only None (2.4.2 printed the values below).
  it('keeps an empty-string reference as a reference of length 0 (sacreBLEU >= 2.2)', () => {
    const r = corpusBleu(HYPS, [['', REFS[0][1], REFS[0][2]], REFS[1]]);
    expect(formatBleu(r)).toBe('BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)');
    expect(r.signature.startsWith('nrefs:2|')).toBe(true);
    // The empty reference is the closest length to a 2-token hypothesis (a tie with 4 goes to the shorter): no brevity penalty.
    const cat = corpusBleu(['the cat'], [['the cat sat on'], ['']], { maxNgramOrder: 2 });
    expect(formatBleu(cat)).toBe('BLEU = 100.00 100.0/100.0 (BP = 1.000 ratio = 0.000 hyp_len = 2 ref_len = 0)');
    expect(cat.score).toBeCloseTo(100, 12);
    expect(cat.signature.startsWith('nrefs:2|')).toBe(true);
    const empty = corpusBleu(['', ''], [['', 'x y'], ['', '']]);
    expect(formatBleu(empty)).toBe('BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 0 ref_len = 0)');
  });

  it('keeps empty hypotheses (score 0, brevity penalty 0)', () => {
    const r = corpusBleu(['', '', ''], REFS);
    expect(r.score).toBe(0);
    expect(r.bp).toBe(0);
    expect(r.sys_len).toBe(0);
    expect(r.ref_len).toBe(17); // closest to length 0 is the shorter reference of each segment: 6 + 5 + 6
  });
});

describe('corpusBleu basics', () => {
  it('is 100 for hypotheses identical to their references', () => {
    const r = corpusBleu(HYPS, [HYPS]);
    expect(r.score).toBeCloseTo(100, 10);
    expect(r.precisions.map((p) => p.toFixed(6))).toEqual(['100.000000', '100.000000', '100.000000', '100.000000']);
    expect(r.bp).toBe(1);
  });

  it('clips each n-gram at its maximum count over the references, not the sum', () => {
    const r = corpusBleu(['the the the'], [['the cat'], ['the the dog']], { tokenize: 'none', maxNgramOrder: 1 });
    expect(r.counts).toEqual([2]);
    expect(r.totals).toEqual([3]);
  });

  it('uses the closest reference length, the shorter one on ties', () => {
    const hyp = ['a b c d e'];
    const tie = corpusBleu(hyp, [['a b c d'], ['a b c d e f']], { tokenize: 'none' });
    expect(tie.ref_len).toBe(4);
    expect(tie.bp).toBe(1);
    const longer = corpusBleu(hyp, [['a b c'], ['a b c d e f']], { tokenize: 'none' });
    expect(longer.ref_len).toBe(6);
    expect(longer.bp).toBeCloseTo(Math.exp(1 - 6 / 5), 15);
  });

  it('applies the brevity penalty exp(1 - r/c) when the hypothesis is shorter', () => {
    // 3 of 5 tokens, all n-grams match; sentence BLEU averages over the 3 orders present
    const r = sentenceBleu('a b c', ['a b c d e'], { tokenize: 'none' });
    expect(r.bp).toBeCloseTo(Math.exp(1 - 5 / 3), 15);
    expect(r.score).toBeCloseTo(51.3417119032592, 10); // bc: e(1-5/3)*100 = 51.34171190325920...
    // without effective order the missing 4-gram order makes corpus BLEU 0
    expect(corpusBleu(['a b c'], [['a b c d e']], { tokenize: 'none' }).score).toBe(0);
  });

  it('lowercases before tokenizing when asked', () => {
    expect(sentenceBleu('THE CAT SAT', ['the cat sat']).score).toBe(0);
    const lc = sentenceBleu('THE CAT SAT', ['the cat sat'], { lowercase: true });
    expect(lc.score).toBeCloseTo(100, 10);
    expect(lc.signature).toContain('|case:lc|');
  });

  it('right-strips segments before tokenizing', () => {
    // intl splits a period followed by a space, so without the rstrip 'in 1990. ' would give 'in 1990 .'
    const r = corpusBleu(['in 1990. \n'], [['in 1990 .']], { tokenize: 'intl', maxNgramOrder: 1 });
    expect(r.counts).toEqual([1]);
    expect(r.totals).toEqual([2]);
  });
});

describe('smoothing (hand-computed: hyp "a b x y" vs ref "a b z w": matches 2/4, 1/3, 0/2, 0/1)', () => {
  const hyp = ['a b x y'];
  const ref = [['a b z w']];
  const bleu = (o: Parameters<typeof corpusBleu>[2]) => corpusBleu(hyp, ref, { tokenize: 'none', ...o });

  it('exp: the k-th zero order gets 1 / (2^k * total)', () => {
    const r = bleu({ smooth: 'exp' });
    expect(r.precisions).toEqual([50, 100 / 3, 100 / (2 * 2), 100 / (4 * 1)]);
    expect(r.score).toBeCloseTo(Math.pow(50 * (100 / 3) * 25 * 25, 1 / 4), 10);
  });

  it('floor: zero orders get smoothValue matches (default 0.1)', () => {
    const r = bleu({ smooth: 'floor' });
    expect(r.precisions[2]).toBeCloseTo(5, 12); // 100 * 0.1 / 2
    expect(r.precisions[3]).toBeCloseTo(10, 12); // 100 * 0.1 / 1
    expect(r.score).toBeCloseTo(Math.pow(50 * (100 / 3) * 5 * 10, 1 / 4), 10);
    expect(r.signature).toContain('|smooth:floor[0.10]|');
    expect(bleu({ smooth: 'floor', smoothValue: 0.5 }).precisions[3]).toBeCloseTo(50, 12);
  });

  it('add-k: k is added to matches and totals of orders n > 1 (and reported, as sacreBLEU does)', () => {
    const r = bleu({ smooth: 'add-k' });
    expect(r.counts).toEqual([2, 2, 1, 1]);
    expect(r.totals).toEqual([4, 4, 3, 2]);
    expect(r.score).toBeCloseTo(Math.pow(50 * 50 * (100 / 3) * 50, 1 / 4), 10);
    expect(r.signature).toContain('|smooth:add-k[1.00]|');
    expect(bleu({ smooth: 'add-k', smoothValue: 2 }).counts).toEqual([2, 3, 2, 2]);
  });

  it('none: a zero order makes the score 0', () => {
    const r = bleu({ smooth: 'none' });
    expect(r.score).toBe(0);
    expect(r.precisions).toEqual([50, 100 / 3, 0, 0]);
    expect(r.signature).toContain('|smooth:none|');
  });

  it('no match at any order gives 0 whatever the smoothing (sacreBLEU #141)', () => {
    for (const smooth of ['exp', 'floor', 'add-k', 'none'] as const) {
      const r = sentenceBleu('this is a cat', ['okay thanks'], { smooth });
      expect(r.score).toBe(0);
      expect(r.precisions).toEqual([0, 0, 0, 0]);
    }
  });
});

describe('sentenceBleu (test_sentence_bleu.py, sacreBLEU #98)', () => {
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';

  it.each([
    ['exp', undefined, false, '13a', 8.493],
    ['none', undefined, false, '13a', 0.0],
    ['floor', undefined, false, '13a', 4.51688],
    ['floor', 0.1, false, '13a', 4.51688],
    ['floor', 0.5, false, '13a', 10.1],
    ['add-k', undefined, false, '13a', 14.882],
    ['add-k', 1, false, '13a', 14.882],
    ['add-k', 2, false, '13a', 21.389],
    ['exp', undefined, false, 'none', 7.347],
    ['exp', undefined, false, 'intl', 8.493],
    ['exp', undefined, false, 'char', 40.8759],
    ['exp', undefined, true, 'char', 42.0267],
  ] as const)('smooth %s value %s lowercase %s tok %s -> %f', (smooth, smoothValue, lowercase, tokenize, expected) => {
    const r = sentenceBleu(SYS, [REF], { smooth, smoothValue, lowercase, tokenize });
    expect(Math.abs(r.score - expected)).toBeLessThan(1e-3);
  });

  it('defaults to effective order and exp smoothing', () => {
    const r = sentenceBleu(SYS, [REF]);
    expect(r.signature).toBe(`nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:${SACREBLEU_VERSION}`);
    expect(r.score).toBe(corpusBleu([SYS], [[REF]], { effectiveOrder: true }).score);
  });

  it.each([
    ['test', 'a test', 0.3678794411714425],
    ['a test', 'a test', 1.0],
    ['a little test', 'a test', 0.03218297948685433],
  ])('effective order: %j vs %j (test_bleu.py, raw_corpus_bleu)', (hyp, ref, expected) => {
    // raw_corpus_bleu = tokenize none, floor smoothing 0.01, effective order
    const r = corpusBleu([hyp], [[ref]], { tokenize: 'none', smooth: 'floor', smoothValue: 0.01, effectiveOrder: true });
    expect(Math.abs(r.score / 100 - expected)).toBeLessThan(1e-8);
  });

  it('counts n-grams as sacreBLEU does (test_bleu.py statistics case)', () => {
    const r = corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], {
      tokenize: 'none', smooth: 'floor', smoothValue: 0.01, effectiveOrder: true,
    });
    expect(r.counts).toEqual([4, 2, 1, 0]);
    expect(r.totals).toEqual([6, 5, 4, 3]);
    const floor = corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], {
      tokenize: 'none', smooth: 'floor', effectiveOrder: true,
    });
    expect(Math.abs(floor.score / 100 - 0.1555722182)).toBeLessThan(1e-8);
  });

  it('with several references, counts each as its own stream (an empty one too)', () => {
    const r = sentenceBleu('The dog bit the man.', ['The dog had bit the man.', '', 'The dog bit the man.']);
    expect(r.score).toBeCloseTo(100, 10);
    expect(r.ref_len).toBe(6);
    expect(r.signature.startsWith('nrefs:3|')).toBe(true);
  });
});

describe('corpusBleu with the zh tokenizer', () => {
  it('matches sacreBLEU 2.4.2 (tokenize="zh")', () => {
    const r = corpusBleu(['我爱北京天安门。', '他说今天下雨了'], [['我爱北京的天安门。', '他说今天会下雨']], { tokenize: 'zh' });
    expect(formatBleu(r)).toBe('BLEU = 56.23 93.3/76.9/54.5/33.3 (BP = 0.936 ratio = 0.938 hyp_len = 15 ref_len = 16)');
    expect(Math.abs(r.score - 56.231506420140725)).toBeLessThan(1e-9);
    expect(r.signature).toBe(`nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:${SACREBLEU_VERSION}`);
  });
});

describe('BLEU errors', () => {
  it('names the reference stream whose length differs, with both lengths', () => {
    expect(() => corpusBleu(HYPS, [REFS[0], REFS[1].slice(0, 2)])).toThrow(
      new MetricsError('BLEU: reference stream 2 has 2 segments but there are 3 hypotheses'),
    );
  });
  it('rejects a segment without any reference', () => {
    expect(() => corpusBleu(['a', 'b'], [['x', undefined], ['y', null]])).toThrow(
      'BLEU: segment 2 has no reference (every stream is null or undefined there)',
    );
  });
  it('rejects empty corpora and missing streams', () => {
    expect(() => corpusBleu([], [[]])).toThrow('BLEU: no hypotheses given (the corpus is empty)');
    expect(() => corpusBleu(['a'], [])).toThrow('BLEU: no reference streams given');
    expect(() => corpusBleu(['a'], ['a'] as never)).toThrow('BLEU: reference stream 1 is not an array');
  });
  it('rejects bad options', () => {
    expect(() => corpusBleu(['a'], [['a']], { maxNgramOrder: 0 })).toThrow('BLEU: maxNgramOrder must be an integer >= 1, got 0');
    expect(() => corpusBleu(['a'], [['a']], { smooth: 'add-one' as never })).toThrow(
      "BLEU: unknown smoothing method 'add-one' (expected one of exp, floor, add-k, none)",
    );
    expect(() => corpusBleu(['a'], [['a']], { smoothValue: -1 })).toThrow('BLEU: smoothValue must be a finite number >= 0, got -1');
    expect(() => corpusBleu(['a'], [['a']], { tokenize: 'ja-mecab' as never })).toThrow("BLEU: unknown tokenizer 'ja-mecab' (expected one of 13a, intl, zh, char, none)");
  });
});
