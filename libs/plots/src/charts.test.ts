import { barChartSvg, heatmapSvg, histogramSvg, lineChartSvg, COLOR_SCALE_STOPS, PlotError, formatNumber } from './index';
import { xmlProblems } from './xml-check';

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;
const rectFillsByClass = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<rect class="${cls}"[^>]*fill="(#[0-9a-f]{6})"`, 'g'))].map((m) => m[1]);

function expectValidSvg(svg: string): void {
  expect(xmlProblems(svg)).toEqual([]);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg).toMatch(/viewBox="0 0 \d+(\.\d+)? \d+(\.\d+)?"/);
}

const cosines = { title: 'student layer 1', rowLabels: ['t1', 't2', 't3'], colLabels: ['t1', 't2', 't3'], values: [1, 0.5, -1, 0.5, 1, 0, -1, 0, 1], min: -1, max: 1, colorScale: 'diverging' as const };

describe('heatmapSvg', () => {
  it('is valid SVG with one rect per cell, a legend and printed values for small grids', () => {
    const svg = heatmapSvg(cosines);
    expectValidSvg(svg);
    expect(count(svg, /<rect class="cell"/g)).toBe(9);
    expect(count(svg, /<rect class="legend-step"/g)).toBe(10);
    expect(svg).toContain('<g class="cell-values"');
    expect(count(svg, /<text x="[^"]*" y="[^"]*" text-anchor="middle" fill="#[0-9a-f]{6}">[^<]*<\/text>/g)).toBe(9);
    expect(svg).toContain('>-1</text>');
    expect(svg).toContain('>0.5</text>');
  });

  it('paints the min and max cells in the scale endpoints, the midpoint in the middle stop', () => {
    const fills = rectFillsByClass(heatmapSvg(cosines), 'cell');
    expect(fills[2]).toBe(COLOR_SCALE_STOPS.diverging[0]); // −1 = min
    expect(fills[0]).toBe(COLOR_SCALE_STOPS.diverging[2]); // 1 = max
    expect(fills[5]).toBe(COLOR_SCALE_STOPS.diverging[1]); // 0 = midpoint
    const seq = rectFillsByClass(heatmapSvg({ ...cosines, min: 0, max: 10, values: [0, 10, 5, 20, -4, 0, 0, 0, 0], colorScale: 'sequential' }), 'cell');
    expect([seq[0], seq[1], seq[2], seq[3], seq[4]]).toEqual(['#f7fbff', '#08306b', '#6baed6', '#08306b', '#f7fbff']);
  });

  it('stops printing values above 16 x 16 but still draws every cell', () => {
    const n = 17;
    const labels = Array.from({ length: n }, (_, k) => `L${k}`);
    const svg = heatmapSvg({ ...cosines, rowLabels: labels, colLabels: labels, values: new Float64Array(n * n) });
    expectValidSvg(svg);
    expect(count(svg, /<rect class="cell"/g)).toBe(n * n);
    expect(svg).not.toContain('cell-values');
  });

  it('escapes labels and titles', () => {
    const svg = heatmapSvg({ ...cosines, title: 'a <b> & "c"', rowLabels: ['<&>', 'x', 'y'] });
    expectValidSvg(svg);
    expect(svg).toContain('&lt;&amp;&gt;');
    expect(svg).toContain('<title>a &lt;b&gt; &amp; &quot;c&quot;</title>');
    expect(svg).not.toContain('<&>');
  });

  it('is deterministic and rejects a mismatched grid', () => {
    expect(heatmapSvg(cosines)).toBe(heatmapSvg({ ...cosines, values: [...cosines.values] }));
    expect(() => heatmapSvg({ ...cosines, values: [1, 2] })).toThrow(new PlotError('heatmap values has 2 entries; rows x cols = 3x3 = 9'));
  });
});

describe('histogramSvg', () => {
  const bins = Array.from({ length: 40 }, (_, b) => ({ lo: -1 + (2 * b) / 40, hi: -1 + (2 * (b + 1)) / 40, count: b % 7 }));

  it('draws one bar per bin, taller bars for larger counts, axes over [lo, hi]', () => {
    const svg = histogramSvg({ title: 'cos <s>', bins, xLabel: 'cos' });
    expectValidSvg(svg);
    expect(count(svg, /<rect class="bar"/g)).toBe(40);
    const heights = [...svg.matchAll(/<rect class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights[0]).toBe(0);
    expect(heights[6]).toBeGreaterThan(heights[3]);
    expect(heights[3]).toBeCloseTo(heights[6] / 2, 1);
    expect(svg).toContain('>-1</text>');
    expect(svg).toContain('>1</text>');
    expect(svg).toContain('cos &lt;s&gt;');
    expect(svg).toBe(histogramSvg({ title: 'cos <s>', bins: bins.map((b) => ({ ...b })), xLabel: 'cos' }));
  });

  it('rejects empty and inverted bins', () => {
    expect(() => histogramSvg({ title: '', bins: [], xLabel: '' })).toThrow('histogram has no bins');
    expect(() => histogramSvg({ title: '', bins: [{ lo: 1, hi: 0, count: 1 }], xLabel: '' })).toThrow('histogram bin 0 has hi 0 not above lo 1');
  });
});

describe('lineChartSvg', () => {
  const input = {
    title: 'training loss',
    series: [
      { name: 'train & <dev>', points: [[0, 2.5], [100, 1.25], [200, 0.8], [300, 0.7]] as [number, number][] },
      { name: 'dev', points: [[0, 2.6], [150, 1.1]] as [number, number][] },
    ],
    xLabel: 'step',
    yLabel: 'loss',
  };

  it('draws one path per series with as many points as given', () => {
    const svg = lineChartSvg(input);
    expectValidSvg(svg);
    const paths = [...svg.matchAll(/<path class="line" d="([^"]*)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    expect(paths.map((d) => count(d, /[ML]/g))).toEqual([4, 2]);
    expect(paths.map((d) => count(d, /M/g))).toEqual([1, 1]);
    expect(svg).toContain('train &amp; &lt;dev&gt;');
  });

  it('maps the extreme points to the plot corners: first x left, last x right, larger y higher', () => {
    const d = lineChartSvg(input).match(/<path class="line" d="([^"]*)"/)![1];
    const pts = d.split(/ (?=[ML])/).map((c) => c.slice(1).split(' ').map(Number));
    expect(pts[0][0]).toBe(80);
    expect(pts[3][0]).toBe(600);
    expect(pts[0][1]).toBeLessThan(pts[1][1]);
    expect(pts[1][1]).toBeLessThan(pts[2][1]);
  });

  it('is deterministic and rejects non-finite points', () => {
    expect(lineChartSvg(input)).toBe(lineChartSvg(JSON.parse(JSON.stringify(input))));
    expect(() => lineChartSvg({ ...input, series: [{ name: 'x', points: [[0, NaN]] }] })).toThrow('series 0 (x) point 0 is [0, NaN]; points must be finite');
  });
});

describe('barChartSvg', () => {
  it('draws one bar per value, negative bars below zero, escaped labels', () => {
    const svg = barChartSvg({ title: 't', bars: [{ label: 'a<b', value: 2 }, { label: 'c', value: -1 }, { label: 'd', value: 0.5 }], yLabel: 'Δ accuracy' });
    expectValidSvg(svg);
    expect(count(svg, /<rect class="bar"/g)).toBe(3);
    expect(svg).toContain('a&lt;b');
    const ys = [...svg.matchAll(/<rect class="bar" x="[^"]*" y="([\d.]+)"[^>]*height="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(ys[0][0] + ys[0][1]).toBeCloseTo(ys[1][0], 1); // bar 0 ends at zero where bar 1 begins
    expect(ys[0][1]).toBeCloseTo(2 * ys[1][1], 1);
  });
});

describe('formatNumber', () => {
  it('formats fixed, strips zeros, avoids -0, uses exponents at the extremes', () => {
    expect([formatNumber(0.5), formatNumber(-0.0001), formatNumber(1 / 3, 2), formatNumber(2e7), formatNumber(-1e-9), formatNumber(NaN)]).toEqual(['0.5', '-1.00e-4', '0.33', '2.00e+7', '-1.00e-9', 'NaN']);
    expect(formatNumber(-0.0004, 2)).toBe('-4.00e-4');
    expect(formatNumber(-0.001, 2)).toBe('-1.00e-3');
    expect([formatNumber(100, 0), formatNumber(100), formatNumber(-0.0004, 3)]).toEqual(['100', '100', '-4.00e-4']);
  });
});
