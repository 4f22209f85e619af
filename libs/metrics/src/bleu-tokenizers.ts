// sacreBLEU 2.x BLEU tokenizers: '13a' (mteval-v13a.pl, the WMT default), 'intl' (mteval-v14.pl
// international), 'char' and 'none'. Each returns the tokens joined by single spaces, as sacreBLEU does.
import { MetricsError } from './errors';
import { codePoints, pySplit } from './text';

export type BleuTokenizer = '13a' | 'intl' | 'char' | 'none';

export const BLEU_TOKENIZERS: readonly BleuTokenizer[] = ['13a', 'intl', 'char', 'none'];

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
  s = ` ${s} `;
  for (const [re, replacement] of RULES_13A) s = s.replace(re, replacement);
  return pySplit(s).join(' ');
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
