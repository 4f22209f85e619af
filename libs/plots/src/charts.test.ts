import { barChartSvg, errorBarChartSvg, heatmapSvg, histogramSvg, lineChartSvg, COLOR_SCALE_STOPS, PlotError, fitNumber, formatNumber, textWidth, wrapText } from './index';
import { logTicks, niceDomain } from './svg';
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
    expect(count(svg, /<text x="[^"]*" y="[^"]*" class="cell-value" text-anchor="middle" fill="#[0-9a-f]{6}">[^<]*<\/text>/g)).toBe(9);
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
    const axis = lineChartSvg(input).match(/<g class="axes"[^>]*>\n<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/)!;
    expect(pts[0][0]).toBe(Number(axis[1]));
    expect(pts[3][0]).toBe(Number(axis[2]));
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

// Issue #22: what the quickstart's plots got wrong, checked on the SVG text (charts.browser.test.ts measures in chromium).
const attr = (tag: string, name: string) => Number(tag.match(new RegExp(` ${name}="([-\\d.]+)"`))![1]);
const viewBox = (svg: string) => svg.match(/viewBox="0 0 ([\d.]+) ([\d.]+)"/)!.slice(1).map(Number);

describe('layout fixes (#22)', () => {
  it('histogram: the tallest bar stays inside the frame, whatever the largest count', () => {
    for (const top of [1, 7, 37, 99, 101, 1234, 50001]) {
      const bins = [{ lo: -1, hi: 0, count: Math.floor(top / 3) }, { lo: 0, hi: 1, count: top }];
      const svg = histogramSvg({ title: 't', bins, xLabel: 'cos' });
      const frameTop = attr(svg.match(/<g class="axes"[^>]*>\n<line[^>]*>\n(<line[^>]*>)/)![1], 'y1');
      const tallest = [...svg.matchAll(/<rect class="bar"[^>]*>/g)].map((m) => attr(m[0], 'y'));
      expect(Math.min(...tallest)).toBeGreaterThanOrEqual(frameTop);
      // headroom: the bar does not touch the top either
      expect(Math.min(...tallest)).toBeGreaterThan(frameTop);
    }
  });

  it('heatmap: axis titles, a wrapped title that grows the chart, values that fit their cells', () => {
    const title = 'out-of-order-random-random-d2-s1: mean cos at student layer 1';
    const svg = heatmapSvg({ ...cosines, title, values: [1, -8.75e-4, 12.3456, 0.5, 1, 0, -1, 123456.7, 1], min: -1, max: 1, rowTitle: 'teacher layer', colTitle: 'teacher layer' });
    expectValidSvg(svg);
    expect(svg).toContain('class="row-title"');
    expect(svg).toContain('class="col-title"');
    const tspans = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]);
    expect(tspans.length).toBeGreaterThan(1);
    expect(tspans.join('').replace(/\s/g, '')).toBe(title.replace(/\s/g, '')); // nothing of the title dropped
    const [width] = viewBox(svg);
    for (const line of tspans) expect(textWidth(line, 14, true)).toBeLessThanOrEqual(width - 20);
    const values = [...svg.matchAll(/class="cell-value"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(values).toHaveLength(9);
    for (const v of values) expect(textWidth(v, 10)).toBeLessThanOrEqual(34);
    expect(values[1]).toBe('-9e-4');
    expect(values[2]).toBe('12.35');
    // the exact values stay in the tooltips
    expect(svg).toContain('teacher layer t1 / teacher layer t2: -8.75e-4</title>');
    // short column labels stand upright
    expect(svg).not.toContain('rotate(-45');
  });

  it('fitNumber: the most precise form that fits, nothing when nothing does', () => {
    expect(fitNumber(0.5, 34, 10)).toBe('0.5');
    expect(fitNumber(-0.125, 34, 10)).toBe('-0.13');
    expect(fitNumber(-8.75e-4, 60, 10)).toBe('-8.75e-4');
    expect(fitNumber(-8.75e-4, 34, 10)).toBe('-9e-4');
    expect(fitNumber(123456.7, 34, 10)).toBe('1.2e5');
    expect(fitNumber(123456.7, 20, 10)).toBe('1e5');
    expect(fitNumber(123456.7, 5, 10)).toBe('');
    expect(fitNumber(NaN, 34, 10)).toBe('NaN');
  });

  it('wrapText keeps every character and breaks at spaces and hyphens before inside words', () => {
    const s = 'out-of-order-random-random-d2-s1: mean cos at student layer 1';
    const lines = wrapText(s, 200, 14, true);
    expect(lines.join(' ').replace(/\s/g, '')).toBe(s.replace(/\s/g, ''));
    for (const l of lines) expect(textWidth(l, 14, true)).toBeLessThanOrEqual(200);
    expect(lines[0]).toBe('out-of-order-random-');
    expect(wrapText('abcdefghijklmnopqrstuvwxyz', 50, 12)).toEqual(['abcdefg', 'hijklmn', 'opqrstu', 'vwxyz']);
    expect(wrapText('', 50, 12)).toEqual(['']);
  });

  it('niceDomain covers the data; logTicks covers it in decades', () => {
    expect(niceDomain(0, 37)).toEqual([0, 10, 20, 30, 40]);
    expect(niceDomain(0, 40)).toEqual([0, 10, 20, 30, 40]);
    expect(niceDomain(-0.3, 2.1)).toEqual([-0.5, 0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceDomain(5, 5)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(logTicks(0.05, 150)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(logTicks(1e-9, 1e3)).toEqual([-9, -7, -5, -3, -1, 1, 3]);
    expect(logTicks(0.3, 4).map((t) => Number((10 ** t).toPrecision(3)))).toEqual([0.2, 0.5, 1, 2, 5]);
  });

  const curves = (n: number, name: (k: number) => string) =>
    Array.from({ length: n }, (_, k) => ({
      name: name(k),
      points: [1, 10, 20, 30].map((x) => [x, (k + 1) * 100 / x] as [number, number]),
      band: [1, 10, 20, 30].map((x) => [x, (k + 1) * 80 / x, (k + 1) * 120 / x] as [number, number, number]),
    }));

  it('line chart: a log y axis with decade ticks, bands drawn under the lines', () => {
    const svg = lineChartSvg({ title: 'loss', series: curves(3, (k) => `s${k}`), xLabel: 'step', yLabel: 'loss', logY: true });
    expectValidSvg(svg);
    expect(count(svg, /<path class="band"/g)).toBe(3);
    expect(count(svg, /<path class="line"/g)).toBe(3);
    expect(svg.indexOf('class="band"')).toBeLessThan(svg.indexOf('class="line"'));
    const ticks = [...svg.matchAll(/<g class="tick-labels"[\s\S]*?<\/g>/g)][0][0];
    for (const label of ['1', '10', '100', '1000']) expect(ticks).toContain(`>${label}</text>`);
    expect(() => lineChartSvg({ title: '', series: [{ name: 'z', points: [[0, 0]] }], xLabel: '', yLabel: '', logY: true })).toThrow('series 0 (z) point 0 has y 0; a log y axis needs y > 0');
    expect(() => lineChartSvg({ title: '', series: [{ name: 'z', points: [], band: [[0, 2, 1]] }], xLabel: '', yLabel: '' })).toThrow('series 0 (z) band point 0 is [0, 2, 1]; bands need finite x and lo <= hi');
  });

  it('line chart: the legend keeps whole names, flows into rows that grow the chart, and numbers repeated names', () => {
    const long = (k: number) => `out-of-order-random-random-d${k % 2 + 1} (mean of 2 seeds, band min–max)`;
    const one = lineChartSvg({ title: 't', series: curves(1, long), xLabel: 'x', yLabel: 'y' });
    const ten = lineChartSvg({ title: 't', series: curves(10, long), xLabel: 'x', yLabel: 'y' });
    expectValidSvg(ten);
    const names = [...ten.matchAll(/<g class="legend-entry">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]);
    expect(names).toHaveLength(10);
    expect(new Set(names).size).toBe(10);
    expect(names[0]).toBe(long(0));
    expect(names[2]).toBe(`${long(0)} (2)`);
    expect(viewBox(ten)[1]).toBeGreaterThan(viewBox(one)[1] + 4 * 18);
    const [width] = viewBox(ten);
    for (const m of ten.matchAll(/<g class="legend-entry"><line x1="([\d.]+)"[^>]*\/><text[^>]*>([^<]*)</g)) {
      expect(Number(m[1]) + 26 + textWidth(m[2], 11)).toBeLessThanOrEqual(width);
    }
  });

  it('bar chart: error bars of ± std; long labels stay right of the left edge', () => {
    const svg = barChartSvg({ title: 't', bars: [{ label: 'out-of-order-random', value: 80, std: 4 }, { label: 'none', value: 60 }], yLabel: 'accuracy' });
    expectValidSvg(svg);
    expect(count(svg, /<path class="error-bar"/g)).toBe(1);
    const rotated = svg.match(/<text x="([\d.]+)"[^>]*rotate\(-30[^>]*>out-of-order-random</)!;
    expect(Number(rotated[1]) - textWidth('out-of-order-random', 11) * 0.866).toBeGreaterThan(0);
  });
});

describe('errorBarChartSvg', () => {
  const groups = [
    { label: 'random', bars: [{ label: 'none', mean: 70, std: 2, n: 2 }, { label: 'forward', mean: 80, std: 1, n: 2 }, { label: 'out-of-order-random', mean: 78, std: 0 }] },
    { label: 'copy', bars: [{ label: 'none', mean: 75, std: 3 }, { label: 'forward', mean: 85 }] },
  ];

  it('draws one bar per mean, error bars spanning mean ± std, one legend entry and colour per bar label', () => {
    const svg = errorBarChartSvg({ title: 'accuracy by strategy', yLabel: 'accuracy (%)', groups });
    expectValidSvg(svg);
    const bars = [...svg.matchAll(/<rect class="bar"[^>]*>/g)].map((m) => m[0]);
    expect(bars).toHaveLength(5);
    const fills = bars.map((b) => b.match(/fill="([^"]*)"/)![1]);
    expect(fills[0]).toBe(fills[3]);
    expect(fills[1]).toBe(fills[4]);
    expect(new Set(fills).size).toBe(3);
    expect(count(svg, /<g class="legend-entry">/g)).toBe(3);
    expect(svg).toContain('>random</text>');
    expect(svg).toContain('>copy</text>');
    expect(svg).toContain('<title>none (random): 70 ± 2 (n=2)</title>');
    // pixels per unit from the bars (zero-based axis): bar height / mean
    const h = (k: number) => attr(bars[k], 'height');
    const perUnit = h(0) / 70;
    expect(h(1) / 80).toBeCloseTo(perUnit, 2);
    const paths = [...svg.matchAll(/<path class="error-bar" d="M[\d.]+ ([\d.]+) L[\d.]+ [\d.]+ M[\d.]+ [\d.]+ L[\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]) - Number(m[2]));
    expect(paths).toHaveLength(3); // std 0 and no std draw none
    expect(paths[0]).toBeCloseTo(4 * perUnit, 1);
    expect(paths[1]).toBeCloseTo(2 * perUnit, 1);
  });

  it('fits the axis to mean ± std when zero is false, and rejects bad input', () => {
    const svg = errorBarChartSvg({ title: 't', yLabel: 'y', groups, zero: false });
    const ticks = [...svg.match(/<g class="tick-labels"[\s\S]*?<\/g>/)![0].matchAll(/>([-\d.]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(Math.min(...ticks)).toBeGreaterThan(0);
    expect(Math.min(...ticks)).toBeLessThanOrEqual(68);
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(85);
    expect(() => errorBarChartSvg({ title: 't', yLabel: 'y', groups: [] })).toThrow('error-bar chart has no bars');
    expect(() => errorBarChartSvg({ title: 't', yLabel: 'y', groups: [{ label: 'g', bars: [{ label: 'b', mean: 1, std: -1 }] }] })).toThrow('group 0 (g) bar 0 (b) has std -1; std must be finite and >= 0');
  });
});
