// `strata experiment run`: teacher -> cache -> every grid cell -> evaluation -> angles -> results.json + report.md.
// The parts (experiment context, teacher, cache layer set, one cell's result, the closing aggregation) are exported
// so the services (teacher-inference, student-trainer, evaluator) run the same steps and write the same files.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getTask } from '@strata/data';
import { writeModel } from '@strata/onnx';
import { StrategyRequest, teacherLayerSet, type LayerMap } from '@strata/kd';
import { bertMaxLength, bertParamSpecs, type BertConfig } from '@strata/nn';
import { readCheckpointMeta } from '@strata/train';
import { heatmapSvg, histogramSvg } from '@strata/plots';
import { writeCurvePlots } from './curve-plots';
import { GridCell, cellDivergence, cellHash, cellWidth, planGrid } from './grid';
import { AngleSummary, ExperimentResults, RESULTS_SCHEMA_VERSION, ResultCell, renderReport } from './report';
import { devPoints, resolvedMaps, trainCurves, upgradeCell } from './results';
import { measureLatency } from './latency';
import { runGenerationExperiment } from './run-generation';
import { writeRunPlan } from './run-status';
import { ExperimentManifest } from './schema';
import { analyzeAngles } from './stages/angles';
import { cacheTeacherStates } from './stages/cache';
import { LoadedTeacher, copyIntoRun, loadTeacher } from './stages/common';
import { trainStudent } from './stages/student';
import { PROJECTIONS_FILE, readProjections, studentBertConfig, studentShape } from './stages/student-width';
import type { Curve, EpochMetrics } from './stages/loop';
import { mapPool, studentLanes, trainInWorker } from './stages/student-workers';
import { finetuneTeacher, trainTeacher, type TeacherTrainResult } from './stages/teacher';
import { checkFiles, readManifestFile, validateAgainstTeacher } from './validate';

export interface RunOptions {
  outDir?: string;
  log?: (line: string) => void;
  /** Examples of the eval split used by the angle analysis (default 256). */
  angleExamples?: number;
  /** Students trained at once, each in a worker thread (default spec.resources.parallelism, else 1). */
  parallelism?: number;
  /**
   * Ids of the cells to train now (`strata experiment run --cells`); default every cell. The results cover the cells
   * finished so far (these and any finished earlier) and name the grid's missing ones.
   */
  cells?: readonly string[];
}

/** A finished cell as written to students/<cellId>/result.json: the same object as its entry in results.json. */
export type CellResultFile = ResultCell;

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Metrics on the paper's scale (percent). */
export const percentMetrics = (m: { accuracy: number; f1?: number }) => {
  const out: Record<string, number> = { accuracy: m.accuracy * 100 };
  if (m.f1 !== undefined) out.f1 = m.f1 * 100;
  return out;
};

/** Everything a step of an experiment needs to know about where it runs. */
export interface ExperimentContext {
  manifest: ExperimentManifest;
  manifestPath: string;
  baseDir: string;
  outDir: string;
  dataRoot?: string;
  evalSplit: string;
  log: (line: string) => void;
}

export function experimentContext(manifestPath: string, opts: { outDir?: string; log?: (line: string) => void } = {}): ExperimentContext {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const manifest: ExperimentManifest = readManifestFile(manifestPath);
  const baseDir = path.dirname(path.resolve(manifestPath));
  checkFiles(manifest, baseDir);
  const { spec } = manifest;
  const outDir = path.resolve(opts.outDir ?? path.join('runs', manifest.metadata.name));
  const dataRoot = spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined;
  return { manifest, manifestPath, baseDir, outDir, dataRoot, evalSplit: spec.eval.split, log };
}

export interface ExperimentTeacher {
  teacher: LoadedTeacher;
  metrics: Record<string, number>;
  hash: string;
}

/**
 * The experiment's teacher in <outDir>/teacher/: trained or fine-tuned there (resumable), or loaded from
 * spec.teacher.onnx and copied there with its tokenizer, so every later step (and every service) finds it at the same
 * place.
 */
export async function obtainTeacher(ctx: ExperimentContext): Promise<ExperimentTeacher> {
  const { manifest, baseDir, outDir, dataRoot, evalSplit, log } = ctx;
  const { spec } = manifest;
  const teacherDir = path.join(outDir, 'teacher');
  fs.mkdirSync(teacherDir, { recursive: true });
  let teacher: LoadedTeacher;
  let metrics: Record<string, number>;
  const stage = { task: spec.task, outDir: teacherDir, evalSplit, trainSplit: spec.data.trainSplit, dataRoot, maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples, log };
  if (spec.teacher.train || spec.teacher.pretrained) {
    const t = spec.teacher.train
      ? await trainTeacher({ ...stage, config: spec.teacher.train })
      : await finetuneTeacher({
        ...stage, maxTrainExamples: spec.teacher.finetune?.maxTrainExamples ?? stage.maxTrainExamples,
        pretrained: path.resolve(baseDir, spec.teacher.pretrained!), tokenizer: spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined, config: spec.teacher.finetune,
      });
    teacher = loadTeacher(t.onnx, t.tokenizer);
    metrics = percentMetrics(t.metrics);
    validateAgainstTeacher(manifest, { layers: teacher.config.layers, hidden: teacher.config.hidden });
  } else {
    const given = loadTeacher(path.resolve(baseDir, spec.teacher.onnx!), spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined, { hiddenStates: spec.teacher.hiddenStates });
    validateAgainstTeacher(manifest, { layers: given.config.layers, hidden: given.config.hidden });
    const onnx = path.join(teacherDir, 'teacher.onnx');
    const tokenizer = path.join(teacherDir, 'tokenizer.json');
    if (given.graph) {
      // Another tool's export: keep it with its hidden states exposed and its config.json, so every later step and
      // service reads the same self-describing file.
      log(`teacher ${given.onnx}: an external export, ${given.config.layers} layers, hidden ${given.config.hidden}${given.valuesError ? `; weight copy unavailable: ${given.valuesError}` : ''}`);
      if (path.resolve(given.onnx) !== onnx) writeModel(onnx, given.graph);
      const config = path.join(path.dirname(given.onnx), 'config.json');
      if (fs.existsSync(config) && path.resolve(config) !== path.join(teacherDir, 'config.json')) copyIntoRun(config, path.join(teacherDir, 'config.json'));
    } else if (path.resolve(given.onnx) !== onnx) copyIntoRun(given.onnx, onnx);
    if (path.resolve(given.tokenizerPath) !== tokenizer) copyIntoRun(given.tokenizerPath, tokenizer);
    teacher = loadTeacher(onnx, tokenizer);
    metrics = {};
  }
  // The student's shape is checked here, before any cache or student work, with the field that does not fit named.
  studentShape(teacher.config, spec.students);
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  return { teacher, metrics, hash: sha256File(teacher.onnx) };
}

/** teacher.json as `trainTeacher` saved it next to the teacher; undefined for a given teacher. */
function savedTeacher(teacherDir: string): (Pick<TeacherTrainResult, 'metrics'> & Partial<Pick<TeacherTrainResult, 'warnings'>>) | undefined {
  const file = path.join(teacherDir, 'teacher.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/** The warnings saved by `trainTeacher` next to the teacher ([] for a given teacher, or one saved before warnings). */
export function savedTeacherWarnings(teacherDir: string): string[] {
  return savedTeacher(teacherDir)?.warnings ?? [];
}

/** The teacher metrics saved by `trainTeacher` next to the teacher ({} for a given teacher). */
export function savedTeacherMetrics(teacherDir: string): Record<string, number> {
  const saved = savedTeacher(teacherDir);
  return saved ? percentMetrics(saved.metrics) : {};
}

/** The grid and the one set of teacher layers every cell can ask for (the cache's layers). */
export function experimentGrid(manifest: ExperimentManifest, teacherLayers: number): { cells: GridCell[]; cacheLayers: number[] } {
  const cells = planGrid(manifest, { teacherLayers });
  const requests: StrategyRequest[] = cells.filter((c) => c.strategy !== 'none').map((c) => ({ strategy: c.strategy, teacherLayers, studentLayers: c.depth, options: c.options }));
  const layers = requests.length ? teacherLayerSet(...requests) : [];
  return { cells, cacheLayers: layers.length ? layers : [teacherLayers] };
}

/** What training leaves for a cell's record (every transport: embedded, worker thread, student-trainer + evaluator). */
export interface CellTraining {
  metrics: { accuracy: number; f1?: number };
  curve: Curve[];
  layerMaps: LayerMap[];
  /** Eval-split metrics after each epoch, as fractions. */
  dev?: EpochMetrics[];
  wallSeconds: number;
  parameters: number;
  /** Bytes of the student's .onnx. */
  onnxBytes: number;
}

/** One cell's result record (pure): what results.json lists for it and students/<cellId>/result.json holds. */
export function cellResult(cell: GridCell, r: CellTraining, hash: string): CellResultFile {
  return {
    id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, ...resolvedMaps(r.layerMaps),
    metrics: percentMetrics(r.metrics), curves: trainCurves(r.curve), ...(r.dev?.length ? { dev: devPoints(r.dev, (m) => percentMetrics(m as { accuracy: number; f1?: number })) } : {}),
    hash, wallSeconds: r.wallSeconds, student: { parameters: r.parameters, onnxBytes: r.onnxBytes }, ...cellDivergence(cell),
  };
}

/** Parameters of a BERT classifier of this shape (what the trainer trains and the export holds). */
export const bertParameters = (cfg: BertConfig) => bertParamSpecs(cfg).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

/** The training seconds a checkpoint carries (summed over resumed segments), if it exists and has them. */
export function checkpointTrainSeconds(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const seconds = readCheckpointMeta(file).trainSeconds;
  return typeof seconds === 'number' ? seconds : undefined;
}

/**
 * A finished cell's result.json when its hash matches (so a re-run skips it), else undefined. A file from an older
 * run (schemaVersion 1) is upgraded and rewritten: its wall time from the checkpoint's training time (scoring and
 * export not included), its sizes from students/<cellId>.onnx and `parametersOf` its depth.
 */
export function finishedCell(outDir: string, cellId: string, hash: string, parametersOf?: (depth: number) => number): CellResultFile | undefined {
  const dir = path.join(outDir, 'students', cellId);
  const file = path.join(dir, 'result.json');
  if (!fs.existsSync(file)) return undefined;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { hash?: string; depth?: number; wallSeconds?: number };
  if (raw.hash !== hash) return undefined;
  if (raw.wallSeconds !== undefined) return upgradeCell(raw, { file });
  const trainSeconds = checkpointTrainSeconds(path.join(dir, 'student.ckpt'));
  const onnx = path.join(outDir, 'students', `${cellId}.onnx`);
  const done = upgradeCell(raw, {
    file,
    wallSeconds: trainSeconds,
    student: parametersOf && fs.existsSync(onnx) && typeof raw.depth === 'number' ? { parameters: parametersOf(raw.depth), onnxBytes: fs.statSync(onnx).size } : undefined,
  });
  writeAtomic(file, `${JSON.stringify(done, null, 2)}\n`);
  return done;
}

export async function runExperiment(manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const ctx = experimentContext(manifestPath, opts);
  const { manifest, outDir, dataRoot, evalSplit, log } = ctx;
  const { spec } = manifest;
  // --- generation tasks (issue 7): seq2seq and multiple-choice tasks run their own pipeline (run-generation.ts).
  if (getTask(spec.task).kind !== 'classification') return runGenerationExperiment(manifest, path.resolve(manifestPath), opts);
  // --- end generation tasks
  if (spec.cache.store !== 'file') throw new Error(`${manifestPath}: spec.cache.store '${spec.cache.store}' needs the services: run with --transport kafka, or use store: file`);
  fs.mkdirSync(path.join(outDir, 'students'), { recursive: true });
  writeRunPlan(outDir, { transport: 'embedded', manifest });

  // 1. Teacher: trained here (resumable) or loaded.
  const { teacher, metrics: teacherMetrics, hash: teacherHash } = await obtainTeacher(ctx);

  // 2. One cache of the teacher layers any cell can ask for.
  const { cells, cacheLayers } = experimentGrid(manifest, teacher.config.layers);
  writeRunPlan(outDir, { transport: 'embedded', manifest, cells });
  const cache = await cacheTeacherStates({ teacher, task: spec.task, split: spec.data.trainSplit, layers: cacheLayers, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, cacheRoot: path.join(outDir, 'cache'), dataRoot, maxExamples: spec.data.maxTrainExamples, log });
  log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${cacheLayers.join(', ')}${cache.teacherPrecision === 'int8' ? ', int8 teacher' : ''}${cache.computed ? '' : ' (reused)'}`);

  // 3. Every cell; a finished cell with the same content hash is skipped.
  const resultCells: CellResultFile[] = new Array(cells.length);
  const pending: { i: number; cell: GridCell; hash: string }[] = [];
  for (const [i, cell] of cells.entries()) {
    const hash = cellHash(cell, { teacherHash, cacheKey: cache.cacheKey });
    const done = finishedCell(outDir, cell.id, hash, (depth) => bertParameters(studentBertConfig(teacher.config, depth, spec.students)));
    if (done) {
      log(`[${i + 1}/${cells.length}] ${cell.id}: finished earlier, skipped`);
      resultCells[i] = done;
    } else if (!opts.cells || opts.cells.includes(cell.id)) pending.push({ i, cell, hash });
    else log(`[${i + 1}/${cells.length}] ${cell.id}: not selected (--cells), left for a later run`);
  }
  const { parallel, threads } = studentLanes(opts.parallelism ?? spec.resources?.parallelism, pending.length, log);
  await mapPool(pending, parallel, async ({ i, cell, hash }) => {
    log(`[${i + 1}/${cells.length}] ${cell.id}`);
    const dir = path.join(outDir, 'students', cell.id);
    const options = {
      task: spec.task, cacheRoot: path.join(outDir, 'cache'), cacheKey: cache.cacheKey, strategy: cell.strategy, strategyOptions: cell.options,
      init: cell.init, depth: cell.depth, width: cellWidth(cell), seed: cell.seed, loss: cell.loss, epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr,
      outDir: dir, evalSplit, trainSplit: spec.data.trainSplit, dataRoot, maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples,
    };
    const r = parallel > 1
      ? await trainInWorker({ kind: 'classification', options: { ...options, teacherOnnx: teacher.onnx, tokenizerPath: teacher.tokenizerPath } }, { threads, log })
      : await trainStudent({ ...options, teacher, log });
    fs.copyFileSync(r.onnx, path.join(outDir, 'students', `${cell.id}.onnx`));
    const result = cellResult(cell, { ...r, metrics: r.metrics!, onnxBytes: fs.statSync(r.onnx).size }, hash);
    writeAtomic(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    resultCells[i] = result;
  });

  const int8 = cache.teacherPrecision === 'int8' ? { teacherCache: { teacherPrecision: cache.teacherPrecision, int8Error: cache.int8Error } } : {};
  const results = await finishExperiment({ outDir, manifest, teacher, teacherMetrics, teacherHash, cells, resultCells: resultCells.filter(Boolean), dataRoot, angleExamples: opts.angleExamples, log, ...int8 });
  return { outDir, results };
}

export interface FinishOptions {
  outDir: string;
  manifest: ExperimentManifest;
  teacher: LoadedTeacher;
  teacherMetrics: Record<string, number>;
  teacherHash: string;
  cells: GridCell[];
  /**
   * The finished cells' results in grid order (every cell, unless a run trained a subset: the grid's cells without a
   * result are listed as missing); the students' .onnx files are at students/<cellId>.onnx.
   */
  resultCells: CellResultFile[];
  dataRoot?: string;
  angleExamples?: number;
  log: (line: string) => void;
  /** Set when the cache came from an int8 teacher: reported beside the teacher's own metrics. */
  teacherCache?: ExperimentResults['teacherCache'];
  /** Timed runs per batch size of the latency measurement (default 5); 0 skips it. */
  latencyRuns?: number;
}

// Absent rather than empty, so results without warnings read as they did before the field existed.
const warningsOf = (warnings: string[]) => (warnings.length ? { warnings } : {});

/** Training curves, the angle analysis, results.json and report.md, once every cell has finished. */
export async function finishExperiment(o: FinishOptions): Promise<ExperimentResults> {
  const { outDir, manifest, teacher, cells, log } = o;
  const { spec } = manifest;
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  const studentOnnx = (id: string) => path.join(outDir, 'students', `${id}.onnx`);
  // Sizes an upgraded schemaVersion-1 cell could not tell (the evaluator reads such files too).
  const resultCells = o.resultCells.map((c) =>
    Number.isFinite(c.student.parameters) && Number.isFinite(c.student.onnxBytes) ? c : { ...c, student: { parameters: bertParameters(studentBertConfig(teacher.config, c.depth, spec.students)), onnxBytes: fs.statSync(studentOnnx(c.id)).size } },
  );

  const firstSeed = spec.students.seeds[0];
  writeCurvePlots(outDir, resultCells);

  // Angle analysis on the first seed's students.
  const angles: AngleSummary[] = [];
  if (spec.analysis.angles) {
    const finished = new Set(resultCells.map((c) => c.id));
    for (const cell of cells.filter((c) => c.seed === firstSeed && c.strategy !== 'none' && finished.has(c.id))) {
      const projections = readProjections(path.join(outDir, 'students', cell.id, PROJECTIONS_FILE));
      const result = await analyzeAngles(teacher, path.join(outDir, 'students', `${cell.id}.onnx`), cell.depth, spec.task, spec.analysis.split ?? spec.eval.split, o.angleExamples ?? 256, o.dataRoot, projections);
      angles.push({ cellId: cell.id, layers: result.map((l) => ({ studentLayer: l.studentLayer, acuteFraction: l.fractionAcute, meanCosine: offDiagonalMean(l.meanCosine, l.teacherLayers.length) })) });
      for (const l of result) {
        const labels = l.teacherLayers.map(String);
        fs.writeFileSync(path.join(outDir, 'plots', `angles-${cell.id}-layer${l.studentLayer}.svg`), heatmapSvg({ title: `${cell.id}: mean cos at student layer ${l.studentLayer}`, rowLabels: labels, colLabels: labels, rowTitle: 'teacher layer', colTitle: 'teacher layer', values: Array.from(l.meanCosine), min: -1, max: 1, colorScale: 'diverging' }));
        fs.writeFileSync(path.join(outDir, 'plots', `angles-hist-${cell.id}-layer${l.studentLayer}.svg`), histogramSvg({ title: `${cell.id}: cosines at student layer ${l.studentLayer}`, bins: l.histogram, xLabel: 'cosine' }));
      }
    }
  }

  // CPU latency of the teacher and one student per depth (every cell of a depth exports the same graph).
  const runs = o.latencyRuns ?? 5;
  const perDepth = resultCells.filter((c, i) => resultCells.findIndex((d) => d.depth === c.depth) === i).map((c) => ({ depth: c.depth, cellId: c.id, onnx: studentOnnx(c.id) }));
  let latency: ExperimentResults['latency'];
  if (runs > 0) {
    try {
      latency = await measureLatency(teacher.onnx, perDepth, { seqLen: bertMaxLength(teacher.config), vocabSize: teacher.config.vocabSize, runs });
    } catch (e) {
      // An exported teacher with inputs of its own: the run's results stand without the latency table.
      log(`latency not measured: ${(e as Error).message}`);
    }
  }

  const results: ExperimentResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    experiment: manifest.metadata.name,
    task: spec.task,
    teacher: {
      metrics: o.teacherMetrics, layers: teacher.config.layers, hidden: teacher.config.hidden, hash: o.teacherHash, ...warningsOf(savedTeacherWarnings(path.join(outDir, 'teacher'))),
      parameters: bertParameters(teacher.config), onnxBytes: fs.statSync(teacher.onnx).size,
    },
    ...(o.teacherCache ? { teacherCache: o.teacherCache } : {}),
    cells: resultCells,
    ...missingCells(cells, resultCells),
    angles: angles.length ? angles : undefined,
    ...(latency ? { latency } : {}),
    plots: fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg') && !f.startsWith('angles-hist-')).sort().map((f) => ({ title: f.replace(/\.svg$/, ''), file: `plots/${f}` })),
    createdAt: new Date().toISOString(),
    versions: { node: process.version, '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
  };
  writeAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'report.md'), renderReport(results));
  log(`wrote ${path.join(outDir, 'report.md')}`);
  return results;
}

/** The grid's cells without a result (a run of a --cells subset), absent when every cell finished. */
function missingCells(cells: readonly GridCell[], done: readonly { id: string }[]): { missingCells?: string[] } {
  const ids = new Set(done.map((c) => c.id));
  const missing = cells.filter((c) => !ids.has(c.id)).map((c) => c.id);
  return missing.length ? { missingCells: missing } : {};
}

function offDiagonalMean(m: ArrayLike<number>, t: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) if (i !== j) {
    sum += m[i * t + j];
    n++;
  }
  return n ? sum / n : NaN;
}
