// The Table-1 view of a run (pure): per student depth and init, each strategy's mean ± sample std over seeds and its
// difference of means against None, the same numbers report.md prints, computed from whichever cells have scores so
// far (a running run shows its partial table).
import { seedStats, type SeedStats } from '@strata/experiment';

export interface ScoredCell {
  id: string;
  strategy: string;
  init: string;
  depth: number;
  seed: number;
  metrics?: Record<string, number>;
}

export interface StrategyRow {
  strategy: string;
  /** Seeds with a score / seeds in the grid. */
  scored: number;
  planned: number;
  stats: Record<string, SeedStats>;
  /** Mean minus None's mean of the same depth and init; absent for None and when None has no score yet. */
  delta: Record<string, number>;
}

export interface InitBlock {
  init: string;
  rows: StrategyRow[];
}

export interface DepthTable {
  depth: number;
  inits: InitBlock[];
}

export interface Aggregate {
  metrics: string[];
  depths: DepthTable[];
}

// Table 1's row order; other strategies follow in the order they first appear.
const PAPER_ORDER = ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random'];
const INIT_ORDER = ['random', 'copy'];

const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];
const ranked = (order: readonly string[]) => (xs: string[]) =>
  xs.map((x, i) => ({ x, i, r: order.includes(x) ? order.indexOf(x) : order.length })).sort((a, b) => a.r - b.r || a.i - b.i).map((e) => e.x);

/** Metric names: the teacher's first, then the cells' in first-seen order. */
export function metricNames(cells: readonly ScoredCell[], teacherMetrics: Record<string, number> = {}): string[] {
  return unique([...Object.keys(teacherMetrics), ...cells.flatMap((c) => Object.keys(c.metrics ?? {}))]);
}

export function aggregate(cells: readonly ScoredCell[], teacherMetrics: Record<string, number> = {}): Aggregate {
  const metrics = metricNames(cells, teacherMetrics);
  const depths = unique(cells.map((c) => c.depth)).map((depth) => {
    const atDepth = cells.filter((c) => c.depth === depth);
    const inits = ranked(INIT_ORDER)(unique(atDepth.map((c) => c.init))).map((init) => {
      const group = atDepth.filter((c) => c.init === init);
      const statsOf = (strategy: string) => {
        const scored = group.filter((c) => c.strategy === strategy && c.metrics);
        return Object.fromEntries(metrics.flatMap((m) => {
          const values = scored.map((c) => c.metrics![m]).filter((v): v is number => v !== undefined);
          return values.length ? [[m, seedStats(values)]] : [];
        })) as Record<string, SeedStats>;
      };
      const none = statsOf('none');
      const rows = ranked(PAPER_ORDER)(unique(group.map((c) => c.strategy))).map((strategy): StrategyRow => {
        const stats = statsOf(strategy);
        const delta = strategy === 'none' ? {} : Object.fromEntries(metrics.filter((m) => stats[m] && none[m]).map((m) => [m, stats[m].mean - none[m].mean]));
        const planned = group.filter((c) => c.strategy === strategy);
        return { strategy, scored: planned.filter((c) => c.metrics).length, planned: planned.length, stats, delta };
      });
      return { init, rows };
    });
    return { depth, inits };
  });
  return { metrics, depths };
}
