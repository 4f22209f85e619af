// Does training students side by side pay on this machine? The same cells of a reproduction's smoke sample, trained
// one at a time with every core, then two at a time with an equal share each, in one process; the figure is the
// ratio of the students' wall times measured in this run, with the metrics of both runs to show they agree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GenerationResults } from './families/generation-setup';
import { runGenerationExperiment } from './run';
import { smokeManifest } from './estimate';
import type { ExperimentManifest } from './schema';

export interface ParallelStudentsReport {
  task: string;
  cells: number;
  steps: number;
  cores: number;
  parallelism: number;
  /** Students' wall seconds, one at a time with `cores` threads. */
  sequentialSeconds: number;
  /** Students' wall seconds, `parallelism` at a time with cores / parallelism threads each. */
  parallelSeconds: number;
  /** sequentialSeconds / parallelSeconds: above 1, side by side is faster. */
  speedup: number;
  /** Largest difference of any metric between the two runs' cells. */
  maxMetricDifference: number;
}

/** Trains the smoke sample's teacher and cache once, then the same cells sequentially and `parallelism` at a time. */
export async function benchParallelStudents(full: ExperimentManifest, manifestPath: string, outDir: string, o: { parallelism?: number; log?: (line: string) => void } = {}): Promise<ParallelStudentsReport> {
  const parallelism = o.parallelism ?? 2;
  const m = smokeManifest(full);
  m.metadata.name = `${full.metadata.name}-parallel`;
  // Four cells, so that each lane of two trains more than one student.
  m.spec.students.strategies = ['none', 'forward', 'reverse', 'all-to-one'];
  m.spec.analysis.angles = false;
  // Three epochs (about 100 steps a student), so that per-step cost outweighs session start-up as it does in a full run.
  m.spec.students.epochs = 3;
  const run = async (p: number) => {
    fs.rmSync(path.join(outDir, 'students'), { recursive: true, force: true });
    const { results } = await runGenerationExperiment({ ...m, spec: { ...m.spec, resources: { parallelism: p } } }, manifestPath, { outDir, log: o.log });
    return results as GenerationResults;
  };
  const sequential = await run(1);
  const parallel = await run(parallelism);
  let maxMetricDifference = 0;
  for (const [i, c] of parallel.cells.entries())
    for (const [k, v] of Object.entries(c.metrics)) maxMetricDifference = Math.max(maxMetricDifference, Math.abs(v - sequential.cells[i].metrics[k]));
  const sequentialSeconds = sequential.timings.studentsWall ?? NaN;
  const parallelSeconds = parallel.timings.studentsWall ?? NaN;
  return {
    task: full.spec.task, cells: parallel.cells.length, steps: Object.values(parallel.timings.students).reduce((a, s) => a + s.steps, 0),
    cores: os.availableParallelism(), parallelism, sequentialSeconds, parallelSeconds, speedup: sequentialSeconds / parallelSeconds, maxMetricDifference,
  };
}

export function formatParallelStudents(r: ParallelStudentsReport): string {
  return [
    `${r.task}: ${r.cells} students (${r.steps} steps in all) on ${r.cores} cores`,
    `one at a time, ${r.cores} ONNX Runtime threads: ${r.sequentialSeconds.toFixed(1)} s`,
    `${r.parallelism} at a time in worker threads, ${Math.max(1, Math.floor(r.cores / r.parallelism))} thread(s) each: ${r.parallelSeconds.toFixed(1)} s`,
    `speedup sequential/parallel: ${r.speedup.toFixed(2)}x`,
    `largest metric difference between the runs: ${r.maxMetricDifference.toExponential(1)}`,
  ].join('\n');
}
