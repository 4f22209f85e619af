// Smoke runs of the long reproductions and the wall-time estimate of the full run they give: the same models, fewer
// examples and cells, every stage timed; the full run's time is the per-step / per-example cost times its sizes.
import * as path from 'node:path';
import type { ExperimentManifest } from './schema';
import { generationData } from './families/generation-settings';
import type { GenerationResults } from './families/generation-setup';
import { loadGenerationData } from './stages/generation-data';
import { planGrid } from './grid';

export interface SmokeScale {
  /** Training examples of the smoke run (default 1024). */
  trainExamples?: number;
  /** Evaluation examples (default 128). */
  evalExamples?: number;
}

/**
 * The full manifest cut to a smoke run: the same teacher and student architectures, one teacher epoch, the first seed,
 * the `none` and `forward` strategies (or the first listed), one student epoch, a small training and evaluation sample.
 */
export function smokeManifest(m: ExperimentManifest, scale: SmokeScale = {}): ExperimentManifest {
  const s = structuredClone(m);
  s.metadata.name = `${m.metadata.name}-smoke`;
  if (s.spec.teacher.train) s.spec.teacher.train.epochs = 1;
  const st = s.spec.students;
  st.seeds = [st.seeds[0]];
  const names = st.strategies.map((e) => (typeof e === 'string' ? e : e.name));
  const keep = st.strategies.filter((_, i) => names[i] === 'none' || names[i] === 'forward');
  st.strategies = keep.length ? keep : [st.strategies[0]];
  st.inits = [st.inits.includes('copy') ? 'copy' : st.inits[0]];
  st.epochs = 1;
  s.spec.data.maxTrainExamples = Math.min(scale.trainExamples ?? 1024, m.spec.data.maxTrainExamples ?? Infinity);
  s.spec.data.maxEvalExamples = Math.min(scale.evalExamples ?? 128, m.spec.data.maxEvalExamples ?? Infinity);
  return s;
}

export interface FullRunSizes {
  trainExamples: number;
  evalExamples: number;
}

/** How many training and evaluation examples the full manifest reads (after its limits and any carve). */
export function fullRunSizes(m: ExperimentManifest, manifestPath: string): FullRunSizes {
  const { train, eval: evalRef, data } = generationData(m, path.dirname(path.resolve(manifestPath)));
  const trainData = loadGenerationData(m.spec.task, train, data, false);
  const evalData = loadGenerationData(m.spec.task, evalRef, { ...data, maxExamples: m.spec.data.maxEvalExamples }, true);
  return { trainExamples: trainData.examples.length, evalExamples: evalData.examples.length };
}

export interface RunEstimate {
  /** Seconds per stage of the full run. */
  teacherTrain: number;
  teacherEval: number;
  cache: number;
  studentsTrain: number;
  studentsEval: number;
  angles: number;
  total: number;
  cells: number;
  /** The per-unit costs measured by the smoke run. */
  measured: { teacherSecondsPerStep: number; cacheSecondsPerExample: number; studentSecondsPerStep: number; teacherEvalSecondsPerExample: number; studentEvalSecondsPerExample: number; anglesSecondsPerCell: number };
  /** How the full run's steps were scaled from the smoke run's. */
  method: string;
}

/**
 * Extrapolates a smoke run's stage timings to the full manifest. Steps scale with examples × epochs (the smoke run's
 * steps per example, so bucket padding is counted); evaluation with examples; angles with the number of cells
 * analysed (their example count is fixed). Students trained several at a time (spec.resources.parallelism) divide
 * the students' wall time; their per-student costs are the smoke run's, which trains its two cells as many at a time.
 * Ignores session warm-up, so it errs on the high side for evaluation.
 */
export function estimateFullRun(full: ExperimentManifest, smoke: ExperimentManifest, r: GenerationResults, sizes: FullRunSizes, fullAngleExamples = 256, smokeAngleExamples = 256): RunEstimate {
  const t = r.timings;
  const smokeTrain = Number(r.setup.trainExamples);
  const smokeEval = smoke.spec.data.maxEvalExamples ?? sizes.evalExamples;
  const teacherEpochs = full.spec.teacher.train?.epochs ?? 0;
  const teacherSteps = t.teacherSteps ?? 0;
  const teacherSecondsPerStep = teacherSteps ? (t.teacherTrain ?? 0) / teacherSteps : 0;
  const stepsPerExample = teacherSteps ? teacherSteps / smokeTrain / (smoke.spec.teacher.train?.epochs ?? 1) : 0;
  const students = Object.values(t.students);
  const studentSecondsPerStep = students.length ? students.reduce((a, s) => a + s.train / Math.max(1, s.steps), 0) / students.length : 0;
  const studentStepsPerExample = students.length ? students.reduce((a, s) => a + s.steps, 0) / students.length / smokeTrain : 0;
  const studentEvalSecondsPerExample = students.length ? students.reduce((a, s) => a + s.eval, 0) / students.length / smokeEval : 0;
  const cells = planGrid(full, { teacherLayers: full.spec.teacher.train?.layers ?? r.teacher.layers ?? 1 });
  const parallel = Math.max(1, Math.min(full.spec.resources?.parallelism ?? 1, cells.length));
  const angleCells = full.spec.analysis.angles ? cells.filter((c) => c.seed === full.spec.students.seeds[0] && c.strategy !== 'none').length : 0;
  const smokeAngleCells = smoke.spec.analysis.angles ? planGrid(smoke, { teacherLayers: r.teacher.layers ?? 1 }).filter((c) => c.strategy !== 'none').length : 0;
  const anglesSecondsPerCell = smokeAngleCells ? ((t.angles ?? 0) / smokeAngleCells) * (fullAngleExamples / smokeAngleExamples) : 0;
  const measured = {
    teacherSecondsPerStep,
    cacheSecondsPerExample: (t.cache ?? 0) / smokeTrain,
    studentSecondsPerStep,
    teacherEvalSecondsPerExample: (t.teacherEval ?? 0) / smokeEval,
    studentEvalSecondsPerExample,
    anglesSecondsPerCell,
  };
  const est = {
    teacherTrain: teacherSecondsPerStep * stepsPerExample * sizes.trainExamples * teacherEpochs,
    teacherEval: measured.teacherEvalSecondsPerExample * sizes.evalExamples,
    cache: measured.cacheSecondsPerExample * sizes.trainExamples,
    studentsTrain: (studentSecondsPerStep * studentStepsPerExample * sizes.trainExamples * full.spec.students.epochs * cells.length) / parallel,
    studentsEval: (studentEvalSecondsPerExample * sizes.evalExamples * cells.length) / parallel,
    angles: anglesSecondsPerCell * angleCells,
  };
  const total = Object.values(est).reduce((a, b) => a + b, 0);
  return {
    ...est, total, cells: cells.length, measured,
    method: `smoke: ${smokeTrain} training / ${smokeEval} evaluation examples; full: ${sizes.trainExamples} / ${sizes.evalExamples}, teacher ${teacherEpochs} epochs, ${cells.length} cells x ${full.spec.students.epochs} epochs${parallel > 1 ? `, ${parallel} students at a time` : ''}`,
  };
}

export function formatEstimate(e: RunEstimate): string {
  const m = (s: number) => `${(s / 60).toFixed(1)} min`;
  return [
    `estimated full run: ${m(e.total)} (${(e.total / 3600).toFixed(2)} h)`,
    `  teacher training ${m(e.teacherTrain)} (${e.measured.teacherSecondsPerStep.toFixed(2)} s/step), teacher evaluation ${m(e.teacherEval)}`,
    `  teacher cache ${m(e.cache)} (${(e.measured.cacheSecondsPerExample * 1000).toFixed(1)} ms/example)`,
    `  ${e.cells} students: training ${m(e.studentsTrain)} (${e.measured.studentSecondsPerStep.toFixed(2)} s/step), evaluation ${m(e.studentsEval)} (${(e.measured.studentEvalSecondsPerExample * 1000).toFixed(0)} ms/example)`,
    `  angles ${m(e.angles)}`,
    `  ${e.method}`,
  ].join('\n');
}
