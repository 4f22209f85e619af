// Stage 3 for generation tasks: train one grid cell's student from the cached teacher (the teacher never runs here).
// Loss (METHOD.md §4): token CE on the gold target (optional label smoothing) + token-level KL against the cached top-k
// teacher distribution + hidden MSE per stack, each stack mapped separately with the same strategy, encoder pairs
// masked by the source mask and decoder pairs by the target mask; the stacks' hidden losses add.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ActivationRecord, FileStore, fileEpochRecords, type EpochRecords } from '@strata/activations';
import { makeBatches, type Batch } from '@strata/data';
import { KdLossConfig, LayerMap, hiddenMse, hiddenScaleWarning, kdLossConfig, layerMap, stackedInitMap, stateRms, topKPredictionDivergence, totalKdLoss } from '@strata/kd';
import { DataType, ort } from '@strata/onnx';
import { buildBart, buildQwen3, initParams } from '@strata/nn';
import { Rng, TrainGraph, Trainer, exportInference, parseCausalKey, parseSeq2SeqKey, tokenCrossEntropy } from '@strata/train';
import { writeHfConfig } from './common';
import { DataOptions, SplitRef, describeSplit, generationArchitecture, loadGenerationData } from './generation-data';
import { GenerationEvalSettings, batchKey, generationBatchOptions, modelFeeds, trainingRows } from './generation-teacher';
import { evaluateGeneration } from './generation-eval';
import { GenerationConfig, LoadedGenerationModel, StackInfo, copyStacks, generationExportModel, generationHfConfig, paramSpecs, stacksOf, withDepth, withWidth } from './generation-model';
import { PROJECTIONS_FILE, isProjectionParam, projectedPairs, projectionSpecs, writeProjections, type StudentWidth } from './student-width';
import type { ParamSpec } from '@strata/nn';
import { recordIds } from './generation-cache';
import { trainEpochs, type Curve } from './loop';
import { lossSettings, type TeacherStateSource } from './student';
import { exposeLossTerms } from './loss-terms';

/** One layer map per stack: `encoder` and `decoder` for seq2seq, `decoder` alone for a causal LM. */
export type StackMaps = Partial<Record<'encoder' | 'decoder', LayerMap>>;

const teacherState = (stack: string, t: number) => `teacher.${stack}_hidden_states.${t}`;

/**
 * The student's training graph: the model, CE, top-k KL (inputs `teacher.topk_ids` [B, T, k] int64 and
 * `teacher.topk_log_probs`) and the hidden loss of each stack's pairs (inputs `teacher.<stack>_hidden_states.<t>`),
 * masked by `source_mask` / `target_mask` (float, 0 on padding and on padding rows). A student narrower than the
 * teacher (`teacherHidden`) reaches its states through trained projections, `kd.projection.<stack>.<k>.weight` per
 * pair or one shared.
 */
export function generationKdGraph(student: GenerationConfig, key: string, maps: StackMaps, loss: KdLossConfig, topK: number, labelSmoothing: number, widths: { teacherHidden?: number; projection?: StudentWidth['projection'] } = {}): TrainGraph {
  const H = widths.teacherHidden ?? student.config.hidden;
  let g: TrainGraph['g'];
  let logits: string;
  let dropoutSites: TrainGraph['dropoutSites'];
  const stackStates: Record<string, string[]> = {};
  const masks: Record<string, string> = {};
  let B: number;
  let T: number;
  if (student.arch === 'bart') {
    const { batch, srcLen, tgtLen } = parseSeq2SeqKey(key);
    const m = buildBart(student.config, { batch, srcLen, tgtLen, training: true });
    ({ g, logits, dropoutSites } = m);
    [B, T] = [batch, tgtLen];
    stackStates.encoder = m.encoderHiddenStates;
    stackStates.decoder = m.decoderHiddenStates;
    masks.encoder = g.input('source_mask', DataType.FLOAT, [batch, srcLen]);
    masks.decoder = g.input('target_mask', DataType.FLOAT, [batch, tgtLen]);
  } else {
    const { batch, seqLen } = parseCausalKey(key);
    const m = buildQwen3(student.config, { batch, seqLen, training: true });
    ({ g, logits, dropoutSites } = m);
    [B, T] = [batch, seqLen];
    stackStates.decoder = m.hiddenStates;
    masks.decoder = g.input('target_mask', DataType.FLOAT, [batch, seqLen]);
  }
  const labels = g.input('labels', DataType.INT64, [B, T]);
  const weights = g.input('token_weights', DataType.FLOAT, [B, T]);
  const terms: { ce?: string; kl?: string; hidden?: string } = {};
  if (loss.ce > 0) terms.ce = tokenCrossEntropy(g, logits, labels, weights, labelSmoothing);
  if (loss.kl > 0) {
    const ids = g.input('teacher.topk_ids', DataType.INT64, [B, T, topK]);
    const lp = g.input('teacher.topk_log_probs', DataType.FLOAT, [B, T, topK]);
    terms.kl = topKPredictionDivergence(g, logits, ids, lp, { kind: loss.kd, skewAlpha: loss.skewAlpha, temperature: loss.temperature, tokenWeights: weights });
  }
  if (loss.hidden > 0) {
    const parts: string[] = [];
    for (const [stack, map] of Object.entries(maps) as [string, LayerMap][]) {
      if (!map || map.length === 0) continue;
      const [, S] = g.shapeOf(masks[stack]);
      const teachers = new Map<number, string>();
      for (const [, t] of map) if (!teachers.has(t)) teachers.set(t, g.input(teacherState(stack, t), DataType.FLOAT, [B, S, H]));
      const pairs = projectedPairs(g, map.map(([s, t]) => ({ student: stackStates[stack][s], teacher: teachers.get(t)! })), widths.projection, `${stack}.`);
      parts.push(hiddenMse(g, pairs, masks[stack], { normalize: loss.normalize, batchSize: B }));
    }
    if (parts.length) terms.hidden = parts.length === 1 ? parts[0] : g.op('Add', parts);
  }
  const weightsOf = { ce: loss.ce, kl: loss.kl, hidden: loss.hidden };
  const total = totalKdLoss(g, terms, weightsOf);
  return { g, loss: total, dropoutSites, fetch: exposeLossTerms(g, terms, weightsOf) };
}

/** float [B, L] mask: 1 on real tokens of real rows (padding rows of @strata/data hold one masked-in token). */
function realTokens(mask: BigInt64Array, batchSize: number, size: number): Float32Array {
  const L = mask.length / batchSize;
  const out = new Float32Array(mask.length);
  for (let i = 0; i < size * L; i++) out[i] = mask[i] !== 0n ? 1 : 0;
  return out;
}

/** Cached records laid out as padded teacher inputs of one batch. */
function teacherFeeds(model: GenerationConfig, b: Batch, records: { encoder?: ActivationRecord; decoder: ActivationRecord }[], cachedLayers: number[], needed: StackMaps, topK: number, withKl: boolean): Record<string, ort.Tensor> {
  const H = model.config.hidden;
  const feeds: Record<string, ort.Tensor> = {};
  const lengths: Record<string, number> = { encoder: b.length, decoder: b.targetLength ?? b.length };
  for (const [stack, map] of Object.entries(needed) as ['encoder' | 'decoder', LayerMap][]) {
    if (!map) continue;
    const L = lengths[stack];
    for (const t of new Set(map.map(([, x]) => x))) {
      const li = cachedLayers.indexOf(t);
      if (li < 0) throw new Error(`teacher hidden state ${t} is not in the cache (cached: ${cachedLayers.join(', ')})`);
      const data = new Float32Array(b.batchSize * L * H);
      records.forEach((r, row) => {
        const rec = r[stack]!;
        const n = rec.validTokens;
        if (n > L) throw new Error(`cached ${stack} record '${rec.exampleId}' has ${n} tokens, more than the batch length ${L}: the cache was made with another tokenizer or max length`);
        data.set(rec.states.subarray(li * n * H, (li + 1) * n * H), row * L * H);
      });
      feeds[teacherState(stack, t)] = new ort.Tensor('float32', data, [b.batchSize, L, H]);
    }
  }
  if (withKl) {
    const T = lengths.decoder;
    const ids = new BigInt64Array(b.batchSize * T * topK);
    // Positions without a teacher distribution (padding) get p ≈ 0 everywhere; their token weight is 0 anyway.
    const lp = new Float32Array(b.batchSize * T * topK).fill(-30);
    records.forEach((r, row) => {
      const lg = r.decoder.logits;
      if (!lg || lg.kind !== 'topk') throw new Error(`cached record '${r.decoder.exampleId}' has no top-k distribution`);
      if (lg.k !== topK) throw new Error(`cached record '${r.decoder.exampleId}' holds top-${lg.k}, the student expects top-${topK}`);
      for (let i = 0; i < lg.positions * topK; i++) ids[row * T * topK + i] = BigInt(lg.indices[i]);
      lp.set(lg.logProbs, row * T * topK);
    });
    feeds['teacher.topk_ids'] = new ort.Tensor('int64', ids, [b.batchSize, T, topK]);
    feeds['teacher.topk_log_probs'] = new ort.Tensor('float32', lp, [b.batchSize, T, topK]);
  }
  return feeds;
}

export interface GenerationStudentOptions {
  teacher: LoadedGenerationModel;
  task: string;
  /** The file-store cache (embedded mode) ... */
  cacheRoot?: string;
  cacheKey: string;
  /** ... or another source of teacher states (the services' per-epoch Kafka replay), with the top-k its records hold. */
  source?: TeacherStateSource & { topK: number };
  /** Score the student on the eval split here (default true; the services leave it to the evaluator: metrics are then {}). */
  score?: boolean;
  /** After every training step (run events). */
  onStep?: (step: { step: number; epoch: number; loss: number; totalSteps: number }) => void;
  /** Once, before training starts, with the step it resumes from. */
  onStart?: (info: { resumedFromStep: number; totalSteps: number }) => void;
  strategy: string;
  strategyOptions?: { explicit?: number[]; matchEmbeddings?: boolean };
  init: 'copy' | 'random';
  depth: number;
  /** A student narrower (or wider) than the teacher, and how its hidden states reach the teacher's width. */
  width?: StudentWidth;
  seed: number;
  loss?: Partial<KdLossConfig>;
  labelSmoothing: number;
  epochs: number;
  batchSize: number;
  lr: number;
  outDir: string;
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
  maxEvalExamples?: number;
  maxLength: number;
  maxTargetLength: number;
  evaluation: GenerationEvalSettings;
  log?: (line: string) => void;
  checkpointEvery?: number;
  stopAfterSteps?: number;
}

export interface GenerationStudentResult {
  metrics: Record<string, number>;
  /** The layer maps of each epoch per stack (fixed for every strategy but rail-kd). */
  layerMaps: StackMaps[];
  /** Every 10th step (and step 1): the total loss and each weighted term. */
  curve: Curve[];
  onnx: string;
  seconds: { train: number; eval: number };
  steps: number;
  /** Training (all resumed segments), evaluation and export. */
  wallSeconds: number;
  /** Trained parameters (floats) of the exported student (projections, which it leaves out, not counted). */
  parameters: number;
}

/**
 * Student parameters before training: per-stack weight copy (METHOD.md §3) or random init from the seed. `specs`
 * (default: the teacher's shape at `depth` layers) may be narrower and add projections after the model's own.
 */
export function initialGenerationStudent(teacher: LoadedGenerationModel, depth: number, init: 'copy' | 'random', seed: number, specs: ParamSpec[] = paramSpecs(withDepth(teacher.model, depth))): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const initial = initParams(specs, () => rng.next());
  if (init === 'copy') {
    const shape = new Map(paramSpecs(withDepth(teacher.model, depth)).map((p) => [p.name, p.shape.join('x')]));
    const narrow = specs.find((p) => shape.has(p.name) && shape.get(p.name) !== p.shape.join('x'));
    if (narrow) throw new Error(`weight copy needs the teacher's width: student parameter '${narrow.name}' is [${narrow.shape}], the teacher's [${shape.get(narrow.name)!.replace(/x/g, ',')}]; use init random for a narrower student`);
    const from = stackedInitMap(specs.map((p) => p.name), copyStacks(teacher.model, depth));
    for (const [name, teacherName] of Object.entries(from)) {
      const v = teacher.values.get(teacherName);
      if (!v) throw new Error(`weight copy: the teacher has no parameter '${teacherName}' for student '${name}'`);
      initial.set(name, Float32Array.from(v));
    }
  }
  return initial;
}

/** The maps of one epoch: each stack resolved separately (independent seeds for the random strategies). */
export function stackMaps(stacks: StackInfo[], strategy: string, depth: number, seed: number, epoch: number, options: GenerationStudentOptions['strategyOptions'], architecture: 'encoder-decoder' | 'decoder'): StackMaps {
  const out: StackMaps = {};
  for (const s of stacks) {
    out[s.name] = strategy === 'none' ? [] : layerMap(strategy, { teacherLayers: s.layers, studentLayers: depth, seed, epoch, options: { ...options, architecture, stack: s.name } });
  }
  return out;
}

/** Says so, per stack, when the matched teacher states are too large for the chosen hidden-loss scaling (a sample of 64 records). */
export function warnOfStateScale(store: Pick<FileStore, 'get'>, ids: { encoder?: string; decoder: string }[], maps: readonly StackMaps[], loss: KdLossConfig, log: (line: string) => void): void {
  for (const stack of ['encoder', 'decoder'] as const) {
    const matched = [...new Set(maps.flatMap((m) => (m[stack] ?? []).map(([, t]) => t)))];
    if (!matched.length) continue;
    const records = ids.map((i) => (stack === 'encoder' ? i.encoder : i.decoder)).filter((id): id is string => id !== undefined).map((id) => store.get(id)).filter((r): r is ActivationRecord => r !== undefined);
    const warning = hiddenScaleWarning(stateRms(records), matched, loss.normalize, loss.hidden);
    if (warning) log(`warning (${stack}): ${warning}`);
  }
}

/** Trains, evaluates and exports one student; re-running the same outDir resumes from its checkpoint. */
export async function trainGenerationStudent(opts: GenerationStudentOptions): Promise<GenerationStudentResult> {
  const { teacher } = opts;
  const loss = kdLossConfig(opts.loss ?? {});
  const student = withWidth(withDepth(teacher.model, opts.depth), opts.width);
  const teacherHidden = teacher.model.config.hidden;
  const projection = opts.width?.projection ?? 'auto';
  const architecture = generationArchitecture(opts.task);
  let store: FileStore | undefined;
  let source: TeacherStateSource & { topK: number };
  if (opts.source) source = opts.source;
  else {
    if (opts.cacheRoot === undefined) throw new Error('trainGenerationStudent: give cacheRoot and cacheKey, or a source');
    const file = FileStore.open(opts.cacheRoot, opts.cacheKey, { readOnly: true });
    store = file;
    if (!file.isComplete()) {
      file.close();
      throw new Error(`teacher cache ${opts.cacheKey} is not complete; run the cache stage first`);
    }
    const manifest = file.readManifest()!;
    const records = fileEpochRecords(file);
    source = { layers: manifest.layers, topK: Number((manifest.meta ?? {}).topK), openEpoch: async () => records, close: async () => file.close() };
  }
  const cachedLayers = source.layers;
  const topK = source.topK;
  if (!(topK > 0)) {
    await source.close();
    throw new Error(`teacher cache ${opts.cacheKey} records no top-k size; it was not made by the generation cache stage`);
  }
  const score = opts.score ?? true;
  const train = loadGenerationData(opts.task, opts.train, opts.data, false);
  const rows = await trainingRows(opts.task, teacher.tokenizer, train, opts.maxLength, opts.maxTargetLength);
  const evalData = score ? loadGenerationData(opts.task, opts.eval, { ...opts.data, maxExamples: opts.maxEvalExamples }, true) : undefined;
  const batchOpts = generationBatchOptions(opts.task, opts.batchSize, opts.maxLength, opts.maxTargetLength, opts.seed);
  const stacks = stacksOf(teacher.model);
  const maps = Array.from({ length: opts.epochs }, (_, e) => stackMaps(stacks, opts.strategy, opts.depth, opts.seed, e, opts.strategyOptions, architecture));
  const mapIndex = maps.map((m) => maps.findIndex((other) => JSON.stringify(other) === JSON.stringify(m)));
  const totalSteps = makeBatches(rows, { ...batchOpts, epoch: 0 }).length * opts.epochs;
  // Projections per stack: as many as the stack's longest map has pairs (the map may change per epoch, its length not).
  const pairs = Object.fromEntries(stacks.map((st) => [`${st.name}.`, loss.hidden > 0 ? Math.max(0, ...maps.map((m) => m[st.name]?.length ?? 0)) : 0]));
  const specs = [...paramSpecs(student), ...projectionSpecs(pairs, student.config.hidden, teacherHidden, projection)];
  const trainer = new Trainer({
    params: specs,
    initial: initialGenerationStudent(teacher, opts.depth, opts.init, opts.seed, specs),
    buildGraph: (key) => {
      const [shape, at] = key.split('@');
      return generationKdGraph(student, shape, maps[Number(at)], loss, topK, opts.labelSmoothing, { teacherHidden, projection });
    },
    schedule: { peakLr: opts.lr, warmupSteps: Math.round(0.1 * totalSteps), totalSteps, decay: 'linear' },
    seed: opts.seed,
  });
  fs.mkdirSync(opts.outDir, { recursive: true });
  const needed = maps.map((m) => (loss.hidden > 0 ? m : {}));
  // (A file cache only: a Kafka replay hands each record out once per epoch.)
  if (store) warnOfStateScale(store, train.examples.slice(0, 64).map((e) => recordIds(teacher.model, e.id)), needed, loss, opts.log ?? ((l) => process.stderr.write(`${l}\n`)));
  let epochRecords: EpochRecords | undefined;
  const closeEpoch = async () => {
    await epochRecords?.close();
    epochRecords = undefined;
  };
  try {
    const { curve, trainSeconds, bar } = await trainEpochs({
      trainer,
      checkpoint: path.join(opts.outDir, 'student.ckpt'),
      settings: JSON.stringify({
        strategy: opts.strategy, options: opts.strategyOptions ?? null, init: opts.init, depth: opts.depth, seed: opts.seed, loss: lossSettings(loss), labelSmoothing: opts.labelSmoothing,
        ...(student.config.hidden !== teacherHidden || opts.width?.heads !== undefined || opts.width?.intermediate !== undefined ? { width: { ...opts.width, projection } } : {}),
        epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, train: opts.train, examples: train.examples.length, cacheKey: opts.cacheKey,
      }),
      epochs: opts.epochs,
      totalSteps,
      batches: (epoch) => makeBatches(rows, { ...batchOpts, epoch }),
      key: (b, epoch) => `${batchKey(student, b)}@${mapIndex[epoch]}`,
      beginEpoch: async (epoch) => {
        await closeEpoch();
        epochRecords = await source.openEpoch(epoch);
      },
      endEpoch: closeEpoch,
      feeds: async (b, epoch) => {
        const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => recordIds(teacher.model, train.examples[r].id));
        const got = await epochRecords!.get(ids.flatMap((i) => (i.encoder ? [i.encoder, i.decoder] : [i.decoder])));
        const records = ids.map((i, row) => (i.encoder ? { encoder: got[2 * row], decoder: got[2 * row + 1] } : { decoder: got[row] }));
        const feeds = modelFeeds(student, b);
        if (student.arch === 'bart') {
          feeds.source_mask = new ort.Tensor('float32', realTokens(b.attentionMask, b.batchSize, b.size), [b.batchSize, b.length]);
          feeds.target_mask = new ort.Tensor('float32', realTokens(b.targetMask!, b.batchSize, b.size), [b.batchSize, b.targetLength!]);
        } else {
          feeds.target_mask = new ort.Tensor('float32', realTokens(b.attentionMask, b.batchSize, b.size), [b.batchSize, b.length]);
        }
        return { ...feeds, ...teacherFeeds(teacher.model, b, records, cachedLayers, needed[epoch], topK, loss.kl > 0) };
      },
      label: `student ${opts.strategy}${loss.kd === 'forward-kl' ? '' : `+${loss.kd}`}/${opts.init}/d${opts.depth}/s${opts.seed}`,
      checkpointEvery: opts.checkpointEvery,
      stopAfterSteps: opts.stopAfterSteps,
      log: opts.log,
      progressFile: path.join(opts.outDir, 'progress.json'),
      onStep: opts.onStep ? (st) => opts.onStep!({ ...st, totalSteps }) : undefined,
      onStart: opts.onStart ? (resumedFromStep) => opts.onStart!({ resumedFromStep, totalSteps }) : undefined,
    });
    const t1 = Date.now();
    await trainer.release(); // its training sessions are not needed to evaluate
    const evaluated = evalData
      ? await evaluateGeneration(
        { task: opts.task, model: student, values: trainer.params, tokenizer: teacher.tokenizer, maxLength: opts.maxLength, maxTargetLength: opts.maxTargetLength, beam: opts.evaluation.beam, lengthPenalty: opts.evaluation.lengthPenalty, maxAnswerLength: opts.evaluation.maxAnswerLength, batchSize: opts.batchSize },
        evalData.examples as never,
      )
      : undefined;
    const evalSeconds = (Date.now() - t1) / 1000;
    bar.done(evaluated ? `${describeSplit(opts.eval)} ${Object.entries(evaluated.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}` : 'trained');
    const onnx = path.join(opts.outDir, 'student.onnx');
    exportInference(onnx, (values) => generationExportModel(student, { kind: 'initializers', values }), trainer.params);
    writeHfConfig(onnx, generationHfConfig(student, teacher.tokenizer));
    if (evaluated) fs.writeFileSync(path.join(opts.outDir, 'predictions.jsonl'), evaluated.samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
    // The projections only served the hidden loss: kept beside the checkpoint (the angle analysis reads them).
    const last = maps.at(-1) ?? {};
    writeProjections(path.join(opts.outDir, PROJECTIONS_FILE), trainer.params, specs, Object.fromEntries(stacks.map((st) => [`${st.name}.`, last[st.name] ?? []])));
    const parameters = [...trainer.params].reduce((n, [name, p]) => n + (isProjectionParam(name) ? 0 : p.length), 0);
    return { metrics: evaluated?.metrics ?? {}, layerMaps: maps, curve, onnx, seconds: { train: trainSeconds, eval: evalSeconds }, steps: totalSteps, wallSeconds: trainSeconds + (Date.now() - t1) / 1000, parameters };
  } finally {
    await closeEpoch();
    await source.close();
    await trainer.release();
  }
}

