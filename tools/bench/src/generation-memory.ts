import { createHash } from 'node:crypto';
import { seededRandom } from '@strata/autodiff';
import { BartConfig, bartParamSpecs, initParams } from '@strata/nn';
import { DEFAULT_POOL_CAPACITY } from '@strata/onnx';
import { BartGenerator, Rng, type SourceBatch } from '@strata/train';
import { runInOwnProcess } from './own-process';

export interface GenerationMemoryOptions {
  /** Encoder and decoder layers each; default 12 (the DART teacher). */
  layers?: number;
  /** Tokens generated at most; default 64 (DART's target limit). */
  maxLength?: number;
  /** [batch, source length] of each batch, in order; default: eight shapes as DART's bucketed test batches make. */
  shapes?: [number, number][];
}

export interface GenerationMemoryVariant {
  open_sessions: number | 'all';
  peak_rss_mb: number;
  seconds: number;
  session_opens: number;
  /** sha256 of every generated token sequence, to check the variants generate the same. */
  output_hash: string;
}

export interface GenerationMemoryReport {
  config: { layers: number; hidden: number; heads: number; ffn: number; vocab: number; beam: number; max_length: number; shapes: [number, number][] };
  unbounded: GenerationMemoryVariant;
  pooled: GenerationMemoryVariant;
  rss_ratio: number;
  time_ratio: number;
  identical: boolean;
}

// Source buckets 16/32/64/96, a full batch of 32 and a short last batch in each: the shapes the DART test set's
// (source bucket, target bucket) groups produce, one session pair each before the pool.
const DART_SHAPES: [number, number][] = [[32, 16], [13, 16], [32, 32], [7, 32], [32, 64], [21, 64], [32, 96], [5, 96]];

function config(layers: number, maxLength: number, shapes: [number, number][]): BartConfig {
  return {
    vocabSize: 4000, hidden: 128, encoderLayers: layers, decoderLayers: layers, heads: 4, ffn: 512,
    maxPositions: Math.max(maxLength, ...shapes.map(([, s]) => s)), dropout: 0, attentionDropout: 0, activation: 'gelu',
    layerNormEps: 1e-5, scaleEmbedding: false, normalizeBefore: true, padId: 1, decoderStartId: 2, eosId: 2,
  };
}

function sourceBatch(batch: number, srcLen: number, vocab: number, rng: Rng): SourceBatch {
  const inputIds = new BigInt64Array(batch * srcLen);
  const attentionMask = new BigInt64Array(batch * srcLen);
  for (let r = 0; r < batch; r++) {
    // Lengths within the bucket, so the masks are not all ones.
    const len = Math.max(1, srcLen - rng.nextInt(Math.max(1, srcLen / 2)));
    for (let j = 0; j < len; j++) {
      inputIds[r * srcLen + j] = BigInt(3 + rng.nextInt(vocab - 3));
      attentionMask[r * srcLen + j] = 1n;
    }
  }
  return { batchSize: batch, length: srcLen, size: batch, inputIds, attentionMask };
}

/** One variant in this process (the child's side): generate every batch, report what it took. */
export async function runGenerationMemoryVariant(layers: number, maxLength: number, shapes: [number, number][], openSessions: number | 'all'): Promise<GenerationMemoryVariant> {
  const cfg = config(layers, maxLength, shapes);
  const specs = bartParamSpecs(cfg);
  const gen = new BartGenerator(cfg, specs, initParams(specs, seededRandom(5), 0.02), { beam: 4, maxLength, openSessions: openSessions === 'all' ? Infinity : openSessions });
  const rng = new Rng(11);
  const hash = createHash('sha256');
  const t0 = process.hrtime.bigint();
  for (const [batch, srcLen] of shapes) for (const h of await gen.generate(sourceBatch(batch, srcLen, cfg.vocabSize, rng))) hash.update(`${h.tokens.join(',')};`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const opens = gen.sessionOpens;
  await gen.release();
  return { open_sessions: openSessions, peak_rss_mb: process.resourceUsage().maxRSS / 1024, seconds, session_opens: opens, output_hash: hash.digest('hex') };
}

/**
 * Peak memory of beam search (beam 4) with a session pair kept for every batch shape, against the default pool, each
 * in its own process so each peak is its own: a 12+12-layer model of the DART teacher's size (untrained, so it
 * generates to the length limit) over the shapes of DART's test batches.
 */
export function benchGenerationMemory(o: GenerationMemoryOptions = {}): GenerationMemoryReport {
  const layers = o.layers ?? 12;
  const maxLength = o.maxLength ?? 64;
  const shapes = o.shapes ?? DART_SHAPES;
  const run = (openSessions: number | 'all') => runInOwnProcess<GenerationMemoryVariant>('generation-memory', { layers, maxLength, shapes, openSessions });
  const unbounded = run('all');
  const pooled = run(DEFAULT_POOL_CAPACITY);
  const cfg = config(layers, maxLength, shapes);
  return {
    config: { layers, hidden: cfg.hidden, heads: cfg.heads, ffn: cfg.ffn, vocab: cfg.vocabSize, beam: 4, max_length: maxLength, shapes },
    unbounded, pooled,
    rss_ratio: unbounded.peak_rss_mb / pooled.peak_rss_mb,
    time_ratio: pooled.seconds / unbounded.seconds,
    identical: unbounded.output_hash === pooled.output_hash,
  };
}
