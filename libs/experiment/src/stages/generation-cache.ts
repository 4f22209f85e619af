// Stage 2 for generation tasks: run the frozen teacher once over the training rows (teacher-forced on the gold
// targets) and cache, per example, the selected hidden states of each stack and the top-k of its next-token
// distribution at every target position (top-k log-probabilities + log-sum-exp, the activation record's top-k kind).
import * as fs from 'node:fs';
import { ActivationDtype, FileStore, cacheKey, fileCacheWriter, recordsFromBatch, type ActivationRecordInput, type CacheWriter } from '@strata/activations';
import { makeBatches, type BatchRow } from '@strata/data';
import { topKLogProbs } from '@strata/kd';
import { GraphBuilder, SessionPool, createSession, ort } from '@strata/onnx';
import { seq2seqFeeds, causalFeeds } from '@strata/train';
import { progress } from '../progress';
import { stopRequested, throwIfStopRequested } from '../stop';
import { DataOptions, SplitRef, describeSplit, loadGenerationData } from './generation-data';
import { GenerationConfig, LoadedGenerationModel, depthOf, fullInferenceModel, hiddenSize, stacksOf } from './generation-model';
import { generationBatchOptions, trainingRows } from './generation-teacher';
import { teacherPassModel, type TeacherPrecision } from './common';

export interface GenerationCacheOptions {
  teacher: LoadedGenerationModel;
  task: string;
  train: SplitRef;
  data: DataOptions;
  /** Teacher hidden-state indices kept for every stack (0 = embeddings). */
  layers: number[];
  /** Vocabulary entries kept per target position (default 64). */
  topK?: number;
  dtype?: ActivationDtype;
  /** The teacher's weight products during the pass (default float32; int8 quantizes them, the LM head included). */
  teacherPrecision?: TeacherPrecision;
  cacheRoot: string;
  maxLength: number;
  maxTargetLength: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface GenerationCacheResult {
  cacheKey: string;
  /** Training examples cached (seq2seq: each holds an encoder and a decoder record). */
  count: number;
  computed: boolean;
  topK: number;
  seconds: number;
}

/** Record ids of one example: encoder and decoder records for seq2seq, one record for a causal LM. */
export function recordIds(model: GenerationConfig, id: string): { encoder?: string; decoder: string } {
  return model.arch === 'bart' ? { encoder: `enc:${id}`, decoder: `dec:${id}` } : { decoder: id };
}

/** The teacher's full graph for one batch shape with only the cached outputs: selected states and the top-k. */
function cachingModel(model: GenerationConfig, values: Map<string, Float32Array>, batch: number, srcLen: number, tgtLen: number, layers: number[], k: number) {
  const full = fullInferenceModel(model, batch, srcLen, tgtLen, { kind: 'initializers', values });
  const g = GraphBuilder.fromModel({ ...full, graph: { ...full.graph, outputs: [] } });
  for (const stack of stacksOf(model)) for (const l of layers) g.output(`${stack.states}.${l}`);
  const top = topKLogProbs(g, 'logits', k);
  g.output(top.indices, 'topk_ids');
  g.output(top.logProbs, 'topk_log_probs');
  g.output(top.logSumExp, 'log_sum_exp');
  return g.build(full.metadata);
}

/** What identifies a generation cache and what fills it: the token rows, their example ids and the key they hash to. */
export interface PreparedGenerationCache {
  cacheKey: string;
  task: string;
  train: SplitRef;
  layers: number[];
  dtype: ActivationDtype;
  teacherPrecision: TeacherPrecision;
  topK: number;
  maxLength: number;
  maxTargetLength: number;
  rows: BatchRow[];
  /** Example ids in row order. */
  ids: string[];
  /** Every record id of the cache (seq2seq: enc:<id> and dec:<id>), in row order. */
  recordIds: string[];
}

export type PrepareGenerationCacheOptions = Omit<GenerationCacheOptions, 'cacheRoot' | 'batchSize' | 'log'>;

/** Loads and tokenizes the training rows and computes the cache key (teacher bytes, tokenizer, dataset, split, layers, dtype, top-k, teacher precision). */
export async function prepareGenerationCache(opts: PrepareGenerationCacheOptions): Promise<PreparedGenerationCache> {
  const { teacher } = opts;
  const model = teacher.model;
  const k = Math.min(opts.topK ?? 64, model.config.vocabSize);
  const dtype = opts.dtype ?? 'float16';
  const teacherPrecision = opts.teacherPrecision ?? 'float32';
  const layers = [...opts.layers].sort((a, b) => a - b);
  const depth = depthOf(model);
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l > depth) throw new Error(`cache layers: ${l} is outside 0..${depth} of the teacher`);
  const data = loadGenerationData(opts.task, opts.train, opts.data, false);
  const rows = await trainingRows(opts.task, teacher.tokenizer, data, opts.maxLength, opts.maxTargetLength);
  const key = cacheKey({
    teacherBytes: new Uint8Array(fs.readFileSync(teacher.onnx)),
    tokenizerFingerprint: teacher.tokenizer.fingerprint(),
    datasetFingerprint: data.fingerprint,
    split: describeSplit(opts.train),
    layers,
    dtype,
    logits: { kind: 'topk', k },
    teacherPrecision,
  });
  const ids = data.examples.map((e) => e.id);
  const recordIdList = ids.flatMap((id) => {
    const r = recordIds(model, id);
    return r.encoder ? [r.encoder, r.decoder] : [r.decoder];
  });
  return { cacheKey: key, task: opts.task, train: opts.train, layers, dtype, teacherPrecision, topK: k, maxLength: opts.maxLength, maxTargetLength: opts.maxTargetLength, rows, ids, recordIds: recordIdList };
}

export interface GenerationFillOptions {
  batchSize?: number;
  log?: (line: string) => void;
  /** Called after each batch is written (examples cached so far, examples in all). */
  onProgress?: (examples: number, total: number) => void;
  /** Checked between batches: true stops after the batch in flight, leaving the cache incomplete (resumable). */
  shouldStop?: () => boolean;
}

/**
 * Runs the teacher over every example the writer does not hold yet (teacher-forced on the gold targets), appends one
 * batch at a time (a seq2seq example's encoder records before its decoder record: an example counts as cached once
 * its decoder record is there), and completes the cache. Returns false when stopped early (shouldStop). The same
 * pass fills the embedded file store and a Kafka topic (teacher-inference).
 */
export async function fillGenerationCache(teacher: LoadedGenerationModel, prepared: PreparedGenerationCache, writer: CacheWriter, opts: GenerationFillOptions = {}): Promise<boolean> {
  const model = teacher.model;
  const { layers, dtype, teacherPrecision, topK: k, rows, ids: exampleIdsOf } = prepared;
  const batchSize = opts.batchSize ?? 32;
  const batches = makeBatches(rows, { ...generationBatchOptions(prepared.task, batchSize, prepared.maxLength, prepared.maxTargetLength, 0), shuffle: false });
  const sessions = new SessionPool<ort.InferenceSession>((session) => session.release());
  const hidden = hiddenSize(model);
  const split = describeSplit(prepared.train);
  const bar = progress(`caching teacher states (${split}, layers ${layers.join(',')} per stack, top-${k}, ${dtype}${teacherPrecision === 'int8' ? ', int8 teacher' : ''})`, rows.length);
  let done = 0;
  try {
    for (const b of batches) {
      if (opts.shouldStop?.()) {
        bar.stopped(`stopped with ${writer.count} records written`);
        return false;
      }
      const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => exampleIdsOf[r]);
      done += b.size;
      if (ids.every((id) => writer.has(recordIds(model, id).decoder))) {
        bar.tick(b.size, 'cached');
        continue;
      }
      const T = b.targetLength ?? b.length;
      const shape = `${b.batchSize}x${b.length}x${T}`;
      const feeds = model.arch === 'bart' ? seq2seqFeeds(b, model.config.decoderStartId, false) : causalFeeds(b, false);
      const out = await sessions.use(shape, () => createSession(teacherPassModel(cachingModel(model, teacher.values, b.batchSize, b.length, T, layers, k), teacherPrecision)), (session) => session.run(feeds));
      // Only real rows are kept: padding rows get placeholder ids and are dropped below.
      const exampleIds = Array.from({ length: b.batchSize }, (_, r) => (r < b.size ? ids[r] : `__pad${r}`));
      const stateOf = (prefix: string) => layers.map((l) => out[`${prefix}.${l}`].data as Float32Array);
      const records: ActivationRecordInput[][] = [];
      const logits = { kind: 'topk' as const, k, indices: out.topk_ids.data as BigInt64Array, logProbs: out.topk_log_probs.data as Float32Array, logSumExp: out.log_sum_exp.data as Float32Array };
      if (model.arch === 'bart') {
        records.push(recordsFromBatch({ exampleIds: exampleIds.map((id) => `enc:${id}`), layers, hiddenStates: stateOf('encoder_hidden_states'), attentionMask: b.attentionMask, seqLen: b.length, hiddenSize: hidden, dtype }));
        records.push(recordsFromBatch({ exampleIds: exampleIds.map((id) => `dec:${id}`), layers, hiddenStates: stateOf('decoder_hidden_states'), attentionMask: b.targetMask!, seqLen: T, hiddenSize: hidden, dtype, logits }));
      } else {
        records.push(recordsFromBatch({ exampleIds, layers, hiddenStates: stateOf('hidden_states'), attentionMask: b.attentionMask, seqLen: b.length, hiddenSize: hidden, dtype, logits }));
      }
      // Decoder records last: an example counts as cached once its decoder record is there.
      await writer.appendBatch(records.flatMap((list) => list.slice(0, b.size)).filter((r) => !writer.has(r.exampleId)));
      bar.tick(b.size);
      opts.onProgress?.(done, rows.length);
    }
    await writer.complete({ layers, dtype, meta: { task: prepared.task, split, teacher: teacher.onnx, topK: k, architecture: model.arch, teacherPrecision } });
    bar.done(`${writer.count} records, key ${prepared.cacheKey}`);
    return true;
  } finally {
    await sessions.release();
  }
}

/** Idempotent by cache key: a complete cache is reused, an interrupted one resumes after its last whole record. */
export async function cacheGenerationTeacher(opts: GenerationCacheOptions): Promise<GenerationCacheResult> {
  const t0 = Date.now();
  const prepared = await prepareGenerationCache(opts);
  const key = prepared.cacheKey;
  const store = FileStore.open(opts.cacheRoot, key);
  try {
    const finish = (computed: boolean) => ({ cacheKey: key, count: prepared.ids.length, computed, topK: prepared.topK, seconds: (Date.now() - t0) / 1000 });
    if (store.isComplete()) return finish(false);
    const whole = await fillGenerationCache(opts.teacher, prepared, fileCacheWriter(store), { batchSize: opts.batchSize, log: opts.log, shouldStop: () => stopRequested() !== undefined });
    if (!whole) throwIfStopRequested(`caching teacher states (key ${key}, ${store.count} records written)`);
    return finish(true);
  } finally {
    store.close();
  }
}
