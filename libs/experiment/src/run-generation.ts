// `strata experiment run` for generation tasks (seq2seq: encoder-decoder; multiple choice: decoder-only causal LM):
// teacher -> one cache of states and top-k distributions -> every grid cell -> angles -> results.json + report.md.
// The same layout and resume rules as run.ts (classification), with generation metrics.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrategyRequest, teacherLayerSet } from '@strata/kd';
import { heatmapSvg, histogramSvg } from '@strata/plots';
import { writeCurvePlots } from './curve-plots';
import { GridCell, cellDivergence, cellHash, cellWidth, planGrid } from './grid';
import { writeRunPlan } from './run-status';
import { AngleSummary, ExperimentResults, RESULTS_SCHEMA_VERSION, ResultCell, renderReport } from './report';
import { resolvedStackMaps, trainCurves, upgradeCell } from './results';
import type { RunOptions } from './run';
import { ExperimentManifest } from './schema';
import { analyzeGenerationAngles } from './stages/generation-angles';
import { cacheGenerationTeacher } from './stages/generation-cache';
import { DataOptions, SplitRef, describeSplit, generationArchitecture, loadGenerationData } from './stages/generation-data';
import { evaluateGeneration } from './stages/generation-eval';
import { GenerationConfig, LoadedGenerationModel, depthOf, loadGenerationModel, paramSpecs, withDepth, withWidth } from './stages/generation-model';
import { PROJECTIONS_FILE, type StudentWidth } from './stages/student-width';
import { trainGenerationStudent, type StackMaps } from './stages/generation-student';
import { GenerationTeacherConfig, finetuneGenerationTeacher, trainGenerationTeacher, type GenerationEvalSettings, type GenerationTeacherResult } from './stages/generation-teacher';
import type { Curve } from './stages/loop';
import { TEACHER_FINETUNE_DEFAULTS } from './stages/teacher';
import { mapPool, studentLanes, trainInWorker } from './stages/student-workers';
import { validateAgainstTeacher } from './validate';

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** What a generation experiment reads: its training and evaluation examples and the loader options. */
export interface GenerationData {
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
}

/** Resolves the manifest's data section: the split references (or a carve) and user-supplied training files. */
export function generationData(manifest: ExperimentManifest, baseDir: string): GenerationData {
  const { spec } = manifest;
  const resolve = (field: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    const abs = path.resolve(baseDir, file);
    if (!fs.existsSync(abs)) throw new Error(`spec.data.${field}: ${abs} not found`);
    return abs;
  };
  const trainFile = resolve('trainFile', spec.data.trainFile);
  const trainSourceFile = resolve('trainSourceFile', spec.data.trainSourceFile);
  const trainTargetFile = resolve('trainTargetFile', spec.data.trainTargetFile);
  if ((trainFile || trainSourceFile || trainTargetFile) && spec.task !== 'wmt16-en-ro')
    throw new Error(`spec.data.trainFile / trainSourceFile / trainTargetFile are for task wmt16-en-ro, not '${spec.task}'`);
  const carve = spec.data.carve;
  const data: DataOptions = {
    dataRoot: spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined,
    load: { trainFile, trainSourceFile, trainTargetFile },
    maxExamples: spec.data.maxTrainExamples,
  };
  if (carve) return { train: { split: carve.from, part: 'train', carve }, eval: { split: carve.from, part: 'eval', carve }, data };
  return { train: { split: spec.data.trainSplit }, eval: { split: spec.eval.split }, data };
}

/** The teacher-training settings of a manifest's `teacher.train`. */
export function generationTeacherConfig(t: NonNullable<ExperimentManifest['spec']['teacher']['train']>): GenerationTeacherConfig {
  return {
    layers: t.layers, hidden: t.hidden, heads: t.heads, kvHeads: t.kvHeads, headDim: t.headDim, preLayerNorm: t.preLayerNorm, intermediate: t.intermediate, maxLength: t.maxLength,
    maxTargetLength: t.maxTargetLength, vocabSize: t.vocabSize, tokenizer: t.tokenizer, epochs: t.epochs, batchSize: t.batchSize, lr: t.lr,
    warmupRatio: t.warmupRatio, dropout: t.dropout, labelSmoothing: t.labelSmoothing ?? 0, seed: t.seed,
  };
}

/** Metrics the current evaluator reports (as the teacher's fresh scores show) that a saved result lacks. */
export function staleMetrics(saved: Readonly<Record<string, number>>, current: Readonly<Record<string, number>>): string[] {
  return Object.keys(current).filter((k) => !(k in saved));
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

export interface GenerationResults extends ExperimentResults {
  /** How the run was set up: splits (carved or not), sizes, cache. */
  setup: Record<string, unknown>;
  /** Wall-clock seconds per stage, for sizing longer runs. */
  timings: { teacherTrain?: number; teacherSteps?: number; teacherEval?: number; cache?: number; students: Record<string, { train: number; eval: number; steps: number }>; studentsWall?: number; parallelism?: number; angles?: number; total?: number };
}

/** A generation run's settings that every stage and service derives alike from the manifest and the teacher. */
export interface GenerationSettings {
  architecture: 'encoder-decoder' | 'decoder';
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
  evaluation: GenerationEvalSettings;
  /** Vocabulary entries asked of the cache per target position (the cache keeps min(topK, vocabulary)). */
  topK: number;
  labelSmoothing: number;
  /** Source length (seq2seq) or whole sequence (decoder-only), and the seq2seq target length. */
  maxLength: number;
  maxTargetLength: number;
  maxEvalExamples?: number;
}

/**
 * The settings of a generation run: data from the manifest (paths against `baseDir`; `dataRoot` overrides
 * spec.data.root, as a service's STRATA_DATA_ROOT does), the lengths the teacher was trained at (or its positions).
 */
export function generationSettings(manifest: ExperimentManifest, baseDir: string, teacher: GenerationConfig, dataRoot?: string): GenerationSettings {
  const { spec } = manifest;
  const { train, eval: evalRef, data } = generationData(manifest, baseDir);
  if (dataRoot !== undefined) data.dataRoot = dataRoot;
  let maxLength: number;
  let maxTargetLength: number;
  if (spec.teacher.train) {
    maxLength = spec.teacher.train.maxLength;
    maxTargetLength = spec.teacher.train.maxTargetLength ?? maxLength;
  } else if (spec.teacher.pretrained) {
    const f = { ...TEACHER_FINETUNE_DEFAULTS, ...spec.teacher.finetune };
    maxLength = f.maxLength;
    maxTargetLength = f.maxTargetLength ?? f.maxLength;
  } else maxLength = maxTargetLength = teacher.config.maxPositions;
  return {
    architecture: generationArchitecture(spec.task), train, eval: evalRef, data,
    evaluation: { beam: spec.eval.beam ?? 4, lengthPenalty: spec.eval.lengthPenalty ?? 1, maxAnswerLength: spec.eval.maxAnswerLength ?? 12 },
    topK: spec.cache.topK ?? 64, labelSmoothing: spec.students.labelSmoothing ?? 0, maxLength, maxTargetLength, maxEvalExamples: spec.data.maxEvalExamples,
  };
}

/** The content hash of a generation cell: the cell, the teacher, the cache and the generation settings that shape its result. */
export function generationCellHash(cell: GridCell, teacherHash: string, cacheKey: string, topK: number, s: GenerationSettings): string {
  const extra = JSON.stringify({ labelSmoothing: s.labelSmoothing, evaluation: s.evaluation, topK, train: describeSplit(s.train), eval: describeSplit(s.eval), maxEvalExamples: s.maxEvalExamples });
  return cellHash(cell, { teacherHash, cacheKey: `${cacheKey}|${extra}` });
}

/** What a trained generation student contributes to its result (from the trainer embedded, from its training record and the evaluator's score over Kafka). */
export interface GenerationCellTraining {
  metrics: Record<string, number>;
  layerMaps: StackMaps[];
  curve: Curve[];
  wallSeconds: number;
  parameters: number;
  seconds: { train: number; eval: number };
  steps: number;
}

export function generationResultCell(cell: GridCell, r: GenerationCellTraining, hash: string, onnxBytes: number): ResultCell {
  return {
    id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, ...resolvedStackMaps(r.layerMaps),
    metrics: r.metrics, curves: trainCurves(r.curve), hash, wallSeconds: r.wallSeconds, student: { parameters: r.parameters, onnxBytes }, seconds: r.seconds, steps: r.steps, ...cellDivergence(cell),
  };
}

/** Scores a saved student (or teacher) .onnx on the run's evaluation split with the run's generation settings. */
export async function scoreGenerationModel(task: string, s: GenerationSettings, model: Pick<LoadedGenerationModel, 'model' | 'values' | 'tokenizer'>, batchSize: number, evalData?: ReturnType<typeof loadGenerationData>) {
  const examples = evalData ?? loadGenerationData(task, s.eval, { ...s.data, maxExamples: s.maxEvalExamples }, true);
  return evaluateGeneration({ task, model: model.model, values: model.values, tokenizer: model.tokenizer, maxLength: s.maxLength, maxTargetLength: s.maxTargetLength, ...s.evaluation, batchSize }, examples.examples as never);
}

/** A generation experiment set up: its teacher (trained, fine-tuned or copied into <outDir>/teacher/), settings and grid. */
export interface GenerationExperiment {
  manifest: ExperimentManifest;
  outDir: string;
  settings: GenerationSettings;
  teacher: LoadedGenerationModel;
  teacherMetrics: Record<string, number>;
  teacherHash: string;
  teacherLayers: number;
  cells: GridCell[];
  /** Teacher hidden states every cell can ask for, the same set for each stack. */
  cacheLayers: number[];
  timings: GenerationResults['timings'];
  log: (line: string) => void;
}

/** Parameters (floats) of a student of `depth` layers per stack of this teacher. */
export function generationParameters(teacher: GenerationConfig, depth: number, width?: StudentWidth): number {
  return paramSpecs(withWidth(withDepth(teacher, depth), width)).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** teacher.json beside a generation teacher: its metrics (trained, fine-tuned, or a given teacher scored by the run). */
export function savedGenerationTeacherMetrics(teacherDir: string): Record<string, number> {
  const file = path.join(teacherDir, 'teacher.json');
  return fs.existsSync(file) ? ((JSON.parse(fs.readFileSync(file, 'utf8')) as { metrics?: Record<string, number> }).metrics ?? {}) : {};
}

/**
 * Step 1 of a generation run, shared by embedded mode and the services: the teacher in <outDir>/teacher/ (trained
 * there, resumable; fine-tuned there; or a given Strata export copied there with its tokenizer and scored, its
 * metrics saved in teacher.json), so every later step and every service finds it at the same place; then the grid
 * and the cache's layer set.
 */
export async function generationExperiment(manifest: ExperimentManifest, manifestPath: string, opts: { outDir?: string; log?: (line: string) => void; transport?: 'embedded' | 'kafka' } = {}): Promise<GenerationExperiment> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { spec } = manifest;
  const baseDir = path.dirname(manifestPath);
  const architecture = generationArchitecture(spec.task);
  const transport = opts.transport ?? 'embedded';
  const outDir = path.resolve(opts.outDir ?? path.join('runs', manifest.metadata.name));
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  fs.mkdirSync(path.join(outDir, 'students'), { recursive: true });
  writeRunPlan(outDir, { transport, manifest });
  const teacherDir = path.join(outDir, 'teacher');
  const timings: GenerationResults['timings'] = { students: {} };
  // Data and evaluation settings need no teacher; the lengths come from it below.
  const { train, eval: evalRef, data } = generationData(manifest, baseDir);
  const evaluation = { beam: spec.eval.beam ?? 4, lengthPenalty: spec.eval.lengthPenalty ?? 1, maxAnswerLength: spec.eval.maxAnswerLength ?? 12 };

  let teacher: LoadedGenerationModel;
  let teacherMetrics: Record<string, number>;
  if (spec.teacher.train || spec.teacher.pretrained) {
    // Trained from scratch or fine-tuned: the same stage result, the lengths it trained at.
    let t: GenerationTeacherResult;
    const common = { task: spec.task, outDir: teacherDir, train, eval: evalRef, maxEvalExamples: spec.data.maxEvalExamples, evaluation, log };
    if (spec.teacher.train) {
      const config = generationTeacherConfig(spec.teacher.train);
      t = await trainGenerationTeacher({ ...common, config, data });
    } else {
      const f = { ...TEACHER_FINETUNE_DEFAULTS, ...spec.teacher.finetune };
      t = await finetuneGenerationTeacher({
        ...common, config: f, data: { ...data, maxExamples: f.maxTrainExamples ?? data.maxExamples },
        pretrained: path.resolve(baseDir, spec.teacher.pretrained!), tokenizer: spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined,
      });
    }
    teacher = loadGenerationModel(t.onnx, t.tokenizer);
    validateAgainstTeacher(manifest, { layers: depthOf(teacher.model), hidden: teacher.model.config.hidden });
    teacherMetrics = t.metrics;
    timings.teacherTrain = t.seconds.train;
    timings.teacherSteps = t.steps;
    timings.teacherEval = t.seconds.eval;
  } else {
    const given = loadGenerationModel(path.resolve(baseDir, spec.teacher.onnx!), spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined);
    if ((given.model.arch === 'bart') !== (architecture === 'encoder-decoder')) throw new Error(`${manifestPath}: task '${spec.task}' needs an ${architecture} teacher; ${given.onnx} is '${given.model.arch}'`);
    validateAgainstTeacher(manifest, { layers: depthOf(given.model), hidden: given.model.config.hidden });
    fs.mkdirSync(teacherDir, { recursive: true });
    const onnx = path.join(teacherDir, 'teacher.onnx');
    const tokenizer = path.join(teacherDir, 'tokenizer.json');
    if (path.resolve(given.onnx) !== onnx) fs.copyFileSync(given.onnx, onnx);
    if (path.resolve(given.tokenizerPath) !== tokenizer) fs.copyFileSync(given.tokenizerPath, tokenizer);
    teacher = loadGenerationModel(onnx, tokenizer);
    const t0 = Date.now();
    teacherMetrics = (await scoreGenerationModel(spec.task, generationSettings(manifest, baseDir, teacher.model), teacher, spec.students.batchSize)).metrics;
    timings.teacherEval = (Date.now() - t0) / 1000;
    writeAtomic(path.join(teacherDir, 'teacher.json'), `${JSON.stringify({ onnx, tokenizer, given: path.resolve(given.onnx), metrics: teacherMetrics }, null, 2)}\n`);
  }
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  const teacherLayers = depthOf(teacher.model);
  const cells = planGrid(manifest, { teacherLayers });
  writeRunPlan(outDir, { transport, manifest, cells });
  return {
    manifest, outDir, settings: generationSettings(manifest, baseDir, teacher.model), teacher, teacherMetrics, teacherHash: sha256File(teacher.onnx), teacherLayers, cells,
    cacheLayers: generationCacheLayers(cells, teacherLayers, architecture), timings, log,
  };
}

/** One cache of every teacher layer any cell can ask for, the same set for each stack. */
export function generationCacheLayers(cells: readonly GridCell[], teacherLayers: number, architecture: 'encoder-decoder' | 'decoder'): number[] {
  const requests: StrategyRequest[] = cells
    .filter((c) => c.strategy !== 'none')
    .map((c) => ({ strategy: c.strategy, teacherLayers, studentLayers: c.depth, options: { ...c.options, architecture } }));
  return requests.length ? teacherLayerSet(...requests) : [teacherLayers];
}

/** Runs a generation experiment from a parsed manifest (called by runExperiment for seq2seq and multiple-choice tasks). */
export async function runGenerationExperiment(manifest: ExperimentManifest, manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const started = Date.now();
  const { spec } = manifest;
  if (spec.cache.store !== 'file') throw new Error(`${manifestPath}: spec.cache.store '${spec.cache.store}' needs the services (--transport kafka); embedded runs use 'file'`);

  // 1. Teacher: trained here (resumable) or a Strata-exported encoder-decoder / decoder-only model.
  const run = await generationExperiment(manifest, manifestPath, { outDir: opts.outDir, log: opts.log, transport: 'embedded' });
  const { outDir, settings, teacher, teacherMetrics, teacherHash, cells, cacheLayers: layers, timings, log } = run;
  const { train, eval: evalRef, data, evaluation, labelSmoothing, maxLength, maxTargetLength } = settings;

  // 2. One cache of every teacher layer any cell can ask for, the same set for each stack, plus the top-k.
  const cacheRoot = path.join(outDir, 'cache');
  const cache = await cacheGenerationTeacher({ teacher, task: spec.task, train, data, layers, topK: settings.topK, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, cacheRoot, maxLength, maxTargetLength, batchSize: spec.students.batchSize, log });
  timings.cache = cache.computed ? cache.seconds : 0;
  log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${layers.join(', ')} per stack, top-${cache.topK}${cache.computed ? '' : ' (reused)'}`);

  // 3. Every cell; a finished cell with the same content hash is skipped. Generation settings join the hash.
  const resultCells: ResultCell[] = new Array(cells.length);
  const pending: { i: number; cell: GridCell; hash: string; dir: string }[] = [];
  let evalData: ReturnType<typeof loadGenerationData> | undefined;
  for (const [i, cell] of cells.entries()) {
    const hash = generationCellHash(cell, teacherHash, cache.cacheKey, cache.topK, settings);
    const dir = path.join(outDir, 'students', cell.id);
    const resultFile = path.join(dir, 'result.json');
    if (fs.existsSync(resultFile)) {
      const raw = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { hash?: string; depth?: number };
      if (raw.hash === hash) {
        // A schemaVersion-1 file gets its sizes from the saved student; its wall time is its seconds (train + eval).
        const onnx = path.join(outDir, 'students', `${cell.id}.onnx`);
        const done = upgradeCell(raw, { file: resultFile, student: fs.existsSync(onnx) ? { parameters: generationParameters(teacher.model, cell.depth, cellWidth(cell)), onnxBytes: fs.statSync(onnx).size } : undefined });
        if (!('wallSeconds' in raw)) writeAtomic(resultFile, `${JSON.stringify(done, null, 2)}\n`);
        // The teacher is scored on every run, so its metrics name everything the evaluator measures today; a cell
        // finished by an older evaluator is re-scored from its saved student instead of being retrained.
        const missing = staleMetrics(done.metrics, teacherMetrics);
        if (missing.length) {
          log(`[${i + 1}/${cells.length}] ${cell.id}: finished earlier without ${missing.join(', ')}; re-scoring students/${cell.id}.onnx`);
          const t0 = Date.now();
          const s = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
          evalData ??= loadGenerationData(spec.task, evalRef, { ...data, maxExamples: spec.data.maxEvalExamples }, true);
          done.metrics = (await scoreGenerationModel(spec.task, settings, { ...s, tokenizer: teacher.tokenizer }, spec.students.batchSize, evalData)).metrics;
          if (done.seconds) done.seconds.eval = (Date.now() - t0) / 1000;
          writeAtomic(resultFile, `${JSON.stringify(done, null, 2)}\n`);
        } else log(`[${i + 1}/${cells.length}] ${cell.id}: finished earlier, skipped`);
        resultCells[i] = done;
        continue;
      }
    }
    if (!opts.cells || opts.cells.includes(cell.id)) pending.push({ i, cell, hash, dir });
    else log(`[${i + 1}/${cells.length}] ${cell.id}: not selected (--cells), left for a later run`);
  }
  const { parallel, threads } = studentLanes(opts.parallelism ?? spec.resources?.parallelism, pending.length, log);
  const studentsStarted = Date.now();
  await mapPool(pending, parallel, async ({ i, cell, hash, dir }) => {
    log(`[${i + 1}/${cells.length}] ${cell.id}`);
    const options = {
      task: spec.task, cacheRoot, cacheKey: cache.cacheKey, strategy: cell.strategy, strategyOptions: cell.options, init: cell.init, depth: cell.depth, width: cellWidth(cell), seed: cell.seed,
      loss: cell.loss, labelSmoothing, epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr, outDir: dir,
      train, eval: evalRef, data, maxEvalExamples: spec.data.maxEvalExamples, maxLength, maxTargetLength, evaluation,
    };
    const r = parallel > 1
      ? await trainInWorker({ kind: 'generation', options: { ...options, teacherOnnx: teacher.onnx, tokenizerPath: teacher.tokenizerPath } }, { threads, log })
      : await trainGenerationStudent({ ...options, teacher, log });
    const result = generationResultCell(cell, r, hash, fs.statSync(r.onnx).size);
    fs.copyFileSync(r.onnx, path.join(outDir, 'students', `${cell.id}.onnx`));
    writeAtomic(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    resultCells[i] = result;
  });
  // Wall time of the cells trained in this run (several at a time overlap, so it is less than their sum).
  timings.studentsWall = (Date.now() - studentsStarted) / 1000;
  timings.parallelism = parallel;
  const results = await finishGenerationExperiment({ run, resultCells, trainExamples: cache.count, topK: cache.topK, angleExamples: opts.angleExamples, started });
  return { outDir, results };
}

export interface FinishGenerationOptions {
  run: Pick<GenerationExperiment, 'manifest' | 'outDir' | 'settings' | 'teacher' | 'teacherMetrics' | 'teacherHash' | 'teacherLayers' | 'cells' | 'cacheLayers' | 'timings' | 'log'>;
  /** The finished cells' results in grid order (holes for cells not finished: listed as missingCells). */
  resultCells: (ResultCell | undefined)[];
  trainExamples: number;
  /** The top-k the cache holds. */
  topK: number;
  angleExamples?: number;
  /** When the run began (Date.now()), for timings.total. */
  started?: number;
}

/** Curves, the angle analysis per stack, results.json and report.md of a generation run (embedded mode and the evaluator). */
export async function finishGenerationExperiment(o: FinishGenerationOptions): Promise<GenerationResults> {
  const { manifest, outDir, settings, teacher, teacherMetrics, teacherHash, teacherLayers, cells, cacheLayers: layers, timings, log } = o.run;
  const { spec } = manifest;
  const { architecture, eval: evalRef, data, maxLength, maxTargetLength, evaluation } = settings;
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  // A run of a --cells subset: the results cover the finished cells and name the grid's missing ones.
  const missingCells = cells.filter((_, i) => !o.resultCells[i]).map((c) => c.id);
  const finishedCells = o.resultCells.filter((c): c is ResultCell => c !== undefined);
  for (const c of finishedCells) if (c.seconds) timings.students[c.id] = { ...c.seconds, steps: c.steps ?? 0 };

  const firstSeed = spec.students.seeds[0];
  writeCurvePlots(outDir, finishedCells);

  // Angle analysis on the first seed's students, per stack.
  const angles: AngleSummary[] = [];
  if (spec.analysis.angles) {
    const t0 = Date.now();
    for (const cell of cells.filter((c) => c.seed === firstSeed && c.strategy !== 'none' && !missingCells.includes(c.id))) {
      const s = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
      const byStack = await analyzeGenerationAngles({
        teacher, student: { model: withWidth(withDepth(teacher.model, cell.depth), cellWidth(cell)), values: s.values }, projections: path.join(outDir, 'students', cell.id, PROJECTIONS_FILE), task: spec.task, eval: evalRef, data, examples: o.angleExamples ?? 256, maxLength, maxTargetLength,
      });
      for (const [stack, result] of Object.entries(byStack)) {
        const id = architecture === 'encoder-decoder' ? `${cell.id} (${stack})` : cell.id;
        angles.push({ cellId: id, layers: result.map((l) => ({ studentLayer: l.studentLayer, acuteFraction: l.fractionAcute, meanCosine: offDiagonalMean(l.meanCosine, l.teacherLayers.length) })) });
        for (const l of result) {
          const labels = l.teacherLayers.map(String);
          const file = `${cell.id}-${stack}-layer${l.studentLayer}`; // not -s<k>: cell ids end in -s<seed>
          fs.writeFileSync(path.join(outDir, 'plots', `angles-${file}.svg`), heatmapSvg({ title: `${id}: mean cos at student layer ${l.studentLayer}`, rowLabels: labels, colLabels: labels, rowTitle: 'teacher layer', colTitle: 'teacher layer', values: Array.from(l.meanCosine), min: -1, max: 1, colorScale: 'diverging' }));
          fs.writeFileSync(path.join(outDir, 'plots', `angles-hist-${file}.svg`), histogramSvg({ title: `${id}: cosines at student layer ${l.studentLayer}`, bins: l.histogram, xLabel: 'cosine' }));
        }
      }
    }
    timings.angles = (Date.now() - t0) / 1000;
  }
  if (o.started !== undefined) timings.total = (Date.now() - o.started) / 1000;

  const results: GenerationResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    experiment: manifest.metadata.name,
    task: spec.task,
    teacher: { metrics: teacherMetrics, layers: teacherLayers, hidden: teacher.model.config.hidden, hash: teacherHash, parameters: generationParameters(teacher.model, teacherLayers), onnxBytes: fs.statSync(teacher.onnx).size },
    cells: finishedCells,
    ...(missingCells.length ? { missingCells } : {}),
    angles: angles.length ? angles : undefined,
    plots: fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg') && !f.startsWith('angles-hist-')).sort().map((f) => ({ title: f.replace(/\.svg$/, ''), file: `plots/${f}` })),
    createdAt: new Date().toISOString(),
    versions: { node: process.version, '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
    setup: {
      architecture: teacher.model.arch === 'bart' ? 'encoder-decoder (BART-style)' : 'decoder-only (Qwen3-style)',
      train: describeSplit(settings.train), eval: describeSplit(evalRef), trainExamples: o.trainExamples, maxEvalExamples: spec.data.maxEvalExamples ?? null,
      maxLength, maxTargetLength, vocabSize: teacher.model.config.vocabSize, cacheLayers: layers, topK: o.topK, evaluation,
    },
    timings,
  };
  writeAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'report.md'), renderGenerationReport(results));
  log(`wrote ${path.join(outDir, 'report.md')}`);
  return results;
}

/** The Table-1 report plus the setup of a generation run (splits, carve, cache) and its stage timings. */
export function renderGenerationReport(r: GenerationResults): string {
  const s = r.setup;
  const lines = [
    '',
    '## Setup',
    '',
    `- Architecture: ${s.architecture}; teacher ${r.teacher.layers} layers per stack, hidden ${r.teacher.hidden}, vocabulary ${s.vocabSize}.`,
    `- Trained on ${s.train} (${s.trainExamples} examples); evaluated on ${s.eval}${s.maxEvalExamples ? ` (at most ${s.maxEvalExamples} examples)` : ''}.`,
    `- Teacher cache: hidden states ${(s.cacheLayers as number[]).join(', ')} per stack and the top-${s.topK} next-token distribution of every target position.`,
    `- Generation: beam ${(s.evaluation as { beam: number }).beam}, length penalty ${(s.evaluation as { lengthPenalty: number }).lengthPenalty}.`,
    '',
    '## Timings (seconds, this machine)',
    '',
    `teacher training ${fmt(r.timings.teacherTrain)}, teacher evaluation ${fmt(r.timings.teacherEval)}, cache ${fmt(r.timings.cache)}, students ${fmt(r.timings.studentsWall)}${(r.timings.parallelism ?? 1) > 1 ? ` (${r.timings.parallelism} at a time)` : ''}, angles ${fmt(r.timings.angles)}, total ${fmt(r.timings.total)} (stages reused from an earlier run count 0).`,
    '',
    '| Cell | train | eval | steps |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(r.timings.students).map(([id, t]) => `| ${id} | ${t.train.toFixed(0)} | ${t.eval.toFixed(0)} | ${t.steps} |`),
  ];
  return `${renderReport(r).trimEnd()}\n${lines.join('\n')}\n`;
}

function fmt(v: number | undefined): string {
  return v === undefined ? 'n/a' : v.toFixed(0);
}
