// Training-curve plots from result cells. curvePlots and metricBarGroups are pure (cells in, SVG or chart data out),
// so the dashboard draws them live from results.json; writeCurvePlots is the thin file writer a run calls.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lineChartSvg, type BarGroup, type LineSeries } from '@strata/plots';
import type { TrainCurves } from './report';

/** What a curve plot needs of a result cell (ResultCell satisfies it). */
export interface CurveCell {
  strategy: string;
  init: string;
  seed: number;
  depth: number;
  curves: TrainCurves;
}

/** The series of TrainCurves a plot can show: the optimized total and each weighted term. */
export type CurveTerm = 'loss' | 'ce' | 'kl' | 'hidden';
export const CURVE_TERMS: readonly CurveTerm[] = ['loss', 'ce', 'kl', 'hidden'];

const TERM_TITLES: Record<CurveTerm, string> = { loss: 'training loss (total)', ce: 'cross-entropy term', kl: 'KL term', hidden: 'hidden-state matching term' };

export interface CurvePlot {
  init: string;
  term: CurveTerm;
  /** File name under plots/: curves-<init>.svg for the total, curves-<init>-<term>.svg for a term. */
  file: string;
  title: string;
  logY: boolean;
  svg: string;
}

export interface CurvePlotOptions {
  /** The shaded band over seeds: min to max (default) or mean ± one sample standard deviation. */
  band?: 'minmax' | 'std';
}

/** Values spanning more than this many decades get a log y axis. */
const LOG_SPAN_DECADES = 1.5;

/**
 * Per init, per term present in any cell (total first, then ce, kl, hidden): one series per strategy and depth, the
 * mean over seeds at each logged step, shaded over the seeds. The y axis is log10 when every value is positive and
 * they span more than 1.5 decades, or (total) when the hidden term makes up most of it, so a `none` student near 0
 * and matching students at 20-150 both stay readable.
 */
export function curvePlots(cells: readonly CurveCell[], o: CurvePlotOptions = {}): CurvePlot[] {
  const band = o.band ?? 'minmax';
  const withCurves = cells.filter((c) => c.curves && c.curves.step.length > 0);
  const inits = [...new Set(withCurves.map((c) => c.init))];
  const plots: CurvePlot[] = [];
  for (const init of inits) {
    const ofInit = withCurves.filter((c) => c.init === init);
    for (const term of CURVE_TERMS) {
      const having = ofInit.filter((c) => c.curves[term]?.length);
      if (having.length === 0) continue;
      const seeds = [...new Set(having.map((c) => c.seed))].sort((a, b) => a - b);
      const series = curveSeries(having, term, band);
      const values = series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])]);
      const logY = values.every((v) => v > 0) && (spanDecades(values) > LOG_SPAN_DECADES || (term === 'loss' && hiddenDominates(having)));
      const seedText = seeds.length > 1 ? `mean over seeds ${seeds.join(', ')}, band ${band === 'std' ? 'mean ± std' : 'min–max'}` : `seed ${seeds[0]}`;
      const title = `${TERM_TITLES[term]}, ${init} init (${seedText})`;
      const svg = lineChartSvg({ title, series, xLabel: 'step', yLabel: term === 'loss' ? 'loss' : 'weighted term in the loss', logY });
      plots.push({ init, term, file: term === 'loss' ? `curves-${init}.svg` : `curves-${init}-${term}.svg`, title, logY, svg });
    }
  }
  return plots;
}

/**
 * The series of one term over cells (of one init): one per strategy and depth in the cells' order, named
 * `<strategy> d<depth>`, the mean over seeds per logged step, a band where two or more seeds logged the step.
 * Cells without the term are left out.
 */
export function curveSeries(cells: readonly CurveCell[], term: CurveTerm, band: 'minmax' | 'std' = 'minmax'): LineSeries[] {
  const having = cells.filter((c) => c.curves?.[term]?.length);
  return [...groupBy(having, (c) => `${c.strategy}\u0000${c.depth}`).values()].map((g) => seriesOf(g, term, band));
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) m.set(key(t), [...(m.get(key(t)) ?? []), t]);
  return m;
}

/** One strategy and depth over its seeds: the mean at each step any seed logged, the band where two or more did. */
function seriesOf(cells: readonly CurveCell[], term: CurveTerm, band: 'minmax' | 'std'): LineSeries {
  const byStep = new Map<number, number[]>();
  for (const c of cells) {
    const ys = c.curves[term]!;
    c.curves.step.forEach((step, i) => {
      if (i < ys.length && Number.isFinite(ys[i])) byStep.set(step, [...(byStep.get(step) ?? []), ys[i]]);
    });
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const points: [number, number][] = [];
  const spread: [number, number, number][] = [];
  for (const step of steps) {
    const ys = byStep.get(step)!;
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    points.push([step, mean]);
    if (ys.length < 2) continue;
    if (band === 'minmax') spread.push([step, Math.min(...ys), Math.max(...ys)]);
    else {
      const std = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1));
      spread.push([step, mean - std, mean + std]);
    }
  }
  return { name: `${cells[0].strategy} d${cells[0].depth}`, points, ...(spread.length ? { band: spread } : {}) };
}

function spanDecades(values: readonly number[]): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return values.length ? Math.log10(hi / lo) : 0;
}

/** True when, summed over the cells' logged steps, the hidden term is more than half of the total loss. */
function hiddenDominates(cells: readonly CurveCell[]): boolean {
  let hidden = 0;
  let total = 0;
  for (const c of cells) {
    c.curves.loss.forEach((l, i) => {
      total += Math.abs(l);
      hidden += Math.abs(c.curves.hidden?.[i] ?? 0);
    });
  }
  return total > 0 && hidden / total > 0.5;
}

/** What a metric bar needs of a result cell. */
export interface MetricCell {
  strategy: string;
  init: string;
  depth: number;
  metrics: Record<string, number>;
}

/**
 * Mean ± sample std over seeds of one metric, per init (a group) and strategy and depth (a bar), in the cells' order:
 * the input of errorBarChartSvg. Cells without the metric are left out; a group with no bars is dropped.
 */
export function metricBarGroups(cells: readonly MetricCell[], metric: string): BarGroup[] {
  const depths = new Set(cells.map((c) => c.depth));
  const groups: BarGroup[] = [];
  for (const [init, ofInit] of groupBy(cells, (c) => c.init)) {
    const bars = [...groupBy(ofInit.filter((c) => Number.isFinite(c.metrics[metric])), (c) => `${c.strategy}\u0000${c.depth}`).values()].map((g) => {
      const ys = g.map((c) => c.metrics[metric]);
      const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
      const std = ys.length > 1 ? Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1)) : undefined;
      return { label: depths.size > 1 ? `${g[0].strategy} d${g[0].depth}` : g[0].strategy, mean, ...(std !== undefined ? { std } : {}), n: ys.length };
    });
    if (bars.length) groups.push({ label: `${init} init`, bars });
  }
  return groups;
}

/** Writes curvePlots(cells) into <outDir>/plots (created if missing); returns the file names written. */
export function writeCurvePlots(outDir: string, cells: readonly CurveCell[], o: CurvePlotOptions = {}): string[] {
  const dir = path.join(outDir, 'plots');
  fs.mkdirSync(dir, { recursive: true });
  const plots = curvePlots(cells, o);
  for (const p of plots) fs.writeFileSync(path.join(dir, p.file), p.svg);
  return plots.map((p) => p.file);
}
