// sacreBLEU 2.x BLEU tokenizers: '13a' (mteval-v13a.pl, the WMT default), 'intl' (mteval-v14.pl
// international), 'zh' (WMT's Chinese), 'char' and 'none'. Each returns the tokens joined by single spaces, as
// sacreBLEU does.
import { MetricsError } from './errors';
import { codePoints, pySplit, pyStrip } from './text';

export type BleuTokenizer = '13a' | 'intl' | 'zh' | 'char' | 'none';

export const BLEU_TOKENIZERS: readonly BleuTokenizer[] = ['13a', 'intl', 'zh', 'char', 'none'];

// sacreBLEU `TokenizerRegexp`, applied in order with Python `re.sub` semantics (global, left to right,
// non-overlapping), which JavaScript's global `replace` shares.
const RULES_13A: readonly (readonly [RegExp, string])[] = [
  // language-dependent part (assuming Western languages): the ASCII ranges { | } ~, [ \ ] ^ _ `,
  // space ! " # $ % &, ( ) * +, : ; < = > ? @ and / are split off ('-', '.', ',' and "'" are not)
  [/([{-~\[-` -&(-+:-@\/])/gu, ' $1 '],
  // tokenize period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // tokenize period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // tokenize dash when preceded by a digit
  [/([0-9])(-)/gu, '$1 $2 '],
];

function applyRules13a(s: string): string {
  for (const [re, replacement] of RULES_13A) s = s.replace(re, replacement);
  return pySplit(s).join(' ');
}

function tokenize13a(line: string): string {
  // language-independent part (mteval-v13a.pl), then pad with spaces so the period/comma rules
  // also fire at the start and end of the segment
  let s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  return applyRules13a(` ${s} `);
}

// sacreBLEU's TokenizerZh character ranges, as Python actually compares them. Two of its ranges have bounds written
// '\u20000', '\u2a6d6', '\u2f800' and '\u2fa1d', which Python reads as a BMP character followed by a digit;
// a one-character string then compares as inside '\u2000' + '0' .. '\u2a6d' + '6' exactly when it is in
// U+2001..U+2A6D (punctuation, symbols and arrows included), and likewise U+2F81..U+2FA1. Scores only match
// sacreBLEU's with the same effective ranges; characters beyond U+FFFF are never in them.
const ZH_RANGES: readonly (readonly [number, number])[] = [
  [0x3400, 0x4db5], [0x4e00, 0x9fa5], [0x9fa6, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], [0x2f81, 0x2fa1], [0xff00, 0xffef], [0x2e80, 0x2eff], [0x3000, 0x303f], [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf], [0x2ff0, 0x2fff], [0x3100, 0x312f], [0x31a0, 0x31bf], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f],
  [0x2600, 0x26ff], [0x2700, 0x27bf], [0x3200, 0x32ff], [0x3300, 0x33ff],
];

function isZhChar(cp: number): boolean {
  for (const [start, end] of ZH_RANGES) if (cp >= start && cp <= end) return true;
  return false;
}

// Every character in the ranges above becomes its own token; the rest goes through 13a's regular expressions
// (without 13a's entity and <skipped> handling or its padding, as sacreBLEU's TokenizerZh does).
function tokenizeZh(line: string): string {
  let s = '';
  for (const ch of pyStrip(line)) s += isZhChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return applyRules13a(s);
}

// mteval-v14.pl: punctuation (\p{P}) is split off unless it sits between digits, symbols (\p{S}) always.
// As in mteval-v14 and sacreBLEU, a number followed by a final period keeps the period ("1990.").
const RULES_INTL: readonly (readonly [RegExp, string])[] = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  [/(\p{S})/gu, ' $1 '],
];

function tokenizeIntl(line: string): string {
  let s = line;
  for (const [re, replacement] of RULES_INTL) s = s.replace(re, replacement);
  return pySplit(s).join(' ');
}

/**
 * Tokenizes one segment exactly as sacreBLEU 2.x's BLEU tokenizer of that name (before n-gram
 * extraction, which splits the result on whitespace). BLEU itself right-strips the segment and
 * applies `lowercase` before calling this.
 */
export function tokenizeBleu(line: string, tokenizer: BleuTokenizer = '13a'): string {
  switch (tokenizer) {
    case '13a':
      return tokenize13a(line);
    case 'intl':
      return tokenizeIntl(line);
    case 'zh':
      return tokenizeZh(line);
    case 'char':
      return codePoints(line).join(' ');
    case 'none':
      return line;
    default:
      throw new MetricsError(
        `unknown BLEU tokenizer '${String(tokenizer)}' (expected one of ${BLEU_TOKENIZERS.join(', ')})`,
      );
  }
}
