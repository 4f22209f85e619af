import { BartConfig, bartParamSpecs, initParams } from '@strata/nn';
import type { ort } from '@strata/onnx';
import { Rng, Trainer, bartTrainGraph, seq2seqFeeds, type Seq2SeqBatch } from '@strata/train';
import { runInOwnProcess } from './own-process';

/** [batch, source length, target length]. */
export type TrainShape = [number, number, number];

export interface TrainMemoryVariant {
  name: 'arena' | 'malloc' | 'malloc-tuned';
  peak_rss_mb: number;
  /** The last round's step time per shape (the rounds before build the graphs and warm up). */
  step_ms: number[];
  round_ms: number;
  final_loss: number;
}

export interface TrainMemoryReport {
  config: { layers: number; hidden: number; vocab: number; shapes: TrainShape[]; rounds: number };
  variants: TrainMemoryVariant[];
  /** Against `arena`: peak memory over the variant's, and the variant's round time over the arena's. */
  ratios: { name: string; rss_saved: number; time: number }[];
}

// glibc would return freed blocks above its mmap threshold to the kernel and fault them in again on the next step;
// these keep them in the heap for reuse (the per-process equivalent of an arena shared by every session).
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=268435456';

// DART's (source, target) buckets with the most rows, full batches of 32.
const DART_TRAIN_SHAPES: TrainShape[] = [[32, 16, 16], [32, 32, 32], [32, 64, 32], [32, 64, 64], [32, 96, 64]];

function config(layers: number): BartConfig {
  return {
    vocabSize: 4000, hidden: 128, encoderLayers: layers, decoderLayers: layers, heads: 4, ffn: 512, maxPositions: 96, dropout: 0.1, attentionDropout: 0,
    activation: 'gelu', layerNormEps: 1e-5, scaleEmbedding: false, normalizeBefore: true, padId: 1, decoderStartId: 2, eosId: 2,
  };
}

function randomBatch([B, S, T]: TrainShape, vocab: number, rng: Rng): Seq2SeqBatch {
  const b: Seq2SeqBatch = {
    batchSize: B, length: S, size: B, inputIds: new BigInt64Array(B * S), attentionMask: new BigInt64Array(B * S).fill(1n),
    targetLength: T, targetIds: new BigInt64Array(B * T), targetMask: new BigInt64Array(B * T).fill(1n),
  };
  for (let i = 0; i < B * S; i++) b.inputIds[i] = BigInt(3 + rng.nextInt(vocab - 3));
  for (let i = 0; i < B * T; i++) b.targetIds![i] = BigInt(3 + rng.nextInt(vocab - 3));
  return b;
}

/** One variant in this process (the child's side): `rounds` passes over the shapes, one training step each. */
export async function runTrainMemoryVariant(name: TrainMemoryVariant['name'], layers: number, shapes: TrainShape[], rounds: number): Promise<TrainMemoryVariant> {
  const cfg = config(layers);
  const specs = bartParamSpecs(cfg);
  const rng = new Rng(1);
  const trainer = new Trainer({
    params: specs, initial: initParams(specs, () => rng.next()), buildGraph: (key) => bartTrainGraph(cfg, key, { labelSmoothing: 0.1 }),
    schedule: { peakLr: 1e-3, warmupSteps: 1, totalSteps: 1000, decay: 'linear' }, seed: 1, session: { memArena: name === 'arena' },
  });
  const batches = shapes.map((s) => seq2seqFeeds(randomBatch(s, cfg.vocabSize, rng), cfg.decoderStartId, true) as Record<string, ort.Tensor>);
  let stepMs: number[] = [];
  let loss = NaN;
  for (let r = 0; r < rounds; r++) {
    stepMs = [];
    for (const [i, [B, S, T]] of shapes.entries()) {
      const t0 = process.hrtime.bigint();
      loss = (await trainer.trainStep(`${B}x${S}x${T}`, batches[i])).loss;
      stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  await trainer.release();
  return { name, peak_rss_mb: process.resourceUsage().maxRSS / 1024, step_ms: stepMs, round_ms: stepMs.reduce((a, b) => a + b, 0), final_loss: loss };
}

/**
 * Training with one session per batch shape: ONNX Runtime's per-session arenas (the default) against the process's
 * malloc (arena off), plain and with MALLOC_TUNABLES, each variant in its own process so each peak is its own. A
 * 12+12-layer model of the DART teacher's size; same batches, seed and steps in every variant.
 */
export function benchTrainMemory(o: { layers?: number; shapes?: TrainShape[]; rounds?: number } = {}): TrainMemoryReport {
  const layers = o.layers ?? 12;
  const shapes = o.shapes ?? DART_TRAIN_SHAPES;
  const rounds = o.rounds ?? 3;
  const run = (name: TrainMemoryVariant['name']): TrainMemoryVariant => {
    const env = { ...process.env };
    if (name === 'malloc-tuned') env.GLIBC_TUNABLES = MALLOC_TUNABLES;
    else delete env.GLIBC_TUNABLES;
    return runInOwnProcess<TrainMemoryVariant>('train-memory', { name, layers, shapes, rounds }, env);
  };
  const variants = (['arena', 'malloc', 'malloc-tuned'] as const).map(run);
  const [arena] = variants;
  return {
    config: { layers, hidden: 128, vocab: 4000, shapes, rounds },
    variants,
    ratios: variants.slice(1).map((v) => ({ name: v.name, rss_saved: arena.peak_rss_mb / v.peak_rss_mb, time: v.round_ms / arena.round_ms })),
  };
}
