// Curves and map comparisons of the finished cells, drawn live for the dashboard by the same pure functions that write
// the run's plots/curves-*.svg and report.md, so the page and the files agree.
import { curvePlots, identicalMapStrategies, upgradeCell, type ResultCell } from '@strata/experiment';
import type { Figure } from './pages';

/** Finished cells in the current result shape (older runs' files upgraded); unreadable ones are left to the cell table. */
export function upgradedCells(cells: ReadonlyArray<{ id: string; result: unknown }>): ResultCell[] {
  return cells.flatMap((c) => {
    try {
      return [upgradeCell(c.result, { file: `students/${c.id}/result.json` })];
    } catch {
      return [];
    }
  });
}

export function curveFigures(cells: readonly ResultCell[]): Figure[] {
  return curvePlots(cells).map((p) => ({ title: p.title, svg: p.svg }));
}

/** Per depth, the strategies that resolved to an earlier strategy's layer maps (as report.md flags them). */
export function sameMapsByDepth(cells: readonly ResultCell[]): Record<number, Record<string, string>> {
  const depths = [...new Set(cells.map((c) => c.depth))];
  return Object.fromEntries(depths.map((d) => [d, Object.fromEntries(identicalMapStrategies(cells.filter((c) => c.depth === d)))]));
}
