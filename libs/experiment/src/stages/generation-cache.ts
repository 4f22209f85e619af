// Stage 2 for generation tasks: run the frozen teacher once over the training rows (teacher-forced on the gold
// targets) and cache, per example, the selected hidden states of each stack and the top-k of its next-token
// distribution at every target position (top-k log-probabilities + log-sum-exp, the activation record's top-k kind).
import * as fs from 'node:fs';
import { ActivationDtype, FileStore, cacheKey, recordsFromBatch, type ActivationRecordInput } from '@strata/activations';
import { makeBatches } from '@strata/data';
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

/** Idempotent by cache key: a complete cache is reused, an interrupted one resumes after its last whole record. */
export async function cacheGenerationTeacher(opts: GenerationCacheOptions): Promise<GenerationCacheResult> {
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
  const t0 = Date.now();
  const store = FileStore.open(opts.cacheRoot, key);
  try {
    const finish = (computed: boolean) => ({ cacheKey: key, count: data.examples.length, computed, topK: k, seconds: (Date.now() - t0) / 1000 });
    if (store.isComplete()) return finish(false);
    const batchSize = opts.batchSize ?? 32;
    const batches = makeBatches(rows, { ...generationBatchOptions(opts.task, batchSize, opts.maxLength, opts.maxTargetLength, 0), shuffle: false });
    const sessions = new SessionPool<ort.InferenceSession>((session) => session.release());
    const hidden = hiddenSize(model);
    const bar = progress(`caching teacher states (${describeSplit(opts.train)}, layers ${layers.join(',')} per stack, top-${k}, ${dtype}${teacherPrecision === 'int8' ? ', int8 teacher' : ''})`, rows.length);
    for (const b of batches) {
      const stop = stopRequested();
      if (stop !== undefined) {
        bar.stopped(`stopped by ${stop} with ${store.count} records written`);
        await sessions.release();
        throwIfStopRequested(`caching teacher states (key ${key})`);
      }
      const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => data.examples[r].id);
      if (ids.every((id) => store.has(recordIds(model, id).decoder))) {
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
      for (const list of records) for (const r of list.slice(0, b.size)) if (!store.has(r.exampleId)) store.append(r);
      bar.tick(b.size);
    }
    store.complete({ layers, dtype, meta: { task: opts.task, split: describeSplit(opts.train), teacher: teacher.onnx, topK: k, architecture: model.arch, teacherPrecision } });
    bar.done(`${store.count} records, key ${key}`);
    await sessions.release();
    return finish(true);
  } finally {
    store.close();
  }
}
