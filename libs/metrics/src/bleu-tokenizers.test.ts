import { tokenizeBleu } from './bleu-tokenizers';
import { MetricsError } from './errors';

describe('tokenizeBleu 13a (mteval-v13a, sacreBLEU default)', () => {
  it.each([
    ['Hello, world!', 'Hello , world !'],
    ["It wasn't surprising.", "It wasn't surprising ."], // apostrophe is not split
    ['3.5 and 3,000', '3.5 and 3,000'], // period/comma between digits stay
    ['a.b', 'a . b'], // period after a non-digit
    ['3.b', '3 . b'], // period before a non-digit
    ['a.5', 'a . 5'],
    ['in 1990.', 'in 1990 .'], // final period after a number is split (the segment is padded with spaces)
    ['U.S.A.', 'U . S . A .'],
    ['5-6 and x-5 and a-b', '5 - 6 and x-5 and a-b'], // dash only after a digit
    ['$5.00 (approx.)', '$ 5.00 ( approx . )'],
    ['a{b}~c|d^e_f`g\\h', 'a { b } ~ c | d ^ e _ f ` g \\ h'],
    ['x:y;z@w/v=u?t', 'x : y ; z @ w / v = u ? t'],
    ['&quot;Hi&quot; &amp; &lt;b&gt;', '" Hi " & < b >'], // entities unescaped, then split
    ['a <skipped> b', 'a b'],
    ['co-\noperate\nnow', 'cooperate now'], // '-\n' joins, '\n' becomes a space
    ['  many   spaces\there ', 'many spaces here'],
    ['', ''],
  ])('%j -> %j', (input, expected) => {
    expect(tokenizeBleu(input, '13a')).toBe(expected);
  });

  it('is the default tokenizer', () => {
    expect(tokenizeBleu('Hello, world!')).toBe('Hello , world !');
  });
});

describe('tokenizeBleu intl (mteval-v14 international)', () => {
  it.each([
    ['Hello, world!', 'Hello , world !'],
    ['1,000.5 items', '1,000.5 items'], // punctuation between digits stays
    ['costs €5 + 3$', 'costs € 5 + 3 $'], // symbols (\p{S}) always split
    ['«Bonjour», dit-il.', '« Bonjour » , dit - il .'], // Unicode punctuation (\p{P})
    ['in 1990.', 'in 1990.'], // mteval-v14 quirk kept by sacreBLEU: number + final period is not split
  ])('%j -> %j', (input, expected) => {
    expect(tokenizeBleu(input, 'intl')).toBe(expected);
  });
});

describe('tokenizeBleu char and none', () => {
  it('char puts a space between code points (astral characters stay whole)', () => {
    expect(tokenizeBleu('ab c😀', 'char')).toBe('a b   c 😀');
  });
  it('none leaves the segment alone', () => {
    expect(tokenizeBleu('Hello, world!', 'none')).toBe('Hello, world!');
  });
  it('rejects an unknown tokenizer', () => {
    expect(() => tokenizeBleu('x', 'zh' as never)).toThrow(MetricsError);
    expect(() => tokenizeBleu('x', 'zh' as never)).toThrow("unknown BLEU tokenizer 'zh' (expected one of 13a, intl, char, none)");
  });
});
