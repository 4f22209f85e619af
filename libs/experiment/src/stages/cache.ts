// Stage 2: run the frozen teacher once over a split and cache its selected hidden states and logits.
import * as fs from 'node:fs';
import { ActivationDtype, FileStore, cacheKey, recordsFromBatch } from '@strata/activations';
import { makeBatches } from '@strata/data';
import { createSession, ort } from '@strata/onnx';
import { batchFeeds, bertInferenceModel, bucketKey } from '@strata/train';
import { progress } from '../progress';
import { LoadedTeacher, encodeClassification, lengthBuckets } from './common';

export interface CacheOptions {
  teacher: LoadedTeacher;
  task: string;
  split: string;
  /** Teacher hidden-state indices to keep (0 = embeddings). */
  layers: number[];
  dtype?: ActivationDtype;
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
}

/** Idempotent by cache key: a complete cache is reused, an interrupted one resumes after its last whole record. */
export async function cacheTeacherStates(opts: CacheOptions): Promise<CacheResult> {
  const { teacher } = opts;
  const dtype = opts.dtype ?? 'float16';
  const layers = [...opts.layers].sort((a, b) => a - b);
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l > teacher.config.layers) throw new Error(`cache layers: ${l} is outside 0..${teacher.config.layers} of the teacher`);
  const maxLength = teacher.config.maxPositions;
  const data = await encodeClassification(opts.task, opts.split, teacher.tokenizer, maxLength, { dataRoot: opts.dataRoot, maxExamples: opts.maxExamples });
  const key = cacheKey({
    teacherBytes: new Uint8Array(fs.readFileSync(teacher.onnx)),
    tokenizerFingerprint: teacher.tokenizer.fingerprint(),
    datasetFingerprint: data.fingerprint,
    split: opts.split,
    layers,
    dtype,
    logits: { kind: 'full' },
  });
  const store = FileStore.open(opts.cacheRoot, key);
  try {
    if (store.isComplete()) return { cacheKey: key, count: store.count, computed: false };
    const batchSize = opts.batchSize ?? 32;
    const batches = makeBatches(data.rows, { batchSize, buckets: lengthBuckets(maxLength), shuffle: false });
    const sessions = new Map<string, Promise<ort.InferenceSession>>();
    const bar = progress(`caching teacher states (${opts.split}, layers ${layers.join(',')}, ${dtype})`, data.rows.length);
    for (const b of batches) {
      const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => data.ids[r]);
      if (ids.every((id) => store.has(id))) {
        bar.tick(b.size, 'cached');
        continue;
      }
      const k = bucketKey(b.batchSize, b.length);
      let session = sessions.get(k);
      if (!session) {
        session = createSession(bertInferenceModel(teacher.config, b.batchSize, b.length, { kind: 'initializers', values: teacher.values }));
        sessions.set(k, session);
      }
      const out = await (await session).run(batchFeeds(b, false));
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
      for (const r of records.slice(0, b.size)) if (!store.has(r.exampleId)) store.append(r);
      bar.tick(b.size);
    }
    store.complete({ layers, dtype, meta: { task: opts.task, split: opts.split, teacher: teacher.onnx } });
    bar.done(`${store.count} records, key ${key}`);
    for (const s of sessions.values()) await (await s).release();
    return { cacheKey: key, count: store.count, computed: true };
  } finally {
    store.close();
  }
}
