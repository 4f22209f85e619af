// Shared SVG text: escaping, fixed number formatting, the document wrapper and axes. Everything returns strings.

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

/** Rough text width in px for layout (no font metrics in a pure function): 0.6 em per character. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  const w = coord(width);
  const h = coord(height);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect class="background" x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text class="title" x="${coord(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${coord(x)}" y="${coord(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
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

/** Axis lines, ticks with labels, and axis titles. `xTicks` undefined draws no x ticks (bar charts label bars instead). */
export function axes(f: Frame, xTicks: number[] | undefined, yTicks: number[], xLabel: string, yLabel: string): string[] {
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
  for (const t of yTicks) out.push(text(f.left - 6, f.y(t) + 4, formatNumber(t), 'text-anchor="end"'));
  out.push('</g>');
  if (xLabel) out.push(text(f.left + f.width / 2, bottom + 34, xLabel, 'class="x-label" text-anchor="middle"'));
  if (yLabel) {
    const cx = f.left - 46;
    const cy = f.top + f.height / 2;
    out.push(text(cx, cy, yLabel, `class="y-label" text-anchor="middle" transform="rotate(-90 ${coord(cx)} ${coord(cy)})"`));
  }
  return out;
}
