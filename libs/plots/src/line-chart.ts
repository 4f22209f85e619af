import { PlotError } from './errors';
import { axes, coord, distinctNames, escapeXml, flowLegend, formatNumber, frame, legendMinWidth, logTicks, niceDomain, niceTicks, svgDocument, yAxisMargin } from './svg';

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  /** A shaded band around the line, as [x, lo, hi] (e.g. min–max or mean ± std over seeds); lo <= hi. */
  band?: readonly (readonly [number, number, number])[];
}

export interface LineChartInput {
  title: string;
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  /** A log10 y axis (every y and band value must then be > 0). */
  logY?: boolean;
}

/** Series colours, in order (Tableau 10); the palette repeats after ten series. */
export const SERIES_COLORS: readonly string[] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const PLOT_W = 520;
const PLOT_H = 280;
const TOP = 40;
const MARGIN = 12;

/**
 * A line chart (e.g. training curves): one path per series in the order given, each with its optional band, and a
 * legend below the plot that flows into as many rows as it needs (the chart grows; names are never cut; a name given
 * twice is numbered). Non-finite points are errors.
 */
export function lineChartSvg(input: LineChartInput): string {
  const logY = input.logY ?? false;
  input.series.forEach((s, k) => {
    s.points.forEach(([x, y], p) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new PlotError(`series ${k} (${s.name}) point ${p} is [${x}, ${y}]; points must be finite`);
      if (logY && !(y > 0)) throw new PlotError(`series ${k} (${s.name}) point ${p} has y ${y}; a log y axis needs y > 0`);
    });
    (s.band ?? []).forEach(([x, lo, hi], p) => {
      if (![x, lo, hi].every(Number.isFinite) || lo > hi) throw new PlotError(`series ${k} (${s.name}) band point ${p} is [${x}, ${lo}, ${hi}]; bands need finite x and lo <= hi`);
      if (logY && !(lo > 0)) throw new PlotError(`series ${k} (${s.name}) band point ${p} has lo ${lo}; a log y axis needs values > 0`);
    });
  });
  const xs = input.series.flatMap((s) => [...s.points.map((p) => p[0]), ...(s.band ?? []).map((b) => b[0])]);
  const ys = input.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])]);
  const ty = logY ? Math.log10 : (v: number) => v;
  const [xLo, xHi] = xs.length ? (Math.max(...xs) > Math.min(...xs) ? [Math.min(...xs), Math.max(...xs)] : [Math.min(...xs) - 1, Math.max(...xs) + 1]) : [0, 1];
  const yLo = ys.length ? Math.min(...ys) : logY ? 1 : 0;
  const yHi = ys.length ? Math.max(...ys) : logY ? 10 : 1;
  const yTicks = logY ? logTicks(yLo, yHi) : niceDomain(yLo, yHi, 5);
  const yFormat = logY ? logLabel : (t: number) => formatNumber(t);
  const left = yAxisMargin(yTicks.map(yFormat), input.yLabel);
  const f = frame(left, TOP, PLOT_W, PLOT_H, [xLo, xHi], [yTicks[0], yTicks[yTicks.length - 1]]);
  const X = (v: number) => coord(f.x(v));
  const Y = (v: number) => coord(f.y(ty(v)));

  const names = distinctNames(input.series.map((s) => s.name));
  const color = (k: number) => SERIES_COLORS[k % SERIES_COLORS.length];
  const body = ['<g class="bands" stroke="none" fill-opacity="0.18">'];
  input.series.forEach((s, k) => {
    if (!s.band?.length) return;
    const upper = s.band.map(([x, , hi], p) => `${p === 0 ? 'M' : 'L'}${X(x)} ${Y(hi)}`);
    const lower = [...s.band].reverse().map(([x, lo]) => `L${X(x)} ${Y(lo)}`);
    body.push(`<path class="band" d="${[...upper, ...lower, 'Z'].join(' ')}" fill="${color(k)}"><title>${escapeXml(names[k])}</title></path>`);
  });
  body.push('</g>', '<g class="series" fill="none" stroke-width="2">');
  input.series.forEach((s, k) => {
    if (s.points.length === 0) return;
    const d = s.points.map(([x, y], p) => `${p === 0 ? 'M' : 'L'}${X(x)} ${Y(y)}`).join(' ');
    body.push(`<path class="line" d="${d}" stroke="${color(k)}"><title>${escapeXml(names[k])}</title></path>`);
    if (s.points.length === 1) body.push(`<circle cx="${X(s.points[0][0])}" cy="${Y(s.points[0][1])}" r="3" fill="${color(k)}"/>`);
  });
  body.push('</g>', ...axes(f, niceTicks(xLo, xHi, 8), yTicks, input.xLabel, input.yLabel, { yFormat }));

  const entries = names.map((name, k) => ({ name, color: color(k), swatch: 'line' as const }));
  const width = Math.max(left + PLOT_W + 30, legendMinWidth(entries, MARGIN));
  const legendTop = TOP + PLOT_H + 46;
  const legend = flowLegend(entries, width, legendTop, MARGIN);
  body.push(...legend.body);
  return svgDocument(width, legendTop + legend.height + 10, input.title, body);
}

/** A log axis tick (a log10 value) as its value: plain from 0.001 to 9999, exponent form (2e-5, 1e6) beyond. */
function logLabel(t: number): string {
  const v = 10 ** t;
  return Math.abs(t) < 4 ? formatNumber(v, Math.max(0, -Math.floor(t + 1e-9))) : v.toExponential(0).replace('+', '');
}
