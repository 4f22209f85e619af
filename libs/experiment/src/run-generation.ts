// `strata experiment run` for generation tasks (seq2seq: encoder-decoder; multiple choice: decoder-only causal LM):
// teacher -> one cache of states and top-k distributions -> every grid cell -> angles -> results.json + report.md.
// The same layout and resume rules as run.ts (classification), with generation metrics.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrategyRequest, teacherLayerSet } from '@strata/kd';
import { heatmapSvg, histogramSvg } from '@strata/plots';
import { writeCurvePlots } from './curve-plots';
import { GridCell, cellHash, planGrid } from './grid';
import { writeRunPlan } from './run-status';
import { AngleSummary, ExperimentResults, RESULTS_SCHEMA_VERSION, ResultCell, renderReport } from './report';
import { resolvedStackMaps, trainCurves, upgradeCell } from './results';
import type { RunOptions } from './run';
import { ExperimentManifest } from './schema';
import { analyzeGenerationAngles } from './stages/generation-angles';
import { cacheGenerationTeacher } from './stages/generation-cache';
import { DataOptions, SplitRef, describeSplit, generationArchitecture, loadGenerationData } from './stages/generation-data';
import { evaluateGeneration } from './stages/generation-eval';
import { LoadedGenerationModel, depthOf, loadGenerationModel, paramSpecs, withDepth } from './stages/generation-model';
import { trainGenerationStudent } from './stages/generation-student';
import { GenerationTeacherConfig, finetuneGenerationTeacher, trainGenerationTeacher, type GenerationTeacherResult } from './stages/generation-teacher';
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

/** Runs a generation experiment from a parsed manifest (called by runExperiment for seq2seq and multiple-choice tasks). */
export async function runGenerationExperiment(manifest: ExperimentManifest, manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const started = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { spec } = manifest;
  const baseDir = path.dirname(manifestPath);
  const architecture = generationArchitecture(spec.task);
  if (spec.cache.store !== 'file') throw new Error(`${manifestPath}: spec.cache.store '${spec.cache.store}' needs the services (Kafka); embedded runs use 'file'`);
  const { train, eval: evalRef, data } = generationData(manifest, baseDir);
  const outDir = path.resolve(opts.outDir ?? path.join('runs', manifest.metadata.name));
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  fs.mkdirSync(path.join(outDir, 'students'), { recursive: true });
  writeRunPlan(outDir, { transport: 'embedded', manifest });
  const evaluation = { beam: spec.eval.beam ?? 4, lengthPenalty: spec.eval.lengthPenalty ?? 1, maxAnswerLength: spec.eval.maxAnswerLength ?? 12 };
  const topK = spec.cache.topK ?? 64;
  const labelSmoothing = spec.students.labelSmoothing ?? 0;
  const timings: GenerationResults['timings'] = { students: {} };

  // 1. Teacher: trained here (resumable) or a Strata-exported encoder-decoder / decoder-only model.
  let teacher: LoadedGenerationModel;
  let teacherMetrics: Record<string, number>;
  let maxLength: number;
  let maxTargetLength: number;
  const batchSize = spec.students.batchSize;
  // Scores a loaded model (a Strata-exported teacher, or a saved student to re-score) with the run's settings; the
  // evaluation split is read once, on first use.
  let evalData: ReturnType<typeof loadGenerationData> | undefined;
  const score = async (model: LoadedGenerationModel['model'], values: LoadedGenerationModel['values'], tokenizer: LoadedGenerationModel['tokenizer']) => {
    evalData ??= loadGenerationData(spec.task, evalRef, { ...data, maxExamples: spec.data.maxEvalExamples }, true);
    return (await evaluateGeneration({ task: spec.task, model, values, tokenizer, maxLength, maxTargetLength, ...evaluation, batchSize }, evalData.examples as never)).metrics;
  };
  if (spec.teacher.train || spec.teacher.pretrained) {
    // Trained from scratch or fine-tuned: the same stage result, the lengths it trained at.
    let t: GenerationTeacherResult;
    const common = { task: spec.task, outDir: path.join(outDir, 'teacher'), train, eval: evalRef, maxEvalExamples: spec.data.maxEvalExamples, evaluation, log };
    if (spec.teacher.train) {
      const config = generationTeacherConfig(spec.teacher.train);
      if (spec.students.hidden !== undefined && spec.students.hidden !== config.hidden)
        throw new Error(`${manifestPath}: spec.students.hidden ${spec.students.hidden} differs from spec.teacher.train.hidden ${config.hidden}; students narrower or wider than the teacher are not supported by the generation trainer yet`);
      t = await trainGenerationTeacher({ ...common, config, data });
      maxLength = config.maxLength;
      maxTargetLength = config.maxTargetLength ?? config.maxLength;
    } else {
      const f = { ...TEACHER_FINETUNE_DEFAULTS, ...spec.teacher.finetune };
      t = await finetuneGenerationTeacher({
        ...common, config: f, data: { ...data, maxExamples: f.maxTrainExamples ?? data.maxExamples },
        pretrained: path.resolve(baseDir, spec.teacher.pretrained!), tokenizer: spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined,
      });
      maxLength = f.maxLength;
      maxTargetLength = f.maxTargetLength ?? f.maxLength;
    }
    teacher = loadGenerationModel(t.onnx, t.tokenizer);
    validateAgainstTeacher(manifest, { layers: depthOf(teacher.model), hidden: teacher.model.config.hidden });
    teacherMetrics = t.metrics;
    timings.teacherTrain = t.seconds.train;
    timings.teacherSteps = t.steps;
    timings.teacherEval = t.seconds.eval;
  } else {
    teacher = loadGenerationModel(path.resolve(baseDir, spec.teacher.onnx!), spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined);
    if ((teacher.model.arch === 'bart') !== (architecture === 'encoder-decoder')) throw new Error(`${manifestPath}: task '${spec.task}' needs an ${architecture} teacher; ${teacher.onnx} is '${teacher.model.arch}'`);
    validateAgainstTeacher(manifest, { layers: depthOf(teacher.model), hidden: teacher.model.config.hidden });
    maxLength = maxTargetLength = teacher.model.config.maxPositions;
    const t0 = Date.now();
    teacherMetrics = await score(teacher.model, teacher.values, teacher.tokenizer);
    timings.teacherEval = (Date.now() - t0) / 1000;
  }
  if (spec.students.hidden !== undefined && spec.students.hidden !== teacher.model.config.hidden)
    throw new Error(`${manifestPath}: spec.students.hidden ${spec.students.hidden} differs from the teacher's hidden size ${teacher.model.config.hidden}; students narrower or wider than the teacher are not supported by the generation trainer yet`);
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  const teacherHash = sha256File(teacher.onnx);
  const teacherLayers = depthOf(teacher.model);
  const parametersOf = (depth: number) => paramSpecs(withDepth(teacher.model, depth)).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

  // 2. One cache of every teacher layer any cell can ask for, the same set for each stack, plus the top-k.
  const cells: GridCell[] = planGrid(manifest, { teacherLayers });
  writeRunPlan(outDir, { transport: 'embedded', manifest, cells });
  const requests: StrategyRequest[] = cells
    .filter((c) => c.strategy !== 'none')
    .map((c) => ({ strategy: c.strategy, teacherLayers, studentLayers: c.depth, options: { ...c.options, architecture } }));
  const layers = requests.length ? teacherLayerSet(...requests) : [teacherLayers];
  const cacheRoot = path.join(outDir, 'cache');
  const cache = await cacheGenerationTeacher({ teacher, task: spec.task, train, data, layers, topK, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, cacheRoot, maxLength, maxTargetLength, batchSize, log });
  timings.cache = cache.computed ? cache.seconds : 0;
  log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${layers.join(', ')} per stack, top-${cache.topK}${cache.computed ? '' : ' (reused)'}`);

  // 3. Every cell; a finished cell with the same content hash is skipped. Generation settings join the hash.
  const extra = JSON.stringify({ labelSmoothing, evaluation, topK: cache.topK, train: describeSplit(train), eval: describeSplit(evalRef), maxEvalExamples: spec.data.maxEvalExamples });
  const resultCells: ResultCell[] = new Array(cells.length);
  const pending: { i: number; cell: GridCell; hash: string; dir: string }[] = [];
  for (const [i, cell] of cells.entries()) {
    const hash = cellHash(cell, { teacherHash, cacheKey: `${cache.cacheKey}|${extra}` });
    const dir = path.join(outDir, 'students', cell.id);
    const resultFile = path.join(dir, 'result.json');
    if (fs.existsSync(resultFile)) {
      const raw = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { hash?: string; depth?: number };
      if (raw.hash === hash) {
        // A schemaVersion-1 file gets its sizes from the saved student; its wall time is its seconds (train + eval).
        const onnx = path.join(outDir, 'students', `${cell.id}.onnx`);
        const done = upgradeCell(raw, { file: resultFile, student: fs.existsSync(onnx) ? { parameters: parametersOf(cell.depth), onnxBytes: fs.statSync(onnx).size } : undefined });
        if (!('wallSeconds' in raw)) writeAtomic(resultFile, `${JSON.stringify(done, null, 2)}\n`);
        // The teacher is scored on every run, so its metrics name everything the evaluator measures today; a cell
        // finished by an older evaluator is re-scored from its saved student instead of being retrained.
        const missing = staleMetrics(done.metrics, teacherMetrics);
        if (missing.length) {
          log(`[${i + 1}/${cells.length}] ${cell.id}: finished earlier without ${missing.join(', ')}; re-scoring students/${cell.id}.onnx`);
          const t0 = Date.now();
          const s = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
          done.metrics = await score(s.model, s.values, teacher.tokenizer);
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
      task: spec.task, cacheRoot, cacheKey: cache.cacheKey, strategy: cell.strategy, strategyOptions: cell.options, init: cell.init, depth: cell.depth, seed: cell.seed,
      loss: cell.loss, labelSmoothing, epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr, outDir: dir,
      train, eval: evalRef, data, maxEvalExamples: spec.data.maxEvalExamples, maxLength, maxTargetLength, evaluation,
    };
    const r = parallel > 1
      ? await trainInWorker({ kind: 'generation', options: { ...options, teacherOnnx: teacher.onnx, tokenizerPath: teacher.tokenizerPath } }, { threads, log })
      : await trainGenerationStudent({ ...options, teacher, log });
    const result: ResultCell = {
      id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, ...resolvedStackMaps(r.layerMaps),
      metrics: r.metrics, curves: trainCurves(r.curve), hash, wallSeconds: r.wallSeconds, student: { parameters: r.parameters, onnxBytes: fs.statSync(r.onnx).size }, seconds: r.seconds, steps: r.steps,
    };
    fs.copyFileSync(r.onnx, path.join(outDir, 'students', `${cell.id}.onnx`));
    writeAtomic(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    resultCells[i] = result;
  });
  // Wall time of the cells trained in this run (several at a time overlap, so it is less than their sum).
  timings.studentsWall = (Date.now() - studentsStarted) / 1000;
  timings.parallelism = parallel;
  // A run of a --cells subset: the results cover the finished cells and name the grid's missing ones.
  const missingCells = cells.filter((_, i) => !resultCells[i]).map((c) => c.id);
  const finishedCells = resultCells.filter(Boolean);
  for (const c of finishedCells) if (c.seconds) timings.students[c.id] = { ...c.seconds, steps: c.steps ?? 0 };

  const firstSeed = spec.students.seeds[0];
  writeCurvePlots(outDir, finishedCells);

  // 5. Angle analysis on the first seed's students, per stack.
  const angles: AngleSummary[] = [];
  if (spec.analysis.angles) {
    const t0 = Date.now();
    for (const cell of cells.filter((c) => c.seed === firstSeed && c.strategy !== 'none' && !missingCells.includes(c.id))) {
      const s = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
      const byStack = await analyzeGenerationAngles({
        teacher, student: { model: withDepth(teacher.model, cell.depth), values: s.values }, task: spec.task, eval: evalRef, data, examples: opts.angleExamples ?? 256, maxLength, maxTargetLength,
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
  timings.total = (Date.now() - started) / 1000;

  const results: GenerationResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    experiment: manifest.metadata.name,
    task: spec.task,
    teacher: { metrics: teacherMetrics, layers: teacherLayers, hidden: teacher.model.config.hidden, hash: teacherHash, parameters: parametersOf(teacherLayers), onnxBytes: fs.statSync(teacher.onnx).size },
    cells: finishedCells,
    ...(missingCells.length ? { missingCells } : {}),
    angles: angles.length ? angles : undefined,
    plots: fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg') && !f.startsWith('angles-hist-')).sort().map((f) => ({ title: f.replace(/\.svg$/, ''), file: `plots/${f}` })),
    createdAt: new Date().toISOString(),
    versions: { node: process.version, '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
    setup: {
      architecture: teacher.model.arch === 'bart' ? 'encoder-decoder (BART-style)' : 'decoder-only (Qwen3-style)',
      train: describeSplit(train), eval: describeSplit(evalRef), trainExamples: cache.count, maxEvalExamples: spec.data.maxEvalExamples ?? null,
      maxLength, maxTargetLength, vocabSize: teacher.model.config.vocabSize, cacheLayers: layers, topK: cache.topK, evaluation,
    },
    timings,
  };
  writeAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'report.md'), renderGenerationReport(results));
  log(`wrote ${path.join(outDir, 'report.md')}`);
  return { outDir, results };
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
