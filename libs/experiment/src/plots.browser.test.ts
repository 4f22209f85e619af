// Every plot kind a quickstart-like run produces, from a small real embedded run (a 4-layer tiny teacher, depth-2
// students, the five strategies x random init x 2 seeds, the quickstart's loss weights; 'out-of-order-random' with
// 'random' is the pair whose legend the quickstart cut), measured in chromium: every
// text, rect, path and line inside its SVG's viewport, legend entries distinct and apart, heatmap values inside their
// cells (#22). Also: plot names that cannot collide with cell ids.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { errorBarChartSvg } from '@strata/plots';
import { describeBrowser, launchChromium, svgLayoutProblems } from '@strata/plots/src/testing';
import { curvePlots, metricBarGroups } from './curve-plots';
import type { ResultCell } from './report';
import { runExperiment } from './run';
import { trainTeacher } from './stages/teacher';
import { TINY_TEACHER } from './testing';

const STRATEGIES = ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random'];

function manifest(teacherOnnx: string): string {
  return [
    'apiVersion: strata.dev/v1alpha1',
    'kind: Experiment',
    'metadata: { name: plots-browser }',
    'spec:',
    '  task: spam',
    `  teacher: { onnx: ${JSON.stringify(teacherOnnx)} }`,
    '  cache: { dtype: float16, store: file }',
    '  students:',
    '    depths: [2]',
    '    inits: [random]',
    `    strategies: [${STRATEGIES.join(', ')}]`,
    '    seeds: [1, 2]',
    '    epochs: 2',
    '    lr: 0.003',
    '    loss: { ce: 1, kl: 1, hidden: 3, temperature: 1, normalize: token }',
    '  eval: { split: dev }',
    '  analysis: { angles: true }',
    '  data: { maxTrainExamples: 128, maxEvalExamples: 64 }',
    '',
  ].join('\n');
}

describeBrowser('plots of a small real run in chromium', () => {
  let tmp: string;
  let outDir: string;
  let cells: ResultCell[];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-plots-'));
    const teacher = await trainTeacher({ task: 'spam', outDir: path.join(tmp, 'teacher'), config: { ...TINY_TEACHER, layers: 4 }, maxTrainExamples: 240, maxEvalExamples: 64, log: () => undefined });
    const file = path.join(tmp, 'manifest.yaml');
    fs.writeFileSync(file, manifest(teacher.onnx));
    outDir = path.join(tmp, 'run');
    const { results } = await runExperiment(file, { outDir, log: () => undefined, angleExamples: 64 });
    cells = results.cells;
    browser = await launchChromium();
    page = await browser.newPage();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('names angle plots by cell id and student layer, so no name ends in a seed-like -s<k>-s<k>', () => {
    const files = fs.readdirSync(path.join(outDir, 'plots')).sort();
    const firstSeed = cells.filter((c) => c.seed === 1 && c.strategy !== 'none');
    expect(firstSeed).toHaveLength(4);
    const expected = firstSeed.flatMap((c) => [1, 2].flatMap((k) => [`angles-${c.id}-layer${k}.svg`, `angles-hist-${c.id}-layer${k}.svg`]));
    for (const f of expected) expect(files).toContain(f);
    expect(files.filter((f) => /-s\d+-s\d+\.svg$/.test(f))).toEqual([]);
    // the written curve plots are the pure function's, per init and term
    const plots = curvePlots(cells);
    expect(plots.map((p) => p.file).sort()).toEqual(['curves-random.svg', 'curves-random-ce.svg', 'curves-random-kl.svg', 'curves-random-hidden.svg'].sort());
    for (const p of plots) expect(fs.readFileSync(path.join(outDir, 'plots', p.file), 'utf8')).toBe(p.svg);
    // the total of this run spans decades (none near 1, matching students far above): a log axis
    expect(plots.filter((p) => p.term === 'loss').map((p) => p.logY)).toEqual([true]);
  });

  it('every written plot (curves per init and term, angle heatmaps and histograms) lies inside its viewport', async () => {
    const files = fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg')).sort();
    expect(files.filter((f) => f.startsWith('curves-'))).toHaveLength(4);
    expect(files.filter((f) => f.startsWith('angles-hist-'))).toHaveLength(8);
    expect(files.filter((f) => /^angles-(?!hist-)/.test(f))).toHaveLength(8);
    const problems: Record<string, string[]> = {};
    for (const f of files) {
      const svg = fs.readFileSync(path.join(outDir, 'plots', f), 'utf8');
      const found = await svgLayoutProblems(page, svg);
      if (found.length) problems[f] = found;
    }
    expect(problems).toEqual({});
  });

  it('the curve plots keep one legend entry per strategy, with whole names', async () => {
    for (const p of curvePlots(cells)) {
      const names = [...p.svg.matchAll(/<g class="legend-entry">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]);
      const expected = p.term === 'hidden' ? STRATEGIES.filter((s) => s !== 'none') : STRATEGIES;
      expect(names).toEqual(expected.map((s) => `${s} d2`));
      expect(await svgLayoutProblems(page, p.svg)).toEqual([]);
    }
  });

  it('the bar chart of accuracy (mean ± std over seeds per init and strategy) lies inside its viewport', async () => {
    const groups = metricBarGroups(cells, 'accuracy');
    expect(groups.map((g) => g.bars.length)).toEqual([5]);
    const svg = errorBarChartSvg({ title: 'dev accuracy by strategy (mean ± std over seeds 1, 2)', yLabel: 'accuracy (%)', groups });
    expect(await svgLayoutProblems(page, svg)).toEqual([]);
    const zoomed = errorBarChartSvg({ title: 'dev accuracy by strategy', yLabel: 'accuracy (%)', groups, zero: false });
    expect(await svgLayoutProblems(page, zoomed)).toEqual([]);
  });
});
