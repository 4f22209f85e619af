// Every chart kind with the inputs that broke the quickstart's plots (#22), measured by chromium: every element inside
// the viewport, legend entries distinct and apart, heatmap values inside their cells.
import type { Browser, Page } from 'playwright-core';
import { barChartSvg, errorBarChartSvg, heatmapSvg, histogramSvg, lineChartSvg } from './index';
import { describeBrowser, launchChromium, svgLayoutProblems } from './testing';

const strategies = ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random'];
const layers = ['0', '1', '2', '3', '4'];

const cases: Record<string, string> = {
  'heatmap, long title, tiny and large values': heatmapSvg({
    title: 'out-of-order-random-random-d2-s1: mean cos at student layer 1',
    rowLabels: layers, colLabels: layers, rowTitle: 'teacher layer', colTitle: 'teacher layer',
    values: Array.from({ length: 25 }, (_, k) => [1, -8.75e-4, 0.123456, -0.5, 1234.5678, -1e-9, NaN][k % 7]), min: -1, max: 1, colorScale: 'diverging',
  }),
  'heatmap, long labels turned 45°': heatmapSvg({
    title: 'x', rowLabels: ['encoder.layer.0', 'encoder.layer.11'], colLabels: ['encoder.layer.0', 'encoder.layer.11'], rowTitle: 'teacher layer', colTitle: 'teacher layer',
    values: [0.1, 0.2, 0.3, 0.4], min: 0, max: 1, colorScale: 'sequential',
  }),
  'heatmap, 1 x 1': heatmapSvg({ title: 'a single cell with a long title that must wrap', rowLabels: ['0'], colLabels: ['0'], rowTitle: 'teacher layer', colTitle: 'teacher layer', values: [-0.123], min: -1, max: 1, colorScale: 'diverging' }),
  'heatmap, 20 x 20 without values': heatmapSvg({ title: 'big', rowLabels: Array.from({ length: 20 }, (_, k) => String(k)), colLabels: Array.from({ length: 20 }, (_, k) => String(k)), values: new Float64Array(400).fill(0.3), min: -1, max: 1, colorScale: 'diverging' }),
  'histogram, counts just past a tick': histogramSvg({ title: 'forward-random-d2-s1: cosines at student layer 2', bins: Array.from({ length: 40 }, (_, b) => ({ lo: -1 + b / 20, hi: -1 + (b + 1) / 20, count: b === 30 ? 10001 : b * 37 })), xLabel: 'cosine' }),
  'histogram, one huge count': histogramSvg({ title: 'h', bins: [{ lo: 0, hi: 1, count: 123456789 }], xLabel: 'cosine' }),
  'line chart, log axis, bands, ten long names': lineChartSvg({
    title: 'hidden term (random init), mean over seeds, band min–max',
    series: Array.from({ length: 10 }, (_, k) => ({
      name: `${strategies[k % 5]}-random d${(k % 2) + 2}`,
      points: [1, 10, 20, 150].map((x) => [x, (k + 1) * 50 / x] as [number, number]),
      band: [1, 10, 20, 150].map((x) => [x, (k + 1) * 40 / x, (k + 1) * 60 / x] as [number, number, number]),
    })),
    xLabel: 'step', yLabel: 'loss', logY: true,
  }),
  'line chart, identical names': lineChartSvg({ title: 't', series: [0, 1, 2].map(() => ({ name: 'out-of-order-random-random-d2-s1 with a very long name indeed that runs on and on', points: [[0, 1], [1, 2]] as [number, number][] })), xLabel: 'x', yLabel: 'y' }),
  'line chart, huge and negative values': lineChartSvg({ title: 't', series: [{ name: 'a', points: [[0, -123456.7], [1e6, 9876543]] }], xLabel: 'x', yLabel: 'y' }),
  'bar chart, long labels, error bars': barChartSvg({ title: 'Δ accuracy', bars: strategies.map((label, k) => ({ label: `${label}-random-d2`, value: k - 2, std: 0.5 })), yLabel: 'Δ accuracy' }),
  'error-bar chart, two inits': errorBarChartSvg({
    title: 'accuracy (mean ± std over seeds)', yLabel: 'accuracy (%)',
    groups: ['random', 'copy'].map((init) => ({ label: init, bars: strategies.map((label, k) => ({ label, mean: 80 + k, std: k / 2, n: 2 })) })),
  }),
  'error-bar chart, one group with a long label': errorBarChartSvg({ title: 't', yLabel: 'y', zero: false, groups: [{ label: 'a group label much longer than its two bars are wide', bars: [{ label: 'a', mean: -3, std: 1 }, { label: 'b', mean: 5 }] }] }),
};

describeBrowser('charts in chromium', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(Object.keys(cases))('%s: every element inside the viewport, legend entries distinct', async (name) => {
    expect(await svgLayoutProblems(page, cases[name])).toEqual([]);
  });

  it('the checker finds what it is meant to find', async () => {
    const bad = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" viewBox="0 0 100 50"><text x="90" y="20">overflowing</text>'
      + '<g class="legend"><g class="legend-entry"><text x="0" y="40">a</text></g><g class="legend-entry"><text x="2" y="40">a</text></g></g>'
      + '<rect class="cell" x="0" y="0" width="10" height="10"/><text class="cell-value" x="5" y="8" text-anchor="middle">-8.75e-4</text></svg>';
    const problems = await svgLayoutProblems(page, bad);
    expect(problems.some((p) => p.startsWith('<text> "overflowing"') && p.includes('outside the viewport'))).toBe(true);
    expect(problems).toContain('legend entries 0 and 1 both read "a"');
    expect(problems).toContain('legend entries "a" and "a" overlap');
    expect(problems.some((p) => p.startsWith('<text class="cell-value"> "-8.75e-4"') && p.includes('wider than its cell'))).toBe(true);
  });
});
