// Stage 3: train one grid cell's student from cached teacher states (the teacher never runs here).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ActivationRecord, FileStore, fileEpochRecords, type EpochRecords } from '@strata/activations';
import { makeBatches, type Batch } from '@strata/data';
import { KdLossConfig, LayerMap, hiddenMse, kdLossConfig, layerMap, predictionDivergence, studentInitMap, totalKdLoss } from '@strata/kd';
import { DataType, ort } from '@strata/onnx';
import { BertConfig, bertMaxLength, bertParamSpecs, buildBert, initParams, type ParamSpec } from '@strata/nn';
import { Rng, TrainGraph, Trainer, batchFeeds, parseBucketKey, bucketKey, exportBertClassifier, weightedCrossEntropy } from '@strata/train';
import { bertToHfConfig } from '@strata/hub';
import { scoreClassifier } from './eval';
import { trainEpochs, type Curve, type EpochMetrics } from './loop';
import { exposeLossTerms } from './loss-terms';
import { LoadedTeacher, encodeClassification, lengthBuckets, writeHfConfig } from './common';
import { PROJECTIONS_FILE, StudentWidth, isProjectionParam, projectedPairs, projectionSpecs, studentBertConfig, writeProjections } from './student-width';

/** Where a student's teacher states come from, one epoch at a time: the file store, or a Kafka topic replayed per epoch. */
export interface TeacherStateSource {
  /** Teacher hidden-state indices the cache holds, in storage order. */
  layers: number[];
  openEpoch(epoch: number): Promise<EpochRecords>;
  close(): Promise<void>;
}

/** A complete file-store cache as a TeacherStateSource. */
export function fileStateSource(cacheRoot: string, key: string): TeacherStateSource {
  const store = FileStore.open(cacheRoot, key, { readOnly: true });
  if (!store.isComplete()) {
    store.close();
    throw new Error(`teacher cache ${key} is not complete; run the cache stage first`);
  }
  const records = fileEpochRecords(store);
  return { layers: store.readManifest()!.layers, openEpoch: async () => records, close: async () => store.close() };
}

export interface StudentTrainOptions {
  teacher: LoadedTeacher;
  task: string;
  /** The file-store cache (embedded mode) ... */
  cacheRoot?: string;
  cacheKey?: string;
  /** ... or any other source of teacher states (the services' Kafka replay). */
  source?: TeacherStateSource;
  /** Score the student on the eval split here (default true; the services leave it to the evaluator). */
  score?: boolean;
  /**
   * Score it on the eval split after every epoch too (default true; the dev curve of results.json). With score on,
   * the last epoch's point is the final score, so this costs one scoring per epoch but the last.
   */
  devEachEpoch?: boolean;
  /** After every training step (run events). */
  onStep?: (step: { step: number; epoch: number; loss: number; totalSteps: number }) => void;
  /** Once, before training starts, with the step it resumes from. */
  onStart?: (info: { resumedFromStep: number; totalSteps: number }) => void;
  strategy: string;
  strategyOptions?: { explicit?: number[] };
  init: 'copy' | 'random';
  depth: number;
  /** A student narrower (or wider) than the teacher, and how its hidden states reach the teacher's width. */
  width?: StudentWidth;
  seed: number;
  loss?: Partial<KdLossConfig>;
  epochs: number;
  batchSize: number;
  lr: number;
  outDir: string;
  evalSplit?: string;
  /** Split the cache was made from and the student trains on (default 'train'). */
  trainSplit?: string;
  dataRoot?: string;
  maxTrainExamples?: number;
  maxEvalExamples?: number;
  log?: (line: string) => void;
  /** Checkpoint every this many steps (default 200) and at each epoch end. */
  checkpointEvery?: number;
  /** Testing aid: after this many steps, checkpoint and throw, as if the process had been killed. */
  stopAfterSteps?: number;
}

export interface StudentResult {
  /** Undefined when score was false. */
  metrics?: { accuracy: number; f1?: number };
  /** The layer map of each epoch (fixed for every strategy but rail-kd): [[studentHs, teacherHs], ...]. */
  layerMaps: LayerMap[];
  /** Every 10th step (and step 1): the total loss and each weighted term. */
  curve: Curve[];
  /** Eval-split metrics after each epoch (fractions, as `metrics`); [] when devEachEpoch was false. */
  dev: EpochMetrics[];
  onnx: string;
  /** Training time summed over every segment of a resumed run (waiting for teacher records included, per-epoch scoring too). */
  trainSeconds: number;
  /** Training, the final scoring and the export: trainSeconds plus this segment's time after training. */
  wallSeconds: number;
  /** Trained parameters (floats) of the exported student (projections, which it leaves out, not counted). */
  parameters: number;
}

/**
 * The loss as a checkpoint's settings record it: the forward KL (the only prediction loss before the divergences)
 * left out, so checkpoints from before them still resume.
 */
export function lossSettings<L extends { kd?: string; skewAlpha?: number }>(loss: L): Omit<L, 'kd'> | L {
  if (loss.kd !== 'forward-kl' || loss.skewAlpha !== undefined) return loss;
  const { kd: _kd, ...rest } = loss;
  return rest;
}

const teacherInput = (t: number) => `teacher.hidden_states.${t}`;

/**
 * Student BERT + CE + prediction divergence + hidden loss over the map's pairs, teacher states and logits as inputs.
 * A student narrower than the teacher (`teacherHidden` ≠ cfg.hidden) reaches the teacher's width through trained
 * projections (graph inputs `kd.projection.<k>.weight`, or one shared), as FitNets' regressors.
 */
export function studentKdGraph(cfg: BertConfig, batch: number, seqLen: number, map: LayerMap, teacherClasses: number, loss: KdLossConfig, widths: { teacherHidden?: number; projection?: StudentWidth['projection'] } = {}): TrainGraph {
  const teacherHidden = widths.teacherHidden ?? cfg.hidden;
  const bert = buildBert(cfg, { batch, seqLen, training: true });
  const { g } = bert;
  const labels = g.input('labels', DataType.INT64, [batch]);
  const weights = g.input('example_weights', DataType.FLOAT, [batch]);
  const teacherLogits = g.input('teacher.logits', DataType.FLOAT, [batch, teacherClasses]);
  const terms: { ce?: string; kl?: string; hidden?: string } = {};
  if (loss.ce > 0) terms.ce = weightedCrossEntropy(g, bert.logits, labels, weights);
  if (loss.kl > 0) terms.kl = predictionDivergence(g, bert.logits, teacherLogits, { kind: loss.kd, skewAlpha: loss.skewAlpha, temperature: loss.temperature, rowWeights: weights });
  if (loss.hidden > 0 && map.length > 0) {
    // Real tokens of real rows only: a padding row of @strata/data attends to one [PAD] token (so attention has
    // something to attend to), and its teacher state is zeros. Counting it pulled the student's [PAD] state toward 0
    // and, in a batch of few real rows, made that the loss (the quickstart's spike at step 140, docs/RESULTS-FORMAT.md).
    const tokens = g.op('Cast', [bert.attentionMask], { to: { type: 'int', value: DataType.FLOAT } });
    const realRows = g.op('Cast', [g.op('Greater', [weights, g.scalar(0, DataType.FLOAT)])], { to: { type: 'int', value: DataType.FLOAT } });
    const mask = g.op('Mul', [tokens, g.op('Unsqueeze', [realRows, g.ints([1])])]);
    const teachers = new Map<number, string>();
    for (const [, t] of map) if (!teachers.has(t)) teachers.set(t, g.input(teacherInput(t), DataType.FLOAT, [batch, seqLen, teacherHidden]));
    const pairs = projectedPairs(g, map.map(([s, t]) => ({ student: bert.hiddenStates[s], teacher: teachers.get(t)! })), widths.projection);
    terms.hidden = hiddenMse(g, pairs, mask, { normalize: loss.normalize, batchSize: batch });
  }
  const weightsOf = { ce: loss.ce, kl: loss.kl, hidden: loss.hidden };
  const total = totalKdLoss(g, terms, weightsOf);
  return { g, loss: total, dropoutSites: bert.dropoutSites, lookups: bert.lookups, fetch: exposeLossTerms(g, terms, weightsOf) };
}

/**
 * Lays cached records out as padded [B, S, D] teacher inputs for one batch. The records may hold only the `needed`
 * states (read with `{ layers: needed }`, as the trainer does) or every cached one.
 */
export function teacherFeeds(b: Batch, records: ActivationRecord[], cachedLayers: number[], needed: number[], hidden: number, classes: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of needed) {
    if (!cachedLayers.includes(t)) throw new Error(`teacher hidden state ${t} is not in the cache (cached: ${cachedLayers.join(', ')})`);
    const data = new Float32Array(b.batchSize * b.length * hidden);
    records.forEach((rec, r) => {
      const li = rec.layers.indexOf(t);
      if (li < 0) throw new Error(`cached example '${rec.exampleId}' was read without teacher hidden state ${t} (read: ${rec.layers.join(', ')})`);
      const n = rec.validTokens;
      if (n > b.length) throw new Error(`cached example '${rec.exampleId}' has ${n} tokens, more than the batch length ${b.length}: the cache was made with another tokenizer or max length`);
      data.set(rec.states.subarray(li * n * hidden, (li + 1) * n * hidden), r * b.length * hidden);
    });
    feeds[teacherInput(t)] = new ort.Tensor('float32', data, [b.batchSize, b.length, hidden]);
  }
  const logits = new Float32Array(b.batchSize * classes);
  records.forEach((rec, r) => {
    if (!rec.logits || rec.logits.kind !== 'full') throw new Error(`cached example '${rec.exampleId}' has no class logits`);
    logits.set(rec.logits.values, r * classes);
  });
  feeds['teacher.logits'] = new ort.Tensor('float32', logits, [b.batchSize, classes]);
  return feeds;
}

/**
 * Student parameters before training: METHOD.md §3 weight copy (classifier stays random) or random init from the seed.
 * `params` (default: a BERT of the teacher's shape and `depth` layers) may add projections after the model's own.
 */
export function initialStudentParams(teacher: LoadedTeacher, depth: number, init: 'copy' | 'random', seed: number, params: ParamSpec[] = bertParamSpecs({ ...teacher.config, layers: depth })): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const initial = initParams(params, () => rng.next());
  if (init === 'copy') {
    if (teacher.valuesError) throw new Error(`weight copy from ${teacher.onnx}: its weights cannot be mapped back to parameters: ${teacher.valuesError}`);
    const width = params.find((p) => p.name === 'bert.embeddings.word_embeddings.weight')?.shape[1];
    if (width !== undefined && width !== teacher.config.hidden)
      throw new Error(`weight copy needs the teacher's width: the student is ${width} wide, the teacher ${teacher.config.hidden}; use init random for a narrower student`);
    const from = studentInitMap(params.map((p) => p.name), { teacherLayers: teacher.config.layers, studentLayers: depth });
    for (const [studentName, teacherName] of Object.entries(from)) initial.set(studentName, Float32Array.from(teacher.values.get(teacherName)!));
  }
  return initial;
}

/** Trains, evaluates and exports one student; re-running the same outDir resumes from its checkpoint. */
export async function trainStudent(opts: StudentTrainOptions): Promise<StudentResult> {
  const { teacher } = opts;
  const loss = kdLossConfig(opts.loss ?? {});
  const cfg = studentBertConfig(teacher.config, opts.depth, opts.width);
  let source: TeacherStateSource;
  if (opts.source) source = opts.source;
  else if (opts.cacheRoot !== undefined && opts.cacheKey !== undefined) source = fileStateSource(opts.cacheRoot, opts.cacheKey);
  else throw new Error('trainStudent: give cacheRoot and cacheKey, or a source');
  const cachedLayers = source.layers;
  const train = await encodeClassification(opts.task, opts.trainSplit ?? 'train', teacher.tokenizer, bertMaxLength(cfg), { dataRoot: opts.dataRoot, maxExamples: opts.maxTrainExamples });
  const evalSplit = opts.evalSplit ?? 'dev';
  const score = opts.score ?? true;
  const devEachEpoch = opts.devEachEpoch ?? true;
  const dev = score || devEachEpoch ? await encodeClassification(opts.task, evalSplit, teacher.tokenizer, bertMaxLength(cfg), { dataRoot: opts.dataRoot, maxExamples: opts.maxEvalExamples }) : undefined;
  const batchOpts = { batchSize: opts.batchSize, buckets: lengthBuckets(bertMaxLength(cfg)), seed: opts.seed };
  const mapFor = (epoch: number): LayerMap =>
    opts.strategy === 'none' ? [] : layerMap(opts.strategy, { teacherLayers: teacher.config.layers, studentLayers: opts.depth, seed: opts.seed, epoch, options: opts.strategyOptions });
  const maps = Array.from({ length: opts.epochs }, (_, e) => mapFor(e));
  const stepsPerEpoch = makeBatches(train.rows, { ...batchOpts, epoch: 0 }).length;
  const totalSteps = stepsPerEpoch * opts.epochs;

  // A fixed map (every strategy but rail-kd) gives one graph per shape for the whole run, not one per epoch.
  const mapIndex = maps.map((m) => maps.findIndex((other) => JSON.stringify(other) === JSON.stringify(m)));
  const projection = opts.width?.projection ?? 'auto';
  const matched = loss.hidden > 0 ? Math.max(0, ...maps.map((m) => m.length)) : 0;
  const specs = [...bertParamSpecs(cfg), ...projectionSpecs(matched, cfg.hidden, teacher.config.hidden, projection)];
  const trainer = new Trainer({
    params: specs,
    initial: initialStudentParams(teacher, opts.depth, opts.init, opts.seed, specs),
    buildGraph: (key) => {
      const [shape, mapAt] = key.split('@');
      const { batch, seqLen } = parseBucketKey(shape);
      return studentKdGraph(cfg, batch, seqLen, maps[Number(mapAt)], teacher.config.numLabels, loss, { teacherHidden: teacher.config.hidden, projection });
    },
    schedule: { peakLr: opts.lr, warmupSteps: Math.round(0.1 * totalSteps), totalSteps, decay: 'linear' },
    seed: opts.seed,
  });
  fs.mkdirSync(opts.outDir, { recursive: true });
  const needed = maps.map((m) => (loss.hidden > 0 ? [...new Set(m.map(([, t]) => t))] : []));
  let epochRecords: EpochRecords | undefined;
  const closeEpoch = async () => {
    await epochRecords?.close();
    epochRecords = undefined;
  };
  try {
    const { curve, dev: devPoints, trainSeconds, bar } = await trainEpochs({
      trainer,
      checkpoint: path.join(opts.outDir, 'student.ckpt'),
      settings: JSON.stringify({
        strategy: opts.strategy, options: opts.strategyOptions ?? null, init: opts.init, depth: opts.depth, seed: opts.seed, loss: lossSettings(loss), epochs: opts.epochs,
        ...(cfg.hidden !== teacher.config.hidden || opts.width?.heads !== undefined || opts.width?.intermediate !== undefined ? { width: { hidden: cfg.hidden, heads: cfg.heads, intermediate: cfg.intermediate, projection } } : {}),
        batchSize: opts.batchSize, lr: opts.lr, trainSplit: opts.trainSplit ?? 'train', examples: train.rows.length, cacheKey: opts.cacheKey ?? null,
      }),
      epochs: opts.epochs,
      totalSteps,
      batches: (epoch) => makeBatches(train.rows, { ...batchOpts, epoch }),
      key: (b, epoch) => `${bucketKey(b.batchSize, b.length)}@${mapIndex[epoch]}`,
      beginEpoch: async (epoch) => {
        await closeEpoch();
        epochRecords = await source.openEpoch(epoch);
      },
      endEpoch: closeEpoch,
      feeds: async (b, epoch) => {
        const records = await epochRecords!.get(Array.from(b.rowIndex.subarray(0, b.size), (r) => train.ids[r]), { layers: needed[epoch] });
        return { ...batchFeeds(b, true), ...teacherFeeds(b, records, cachedLayers, needed[epoch], teacher.config.hidden, teacher.config.numLabels) };
      },
      onStep: opts.onStep ? (st) => opts.onStep!({ ...st, totalSteps }) : undefined,
      onStart: opts.onStart ? (resumedFromStep) => opts.onStart!({ resumedFromStep, totalSteps }) : undefined,
      label: `student ${opts.strategy}${loss.kd === 'forward-kl' ? '' : `+${loss.kd}`}/${opts.init}/d${opts.depth}/s${opts.seed}`,
      checkpointEvery: opts.checkpointEvery,
      stopAfterSteps: opts.stopAfterSteps,
      log: opts.log,
      evaluateEpoch: devEachEpoch ? async () => scoreClassifier(cfg, trainer.params, dev!.rows, opts.batchSize) : undefined,
      progressFile: path.join(opts.outDir, 'progress.json'),
    });
    const t0 = Date.now();
    await trainer.release(); // its training sessions are not needed to evaluate
    let metrics: StudentResult['metrics'];
    if (score) {
      // The last epoch's dev point scored these very parameters on this split.
      const last = devPoints.at(-1);
      metrics = last && last.epoch === opts.epochs ? (last.metrics as { accuracy: number; f1?: number }) : await scoreClassifier(cfg, trainer.params, dev!.rows, opts.batchSize);
      bar.done(`${evalSplit} accuracy ${(metrics.accuracy * 100).toFixed(2)}%`);
    } else bar.done('trained');
    const onnx = path.join(opts.outDir, 'student.onnx');
    exportBertClassifier(onnx, cfg, trainer.params);
    writeHfConfig(onnx, bertToHfConfig(cfg, train.split.labelNames));
    // The projections only served the hidden loss: kept beside the checkpoint (the angle analysis reads them).
    writeProjections(path.join(opts.outDir, PROJECTIONS_FILE), trainer.params, specs, { '': maps.at(-1) ?? [] });
    const parameters = [...trainer.params].reduce((n, [name, p]) => n + (isProjectionParam(name) ? 0 : p.length), 0);
    return { metrics, layerMaps: maps, curve, dev: devPoints, onnx, trainSeconds, wallSeconds: trainSeconds + (Date.now() - t0) / 1000, parameters };
  } finally {
    await closeEpoch();
    await source.close();
    await trainer.release();
  }
}
