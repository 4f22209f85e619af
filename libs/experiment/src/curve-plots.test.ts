import { curvePlots, curveSeries, metricBarGroups, writeCurvePlots, type CurveCell } from './curve-plots';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Cells shaped like the quickstart's: `none` has ce + kl only and a total near 1; matching strategies carry a hidden
// term of 20-150 that dominates their total. Values are computed from the seed and step, not copied from a run.
function cell(strategy: string, init: string, seed: number, depth = 2): CurveCell {
  const step = [1, 10, 20, 30, 40];
  const ce = step.map((s) => 0.7 / (1 + s / 20) + seed * 0.01);
  const kl = step.map((s) => 0.2 / (1 + s / 10) + seed * 0.001);
  const hidden = strategy === 'none' ? undefined : step.map((s) => (150 - 3 * s) * (1 + 0.1 * seed));
  const loss = step.map((_, i) => ce[i] + kl[i] + (hidden?.[i] ?? 0));
  return { strategy, init, seed, depth, curves: { step, loss, ce, kl, ...(hidden ? { hidden } : {}) } };
}

const strategies = ['none', 'forward', 'out-of-order-random'];
const cells = ['random', 'copy'].flatMap((init) => strategies.flatMap((s) => [1, 2].map((seed) => cell(s, init, seed))));

describe('curvePlots', () => {
  it('draws each init and term present, the total first, files named per init and term', () => {
    const plots = curvePlots(cells);
    expect(plots.map((p) => p.file)).toEqual([
      'curves-random.svg', 'curves-random-ce.svg', 'curves-random-kl.svg', 'curves-random-hidden.svg',
      'curves-copy.svg', 'curves-copy-ce.svg', 'curves-copy-kl.svg', 'curves-copy-hidden.svg',
    ]);
    const hidden = plots.find((p) => p.file === 'curves-random-hidden.svg')!;
    expect(hidden.svg).not.toContain('>none d2<'); // none has no hidden term
    expect(hidden.svg).toContain('>forward d2</text>');
    expect(plots[0].title).toBe('training loss (total), random init (mean over seeds 1, 2, band min–max)');
  });

  it('takes a log y axis when the total spans decades or is mostly the hidden term, linear otherwise', () => {
    const plots = curvePlots(cells);
    expect(plots.find((p) => p.file === 'curves-random.svg')!.logY).toBe(true);
    expect(plots.find((p) => p.file === 'curves-random-ce.svg')!.logY).toBe(false);
    // hidden dominates but all values within one decade: still log for the total
    const flat = ['forward', 'reverse'].map((s) => cell(s, 'random', 1));
    expect(curvePlots(flat)[0].logY).toBe(true);
    // no hidden term and within a decade: linear
    expect(curvePlots([cell('none', 'random', 1)])[0].logY).toBe(false);
    // a zero can't go on a log axis
    const zero = cell('forward', 'random', 1);
    zero.curves.loss[2] = 0;
    expect(curvePlots([zero, cell('none', 'random', 1)])[0].logY).toBe(false);
  });

  it('averages over seeds per step and shades min–max or mean ± std', () => {
    const [none, forward] = curveSeries(cells.filter((c) => c.init === 'random'), 'loss');
    expect(none.name).toBe('none d2');
    const a = cell('forward', 'random', 1).curves.loss;
    const b = cell('forward', 'random', 2).curves.loss;
    expect(forward.points.map((p) => p[0])).toEqual([1, 10, 20, 30, 40]);
    forward.points.forEach(([, y], i) => expect(y).toBeCloseTo((a[i] + b[i]) / 2, 10));
    forward.band!.forEach(([, lo, hi], i) => {
      expect(lo).toBeCloseTo(Math.min(a[i], b[i]), 10);
      expect(hi).toBeCloseTo(Math.max(a[i], b[i]), 10);
    });
    const [, std] = curveSeries(cells.filter((c) => c.init === 'random'), 'loss', 'std');
    std.band!.forEach(([, lo, hi], i) => expect((hi - lo) / 2).toBeCloseTo(Math.abs(a[i] - b[i]) / Math.SQRT2, 8));
    // a single seed: no band, the title names the seed
    const single = curvePlots(cells.filter((c) => c.seed === 1));
    expect(single[0].svg).not.toContain('class="band"');
    expect(single[0].title).toContain('(seed 1)');
  });

  it('aligns seeds by step when one logged fewer steps (a resumed or shorter run)', () => {
    const short = cell('forward', 'random', 2);
    for (const k of ['step', 'loss', 'ce', 'kl', 'hidden'] as const) short.curves[k] = short.curves[k]!.slice(0, 3);
    const [s] = curveSeries([cell('forward', 'random', 1), short], 'loss');
    expect(s.points).toHaveLength(5);
    expect(s.band!.map((b) => b[0])).toEqual([1, 10, 20]);
    expect(s.points[4][1]).toBe(cell('forward', 'random', 1).curves.loss[4]);
  });

  it('writeCurvePlots writes the same SVGs into plots/', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'curve-plots-'));
    try {
      const files = writeCurvePlots(dir, cells);
      expect(files).toEqual(curvePlots(cells).map((p) => p.file));
      expect(fs.readFileSync(path.join(dir, 'plots', 'curves-copy-kl.svg'), 'utf8')).toBe(curvePlots(cells)[6].svg);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metricBarGroups', () => {
  it('gives mean ± sample std per init and strategy', () => {
    const withMetrics = cells.map((c) => ({ ...c, metrics: { accuracy: 80 + c.seed * 2 + (c.strategy === 'none' ? -5 : 0) } }));
    const groups = metricBarGroups(withMetrics, 'accuracy');
    expect(groups.map((g) => g.label)).toEqual(['random init', 'copy init']);
    expect(groups[0].bars.map((b) => b.label)).toEqual(strategies);
    expect(groups[0].bars[0]).toEqual({ label: 'none', mean: 78, std: Math.SQRT2, n: 2 });
    expect(metricBarGroups(withMetrics, 'f1')).toEqual([]);
  });
});
