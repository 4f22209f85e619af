// The one embedded pipeline, whatever the task family: teacher -> cache -> every grid cell not finished earlier ->
// curves, angles, results.json + report.md. What depends on the family goes through its adapter (family.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentContext, RunOptions } from './context';
import type { CacheRef, FamilyAdapter, FamilyRun } from './family';
import { finishRun } from './finish';
import { writeJsonAtomic } from './files';
import type { GridCell } from './grid';
import type { ExperimentResults, ResultCell } from './report';
import { writeRunPlan } from './run-status';
import { mapPool, studentLanes } from './stages/student-workers';

export async function runPipeline<R extends FamilyRun, C extends CacheRef>(ctx: ExperimentContext, family: FamilyAdapter<R, C>, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const started = Date.now();
  const { manifest, manifestPath, outDir, log } = ctx;
  const { spec } = manifest;
  if (spec.cache.store !== 'file') throw new Error(`${manifestPath}: spec.cache.store '${spec.cache.store}' needs the services: run with --transport kafka, or use store: file`);
  fs.mkdirSync(path.join(outDir, 'students'), { recursive: true });
  writeRunPlan(outDir, { transport: 'embedded', manifest });

  // 1. Teacher: trained here (resumable) or loaded.
  const run = await family.obtainTeacher(ctx);
  const { cells } = run;
  writeRunPlan(outDir, { transport: 'embedded', manifest, cells });

  // 2. One cache of the teacher layers any cell can ask for.
  const cache = await family.fillCache(run);

  // 3. Every cell; a finished cell with the same content hash is skipped.
  const resultCells: (ResultCell | undefined)[] = new Array(cells.length);
  const pending: { i: number; cell: GridCell; hash: string }[] = [];
  for (const [i, cell] of cells.entries()) {
    const at = `[${i + 1}/${cells.length}] ${cell.id}`;
    const hash = family.cellHash(run, cell, cache);
    const done = family.finishedCell(run, cell, hash);
    if (done) {
      const missing = family.staleMetrics?.(run, done) ?? [];
      if (missing.length && family.rescore) {
        log(`${at}: finished earlier without ${missing.join(', ')}; re-scoring students/${cell.id}.onnx`);
        resultCells[i] = await family.rescore(run, cell, done);
      } else {
        log(`${at}: finished earlier, skipped`);
        resultCells[i] = done;
      }
    } else if (!opts.cells || opts.cells.includes(cell.id)) pending.push({ i, cell, hash });
    else log(`${at}: not selected (--cells), left for a later run`);
  }
  const { parallel, threads } = studentLanes(opts.parallelism ?? spec.resources?.parallelism, pending.length, log);
  const studentsStarted = Date.now();
  await mapPool(pending, parallel, async ({ i, cell, hash }) => {
    log(`[${i + 1}/${cells.length}] ${cell.id}`);
    const { onnx, result } = await family.trainCell(run, cell, hash, cache, { parallel, threads, log });
    fs.copyFileSync(onnx, path.join(outDir, 'students', `${cell.id}.onnx`));
    writeJsonAtomic(path.join(outDir, 'students', cell.id, 'result.json'), result);
    resultCells[i] = result;
  });
  // Wall time of the cells trained in this run (several at a time overlap, so it is less than their sum).
  const times = { studentsWall: (Date.now() - studentsStarted) / 1000, parallelism: parallel, started };
  const results = await finishRun(family, run, resultCells, { angleExamples: opts.angleExamples, times });
  return { outDir, results };
}
