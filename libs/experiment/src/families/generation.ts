// Generation tasks (seq2seq on an encoder-decoder; multiple choice on a decoder-only causal LM) as the pipeline's
// family adapter: a cache of both stacks' states plus the teacher's top-k, cells hashed with the generation settings,
// students scored by generation and re-scored when the evaluator measures more, angles per stack, setup and timings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CacheWork, FamilyAdapter, LabelledAngles } from '../family';
import { sha256File, writeJsonAtomic } from '../files';
import { GridCell, cellWidth, planGrid } from '../grid';
import { ExperimentManifest } from '../schema';
import { analyzeGenerationAngles } from '../stages/generation-angles';
import { PreparedGenerationCache, cacheGenerationTeacher, fillGenerationCache, prepareGenerationCache, recordIds, type GenerationCacheResult } from '../stages/generation-cache';
import { describeSplit, generationArchitecture, loadGenerationData } from '../stages/generation-data';
import { LoadedGenerationModel, depthOf, loadGenerationModel, withDepth, withWidth } from '../stages/generation-model';
import { trainGenerationStudent } from '../stages/generation-student';
import { PROJECTIONS_FILE } from '../stages/student-width';
import { trainInWorker } from '../stages/student-workers';
import { finishedGenerationCell, generationResultCell, staleMetrics } from './generation-cells';
import { renderGenerationReport } from './generation-report';
import { GenerationExperiment, GenerationResults, generationTeacher, savedGenerationTeacherMetrics, scoreGenerationModel } from './generation-setup';
import { generationCacheLayers, generationCellHash, generationParameters, generationSettings } from './generation-settings';

/** A generation run in any transport; the cache's size and top-k once known (embedded: its cache; the evaluator: a training record). */
export interface GenerationRun extends GenerationExperiment {
  trainExamples?: number;
  topK?: number;
  /** The evaluation split, loaded once for every re-scored cell. */
  evalData?: ReturnType<typeof loadGenerationData>;
}

export const generationFamily: FamilyAdapter<GenerationRun, GenerationCacheResult> = {
  kind: 'generation',

  obtainTeacher: (ctx) => generationTeacher(ctx),

  serviceRun: (manifest, expDir, o) => generationServiceRun(manifest, expDir, o),

  async fillCache(run) {
    const { manifest, outDir, settings, teacher, cacheLayers: layers, timings, log } = run;
    const { spec } = manifest;
    // One cache of every teacher layer any cell can ask for, the same set for each stack, plus the top-k.
    const cache = await cacheGenerationTeacher({
      teacher, task: spec.task, train: settings.train, data: settings.data, layers, topK: settings.topK, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision,
      cacheRoot: path.join(outDir, 'cache'), maxLength: settings.maxLength, maxTargetLength: settings.maxTargetLength, batchSize: spec.students.batchSize, log,
    });
    timings.cache = cache.computed ? cache.seconds : 0;
    run.trainExamples = cache.count;
    run.topK = cache.topK;
    log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${layers.join(', ')} per stack, top-${cache.topK}${cache.computed ? '' : ' (reused)'}`);
    return cache;
  },

  // A record without its top-k cannot be checked (it is from before generation ran over Kafka): it matches nothing.
  // A generation cache also carries the top-k and the lengths, in batches of the students' size as embedded mode
  // caches (the same batches give the same records, byte for byte).
  cacheRequestFields: (run, dir) => ({
    tokenizer: path.join(dir, 'teacher', 'tokenizer.json'), topK: run.settings.topK, maxLength: run.settings.maxLength, maxTargetLength: run.settings.maxTargetLength, batchSize: run.manifest.spec.students.batchSize,
    ...(run.manifest.spec.data.carve ? { carve: run.manifest.spec.data.carve } : {}),
  }),

  // The cache keeps min(topK, vocabulary) entries per position.
  servedCache(run, cacheKey, count) {
    run.trainExamples = count;
    run.topK = Math.min(run.settings.topK, run.teacher.model.config.vocabSize);
    return { cacheKey, topK: run.topK };
  },

  recordCache(run, record) {
    if (record.generation) {
      run.trainExamples ??= record.generation.trainExamples;
      run.topK ??= record.generation.topK;
    }
    return { cacheKey: record.cacheKey, topK: record.generation?.topK ?? run.topK };
  },

  cellHash: (run, cell, cache) => (cache.topK === undefined ? '' : generationCellHash(cell, run.teacherHash, cache.cacheKey, cache.topK, run.settings)),

  finishedCell: (run, cell, hash) => finishedGenerationCell(run.outDir, cell.id, hash, () => generationParameters(run.teacher.model, cell.depth, cellWidth(cell))),

  // The teacher is scored on every run, so its metrics name everything the evaluator measures today; a cell finished
  // by an older evaluator is re-scored from its saved student instead of being retrained.
  staleMetrics: (run, result) => staleMetrics(result.metrics, run.teacherMetrics),

  async rescore(run, cell, done) {
    const { manifest, outDir, settings, teacher } = run;
    const { spec } = manifest;
    const t0 = Date.now();
    const s = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
    run.evalData ??= loadGenerationData(spec.task, settings.eval, { ...settings.data, maxExamples: spec.data.maxEvalExamples }, true);
    const result = { ...done, metrics: (await scoreGenerationModel(spec.task, settings, { ...s, tokenizer: teacher.tokenizer }, spec.students.batchSize, run.evalData)).metrics };
    if (result.seconds) result.seconds = { ...result.seconds, eval: (Date.now() - t0) / 1000 };
    writeJsonAtomic(path.join(outDir, 'students', cell.id, 'result.json'), result);
    return result;
  },

  async trainCell(run, cell, hash, cache, lane) {
    const { outDir, teacher } = run;
    const options = { ...studentOptions(run, cell, path.join(outDir, 'students', cell.id)), cacheRoot: path.join(outDir, 'cache'), cacheKey: cache.cacheKey };
    const r = lane.parallel > 1
      ? await trainInWorker({ kind: 'generation', options: { ...options, teacherOnnx: teacher.onnx, tokenizerPath: teacher.tokenizerPath } }, { threads: lane.threads, log: lane.log })
      : await trainGenerationStudent({ ...options, teacher, log: lane.log });
    return { onnx: r.onnx, result: generationResultCell(cell, r, hash, fs.statSync(r.onnx).size) };
  },

  // Both stacks' records (enc:<id>, dec:<id>) per example, with the cache key and cell hash embedded mode computes;
  // the evaluator scores the exported student.
  async streamedCell(run, cell, o) {
    const prepared = await prepareRunCache(run.manifest, run);
    return {
      hash: generationCellHash(cell, run.teacherHash, prepared.cacheKey, prepared.topK, run.settings), cacheKey: prepared.cacheKey, layers: prepared.layers, recordIds: prepared.recordIds,
      train: async (source, hooks) => {
        const r = await trainGenerationStudent({
          ...studentOptions(run, cell, o.outDir), teacher: run.teacher, cacheKey: prepared.cacheKey, source: { ...source, topK: prepared.topK }, score: false, log: o.log, checkpointEvery: o.checkpointEvery, ...hooks,
        });
        return {
          curve: r.curve, layerMaps: r.layerMaps, dev: [], wallSeconds: r.wallSeconds, parameters: r.parameters, onnx: r.onnx, trainSeconds: r.seconds.train,
          generation: { topK: prepared.topK, trainExamples: prepared.ids.length, steps: r.steps, trainSeconds: r.seconds.train },
        };
      },
    };
  },

  savedTeacherMetrics: (run) => savedGenerationTeacherMetrics(path.join(run.outDir, 'teacher')),

  // Scored as embedded mode scores it (BLEU, chrF, exact match, multiple-choice accuracy, gold NLL, with the run's
  // beam and lengths), its predictions kept beside it.
  async scoreCell(run, cell, record, files) {
    const g = record.generation;
    if (!g) throw new Error(`training record of ${cell.id} has no generation section (topK, trainExamples, steps, trainSeconds)`);
    run.trainExamples ??= g.trainExamples;
    run.topK ??= g.topK;
    const t0 = Date.now();
    const student = loadGenerationModel(files.onnx, run.teacher.tokenizerPath);
    const evaluated = await scoreGenerationModel(run.manifest.spec.task, run.settings, { ...student, tokenizer: run.teacher.tokenizer }, cell.training.batchSize);
    const evalSeconds = (Date.now() - t0) / 1000;
    const result = generationResultCell(cell, {
      metrics: evaluated.metrics, layerMaps: record.layerMaps as Partial<Record<'encoder' | 'decoder', [number, number][]>>[], curve: record.curve,
      wallSeconds: (record.wallSeconds ?? g.trainSeconds) + evalSeconds, parameters: record.parameters ?? 0, seconds: { train: g.trainSeconds, eval: evalSeconds }, steps: g.steps,
    }, record.hash, fs.statSync(files.onnx).size);
    return { result, seconds: evalSeconds, extraFiles: { 'predictions.jsonl': evaluated.samples.map((x) => JSON.stringify(x)).join('\n') + '\n' } };
  },

  collect(run, cells) {
    for (const c of cells) if (c.seconds) run.timings.students[c.id] = { ...c.seconds, steps: c.steps ?? 0 };
    return cells;
  },

  async angles(run, cell, examples) {
    const { manifest, outDir, settings: s, teacher } = run;
    const student = loadGenerationModel(path.join(outDir, 'students', `${cell.id}.onnx`), teacher.tokenizerPath);
    const byStack = await analyzeGenerationAngles({
      teacher, student: { model: withWidth(withDepth(teacher.model, cell.depth), cellWidth(cell)), values: student.values }, projections: path.join(outDir, 'students', cell.id, PROJECTIONS_FILE),
      task: manifest.spec.task, eval: s.eval, data: s.data, examples, maxLength: s.maxLength, maxTargetLength: s.maxTargetLength,
    });
    return Object.entries(byStack).map(([stack, layers]): LabelledAngles => ({
      id: s.architecture === 'encoder-decoder' ? `${cell.id} (${stack})` : cell.id,
      file: `${cell.id}-${stack}`, // not -s<k>: cell ids end in -s<seed>
      layers,
    }));
  },

  teacherSummary: (run) => ({
    metrics: run.teacherMetrics, layers: run.teacherLayers, hidden: run.teacher.model.config.hidden, hash: run.teacherHash,
    parameters: generationParameters(run.teacher.model, run.teacherLayers), onnxBytes: fs.statSync(run.teacher.onnx).size,
  }),

  async resultExtras(run, _cells, times) {
    const { manifest, settings: s, teacher, timings } = run;
    if (times.studentsWall !== undefined) timings.studentsWall = times.studentsWall;
    if (times.parallelism !== undefined) timings.parallelism = times.parallelism;
    if (times.angles !== undefined) timings.angles = times.angles;
    if (times.started !== undefined) timings.total = (Date.now() - times.started) / 1000;
    const setup = {
      architecture: teacher.model.arch === 'bart' ? 'encoder-decoder (BART-style)' : 'decoder-only (Qwen3-style)',
      train: describeSplit(s.train), eval: describeSplit(s.eval), trainExamples: run.trainExamples ?? 0, maxEvalExamples: manifest.spec.data.maxEvalExamples ?? null,
      maxLength: s.maxLength, maxTargetLength: s.maxTargetLength, vocabSize: teacher.model.config.vocabSize, cacheLayers: run.cacheLayers, topK: run.topK ?? s.topK, evaluation: s.evaluation,
    };
    return { setup, timings };
  },

  report: (results) => renderGenerationReport(results as GenerationResults),
};

/** A cell's training settings, whichever way its teacher states arrive. */
function studentOptions(run: GenerationRun, cell: GridCell, outDir: string) {
  const s = run.settings;
  return {
    task: run.manifest.spec.task, strategy: cell.strategy, strategyOptions: cell.options, init: cell.init, depth: cell.depth, width: cellWidth(cell), seed: cell.seed, loss: cell.loss,
    labelSmoothing: s.labelSmoothing, epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr, outDir,
    train: s.train, eval: s.eval, data: s.data, maxEvalExamples: s.maxEvalExamples, maxLength: s.maxLength, maxTargetLength: s.maxTargetLength, evaluation: s.evaluation,
  };
}

/**
 * A generation run as a service sees it: <expDir>/teacher/teacher.onnx (and tokenizer.json beside it, or `teacherOnnx`
 * / `tokenizer` when given) and the run's settings. Relative data files in the manifest resolve against `baseDir`
 * (default expDir; the CLI writes them absolute into the run's manifest.json); `dataRoot` (the service's
 * STRATA_DATA_ROOT) overrides spec.data.root.
 */
function generationServiceRun(manifest: ExperimentManifest, expDir: string, o: { dataRoot?: string; teacherOnnx?: string; tokenizer?: string; baseDir?: string } = {}): GenerationRun {
  const onnx = o.teacherOnnx ?? path.join(expDir, 'teacher', 'teacher.onnx');
  if (!fs.existsSync(onnx)) throw new Error(`teacher '${onnx}' not found: the experiment's teacher must be trained (or copied) before its students run`);
  const teacher = loadGenerationModel(onnx, o.tokenizer);
  const architecture = generationArchitecture(manifest.spec.task);
  if ((teacher.model.arch === 'bart') !== (architecture === 'encoder-decoder')) throw new Error(`task '${manifest.spec.task}' needs an ${architecture} teacher; ${onnx} is '${teacher.model.arch}'`);
  const teacherLayers = depthOf(teacher.model);
  const cells = planGrid(manifest, { teacherLayers });
  return {
    manifest, outDir: expDir, log: () => undefined, teacher, teacherHash: sha256File(onnx), teacherLayers, teacherMetrics: savedGenerationTeacherMetrics(path.join(expDir, 'teacher')), cells,
    cacheLayers: generationCacheLayers(cells, teacherLayers, architecture), settings: generationSettings(manifest, o.baseDir ?? expDir, teacher.model, o.dataRoot), timings: { students: {} },
  };
}

/** The run's cache (key, rows, record ids) as teacher-inference makes it and the students read it. */
function prepareRunCache(manifest: ExperimentManifest, run: Pick<GenerationRun, 'teacher' | 'settings' | 'cacheLayers'>): Promise<PreparedGenerationCache> {
  const { spec } = manifest;
  const s = run.settings;
  return prepareGenerationCache({
    teacher: run.teacher, task: spec.task, train: s.train, data: s.data, layers: run.cacheLayers, topK: s.topK, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision,
    maxLength: s.maxLength, maxTargetLength: s.maxTargetLength,
  });
}

/** A generation cache as teacher-inference fills it: an example is complete once its decoder record is written. */
export function generationCacheWork(teacher: LoadedGenerationModel, prepared: PreparedGenerationCache): CacheWork {
  return {
    cacheKey: prepared.cacheKey, total: prepared.rows.length,
    produced: (writer) => prepared.ids.filter((id) => writer.has(recordIds(teacher.model, id).decoder)).length,
    fill: (writer, o) => fillGenerationCache(teacher, prepared, writer, o),
  };
}
