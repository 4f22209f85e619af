import { PlotError } from './errors';
import { axes, coord, escapeXml, formatNumber, frame, niceTicks, svgDocument, text } from './svg';

export interface BarChartInput {
  title: string;
  bars: readonly { label: string; value: number }[];
  yLabel: string;
}

/** A bar chart of labelled values (e.g. one score per strategy); bars start at 0, negative values hang below it. */
export function barChartSvg(input: BarChartInput): string {
  const { bars } = input;
  if (bars.length === 0) throw new PlotError('bar chart has no bars');
  bars.forEach((b, k) => {
    if (!Number.isFinite(b.value)) throw new PlotError(`bar ${k} (${b.label}) has value ${b.value}; values must be finite`);
  });
  const values = bars.map((b) => b.value);
  const yTicks = niceTicks(Math.min(0, ...values), Math.max(0, ...values, 1e-12), 5);
  const f = frame(70, 40, Math.max(200, bars.length * 48), 260, [0, bars.length], [yTicks[0], yTicks[yTicks.length - 1]]);
  const body = ['<g class="bars" fill="#4c78a8">'];
  bars.forEach((b, k) => {
    const y0 = f.y(0);
    const y1 = f.y(b.value);
    body.push(
      `<rect class="bar" x="${coord(f.x(k + 0.15))}" y="${coord(Math.min(y0, y1))}" width="${coord(f.x(k + 0.85) - f.x(k + 0.15))}" height="${coord(Math.abs(y1 - y0))}"><title>${escapeXml(`${b.label}: ${formatNumber(b.value)}`)}</title></rect>`,
    );
  });
  body.push('</g>', '<g class="bar-labels" font-size="11" fill="#333333">');
  bars.forEach((b, k) => {
    const x = f.x(k + 0.5);
    const y = f.top + f.height + 14;
    body.push(text(x, y, b.label, `text-anchor="end" transform="rotate(-30 ${coord(x)} ${coord(y)})"`));
  });
  body.push('</g>', ...axes(f, undefined, yTicks, '', input.yLabel));
  return svgDocument(f.left + f.width + 30, 400, input.title, body);
}
