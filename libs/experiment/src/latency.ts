// CPU inference latency of exported classifiers (teacher and students), measured with onnxruntime-node at the end of a
// run so the report can state what the compression buys. Kept cheap: one warm-up and a few timed runs per batch size.
import { defaultThreads, ort } from '@strata/onnx';
import type { LatencyPoint, LatencyResults } from './report';

export interface LatencyOptions {
  /** Tokens per example (every position real); the length the experiment encodes at. */
  seqLen: number;
  /** Timed runs per batch size after one warm-up (default 5); the median is reported. */
  runs?: number;
  /** ONNX Runtime intra-op threads (default: STRATA_THREADS, else every core). */
  threads?: number;
  /** Token ids are drawn below this (the model's vocabulary size). */
  vocabSize: number;
}

export function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** BERT classifier inputs of `batch` rows of `seqLen` real tokens (fixed ids: latency does not depend on them). */
function classifierFeeds(session: ort.InferenceSession, batch: number, seqLen: number, vocabSize: number): Record<string, ort.Tensor> {
  const n = batch * seqLen;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(1 + ((i * 7919) % Math.max(1, vocabSize - 1)));
  const known: Record<string, BigInt64Array> = { input_ids: ids, attention_mask: new BigInt64Array(n).fill(1n), token_type_ids: new BigInt64Array(n) };
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    if (!known[name]) throw new Error(`latency: the model has an input '${name}' that a BERT classifier does not (expected ${Object.keys(known).join(', ')})`);
    feeds[name] = new ort.Tensor('int64', known[name], [batch, seqLen]);
  }
  return feeds;
}

/** Median wall time (ms) of one forward pass to the logits at batch 1 and batch 32. */
export async function classifierLatency(onnx: string, o: LatencyOptions): Promise<LatencyPoint> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: o.threads ?? defaultThreads(), interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  try {
    const fetches = session.outputNames.includes('logits') ? ['logits'] : [session.outputNames[0]];
    const time = async (batch: number) => {
      const feeds = classifierFeeds(session, batch, o.seqLen, o.vocabSize);
      await session.run(feeds, fetches); // warm-up: first-run allocations and kernel selection
      const ms: number[] = [];
      for (let i = 0; i < (o.runs ?? 5); i++) {
        const t0 = performance.now();
        await session.run(feeds, fetches);
        ms.push(performance.now() - t0);
      }
      return median(ms);
    };
    return { batch1Ms: await time(1), batch32Ms: await time(32) };
  } finally {
    await session.release();
  }
}

/** The teacher and one student .onnx per depth. */
export async function measureLatency(teacherOnnx: string, students: { depth: number; cellId: string; onnx: string }[], o: LatencyOptions): Promise<LatencyResults> {
  const threads = o.threads ?? defaultThreads();
  const runs = o.runs ?? 5;
  const teacher = await classifierLatency(teacherOnnx, { ...o, threads, runs });
  const out: LatencyResults['students'] = [];
  for (const s of students) out.push({ depth: s.depth, cellId: s.cellId, ...(await classifierLatency(s.onnx, { ...o, threads, runs })) });
  return { seqLen: o.seqLen, runs, threads, teacher, students: out };
}
