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
}

/** softmax(q·kᵀ·scale + Σbias)·v for q [B, h, Sq, dh], k and v [B, h, Sk, dh]. */
export function attend(b: Blocks, q: string, k: string, v: string, o: AttentionOptions): string {
  const { g } = b;
  const kt = g.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
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
 * One step of a fixed-size key/value cache [N, h, Tmax, dh]: rows are first reordered by `beamIndex` [N] (beam search
 * keeps the cache of the hypothesis each new row extends), then column `cachePosition` ([1] int64) is overwritten by
 * `fresh` [N, h, 1, dh]. Static shapes throughout, so one step graph serves every position.
 */
export function writeCache(b: Blocks, past: string, fresh: string, beamIndex: string, cachePosition: string): string {
  const { g } = b;
  const [, , Tmax] = g.shapeOf(past);
  const columns = g.constant(Array.from({ length: Tmax }, (_, i) => i), DataType.INT64, [Tmax], 'cache_columns');
  const hit = g.op('Reshape', [g.op('Cast', [g.op('Equal', [columns, cachePosition])], { to: attr.i(b.dtype) }), g.ints([1, 1, Tmax, 1])]);
  const reordered = g.op('Gather', [past, beamIndex], { axis: attr.i(0) });
  const kept = g.op('Mul', [reordered, g.op('Sub', [b.scalar(1), hit])]);
  return g.op('Add', [kept, g.op('Mul', [fresh, hit])]);
}
