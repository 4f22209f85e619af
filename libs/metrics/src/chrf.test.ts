import { corpusChrf, formatChrf, sentenceChrf } from './chrf';
import { MetricsError } from './errors';
import { SACREBLEU_VERSION } from './version';

const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe('corpusChrf: sacreBLEU README example', () => {
  const result = corpusChrf(HYPS, REFS);

  it('gives chrF2 = 59.73 as the README prints', () => {
    expect(formatChrf(result)).toBe('chrF2 = 59.73');
    // Full precision from this port (regression guard); every published chrF vector below agrees with it.
    expect(Math.abs(result.score - 59.72751782684763)).toBeLessThan(1e-9);
    expect(result.name).toBe('chrF2');
  });

  it('has the 2.x signature', () => {
    expect(result.signature).toBe(`nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:${SACREBLEU_VERSION}`);
    expect(corpusChrf(HYPS, REFS, { wordOrder: 2, lowercase: true, whitespace: true, epsSmoothing: true }).signature).toBe(
      `nrefs:2|case:lc|eff:no|nc:6|nw:2|space:yes|version:${SACREBLEU_VERSION}`,
    );
  });

  it('is 100 for identical hypotheses', () => {
    expect(corpusChrf(HYPS, [HYPS]).score).toBeCloseTo(100, 12);
  });
});

describe('chrF by hand', () => {
  it('averages precision and recall over the orders present, then takes F2', () => {
    // 'ab' vs 'abc': order 1 P=2/2 R=2/3, order 2 P=1/1 R=1/2, order 3+ absent from the hypothesis.
    // avgP = 1, avgR = 7/12, F2 = 5 * 7/12 / (4 + 7/12) = 7/11
    expect(sentenceChrf('ab', ['abc']).score).toBeCloseTo((100 * 7) / 11, 12);
    expect(sentenceChrf('a b', ['a b c']).score).toBe(sentenceChrf('ab', ['abc']).score); // whitespace removed
    expect(sentenceChrf('ab', ['abc'], { beta: 1 }).score).toBeCloseTo((100 * 2 * 7) / 12 / (1 + 7 / 12), 12);
  });

  it('keeps, per segment, the statistics of the best-scoring reference and sums them', () => {
    // segment 1 keeps 'abc' (o1 [2,3,2], o2 [1,2,1], o3 [0,1,0]), segment 2 keeps 'ab' (o1 [2,2,2], o2 [1,1,1]).
    // Sum: P = 1 and 1, R = 4/5 and 2/3: avgR = 11/15, F2 = 5 * 11/15 / (4 + 11/15) = 55/71
    const r = corpusChrf(['ab', 'ab'], [['abc', 'zz'], ['qq', 'ab']]);
    expect(r.score).toBeCloseTo((100 * 55) / 71, 12);
    expect(sentenceChrf('ab', ['xyz', 'abc']).score).toBeCloseTo((100 * 7) / 11, 12);
  });

  it('chrF++ adds word n-grams and splits one leading/trailing punctuation mark per word', () => {
    // words: 'hello, world' -> hello , world ; 'hello world' -> hello world: P = 2/3, R = 1, F2 = 10/11
    expect(sentenceChrf('hello, world', ['hello world'], { charOrder: 0, wordOrder: 1 }).score).toBeCloseTo(1000 / 11, 12);
    // '(hi)' -> '(hi' ')' (sacreBLEU #124); '( hi )' -> ( hi ): P = 1/2, R = 1/3, F2 = 5/14
    expect(sentenceChrf('(hi)', ['( hi )'], { charOrder: 0, wordOrder: 1 }).score).toBeCloseTo(500 / 14, 12);
    const pp = sentenceChrf('a b', ['a b'], { wordOrder: 2 });
    expect(pp.name).toBe('chrF2++');
    expect(pp.score).toBeCloseTo(100, 12);
  });

  it('lowercases when asked', () => {
    expect(sentenceChrf('AB', ['ab']).score).toBe(0);
    expect(sentenceChrf('AB', ['ab'], { lowercase: true }).score).toBeCloseTo(100, 12);
  });

  it('counts code points, not UTF-16 units', () => {
    // '😀a' vs '😀b': order 1 matches 1 of 2 each way, order 2 none: avgP = avgR = 1/4
    expect(sentenceChrf('😀a', ['😀b']).score).toBeCloseTo(25, 12);
  });
});

// sacreBLEU test/test_chrf.py (2.x), beta = 3
describe('chrF published vectors', () => {
  it.each([
    [['abcdefg'], ['hijklmnop'], 0.0],
    [['a'], ['b'], 0.0],
    [[''], ['b'], 0.0],
    [[''], ['reference'], 0.0],
    [['aa'], ['ab'], 8.3333],
    [['a', 'b'], ['a', 'c'], 8.3333],
    [['a'], ['a'], 16.6667],
    [['a b c'], ['a b c'], 50.0],
    [['a b c'], ['abc'], 50.0],
    [
      [' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
      ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
      63.36173,
    ],
    [
      [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
      ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
      64.1302698,
    ],
    [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 100.0],
  ])('eps smoothing %j vs %j -> %f', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, [refs], { beta: 3, epsSmoothing: true }).score - expected)).toBeLessThan(1e-4);
  });

  it.each([
    [['a'], ['a'], 100.0],
    [[''], ['reference'], 0.0],
    [['a b c'], ['a b c'], 100.0],
    [['a b c'], ['abc'], 100.0],
    [[''], ['c'], 0.0],
    [['a', 'b'], ['a', 'c'], 50.0],
    [['aa'], ['ab'], 25.0],
  ])('effective order %j vs %j -> %f', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, [refs], { beta: 3 }).score - expected)).toBeLessThan(1e-4);
  });

  it.each([
    [
      ['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'],
      ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
      67.3481606,
    ],
    [
      ['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
      ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
      65.2414427,
    ],
  ])('keep whitespace %j -> %f', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, [refs], { beta: 3, whitespace: true }).score - expected)).toBeLessThan(1e-4);
  });

  it.each([
    [
      'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
      'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.',
      39.14078509,
    ],
    [
      'Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.',
      'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.',
      31.22557079,
    ],
    [
      'Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
      'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.',
      57.15704367,
    ],
  ])('sentence level %j -> %f', (hyp, ref, expected) => {
    expect(Math.abs(sentenceChrf(hyp, [ref], { epsSmoothing: true }).score - expected)).toBeLessThan(1e-4);
  });
});

// sacreBLEU 2.2 and later keep '' as a reference of length 0 (only None is dropped); values printed by sacreBLEU 2.4.2.
describe('chrF with empty-string references', () => {
  it('scores an empty reference as a reference (the best one per segment counts)', () => {
    const r = corpusChrf(['abc', 'abc'], [['', 'abc'], ['xyz', 'abc']]);
    expect(r.score).toBe(100);
    expect(r.signature.startsWith('nrefs:2|')).toBe(true);
    expect(corpusChrf(['abc', 'abd'], [['', 'abc'], ['xyz', '']]).score).toBeCloseTo(38.888888888888886, 12);
    expect(corpusChrf(['a b', 'a b c'], [['', 'a b'], ['a c', '']], { wordOrder: 2 }).score).toBeCloseTo(58.52842809364548, 12);
  });
  it('still drops null and undefined', () => {
    expect(corpusChrf(['abc', 'abc'], [[null, 'abc'], ['xyz', 'abc']]).signature.startsWith('nrefs:var|')).toBe(true);
    expect(corpusChrf(['abc', 'abc'], [[undefined, 'abc'], ['xyz', 'abc']]).signature.startsWith('nrefs:var|')).toBe(true);
  });
});

describe('chrF names', () => {
  // CHRF(beta=...) in sacreBLEU 2.4.2: an int prints as chrF3, a float as chrF2.0 / chrF1e-05.
  it.each([
    [2, 'chrF2'], ['2', 'chrF2'], ['2.0', 'chrF2.0'], [3, 'chrF3'], [0.5, 'chrF0.5'], ['1e-05', 'chrF1e-05'], ['1e16', 'chrF1e+16'], [2.5, 'chrF2.5'],
  ])('beta %j is named %s', (beta, name) => {
    const r = corpusChrf(['abc d'], [['abd d']], { beta });
    expect(r.name).toBe(name);
    expect(formatChrf(r)).toBe(`${name} = 27.08`);
  });
  it('rejects a beta string that is not a number', () => {
    expect(() => corpusChrf(['a'], [['a']], { beta: 'two' })).toThrow('chrF: beta must be a finite number >= 0, got two');
  });
});

describe('chrF errors', () => {
  it('names the reference stream whose length differs', () => {
    expect(() => corpusChrf(HYPS, [REFS[0].slice(0, 1)])).toThrow(
      new MetricsError('chrF: reference stream 1 has 1 segments but there are 3 hypotheses'),
    );
  });
  it('rejects bad orders', () => {
    expect(() => corpusChrf(['a'], [['a']], { charOrder: 0, wordOrder: 0 })).toThrow('chrF: charOrder and wordOrder are both 0');
    expect(() => corpusChrf(['a'], [['a']], { charOrder: 2.5 })).toThrow('chrF: charOrder must be an integer >= 0, got 2.5');
    expect(() => corpusChrf(['a'], [['a']], { beta: -1 })).toThrow('chrF: beta must be a finite number >= 0, got -1');
  });
});
