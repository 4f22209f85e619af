// Multi-head attention pieces shared by the encoder-decoder and decoder-only builders: head layout, masks as additive
// biases, grouped-query key/value sharing, rotary position embeddings and the fixed-size key/value cache; and what
// their graphs with dynamic axes need instead of static shapes (run-time Reshape targets, positions, causal bias).
import { DataType, GraphBuilder, attr } from '@strata/onnx';
import type { Blocks } from './blocks';

/**
 * Added to the scores of masked keys. Large enough that exp() underflows to exactly 0 in float32 and float64, finite
 * so that a row with every key masked (a padding row) stays a uniform softmax instead of NaN.
 */
export const MASKED = -1e9;

/**
 * The [B, S] token grid a tensor's rows belong to. In a graph with dynamic axes B and S are the nominal sizes the
 * builder tracks (nominalSizes) and `shape` is the grid's run-time shape, Shape(ids): rows can be merged with -1, but
 * splitting them back into B and S needs the real sizes.
 */
export interface Grid {
  B: number;
  S: number;
  shape?: string;
}

const gridTargets = new WeakMap<GraphBuilder, Map<string, string>>();

/**
 * x -> [B, S, ...tail]. With a run-time `shape` the target is Concat(shape, tail), built once per graph, shape and
 * tail, and the output is typed with the nominal sizes (GraphBuilder.opTyped).
 */
export function toGrid(b: Blocks, x: string, B: number, S: number, tail: number[], shape?: string, output?: string): string {
  const { g } = b;
  const options = output ? { output } : {};
  if (!shape) return g.op('Reshape', [x, g.ints([B, S, ...tail])], {}, options);
  let targets = gridTargets.get(g);
  if (!targets) gridTargets.set(g, (targets = new Map()));
  const key = `${shape}|${tail.join(',')}`;
  let target = targets.get(key);
  if (!target) targets.set(key, (target = g.op('Concat', [shape, g.ints(tail)], { axis: attr.i(0) })));
  return g.opTyped('Reshape', [x, target], { dtype: g.dtypeOf(x), shape: [B, S, ...tail] }, {}, options);
}

/** Rows [B·S, heads·dh] -> [B, heads, S, dh] (Hugging Face's layout of queries, keys and values); `shape`: see Grid. */
export function splitHeads(b: Blocks, rows: string, B: number, S: number, heads: number, dh: number, shape?: string): string {
  const { g } = b;
  return g.op('Transpose', [toGrid(b, rows, B, S, [heads, dh], shape)], { perm: attr.ints([0, 2, 1, 3]) });
}

/** [B, heads, S, dh] -> rows [B·S, heads·dh]; with a run-time `shape` (see Grid) the row count is left to Reshape. */
export function mergeHeads(b: Blocks, x: string, B: number, S: number, heads: number, dh: number, shape?: string): string {
  const { g } = b;
  return g.op('Reshape', [g.op('Transpose', [x], { perm: attr.ints([0, 2, 1, 3]) }), g.ints([shape ? -1 : B * S, heads * dh])]);
}

/**
 * Grouped-query attention: [B, kvHeads, S, dh] -> [B, kvHeads·groups, S, dh], query head h reading key/value head
 * ⌊h / groups⌋ (Hugging Face's repeat_kv). Expand, so the gradient sums the groups back (its rule exists). `dynamic`:
 * B and S are nominal, so Expand broadcasts from 1s and Reshape copies B (0) and infers S (-1).
 */
export function repeatKv(b: Blocks, x: string, groups: number, dynamic = false): string {
  if (groups === 1) return x;
  const { g } = b;
  const [B, kvh, S, dh] = g.shapeOf(x);
  if (dynamic) return g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [x, g.ints([2])]), g.ints([1, 1, groups, 1, 1])]), g.ints([0, kvh * groups, -1, dh])]);
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

/** 0 where an int64 [B, S] key mask is 1, MASKED where it is 0, shaped [B, 1, 1, S] (`dynamic`: B and S nominal). */
export function keyMaskBias(b: Blocks, mask: string, dynamic = false): string {
  const { g } = b;
  const [B, S] = g.shapeOf(mask);
  const m = g.op('Cast', [mask], { to: attr.i(b.dtype) });
  const additive = g.op('Mul', [g.op('Sub', [b.scalar(1), m]), b.scalar(MASKED)]);
  return dynamic ? g.op('Unsqueeze', [additive, g.ints([1, 2])]) : g.op('Reshape', [additive, g.ints([B, 1, 1, S])]);
}

/** Constant [1, 1, S, S] bias: query i may attend keys j ≤ i. */
export function causalBias(b: Blocks, S: number): string {
  const values = new Array<number>(S * S);
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) values[i * S + j] = j <= i ? 0 : MASKED;
  return b.g.constant(values, b.dtype, [1, 1, S, S], 'causal_bias');
}

/**
 * causalBias at a length known only at run time, from `positions` [B, S] (0..S−1 in every row, runningPositions):
 * [1, 1, S, S] of the same values (0 and MASKED, no arithmetic on them), without an S·S constant in the file.
 */
export function causalBiasOf(b: Blocks, positions: string): string {
  const { g } = b;
  const p = g.op('Gather', [positions, g.constant([0], DataType.INT64, [])], { axis: attr.i(0) });
  const later = g.op('Greater', [g.op('Unsqueeze', [p, g.ints([0])]), g.op('Unsqueeze', [p, g.ints([1])])]);
  return g.op('Unsqueeze', [g.op('Where', [later, b.scalar(MASKED), b.scalar(0)]), g.ints([0, 1])]);
}

/**
 * Positions 0..S−1 in every row of int64 ids [B, S], as an exclusive running count of ones shaped like them (as
 * buildBert's dynamic graph does): position lookups then have the ids' shape, which ONNX Runtime sees on both sides of
 * the embedding Add, and a sequence longer than the position table fails in its Gather instead of reading past it.
 */
export function runningPositions(b: Blocks, ids: string): string {
  const { g } = b;
  const one = g.constant([1], DataType.INT64, []);
  return g.op('CumSum', [g.op('Add', [g.op('Mul', [ids, g.constant([0], DataType.INT64, [])]), one]), one], { exclusive: attr.i(1) });
}

/**
 * The sizes a graph with dynamic axes tracks for its `count` symbolic dims: the smallest primes above every size of
 * the configuration (as buildBert's), so no tracked dim can pass for a real one, a Reshape target computed from them
 * would fail at once at run time instead of silently fitting one shape, and a product of them is recognizable.
 */
export function nominalSizes(sizes: number[], count: number): number[] {
  const isPrime = (n: number) => {
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return n > 1;
  };
  const found: number[] = [];
  let n = Math.max(...sizes);
  while (found.length < count) if (isPrime(++n)) found.push(n);
  return found;
}

/**
 * Exposes `name` as a graph output. In a graph with dynamic axes `symbolic` maps each nominal size to its dim name and
 * the output declares those names; a number left over at least as large as a nominal size is a product of them (e.g.
 * B·S rows), which no symbolic dim names.
 */
export function exposeOutput(g: GraphBuilder, name: string, symbolic?: ReadonlyMap<number, string>): string {
  g.output(name);
  if (!symbolic) return name;
  const dims = g.shapeOf(name).map((d) => symbolic.get(d) ?? d);
  if (dims.some((d) => typeof d === 'number' && d >= Math.min(...symbolic.keys())))
    throw new Error(`'${name}' [${g.shapeOf(name)}] has a dim made of several symbolic dims together (e.g. B*S rows), which no symbolic dim names`);
  g.declareDims(name, dims);
  return name;
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
