import { PlotError } from './errors';
import { SERIES_COLORS } from './line-chart';
import { axes, coord, distinctNames, escapeXml, flowLegend, formatNumber, frame, legendMinWidth, niceDomain, svgDocument, text, textWidth, wrapText, yAxisMargin } from './svg';

export interface BarChartInput {
  title: string;
  /** `std`, when given, draws an error bar of ± std around the value. */
  bars: readonly { label: string; value: number; std?: number }[];
  yLabel: string;
}

const PLOT_H = 260;
const TOP = 40;
const LABEL_FONT = 11;
const SIN30 = 0.5;
const COS30 = 0.866;

function checkStat(what: string, value: number, std: number | undefined): void {
  if (!Number.isFinite(value)) throw new PlotError(`${what} has value ${value}; values must be finite`);
  if (std !== undefined && !(std >= 0 && Number.isFinite(std))) throw new PlotError(`${what} has std ${std}; std must be finite and >= 0`);
}

function errorBar(x: number, halfWidth: number, yLo: number, yHi: number): string {
  const [a, b, c] = [coord(x - halfWidth), coord(x), coord(x + halfWidth)];
  return `<path class="error-bar" d="M${a} ${coord(yLo)} L${c} ${coord(yLo)} M${b} ${coord(yLo)} L${b} ${coord(yHi)} M${a} ${coord(yHi)} L${c} ${coord(yHi)}" stroke="#222222" stroke-width="1.2" fill="none"/>`;
}

/** A bar chart of labelled values (e.g. one score per strategy); bars start at 0, negative values hang below it. */
export function barChartSvg(input: BarChartInput): string {
  const { bars } = input;
  if (bars.length === 0) throw new PlotError('bar chart has no bars');
  bars.forEach((b, k) => checkStat(`bar ${k} (${b.label})`, b.value, b.std));
  const lows = bars.map((b) => b.value - (b.std ?? 0));
  const highs = bars.map((b) => b.value + (b.std ?? 0));
  const yTicks = niceDomain(Math.min(0, ...lows), Math.max(0, ...highs), 5);
  const labelW = Math.max(...bars.map((b) => textWidth(b.label, LABEL_FONT)));
  const slot = 48;
  // Labels are turned 30° and end under their bar: the first one reaches left of the plot by this much.
  const overhang = labelW * COS30 - slot / 2 + 8;
  const left = Math.max(yAxisMargin(yTicks.map((t) => formatNumber(t)), input.yLabel), overhang);
  const f = frame(left, TOP, Math.max(200, bars.length * slot), PLOT_H, [0, bars.length], [yTicks[0], yTicks[yTicks.length - 1]]);
  const body = ['<g class="bars" fill="#4c78a8">'];
  bars.forEach((b, k) => {
    const y0 = f.y(0);
    const y1 = f.y(b.value);
    const tip = `${b.label}: ${formatNumber(b.value)}${b.std !== undefined ? ` ± ${formatNumber(b.std)}` : ''}`;
    body.push(`<rect class="bar" x="${coord(f.x(k + 0.15))}" y="${coord(Math.min(y0, y1))}" width="${coord(f.x(k + 0.85) - f.x(k + 0.15))}" height="${coord(Math.abs(y1 - y0))}"><title>${escapeXml(tip)}</title></rect>`);
  });
  body.push('</g>', '<g class="error-bars">');
  bars.forEach((b, k) => {
    if (b.std) body.push(errorBar(f.x(k + 0.5), 6, f.y(b.value - b.std), f.y(b.value + b.std)));
  });
  body.push('</g>', `<g class="bar-labels" font-size="${LABEL_FONT}" fill="#333333">`);
  const labelY = f.top + f.height + 14;
  bars.forEach((b, k) => {
    const x = f.x(k + 0.5);
    body.push(text(x, labelY, b.label, `text-anchor="end" transform="rotate(-30 ${coord(x)} ${coord(labelY)})"`));
  });
  body.push('</g>', ...axes(f, undefined, yTicks, '', input.yLabel));
  return svgDocument(f.left + f.width + 30, labelY + labelW * SIN30 + LABEL_FONT + 12, input.title, body);
}

/** One bar of an error-bar chart: a mean with its spread (e.g. over seeds). */
export interface BarStat {
  label: string;
  mean: number;
  /** Drawn as ± std around the mean; absent or 0 draws none (a single seed). */
  std?: number;
  /** How many values the mean is over, shown in the tooltip. */
  n?: number;
}

export interface BarGroup {
  /** Written under the group; '' for a chart of one unnamed group. */
  label: string;
  bars: readonly BarStat[];
}

export interface ErrorBarChartInput {
  title: string;
  yLabel: string;
  groups: readonly BarGroup[];
  /** Start the y axis at 0 (default true); false fits the axis to mean ± std, for differences far smaller than the values. */
  zero?: boolean;
}

const BAR_W = 22;
const GROUP_GAP = 28;
const MARGIN = 12;

/**
 * Mean ± std bars in groups (e.g. one group per init, one bar per strategy): a bar label has one colour in every group
 * and one legend entry; error bars span mean - std to mean + std. Pure: data in, SVG string out.
 */
export function errorBarChartSvg(input: ErrorBarChartInput): string {
  const { groups } = input;
  if (groups.length === 0 || groups.every((g) => g.bars.length === 0)) throw new PlotError('error-bar chart has no bars');
  groups.forEach((g, i) => g.bars.forEach((b, k) => checkStat(`group ${i} (${g.label}) bar ${k} (${b.label})`, b.mean, b.std)));
  const all = groups.flatMap((g) => g.bars);
  const labels = [...new Set(all.map((b) => b.label))];
  const color = (label: string) => SERIES_COLORS[labels.indexOf(label) % SERIES_COLORS.length];
  const lows = all.map((b) => b.mean - (b.std ?? 0));
  const highs = all.map((b) => b.mean + (b.std ?? 0));
  const zero = input.zero ?? true;
  const yTicks = zero ? niceDomain(Math.min(0, ...lows), Math.max(0, ...highs), 5) : niceDomain(Math.min(...lows), Math.max(...highs), 5);
  const base = Math.min(Math.max(0, yTicks[0]), yTicks[yTicks.length - 1]);
  const left = yAxisMargin(yTicks.map((t) => formatNumber(t)), input.yLabel);

  // Each group is as wide as its bars or its label's longest line, whichever is wider.
  const groupLines = groups.map((g) => (g.label ? wrapText(g.label, Math.max(g.bars.length * BAR_W, 120), LABEL_FONT) : []));
  const groupW = groups.map((g, i) => Math.max(g.bars.length * BAR_W, ...groupLines[i].map((l) => textWidth(l, LABEL_FONT) + 4)));
  const plotW = Math.max(200, groupW.reduce((a, w) => a + w + GROUP_GAP, 0));
  const f = frame(left, TOP, plotW, PLOT_H, [0, plotW], [yTicks[0], yTicks[yTicks.length - 1]]);
  const body = ['<g class="bars">'];
  const bars: string[] = [];
  const groupLabels = [`<g class="group-labels" font-size="${LABEL_FONT}" fill="#333333">`];
  let x = GROUP_GAP / 2 + (plotW - groupW.reduce((a, w) => a + w + GROUP_GAP, 0)) / 2;
  groups.forEach((g, i) => {
    const start = x + (groupW[i] - g.bars.length * BAR_W) / 2;
    g.bars.forEach((b, k) => {
      const bx = f.x(start + k * BAR_W);
      const [y0, y1] = [f.y(base), f.y(b.mean)];
      const tip = `${b.label}${g.label ? ` (${g.label})` : ''}: ${formatNumber(b.mean)}${b.std !== undefined ? ` ± ${formatNumber(b.std)}` : ''}${b.n !== undefined ? ` (n=${b.n})` : ''}`;
      body.push(`<rect class="bar" x="${coord(bx + 2)}" y="${coord(Math.min(y0, y1))}" width="${BAR_W - 4}" height="${coord(Math.abs(y1 - y0))}" fill="${color(b.label)}"><title>${escapeXml(tip)}</title></rect>`);
      if (b.std) bars.push(errorBar(bx + BAR_W / 2, 5, f.y(b.mean - b.std), f.y(b.mean + b.std)));
    });
    groupLines[i].forEach((l, k) => groupLabels.push(text(f.x(x + groupW[i] / 2), f.top + f.height + 16 + k * 14, l, 'text-anchor="middle"')));
    x += groupW[i] + GROUP_GAP;
  });
  body.push('</g>', '<g class="error-bars">', ...bars, '</g>', ...groupLabels, '</g>', ...axes(f, undefined, yTicks, '', input.yLabel));

  const entries = distinctNames(labels).map((name, k) => ({ name, color: color(labels[k]), swatch: 'box' as const }));
  const width = Math.max(left + plotW + 20, legendMinWidth(entries, MARGIN));
  const legendTop = f.top + f.height + 12 + Math.max(0, ...groupLines.map((l) => l.length)) * 14 + 8;
  const legend = flowLegend(entries, width, legendTop, MARGIN);
  body.push(...legend.body);
  return svgDocument(width, legendTop + legend.height + 8, input.title, body);
}
