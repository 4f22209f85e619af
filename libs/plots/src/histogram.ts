import { PlotError } from './errors';
import { axes, coord, escapeXml, formatNumber, frame, niceDomain, niceTicks, svgDocument, yAxisMargin } from './svg';

export interface HistogramInput {
  title: string;
  /** Adjacent bins in increasing order; the shape `AngleAccumulator.result()` reports. */
  bins: readonly { lo: number; hi: number; count: number }[];
  xLabel: string;
  /** Default `count`. */
  yLabel?: string;
}

const PLOT_W = 520;
const PLOT_H = 260;

/**
 * A histogram: one bar per bin, x from the first bin's lo to the last bin's hi, y from 0 to a round tick at or above
 * the largest count plus 5% (the tallest bar never reaches past the frame).
 */
export function histogramSvg(input: HistogramInput): string {
  const { bins } = input;
  if (bins.length === 0) throw new PlotError('histogram has no bins');
  bins.forEach((b, k) => {
    if (!(b.hi > b.lo)) throw new PlotError(`histogram bin ${k} has hi ${b.hi} not above lo ${b.lo}`);
    if (!(b.count >= 0) || !Number.isFinite(b.count)) throw new PlotError(`histogram bin ${k} has count ${b.count}; counts are finite and >= 0`);
  });
  const lo = bins[0].lo;
  const hi = bins[bins.length - 1].hi;
  const maxCount = Math.max(...bins.map((b) => b.count));
  const yTicks = niceDomain(0, Math.max(1, maxCount * 1.05), 5);
  const yLabel = input.yLabel ?? 'count';
  const left = yAxisMargin(yTicks.map((t) => formatNumber(t)), yLabel);
  const f = frame(left, 40, PLOT_W, PLOT_H, [lo, hi], [0, yTicks[yTicks.length - 1]]);
  const body = ['<g class="bars" fill="#4c78a8" stroke="#ffffff" stroke-width="0.5">'];
  for (const b of bins) {
    const x = f.x(b.lo);
    const y = f.y(b.count);
    body.push(
      `<rect class="bar" x="${coord(x)}" y="${coord(y)}" width="${coord(f.x(b.hi) - x)}" height="${coord(f.y(0) - y)}"><title>${escapeXml(`[${formatNumber(b.lo)}, ${formatNumber(b.hi)}): ${b.count}`)}</title></rect>`,
    );
  }
  body.push('</g>', ...axes(f, niceTicks(lo, hi, 8), yTicks, input.xLabel, yLabel));
  return svgDocument(left + PLOT_W + 30, 40 + PLOT_H + 50, input.title, body);
}
