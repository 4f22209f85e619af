// Shared SVG text: escaping, number formatting, text measurement and wrapping, the document wrapper and axes.
// Everything returns strings.

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for element content and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** Coordinates: at most 2 decimals, no trailing zeros, never "-0". */
export function coord(v: number): string {
  const r = Math.round(v * 100) / 100;
  return r === 0 ? '0' : String(r);
}

/** Values shown to readers: up to `digits` decimals (trailing zeros dropped); exponent form for very large or small. */
export function formatNumber(v: number, digits = 3): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 10 ** -digits)) return v.toExponential(2);
  const fixed = v.toFixed(digits);
  const s = digits > 0 ? fixed.replace(/\.?0+$/, '') : fixed;
  return s === '-0' ? '0' : s;
}

/** `v` in `sig` significant digits as exponent form without a `+` or trailing zeros: -8.8e-4, 1e6. */
function shortExponent(v: number, sig: number): string {
  const [mantissa, exp] = v.toExponential(Math.max(0, sig - 1)).split('e');
  const m = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return `${m}e${exp.replace('+', '')}`;
}

/**
 * The most precise rendering of `v` that fits `maxWidth` px at `fontSize`: formatNumber(v, 2), then 3 significant
 * digits, then shorter exponent forms; '' when not even one significant digit fits (the caller keeps the value in a
 * tooltip).
 */
export function fitNumber(v: number, maxWidth: number, fontSize: number): string {
  const candidates = [formatNumber(v, 2)];
  if (Number.isFinite(v) && v !== 0) {
    const p = Number(v.toPrecision(3));
    candidates.push(Math.abs(p) >= 1e-3 && Math.abs(p) < 1e6 ? String(p) : shortExponent(v, 3), shortExponent(v, 2), shortExponent(v, 1));
  }
  return candidates.find((c) => textWidth(c, fontSize) <= maxWidth) ?? '';
}

// Advance widths in em of DejaVu Sans, the widest of the common sans-serif fonts (Debian's default, so what chromium
// draws); layout from these leaves room in narrower fonts (Helvetica, Arial) too. No font metrics in a pure function.
const NARROW: Record<string, number> = { ' ': 0.318, '.': 0.318, ',': 0.318, ':': 0.337, ';': 0.337, '-': 0.361, '(': 0.39, ')': 0.39, '[': 0.39, ']': 0.39, '/': 0.337, '|': 0.337, "'": 0.275, '"': 0.46, '!': 0.4, i: 0.278, j: 0.278, l: 0.278, f: 0.352, t: 0.392, r: 0.411, I: 0.295, J: 0.295 };
const WIDE: Record<string, number> = { m: 0.974, w: 0.818, M: 0.863, W: 0.989, '%': 0.95, '@': 1, '+': 0.838, '=': 0.838, '±': 0.838, '×': 0.838, '−': 0.838, '<': 0.838, '>': 0.838, '_': 0.5, '&': 0.78 };

function charWidth(c: string): number {
  if (c in NARROW) return NARROW[c];
  if (c in WIDE) return WIDE[c];
  if (c >= '0' && c <= '9') return 0.636;
  if (c >= 'a' && c <= 'z') return 0.62;
  if (c >= 'A' && c <= 'Z') return 0.74;
  return 0.85;
}

/** Text width in px for layout, from DejaVu Sans' advance widths (bold: 10% wider). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charWidth(c);
  return em * fontSize * (bold ? 1.1 : 1);
}

/**
 * `text` broken into lines no wider than `maxWidth`: at spaces, after hyphens, underscores and slashes, and inside a
 * word only when the word alone is too wide. Never drops characters.
 */
export function wrapText(text: string, maxWidth: number, fontSize: number, bold = false): string[] {
  const tokens = text.match(/[^\s\-_/]*[\-_/]+|[^\s\-_/]+|\s+/g) ?? [];
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => textWidth(s, fontSize, bold) <= maxWidth;
  for (const token of tokens) {
    if (fits(line + token)) {
      line += token;
      continue;
    }
    if (line.trim()) lines.push(line.trimEnd());
    line = /^\s+$/.test(token) ? '' : token;
    while (!fits(line) && line.length > 1) {
      let k = line.length - 1;
      while (k > 1 && !fits(line.slice(0, k))) k--;
      lines.push(line.slice(0, k));
      line = line.slice(k);
    }
  }
  if (line.trim() || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** Title font size and line height; titles wrap instead of running past the edge. */
const TITLE_FONT = 14;
const TITLE_LINE = 18;

/** The lines of a title at a chart `width`; charts lay out for one line and svgDocument shifts them below the rest. */
export function titleLines(title: string, width: number): string[] {
  return wrapText(title, width - 20, TITLE_FONT, true);
}

/**
 * The document: background, the title (wrapped to the width; the body is shifted down by the extra lines, the height
 * grows by as much), then the body, laid out as if the title took one line (baseline 20).
 */
export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  const lines = titleLines(title, width);
  const extra = (lines.length - 1) * TITLE_LINE;
  const w = coord(width);
  const h = coord(height + extra);
  const titleText = lines.length === 1
    ? escapeXml(title)
    : lines.map((l, k) => `<tspan x="${coord(width / 2)}" y="${20 + k * TITLE_LINE}">${escapeXml(l)}</tspan>`).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect class="background" x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text class="title" x="${coord(width / 2)}" y="20" text-anchor="middle" font-size="${TITLE_FONT}" font-weight="bold">${titleText}</text>`,
    ...(extra ? [`<g class="body" transform="translate(0 ${extra})">`, ...body, '</g>'] : body),
    '</svg>',
    '',
  ].join('\n');
}

export function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${coord(x)}" y="${coord(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten), all within [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(lo, hi, count);
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/**
 * Round ticks whose first is at or below `lo` and last at or above `hi`: the axis of data that must stay inside the
 * frame (the tallest bar ends at or below the top tick). Equal lo and hi get a unit span around them.
 */
export function niceDomain(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.5, hi + Math.abs(hi) * 0.5];
  const step = niceStep(lo, hi, count);
  const ticks: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  for (let k = first; k === first || ticks[ticks.length - 1] < hi - step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/**
 * Ticks of a log10 axis over [lo, hi] (both > 0), as log10 values: decades, with 2 and 5 between them when the span is
 * under two decades, every other decade beyond eight. The first is at or below log10(lo), the last at or above log10(hi).
 */
export function logTicks(lo: number, hi: number): number[] {
  const l = Math.log10(lo);
  const h = Math.log10(hi);
  const a = Math.floor(l + 1e-9);
  const b = Math.max(a + 1, Math.ceil(h - 1e-9));
  const out: number[] = [];
  if (b - a > 2) {
    const step = b - a > 8 ? 2 : 1;
    for (let e = a; ; e += step) {
      out.push(e);
      if (e >= b) return out;
    }
  }
  for (let e = a; e <= b; e++) for (const m of [1, 2, 5]) out.push(e + Math.log10(m));
  let start = 0;
  while (start + 1 < out.length && out[start + 1] <= l + 1e-9) start++;
  let end = out.length - 1;
  while (end - 1 > start && out[end - 1] >= h - 1e-9) end--;
  return out.slice(start, end + 1);
}

/** The plotting rectangle of an x/y chart and its linear scales. */
export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

export function frame(left: number, top: number, width: number, height: number, xDomain: [number, number], yDomain: [number, number]): Frame {
  const span = (d: [number, number]) => (d[1] > d[0] ? d[1] - d[0] : 1);
  return {
    left,
    top,
    width,
    height,
    x: (v) => left + ((v - xDomain[0]) / span(xDomain)) * width,
    y: (v) => top + height - ((v - yDomain[0]) / span(yDomain)) * height,
  };
}

/** The left margin a y axis needs: its widest tick label, the rotated axis title and some air. */
export function yAxisMargin(tickLabels: readonly string[], yLabel: string): number {
  return 12 + (yLabel ? 20 : 0) + Math.max(0, ...tickLabels.map((l) => textWidth(l, 12))) + 8;
}

export interface AxesOptions {
  /** Tick label text (default formatNumber); a log axis passes ticks as log10 values and formats 10^t. */
  yFormat?: (t: number) => string;
}

/** Axis lines, ticks with labels, and axis titles. `xTicks` undefined draws no x ticks (bar charts label bars instead). */
export function axes(f: Frame, xTicks: number[] | undefined, yTicks: number[], xLabel: string, yLabel: string, o: AxesOptions = {}): string[] {
  const yFormat = o.yFormat ?? ((t: number) => formatNumber(t));
  const bottom = f.top + f.height;
  const out = [
    `<g class="axes" stroke="#333333" fill="none">`,
    `<line x1="${coord(f.left)}" y1="${coord(bottom)}" x2="${coord(f.left + f.width)}" y2="${coord(bottom)}"/>`,
    `<line x1="${coord(f.left)}" y1="${coord(f.top)}" x2="${coord(f.left)}" y2="${coord(bottom)}"/>`,
  ];
  for (const t of xTicks ?? []) out.push(`<line x1="${coord(f.x(t))}" y1="${coord(bottom)}" x2="${coord(f.x(t))}" y2="${coord(bottom + 4)}"/>`);
  for (const t of yTicks) out.push(`<line x1="${coord(f.left - 4)}" y1="${coord(f.y(t))}" x2="${coord(f.left)}" y2="${coord(f.y(t))}"/>`);
  out.push('</g>', '<g class="tick-labels" fill="#333333">');
  for (const t of xTicks ?? []) out.push(text(f.x(t), bottom + 16, formatNumber(t), 'text-anchor="middle"'));
  const yLabels = yTicks.map(yFormat);
  yTicks.forEach((t, k) => out.push(text(f.left - 6, f.y(t) + 4, yLabels[k], 'text-anchor="end"')));
  out.push('</g>');
  if (xLabel) out.push(text(f.left + f.width / 2, bottom + 34, xLabel, 'class="x-label" text-anchor="middle"'));
  if (yLabel) {
    const cx = f.left - 8 - Math.max(0, ...yLabels.map((l) => textWidth(l, 12))) - 10;
    const cy = f.top + f.height / 2;
    out.push(text(cx, cy, yLabel, `class="y-label" text-anchor="middle" transform="rotate(-90 ${coord(cx)} ${coord(cy)})"`));
  }
  return out;
}

/** One legend entry: a colour swatch (a line or a box) and the series name. */
export interface LegendEntry {
  name: string;
  color: string;
  swatch: 'line' | 'box';
}

const LEGEND_FONT = 11;
const LEGEND_ROW = 18;
const SWATCH = 20;

/** Entries made distinct: a name given twice gets ` (2)`, ` (3)`… so no two legend entries read the same. */
export function distinctNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set(names);
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    if (k === 1) return n;
    let m = k;
    while (taken.has(`${n} (${m})`)) m++;
    taken.add(`${n} (${m})`);
    return `${n} (${m})`;
  });
}

/** The width one legend entry takes, gap after it included. */
function entryWidth(e: LegendEntry): number {
  return SWATCH + 6 + textWidth(e.name, LEGEND_FONT) + 18;
}

/** The narrowest width (margins included) a legend needs: its widest entry never wraps or truncates. */
export function legendMinWidth(entries: readonly LegendEntry[], margin: number): number {
  return 2 * margin + Math.max(0, ...entries.map(entryWidth));
}

/**
 * A legend flowed into rows across [margin, width - margin] from `top`: entries in order, full names (never cut),
 * a new row whenever the next entry does not fit. Returns its elements and height.
 */
export function flowLegend(entries: readonly LegendEntry[], width: number, top: number, margin: number): { body: string[]; height: number } {
  const body = [`<g class="legend" font-size="${LEGEND_FONT}">`];
  let x = margin;
  let row = 0;
  for (const e of entries) {
    const w = entryWidth(e);
    if (x > margin && x + w - 18 > width - margin) {
      row++;
      x = margin;
    }
    const y = top + row * LEGEND_ROW + 9;
    const swatch = e.swatch === 'line'
      ? `<line x1="${coord(x)}" y1="${coord(y)}" x2="${coord(x + SWATCH)}" y2="${coord(y)}" stroke="${e.color}" stroke-width="2"/>`
      : `<rect x="${coord(x + 4)}" y="${coord(y - 6)}" width="12" height="12" fill="${e.color}"/>`;
    body.push(`<g class="legend-entry">${swatch}${text(x + SWATCH + 6, y + 4, e.name)}</g>`);
    x += w;
  }
  body.push('</g>');
  return { body, height: entries.length ? (row + 1) * LEGEND_ROW : 0 };
}
