import * as fs from 'node:fs';
import * as path from 'node:path';
import { lineChartSvg } from '@strata/plots';
import type { GridCell } from './grid';

/** Writes plots/curves-<init>.svg: one chart per init, the first seed of each strategy and depth. */
export function writeCurvePlots(outDir: string, inits: readonly string[], firstSeed: number, cells: readonly GridCell[], curves: Readonly<Record<string, [number, number][] | undefined>>): void {
  for (const init of inits) {
    const series = cells.filter((c) => c.init === init && c.seed === firstSeed).map((c) => ({ name: `${c.label} d${c.depth}`, points: curves[c.id] ?? [] }));
    fs.writeFileSync(path.join(outDir, 'plots', `curves-${init}.svg`), lineChartSvg({ title: `training loss (${init} init, seed ${firstSeed})`, series, xLabel: 'step', yLabel: 'loss' }));
  }
}
