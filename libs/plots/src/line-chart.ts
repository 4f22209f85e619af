import { PlotError } from './errors';
import { axes, coord, escapeXml, frame, niceTicks, svgDocument, text } from './svg';

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChartInput {
  title: string;
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
}

/** Series colours, in order (Tableau 10); the palette repeats after ten series. */
export const SERIES_COLORS: readonly string[] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** A line chart (e.g. training curves): one path per series, in the order given, with a legend. Non-finite points are errors. */
export function lineChartSvg(input: LineChartInput): string {
  const all = input.series.flatMap((s) => s.points);
  input.series.forEach((s, k) =>
    s.points.forEach(([x, y], p) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new PlotError(`series ${k} (${s.name}) point ${p} is [${x}, ${y}]; points must be finite`);
    }),
  );
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const pad = (lo: number, hi: number): [number, number] => (hi > lo ? [lo, hi] : [lo - 1, hi + 1]);
  const [xLo, xHi] = all.length ? pad(Math.min(...xs), Math.max(...xs)) : [0, 1];
  const yTicks = niceTicks(...(all.length ? pad(Math.min(...ys), Math.max(...ys)) : ([0, 1] as [number, number])), 5);
  const yDomain: [number, number] = [Math.min(yTicks[0], ...ys), Math.max(yTicks[yTicks.length - 1], ...ys)];
  const f = frame(80, 40, 520, 280, [xLo, xHi], yDomain);
  const body = ['<g class="series" fill="none" stroke-width="2">'];
  input.series.forEach((s, k) => {
    if (s.points.length === 0) return;
    const color = SERIES_COLORS[k % SERIES_COLORS.length];
    const d = s.points.map(([x, y], p) => `${p === 0 ? 'M' : 'L'}${coord(f.x(x))} ${coord(f.y(y))}`).join(' ');
    body.push(`<path class="line" d="${d}" stroke="${color}"><title>${escapeXml(s.name)}</title></path>`);
    if (s.points.length === 1) body.push(`<circle cx="${coord(f.x(s.points[0][0]))}" cy="${coord(f.y(s.points[0][1]))}" r="3" fill="${color}"/>`);
  });
  body.push('</g>', ...axes(f, niceTicks(xLo, xHi, 8), yTicks.filter((t) => t >= yDomain[0] && t <= yDomain[1]), input.xLabel, input.yLabel));
  body.push('<g class="legend" font-size="11">');
  input.series.forEach((s, k) => {
    const y = 50 + k * 18;
    body.push(`<line x1="615" y1="${y}" x2="635" y2="${y}" stroke="${SERIES_COLORS[k % SERIES_COLORS.length]}" stroke-width="2"/>`);
    body.push(text(640, y + 4, s.name));
  });
  body.push('</g>');
  return svgDocument(780, Math.max(370, 70 + input.series.length * 18), input.title, body);
}
