// Stage 2: run the frozen teacher once over a split and cache its selected hidden states and logits. The same pass
// fills the embedded file store or a Kafka topic (teacher-inference): both sit behind CacheWriter.
import * as fs from 'node:fs';
import { ActivationDtype, FileStore, cacheKey, fileCacheWriter, recordsFromBatch, type CacheWriter } from '@strata/activations';
import { makeBatches } from '@strata/data';
import { bertMaxLength } from '@strata/nn';
import { createSession, ort, type Model } from '@strata/onnx';
import { batchFeeds } from '@strata/train';
import { progress } from '../progress';
import { stopRequested, throwIfStopRequested } from '../stop';
import { EncodedSplit, LoadedTeacher, encodeClassification, feedsFor, lengthBuckets, teacherForward, teacherPassModel, stateError, type StateError, type TeacherPrecision } from './common';

export interface CacheOptions {
  teacher: LoadedTeacher;
  task: string;
  split: string;
  /** Teacher hidden-state indices to keep (0 = embeddings). */
  layers: number[];
  dtype?: ActivationDtype;
  /** The teacher's weight products during the pass (default float32). */
  teacherPrecision?: TeacherPrecision;
  cacheRoot: string;
  batchSize?: number;
  dataRoot?: string;
  maxExamples?: number;
  log?: (line: string) => void;
}

export interface CacheResult {
  cacheKey: string;
  count: number;
  /** False when the cache was already complete and the teacher did not run. */
  computed: boolean;
  teacherPrecision: TeacherPrecision;
  /** int8 only: the quantized teacher's states against float32 on the first batch the pass computed. */
  int8Error?: StateError;
}

/** What identifies a cache and what fills it: the encoded split and the key its contents hash to. */
export interface PreparedCache {
  cacheKey: string;
  layers: number[];
  dtype: ActivationDtype;
  teacherPrecision: TeacherPrecision;
  data: EncodedSplit;
  split: string;
  task: string;
}

export type PrepareCacheOptions = Omit<CacheOptions, 'cacheRoot' | 'batchSize' | 'log'>;

/** Encodes the split and computes the cache key (teacher bytes, tokenizer, dataset, split, layers, dtype, teacher precision). */
export async function prepareCache(opts: PrepareCacheOptions): Promise<PreparedCache> {
  const { teacher } = opts;
  const dtype = opts.dtype ?? 'float16';
  const teacherPrecision = opts.teacherPrecision ?? 'float32';
  const layers = [...opts.layers].sort((a, b) => a - b);
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l > teacher.config.layers) throw new Error(`cache layers: ${l} is outside 0..${teacher.config.layers} of the teacher`);
  const data = await encodeClassification(opts.task, opts.split, teacher.tokenizer, bertMaxLength(teacher.config), { dataRoot: opts.dataRoot, maxExamples: opts.maxExamples });
  const key = cacheKey({
    teacherBytes: new Uint8Array(fs.readFileSync(teacher.onnx)),
    tokenizerFingerprint: teacher.tokenizer.fingerprint(),
    datasetFingerprint: data.fingerprint,
    split: opts.split,
    layers,
    dtype,
    logits: { kind: 'full' },
    teacherPrecision,
  });
  return { cacheKey: key, layers, dtype, teacherPrecision, data, split: opts.split, task: opts.task };
}

export interface FillOptions {
  batchSize?: number;
  log?: (line: string) => void;
  /** Called after each batch is written (records written so far, examples in all). */
  onProgress?: (written: number, total: number) => void;
  /** Checked between batches: true stops after the batch in flight, leaving the cache incomplete (resumable). */
  shouldStop?: () => boolean;
  /** Write batch i while the teacher computes batch i + 1 (default true; false writes each batch before the next forward). */
  overlapWrites?: boolean;
}

/**
 * Runs the teacher over every example the writer does not hold yet, appends one batch at a time, and completes the
 * cache. Returns false when stopped early (shouldStop). With an int8 teacher, the first batch computed is also run in
 * float32 and the difference logged and kept in the cache's manifest (meta.int8Error).
 */
export async function fillCache(teacher: LoadedTeacher, prepared: PreparedCache, writer: CacheWriter, opts: FillOptions = {}): Promise<boolean> {
  const { data, layers, dtype, teacherPrecision } = prepared;
  let int8Error: StateError | undefined;
  const batchSize = opts.batchSize ?? 32;
  const maxLength = bertMaxLength(teacher.config);
  const batches = makeBatches(data.rows, { batchSize, buckets: lengthBuckets(maxLength), shuffle: false });
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  const bar = progress(`caching teacher states (${prepared.split}, layers ${layers.join(',')}, ${dtype}${teacherPrecision === 'int8' ? ', int8 teacher' : ''})`, data.rows.length);
  // At most one batch's write in flight, overlapping the next forward, so the teacher does not wait on the broker
  // (onnxruntime-node computes off the main thread). Measured on a 12-layer hidden-128 teacher over 4,837 spam
  // examples the write is about a tenth of the cache time, so the gain is that much at most.
  let inflight: Promise<void> | undefined;
  try {
    for (const b of batches) {
      if (opts.shouldStop?.()) {
        await inflight;
        bar.stopped(`stopped with ${writer.count} records written`);
        return false;
      }
      const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => data.ids[r]);
      if (ids.every((id) => writer.has(id))) {
        bar.tick(b.size, 'cached');
        continue;
      }
      const forward = teacherForward(teacher, b.batchSize, b.length);
      let session = sessions.get(forward.key);
      if (!session) {
        session = createSession(teacherPassModel(forward.model(), teacherPrecision));
        sessions.set(forward.key, session);
      }
      const ready = await session;
      const feeds = feedsFor(ready.inputNames, batchFeeds(b, false));
      const out = await ready.run(feeds);
      if (teacherPrecision === 'int8' && !int8Error) {
        int8Error = await float32Difference(forward.model(), feeds, out, layers, b.attentionMask, b.batchSize, teacher.config.hidden);
        opts.log?.(`int8 teacher vs float32 on ${int8Error.examples} examples: hidden states relative RMS error ${int8Error.relRms.toExponential(2)} (max abs ${int8Error.maxAbs.toExponential(2)}), logits max abs ${int8Error.logitsMaxAbs.toExponential(2)}, same predicted class ${(100 * int8Error.sameArgmax).toFixed(1)}%`);
      }
      // Padding rows of a short last batch get an all-zero mask, so they yield no tokens and are dropped below.
      const records = recordsFromBatch({
        exampleIds: Array.from({ length: b.batchSize }, (_, r) => (r < b.size ? ids[r] : `__pad${r}`)),
        layers,
        hiddenStates: layers.map((l) => out[`hidden_states.${l}`].data as Float32Array),
        attentionMask: b.attentionMask,
        seqLen: b.length,
        hiddenSize: teacher.config.hidden,
        dtype,
        logits: { kind: 'full', classes: teacher.config.numLabels, values: out.logits.data as Float32Array },
      });
      await inflight;
      inflight = writer.appendBatch(records.slice(0, b.size).filter((r) => !writer.has(r.exampleId))).then(() => {
        bar.tick(b.size);
        opts.onProgress?.(writer.count, data.rows.length);
      });
      // Handled here, rethrown where it is awaited: a write failing during the next forward must not crash the process.
      inflight.catch(() => undefined);
      if (opts.overlapWrites === false) await inflight;
    }
    await inflight;
    await writer.complete({ layers, dtype, meta: { task: prepared.task, split: prepared.split, teacher: teacher.onnx, teacherPrecision, ...(int8Error ? { int8Error } : {}) } });
    bar.done(`${writer.count} records, key ${prepared.cacheKey}`);
    return true;
  } finally {
    await inflight?.catch(() => undefined);
    for (const s of sessions.values()) await (await s).release();
  }
}

/** Idempotent by cache key: a complete cache is reused, an interrupted one resumes after its last whole record. */
export async function cacheTeacherStates(opts: CacheOptions): Promise<CacheResult> {
  const prepared = await prepareCache(opts);
  const store = FileStore.open(opts.cacheRoot, prepared.cacheKey);
  try {
    const computed = !store.isComplete();
    if (computed) {
      const whole = await fillCache(opts.teacher, prepared, fileCacheWriter(store), { batchSize: opts.batchSize, log: opts.log, shouldStop: () => stopRequested() !== undefined });
      if (!whole) throwIfStopRequested(`caching teacher states (key ${prepared.cacheKey}, ${store.count} records written)`);
    }
    const int8Error = store.readManifest()?.meta?.int8Error as StateError | undefined;
    return { cacheKey: prepared.cacheKey, count: store.count, computed, teacherPrecision: prepared.teacherPrecision, ...(int8Error ? { int8Error } : {}) };
  } finally {
    store.close();
  }
}

/** Runs the float32 teacher on one batch and compares the quantized pass's states (valid tokens only) and logits. */
async function float32Difference(model: Model, feeds: Record<string, ort.Tensor>, out: ort.InferenceSession.OnnxValueMapType, layers: number[], mask: BigInt64Array, batch: number, hidden: number): Promise<StateError> {
  const session = await createSession(model);
  try {
    const ref = await session.run(feeds);
    return stateError(
      layers.map((l) => ({ reference: ref[`hidden_states.${l}`].data as Float32Array, other: out[`hidden_states.${l}`].data as Float32Array })),
      mask,
      batch,
      hidden,
      { reference: ref.logits.data as Float32Array, other: out.logits.data as Float32Array },
    );
  } finally {
    await session.release();
  }
}
