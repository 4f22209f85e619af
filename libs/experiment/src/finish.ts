// The close of a run, whatever the family and the transport (embedded, the evaluator, a partial run over Kafka):
// training curves, the angle analysis of the first seed's students, results.json and report.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCurvePlots } from './curve-plots';
import type { CacheRef, FamilyAdapter, FamilyRun, LabelledAngles, StageTimes } from './family';
import { writeAtomic } from './files';
import type { GridCell } from './grid';
import { AngleSummary, ExperimentResults, RESULTS_SCHEMA_VERSION, ResultCell } from './report';
import { anglePlots } from './stages/angles';

export interface FinishRunOptions {
  angleExamples?: number;
  times?: StageTimes;
}

/**
 * `resultCells` is in grid order, with holes for the cells not finished (a run of a --cells subset): the results
 * cover the finished cells and name the missing ones. The students' .onnx files are at students/<cellId>.onnx.
 */
export async function finishRun<R extends FamilyRun, C extends CacheRef>(family: FamilyAdapter<R, C>, run: R, resultCells: readonly (ResultCell | undefined)[], o: FinishRunOptions = {}): Promise<ExperimentResults> {
  const { manifest, outDir, cells, log } = run;
  const { spec } = manifest;
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  const finished = family.collect(run, resultCells.filter((c): c is ResultCell => c !== undefined));
  writeCurvePlots(outDir, finished);

  const times: StageTimes = { ...o.times };
  const angles: AngleSummary[] = [];
  if (spec.analysis.angles) {
    const t0 = Date.now();
    const done = new Set(finished.map((c) => c.id));
    for (const cell of cells.filter((c) => c.seed === spec.students.seeds[0] && c.strategy !== 'none' && done.has(c.id))) {
      for (const a of await family.angles(run, cell, o.angleExamples ?? 256)) {
        angles.push(angleSummary(a));
        writeAngles(path.join(outDir, 'plots'), a);
      }
    }
    times.angles = (Date.now() - t0) / 1000;
  }

  const { teacherCache, latency, ...extras } = await family.resultExtras(run, finished, times);
  const results: ExperimentResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    experiment: manifest.metadata.name,
    task: spec.task,
    teacher: family.teacherSummary(run),
    ...(teacherCache ? { teacherCache } : {}),
    cells: finished,
    ...missingCells(cells, finished),
    angles: angles.length ? angles : undefined,
    ...(latency ? { latency } : {}),
    plots: fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg') && !f.startsWith('angles-hist-')).sort().map((f) => ({ title: f.replace(/\.svg$/, ''), file: `plots/${f}` })),
    createdAt: new Date().toISOString(),
    versions: { node: process.version, '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
    ...extras,
  };
  writeAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'report.md'), family.report(results));
  log(`wrote ${path.join(outDir, 'report.md')}`);
  return results;
}

/** The grid's cells without a result (a run of a --cells subset), absent when every cell finished. */
export function missingCells(cells: readonly GridCell[], done: readonly { id: string }[]): { missingCells?: string[] } {
  const ids = new Set(done.map((c) => c.id));
  const missing = cells.filter((c) => !ids.has(c.id)).map((c) => c.id);
  return missing.length ? { missingCells: missing } : {};
}

function angleSummary(a: LabelledAngles): AngleSummary {
  return { cellId: a.id, layers: a.layers.map((l) => ({ studentLayer: l.studentLayer, acuteFraction: l.fractionAcute, meanCosine: offDiagonalMean(l.meanCosine, l.teacherLayers.length) })) };
}

function writeAngles(plotsDir: string, a: LabelledAngles): void {
  for (const l of a.layers) {
    const { heatmap, histogram } = anglePlots(l, `${a.id}: `);
    fs.writeFileSync(path.join(plotsDir, `angles-${a.file}-layer${l.studentLayer}.svg`), heatmap);
    fs.writeFileSync(path.join(plotsDir, `angles-hist-${a.file}-layer${l.studentLayer}.svg`), histogram);
  }
}

/** The mean cosine between distinct teacher layers (the diagonal is 1 by definition). */
function offDiagonalMean(m: ArrayLike<number>, t: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) if (i !== j) {
    sum += m[i * t + j];
    n++;
  }
  return n ? sum / n : NaN;
}
