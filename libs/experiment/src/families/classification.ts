// Classification tasks as the pipeline's family adapter: a BERT-style teacher, a cache of hidden states and logits,
// students scored by accuracy / F1 (percent), angles per cell, the CPU latency of the teacher and the students.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bertMaxLength } from '@strata/nn';
import type { CacheWork, FamilyAdapter, FamilyRun } from '../family';
import { sha256File } from '../files';
import { cellHash, cellWidth, type GridCell } from '../grid';
import { measureLatency } from '../latency';
import { renderReport, type ExperimentResults } from '../report';
import { ExperimentManifest } from '../schema';
import { analyzeAngles } from '../stages/angles';
import { cacheTeacherStates, fillCache, prepareCache, type CacheResult, type PreparedCache } from '../stages/cache';
import { LoadedTeacher, encodeClassification, loadTeacher } from '../stages/common';
import { scoreClassifier } from '../stages/eval';
import { trainStudent } from '../stages/student';
import { PROJECTIONS_FILE, readProjections, studentBertConfig } from '../stages/student-width';
import { trainInWorker } from '../stages/student-workers';
import { bertParameters, cellResult, checkpointTrainSeconds, experimentGrid, finishedCell } from './classification-cells';
import { obtainTeacher, savedTeacherMetrics, savedTeacherWarnings } from './classification-teacher';

export interface ClassificationRun extends FamilyRun {
  teacher: LoadedTeacher;
  /** spec.data.root resolved, or the service's STRATA_DATA_ROOT. */
  dataRoot?: string;
  /** Set when the cache came from an int8 teacher: reported beside the teacher's own metrics. */
  teacherCache?: ExperimentResults['teacherCache'];
}

// Absent rather than empty, so results without warnings read as they did before the field existed.
const warningsOf = (warnings: string[]) => (warnings.length ? { warnings } : {});

/** Parameters of a student of `depth` layers of this run (what the trainer trains and the export holds). */
const studentParameters = (run: ClassificationRun, depth: number) => bertParameters(studentBertConfig(run.teacher.config, depth, run.manifest.spec.students));

/** A cell's training settings, whichever way its teacher states arrive. */
function studentOptions(run: ClassificationRun, cell: GridCell, outDir: string) {
  const { spec } = run.manifest;
  return {
    task: spec.task, strategy: cell.strategy, strategyOptions: cell.options, init: cell.init, depth: cell.depth, width: cellWidth(cell), seed: cell.seed, loss: cell.loss,
    epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr, outDir, evalSplit: spec.eval.split, trainSplit: spec.data.trainSplit, dataRoot: run.dataRoot,
    maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples,
  };
}

function classificationRun(manifest: ExperimentManifest, outDir: string, log: (line: string) => void, teacher: LoadedTeacher, teacherHash: string, teacherMetrics: Record<string, number>, dataRoot: string | undefined): ClassificationRun {
  const { cells, cacheLayers } = experimentGrid(manifest, teacher.config.layers);
  return { manifest, outDir, log, teacher, teacherHash, teacherLayers: teacher.config.layers, teacherMetrics, cells, cacheLayers, dataRoot };
}

export const classificationFamily: FamilyAdapter<ClassificationRun, CacheResult> = {
  kind: 'classification',

  async obtainTeacher(ctx) {
    const t = await obtainTeacher(ctx);
    return classificationRun(ctx.manifest, ctx.outDir, ctx.log, t.teacher, t.hash, t.metrics, ctx.dataRoot);
  },

  serviceRun(manifest, expDir, o) {
    const teacher = loadTeacher(o.teacherOnnx, o.tokenizer, { hiddenStates: manifest.spec.teacher.hiddenStates });
    return classificationRun(manifest, expDir, () => undefined, teacher, sha256File(o.teacherOnnx), savedTeacherMetrics(path.join(expDir, 'teacher')), o.dataRoot);
  },

  async fillCache(run) {
    const { manifest, outDir, teacher, cacheLayers, dataRoot, log } = run;
    const { spec } = manifest;
    const cache = await cacheTeacherStates({ teacher, task: spec.task, split: spec.data.trainSplit, layers: cacheLayers, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, cacheRoot: path.join(outDir, 'cache'), dataRoot, maxExamples: spec.data.maxTrainExamples, log });
    log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${cacheLayers.join(', ')}${cache.teacherPrecision === 'int8' ? ', int8 teacher' : ''}${cache.computed ? '' : ' (reused)'}`);
    if (cache.teacherPrecision === 'int8') run.teacherCache = { teacherPrecision: cache.teacherPrecision, int8Error: cache.int8Error };
    return cache;
  },

  cacheRequestFields: () => ({}),

  servedCache: (_run, cacheKey) => ({ cacheKey }),

  recordCache: (_run, record) => ({ cacheKey: record.cacheKey }),

  cellHash: (run, cell, cache) => cellHash(cell, { teacherHash: run.teacherHash, cacheKey: cache.cacheKey }),

  finishedCell: (run, cell, hash) => finishedCell(run.outDir, cell.id, hash, (depth) => studentParameters(run, depth)),

  async trainCell(run, cell, hash, cache, lane) {
    const { outDir, teacher } = run;
    const options = { ...studentOptions(run, cell, path.join(outDir, 'students', cell.id)), cacheRoot: path.join(outDir, 'cache'), cacheKey: cache.cacheKey };
    const r = lane.parallel > 1
      ? await trainInWorker({ kind: 'classification', options: { ...options, teacherOnnx: teacher.onnx, tokenizerPath: teacher.tokenizerPath } }, { threads: lane.threads, log: lane.log })
      : await trainStudent({ ...options, teacher, log: lane.log });
    return { onnx: r.onnx, result: cellResult(cell, { ...r, metrics: r.metrics!, onnxBytes: fs.statSync(r.onnx).size }, hash) };
  },

  async streamedCell(run, cell, o) {
    const { manifest, teacher, cacheLayers, dataRoot } = run;
    const { spec } = manifest;
    const prepared = await prepareCache({ teacher, task: spec.task, split: spec.data.trainSplit, layers: cacheLayers, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, dataRoot, maxExamples: spec.data.maxTrainExamples });
    return {
      hash: cellHash(cell, { teacherHash: run.teacherHash, cacheKey: prepared.cacheKey }), cacheKey: prepared.cacheKey, layers: prepared.layers, recordIds: prepared.data.ids,
      train: (source, hooks) => trainStudent({ ...studentOptions(run, cell, o.outDir), teacher, source, score: false, log: o.log, checkpointEvery: o.checkpointEvery, ...hooks }),
    };
  },

  savedTeacherMetrics: (run) => savedTeacherMetrics(path.join(run.outDir, 'teacher')),

  async scoreCell(run, cell, record, files) {
    const t0 = Date.now();
    const { spec } = run.manifest;
    const student = loadTeacher(files.onnx, run.teacher.tokenizerPath);
    const dev = await encodeClassification(spec.task, spec.eval.split, run.teacher.tokenizer, student.config.maxLength ?? student.config.maxPositions, { dataRoot: run.dataRoot, maxExamples: spec.data.maxEvalExamples });
    const metrics = await scoreClassifier(student.config, student.values, dev.rows, cell.training.batchSize);
    // An older student-trainer's record lacks the training time: the checkpoint beside it keeps it.
    const saved = record.wallSeconds ?? checkpointTrainSeconds(files.checkpoint);
    const result = cellResult(cell, {
      metrics, curve: record.curve, layerMaps: record.layerMaps as [number, number][][], dev: record.dev,
      wallSeconds: (saved ?? 0) + (Date.now() - t0) / 1000,
      parameters: record.parameters ?? bertParameters(student.config), onnxBytes: fs.statSync(files.onnx).size,
    }, record.hash);
    return { result, seconds: (Date.now() - t0) / 1000 };
  },

  // Sizes an upgraded schemaVersion-1 cell could not tell (the evaluator reads such files too).
  collect: (run, cells) => cells.map((c) =>
    Number.isFinite(c.student.parameters) && Number.isFinite(c.student.onnxBytes) ? c : { ...c, student: { parameters: studentParameters(run, c.depth), onnxBytes: fs.statSync(path.join(run.outDir, 'students', `${c.id}.onnx`)).size } },
  ),

  async angles(run, cell, examples) {
    const { manifest, outDir, teacher, dataRoot } = run;
    const { spec } = manifest;
    const projections = readProjections(path.join(outDir, 'students', cell.id, PROJECTIONS_FILE));
    const layers = await analyzeAngles(teacher, path.join(outDir, 'students', `${cell.id}.onnx`), cell.depth, spec.task, spec.analysis.split ?? spec.eval.split, examples, dataRoot, projections);
    return [{ id: cell.id, file: cell.id, layers }];
  },

  teacherSummary: (run) => ({
    metrics: run.teacherMetrics, layers: run.teacher.config.layers, hidden: run.teacher.config.hidden, hash: run.teacherHash, ...warningsOf(savedTeacherWarnings(path.join(run.outDir, 'teacher'))),
    parameters: bertParameters(run.teacher.config), onnxBytes: fs.statSync(run.teacher.onnx).size,
  }),

  // CPU latency of the teacher and one student per depth (every cell of a depth exports the same graph).
  async resultExtras(run, cells) {
    const { teacher, log } = run;
    const perDepth = cells.filter((c, i) => cells.findIndex((d) => d.depth === c.depth) === i).map((c) => ({ depth: c.depth, cellId: c.id, onnx: path.join(run.outDir, 'students', `${c.id}.onnx`) }));
    let latency: ExperimentResults['latency'];
    try {
      latency = await measureLatency(teacher.onnx, perDepth, { seqLen: bertMaxLength(teacher.config), vocabSize: teacher.config.vocabSize, runs: 5 });
    } catch (e) {
      // An exported teacher with inputs of its own: the run's results stand without the latency table.
      log(`latency not measured: ${(e as Error).message}`);
    }
    return { teacherCache: run.teacherCache, latency };
  },

  report: renderReport,
};

/** A classification cache as teacher-inference fills it: one record per example. */
export function classificationCacheWork(teacher: LoadedTeacher, prepared: PreparedCache): CacheWork {
  return {
    cacheKey: prepared.cacheKey, total: prepared.data.rows.length,
    produced: (writer) => writer.count,
    fill: (writer, o) => fillCache(teacher, prepared, writer, o),
  };
}
