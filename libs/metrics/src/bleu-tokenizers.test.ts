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
    expect(() => tokenizeBleu('x', 'ja-mecab' as never)).toThrow(MetricsError);
    expect(() => tokenizeBleu('x', 'ja-mecab' as never)).toThrow("unknown BLEU tokenizer 'ja-mecab' (expected one of 13a, intl, zh, char, none)");
  });
});

// Expected outputs printed by sacreBLEU 2.4.2's TokenizerZh.
describe('tokenizeBleu zh (WMT Chinese)', () => {
  it.each([
    ['我爱北京天安门。', '我 爱 北 京 天 安 门 。'],
    [' 他说：“今天是2024年，价格3.5元。” ', '他 说 ： “ 今 天 是 2024 年 ， 价 格 3.5 元 。 ”'],
    ['U.S. 经济增长了2.3%', 'U . S . 经 济 增 长 了 2.3 %'],
    ['ｆｕｌｌ，ｗｉｄｔｈ', 'ｆ ｕ ｌ ｌ ， ｗ ｉ ｄ ｔ ｈ'],
    // sacreBLEU's '\u20000'..'\u2a6d6' bounds make U+2001..U+2A6D "Chinese" (dashes, ellipsis, arrows), not U+2A6E
    ['a—b…c→d', 'a — b … c → d'],
    ['\u2000x\u2001y\u2a6dz\u2a6e', 'x y \u2a6d z\u2a6e'],
    // characters beyond U+FFFF (CJK Extension B included) are never split off
    ['\u{20000}\u{20001} ok', '\u{20000}\u{20001} ok'],
  ])('%j -> %j', (input, expected) => {
    expect(tokenizeBleu(input, 'zh')).toBe(expected);
  });
});
