// Python-compatible string primitives. sacreBLEU and the SQuAD script are Python: `str.split()`,
// `str.rstrip()` and `len()`/slicing work on Unicode code points and Python's whitespace set, which is
// not JavaScript's `\s` (Python counts U+001C..U+001F and U+0085, and not U+FEFF). Internal module.

/** The characters for which Python's `str.isspace()` is true. */
const PY_WHITESPACE_CLASS = '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'u');
const PY_TRAILING_WHITESPACE = new RegExp(`[${PY_WHITESPACE_CLASS}]+$`, 'u');
const PY_LEADING_WHITESPACE = new RegExp(`^[${PY_WHITESPACE_CLASS}]+`, 'u');
const PY_ANY_WHITESPACE = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'gu');

/** Python's `s.split()` (no argument): split on runs of whitespace, drop empty pieces. */
export function pySplit(s: string): string[] {
  return s.split(PY_WHITESPACE_RUN).filter((piece) => piece.length > 0);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_TRAILING_WHITESPACE, '');
}

/** Python's `''.join(s.split())`: remove every whitespace character. */
export function pyRemoveWhitespace(s: string): string {
  return s.replace(PY_ANY_WHITESPACE, '');
}

/** The string as Python sees it for `len()` and indexing: one element per code point. */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/**
 * Python's `f'{x:.{digits}f}'`. `Number.prototype.toFixed` rounds exact decimal ties (e.g. 12.25, 0.125)
 * away from zero, Python rounds them to even; everything else already agrees.
 */
export function pyFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return rounded;
  // A double's decimal expansion is exact within 100 digits for every value this module formats.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded;
  const kept = exact.slice(0, digits === 0 ? dot : dot + 1 + digits);
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 1) return rounded; // odd: rounding away from zero reaches the even neighbour
  return (x < 0 ? '-' : '') + kept;
}

/** Python's `str.strip()` without arguments. */
export function pyStrip(s: string): string {
  return pyRstrip(s).replace(PY_LEADING_WHITESPACE, '');
}

/**
 * Python's `str(x)` of a float: the shortest digits that round-trip (as JavaScript's), but always with a
 * fractional part ('2.0') and in exponent form outside [1e-4, 1e16) with at least two exponent digits ('1e-05').
 */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * A text file's segments as the sacreBLEU command line reads them: lines end at '\n' only (a final newline ends the
 * last line) and each loses its trailing whitespace (`line.rstrip()`), so CRLF endings and trailing spaces do not
 * count; leading whitespace stays.
 */
export function segmentLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(pyRstrip);
}
