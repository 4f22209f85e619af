// Multi-head attention pieces shared by the encoder-decoder and decoder-only builders: head layout, masks as additive
// biases, grouped-query key/value sharing, rotary position embeddings and the fixed-size key/value cache.
import { DataType, attr } from '@strata/onnx';
import type { Blocks } from './blocks';

/**
 * Added to the scores of masked keys. Large enough that exp() underflows to exactly 0 in float32 and float64, finite
 * so that a row with every key masked (a padding row) stays a uniform softmax instead of NaN.
 */
export const MASKED = -1e9;

/** Rows [B·S, heads·dh] -> [B, heads, S, dh] (Hugging Face's layout of queries, keys and values). */
export function splitHeads(b: Blocks, rows: string, B: number, S: number, heads: number, dh: number): string {
  const { g } = b;
  return g.op('Transpose', [g.op('Reshape', [rows, g.ints([B, S, heads, dh])])], { perm: attr.ints([0, 2, 1, 3]) });
}

/** [B, heads, S, dh] -> rows [B·S, heads·dh]. */
export function mergeHeads(b: Blocks, x: string, B: number, S: number, heads: number, dh: number): string {
  const { g } = b;
  return g.op('Reshape', [g.op('Transpose', [x], { perm: attr.ints([0, 2, 1, 3]) }), g.ints([B * S, heads * dh])]);
}

/**
 * Grouped-query attention: [B, kvHeads, S, dh] -> [B, kvHeads·groups, S, dh], query head h reading key/value head
 * ⌊h / groups⌋ (Hugging Face's repeat_kv). Expand, so the gradient sums the groups back (its rule exists).
 */
export function repeatKv(b: Blocks, x: string, groups: number): string {
  if (groups === 1) return x;
  const { g } = b;
  const [B, kvh, S, dh] = g.shapeOf(x);
  const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.ints([2])]), g.ints([B, kvh, groups, S, dh])]);
  return g.op('Reshape', [expanded, g.ints([B, kvh * groups, S, dh])]);
}

export interface AttentionOptions {
  /** Multiplies the scores (1/√dh unless the queries are pre-scaled). */
  scale: number;
  /** Additive bias broadcasting to [B, heads, Sq, Sk] (masks). */
  bias?: string[];
  /** Dropout rate on the attention probabilities, and the name of its fed mask. */
  dropout?: { rate: number; site: string };
  /** `k` comes as [B, h, dh, Sk] (the key cache's layout), so no transpose is needed. */
  keysTransposed?: boolean;
}

/** [B, h, S, dh] -> [B, h, dh, S]. */
export function transposeKeys(b: Blocks, k: string): string {
  return b.g.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
}

/** softmax(q·kᵀ·scale + Σbias)·v for q [B, h, Sq, dh], k and v [B, h, Sk, dh] (k as [B, h, dh, Sk] when keysTransposed). */
export function attend(b: Blocks, q: string, k: string, v: string, o: AttentionOptions): string {
  const { g } = b;
  const kt = o.keysTransposed ? k : transposeKeys(b, k);
  const qs = o.scale === 1 ? q : g.op('Mul', [q, b.scalar(o.scale)]);
  let scores = g.op('MatMul', [qs, kt]);
  for (const bias of o.bias ?? []) scores = g.op('Add', [scores, bias]);
  let probs = g.op('Softmax', [scores], { axis: attr.i(-1) });
  if (o.dropout) probs = b.dropout(probs, o.dropout.rate, o.dropout.site);
  return g.op('MatMul', [probs, v]);
}

/** 0 where an int64 [B, S] key mask is 1, MASKED where it is 0, shaped [B, 1, 1, S]. */
export function keyMaskBias(b: Blocks, mask: string): string {
  const { g } = b;
  const [B, S] = g.shapeOf(mask);
  const m = g.op('Cast', [mask], { to: attr.i(b.dtype) });
  return g.op('Reshape', [g.op('Mul', [g.op('Sub', [b.scalar(1), m]), b.scalar(MASKED)]), g.ints([B, 1, 1, S])]);
}

/** Constant [1, 1, S, S] bias: query i may attend keys j ≤ i. */
export function causalBias(b: Blocks, S: number): string {
  const values = new Array<number>(S * S);
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) values[i * S + j] = j <= i ? 0 : MASKED;
  return b.g.constant(values, b.dtype, [1, 1, S, S], 'causal_bias');
}

/**
 * Rotary tables (Su et al.; Hugging Face's default rope): cos and sin of position·θ^(−2i/dim), each frequency used
 * for both halves of the head (the rotate_half layout), as [maxPositions, dim] arrays.
 */
export function ropeTables(maxPositions: number, dim: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  if (dim % 2 !== 0) throw new Error(`rotary embeddings need an even head dimension, got ${dim}`);
  const half = dim / 2;
  const cos = new Float64Array(maxPositions * dim);
  const sin = new Float64Array(maxPositions * dim);
  for (let p = 0; p < maxPositions; p++)
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** (-(2 * i) / dim);
      cos[p * dim + i] = cos[p * dim + half + i] = Math.cos(angle);
      sin[p * dim + i] = sin[p * dim + half + i] = Math.sin(angle);
    }
  return { cos, sin };
}

/** x·cos + rotate_half(x)·sin for x [..., dh], with cos/sin broadcasting to x; rotate_half([a, b]) = [−b, a]. */
export function applyRope(b: Blocks, x: string, cos: string, sin: string): string {
  const { g } = b;
  const dh = g.shapeOf(x).at(-1)!;
  const [x1, x2] = g.opN('Split', [x, g.ints([dh / 2, dh / 2])], { axis: attr.i(-1) }, { outputs: 2 });
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: attr.i(-1) });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
}

/** The rotary tables as graph constants of the builder's float type, [maxPositions, dim]. */
export function ropeConstants(b: Blocks, maxPositions: number, dim: number, theta: number): { cos: string; sin: string } {
  const t = ropeTables(maxPositions, dim, theta);
  return { cos: b.g.constant(t.cos, b.dtype, [maxPositions, dim], 'rope_cos'), sin: b.g.constant(t.sin, b.dtype, [maxPositions, dim], 'rope_sin') };
}

/**
 * One step of a fixed-size cache, positions along `axis` (2 for values [N, h, Tmax, dh], 3 for keys kept transposed
 * [N, h, dh, Tmax]): rows are first reordered by `beamIndex` [N] (beam search keeps the cache of the hypothesis each
 * new row extends), then position `cachePosition` ([1] int64) takes `fresh` (size 1 on `axis`). One Gather and one
 * Where, writing the output under `output` directly (no copy). Static shapes, so one step graph serves every position.
 */
export function writeCache(b: Blocks, past: string, fresh: string, beamIndex: string, cachePosition: string, axis: 2 | 3, output: string): string {
  const { g } = b;
  const reordered = g.op('Gather', [past, beamIndex], { axis: attr.i(0) });
  // ScatterND copies the cache once and writes only the new slice: measured ~4x faster than a broadcasting Where.
  return g.op('ScatterND', [reordered, scatterIndices(b, g.shapeOf(past), axis, cachePosition), fresh], {}, { output });
}

const indexCache = new WeakMap<object, Map<string, string>>();

/**
 * ScatterND indices addressing position `cachePosition` of every row, head (and feature, for transposed keys):
 * a constant grid of leading coordinates plus cachePosition on the position coordinate. Shared by all layers.
 */
function scatterIndices(b: Blocks, dims: number[], axis: 2 | 3, cachePosition: string): string {
  const { g } = b;
  const key = `${dims.join('x')}@${axis}|${cachePosition}`;
  let byGraph = indexCache.get(g);
  if (!byGraph) indexCache.set(g, (byGraph = new Map()));
  const hit = byGraph.get(key);
  if (hit) return hit;
  const lead = dims.slice(0, axis); // coordinates before the position axis
  const count = lead.reduce((a, d) => a * d, 1);
  const rank = axis + 1;
  const base = new BigInt64Array(count * rank);
  for (let i = 0; i < count; i++) {
    let rest = i;
    for (let d = axis - 1; d >= 0; d--) {
      base[i * rank + d] = BigInt(rest % lead[d]);
      rest = Math.floor(rest / lead[d]);
    }
  }
  const grid = g.constant(base, DataType.INT64, [...lead, 1, rank], 'cache_scatter_base');
  const unit = g.constant(Array.from({ length: rank }, (_, i) => (i === axis ? 1 : 0)), DataType.INT64, [rank]);
  const indices = g.op('Add', [grid, g.op('Mul', [unit, cachePosition])]);
  byGraph.set(key, indices);
  return indices;
}
