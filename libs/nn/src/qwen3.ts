// Decoder-only transformer in the Qwen3 style as ONNX graphs (Hugging Face Qwen3ForCausalLM parameter names):
// pre-norm RMSNorm, rotary position embeddings, SwiGLU feed-forward, grouped-query attention with RMSNorm on each
// query and key head (q_norm / k_norm), no biases, tied or separate LM head. Two graphs share the layer function:
// the full causal model (training, teacher caching, scoring choices) and one decoding step over a key/value cache.
import { DataType, GraphBuilder, attr } from '@strata/onnx';
import {
  Grid, applyRope, attend, causalBias, causalBiasOf, exposeOutput, keyMaskBias, mergeHeads, nominalSizes, repeatKv, ropeConstants, runningPositions, splitHeads, toGrid,
  transposeKeys, writeCache,
} from './attention';
import { Blocks, DropoutSite } from './blocks';
import { ParamDeclarer, ParamSource, ParamSpec } from './params';

export interface Qwen3Config {
  vocabSize: number;
  hidden: number;
  layers: number;
  /** Query heads (num_attention_heads). */
  heads: number;
  /** Key/value heads (num_key_value_heads); divides `heads`. */
  kvHeads: number;
  /** head_dim (Qwen3 does not tie it to hidden / heads). */
  headDim: number;
  /** intermediate_size of the SwiGLU MLP. */
  intermediate: number;
  maxPositions: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  attentionDropout: number;
  /**
   * Dropout on each residual branch and the embeddings. Not in Qwen3 (0 there); useful when training small models
   * from scratch on little data.
   */
  hiddenDropout: number;
  padId: number;
  bosId: number;
  eosId: number;
}

export const QWEN3_DEFAULTS: Omit<Qwen3Config, 'vocabSize' | 'padId' | 'bosId' | 'eosId'> = {
  hidden: 256,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  headDim: 64,
  intermediate: 768,
  maxPositions: 256,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: true,
  attentionDropout: 0,
  hiddenDropout: 0,
};

export function validateQwen3Config(cfg: Qwen3Config): void {
  const fail = (field: string, msg: string) => {
    throw new Error(`qwen3 config: ${field} ${msg}`);
  };
  for (const f of ['vocabSize', 'hidden', 'layers', 'heads', 'kvHeads', 'headDim', 'intermediate', 'maxPositions'] as const)
    if (!Number.isInteger(cfg[f]) || cfg[f] < 1) fail(f, `must be a positive integer (got ${cfg[f]})`);
  if (cfg.heads % cfg.kvHeads !== 0) fail('kvHeads', `(${cfg.kvHeads}) must divide heads (${cfg.heads})`);
  if (cfg.headDim % 2 !== 0) fail('headDim', `must be even for rotary embeddings (got ${cfg.headDim})`);
  for (const f of ['attentionDropout', 'hiddenDropout'] as const) if (!(cfg[f] >= 0 && cfg[f] < 1)) fail(f, `must be in [0, 1) (got ${cfg[f]})`);
  for (const f of ['padId', 'bosId', 'eosId'] as const) if (!Number.isInteger(cfg[f]) || cfg[f] < 0 || cfg[f] >= cfg.vocabSize) fail(f, `must be a token id in 0..${cfg.vocabSize - 1} (got ${cfg[f]})`);
}

interface Ctx {
  cfg: Qwen3Config;
  g: GraphBuilder;
  b: Blocks;
  p: ParamDeclarer;
  embedTokens: string;
  rope: { cos: string; sin: string };
}

function context(cfg: Qwen3Config, name: string, dtype: DataType, training: boolean, params: ParamSource): Ctx {
  validateQwen3Config(cfg);
  const g = new GraphBuilder(name);
  const p = new ParamDeclarer(g, dtype, params);
  const b = new Blocks(g, p, dtype, training);
  const embedTokens = p.declare('model.embed_tokens.weight', [cfg.vocabSize, cfg.hidden], 'normal', false);
  return { cfg, g, b, p, embedTokens, rope: ropeConstants(b, cfg.maxPositions, cfg.headDim, cfg.ropeTheta) };
}

/**
 * One Qwen3 decoder layer over rows [B·S, H]. `cos`/`sin` broadcast to [B, 1, S, dh]; `selfKv` turns the layer's
 * fresh keys/values [B, kvh, S, dh] into the attended ones (themselves, or the updated cache) and gives the bias.
 */
function layer(c: Ctx, l: number, x: string, { B, S, shape }: Grid, cos: string, sin: string, selfKv: (k: string, v: string) => { k: string; v: string; bias: string; keysTransposed?: boolean }): string {
  const { g, b, cfg } = c;
  const pre = `model.layers.${l}`;
  const site = `layer.${l}`;
  const dh = cfg.headDim;
  const h = b.rmsNorm(x, `${pre}.input_layernorm.weight`, cfg.hidden, cfg.rmsNormEps);
  // q/k norm: RMSNorm over each head's dh features, before the rotation (as in Qwen3).
  const project = (name: string, heads: number, norm?: string) => {
    let t = splitHeads(b, b.linear(h, `${pre}.self_attn.${name}`, cfg.hidden, heads * dh, false), B, S, heads, dh, shape);
    if (norm) t = b.rmsNorm(t, `${pre}.self_attn.${norm}.weight`, dh, cfg.rmsNormEps);
    return t;
  };
  const q = applyRope(b, project('q_proj', cfg.heads, 'q_norm'), cos, sin);
  const k = applyRope(b, project('k_proj', cfg.kvHeads, 'k_norm'), cos, sin);
  const v = project('v_proj', cfg.kvHeads);
  const attended = selfKv(k, v);
  const groups = cfg.heads / cfg.kvHeads;
  const ctx = attend(b, q, repeatKv(b, attended.k, groups, shape !== undefined), repeatKv(b, attended.v, groups, shape !== undefined), {
    scale: 1 / Math.sqrt(dh), bias: [attended.bias], keysTransposed: attended.keysTransposed, dropout: { rate: cfg.attentionDropout, site: `${site}.attention.probs` },
  });
  const out = b.dropout(b.linear(mergeHeads(b, ctx, B, S, cfg.heads, dh, shape), `${pre}.self_attn.o_proj`, cfg.heads * dh, cfg.hidden, false), cfg.hiddenDropout, `${site}.attention.output`);
  x = g.op('Add', [x, out]);
  const h2 = b.rmsNorm(x, `${pre}.post_attention_layernorm.weight`, cfg.hidden, cfg.rmsNormEps);
  const gate = b.silu(b.linear(h2, `${pre}.mlp.gate_proj`, cfg.hidden, cfg.intermediate, false));
  const up = b.linear(h2, `${pre}.mlp.up_proj`, cfg.hidden, cfg.intermediate, false);
  const mlp = b.dropout(b.linear(g.op('Mul', [gate, up]), `${pre}.mlp.down_proj`, cfg.intermediate, cfg.hidden, false), cfg.hiddenDropout, `${site}.output`);
  return g.op('Add', [x, mlp]);
}

function embedRows(c: Ctx, ids: string, dynamic = false): string {
  const { g, b, cfg } = c;
  const rows = dynamic ? -1 : g.shapeOf(ids).reduce((a, d) => a * d, 1);
  return b.dropout(g.op('Reshape', [g.op('Gather', [c.embedTokens, ids]), g.ints([rows, cfg.hidden])]), cfg.hiddenDropout, 'embeddings');
}

/** Final RMSNorm and the LM head (tied to the embeddings unless tieWordEmbeddings is false): [N, V]. */
function head(c: Ctx, rows: string): { normed: string; logits: string } {
  const { g, b, cfg } = c;
  const normed = b.rmsNorm(rows, 'model.norm.weight', cfg.hidden, cfg.rmsNormEps);
  const w = cfg.tieWordEmbeddings ? c.embedTokens : c.p.declare('lm_head.weight', [cfg.vocabSize, cfg.hidden], 'normal');
  return { normed, logits: g.op('Gemm', [normed, w], { transB: attr.i(1) }) };
}

interface Qwen3GraphCommon {
  training: boolean;
  dtype?: DataType;
  params?: ParamSource;
}

/**
 * A static [batch, seqLen] graph, or with dynamicAxes (inference only, as buildBert's) one that runs for any batch and
 * any length up to maxPositions: inputs and outputs declare the symbolic dims of QWEN3_DYNAMIC_DIMS.
 */
export type Qwen3GraphOptions = Qwen3GraphCommon & ({ batch: number; seqLen: number; dynamicAxes?: false } | { dynamicAxes: true; batch?: undefined; seqLen?: undefined });

/** The symbolic dims of a dynamic-axes graph, as Hugging Face's ONNX exports of decoder-only models name them. */
export const QWEN3_DYNAMIC_DIMS = { batch: 'batch_size', seqLen: 'sequence_length' } as const;

export interface Qwen3Graph {
  g: GraphBuilder;
  /** int64 [B, S] ids and mask (right padding). */
  inputIds: string;
  attentionMask: string;
  /**
   * hidden_states.0 (embeddings) .. .L, each [B, S, H], as Hugging Face returns them: layer outputs, the last one
   * after the final RMSNorm.
   */
  hiddenStates: string[];
  /** [B, S, V]: logits for the token after each position. */
  logits: string;
  params: ParamSpec[];
  dropoutSites: DropoutSite[];
  /** Exposes a tensor as a graph output; in a dynamic-axes graph with its batch and sequence dims declared symbolic. */
  output(name: string): string;
}

/** The full causal model over right-padded [B, S] sequences (positions 0..S−1 in every row). */
export function buildQwen3(cfg: Qwen3Config, opts: Qwen3GraphOptions): Qwen3Graph {
  const dynamic = opts.dynamicAxes === true;
  if (dynamic && opts.training) throw new Error('buildQwen3: dynamicAxes is for inference graphs only (training feeds dropout masks of one static shape)');
  if (!opts.dynamicAxes && opts.seqLen > cfg.maxPositions) throw new Error(`qwen3: sequence length ${opts.seqLen} exceeds maxPositions ${cfg.maxPositions}`);
  const c = context(cfg, 'qwen3', opts.dtype ?? DataType.FLOAT, opts.training, opts.params ?? { kind: 'inputs' });
  const { g, b } = c;
  const [B, S] = opts.dynamicAxes
    ? nominalSizes([cfg.vocabSize, cfg.hidden, cfg.layers, cfg.heads, cfg.kvHeads, cfg.headDim, cfg.heads * cfg.headDim, cfg.intermediate, cfg.maxPositions], 2)
    : [opts.batch, opts.seqLen];
  const inputIds = g.input('input_ids', DataType.INT64, [B, S]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [B, S]);
  const grid: Grid = { B, S };
  let symbolic: Map<number, string> | undefined;
  let positions: string | undefined;
  if (dynamic) {
    const { batch, seqLen } = QWEN3_DYNAMIC_DIMS;
    symbolic = new Map([[B, batch], [S, seqLen]]);
    for (const x of [inputIds, attentionMask]) g.declareDims(x, [batch, seqLen]);
    grid.shape = g.op('Shape', [inputIds]);
    positions = runningPositions(b, inputIds);
  }
  const bias = g.op('Add', [positions ? causalBiasOf(b, positions) : causalBias(b, S), keyMaskBias(b, attentionMask, dynamic)]);
  // Dynamic: the rows of the rotary tables at each token's position, [B, 1, S, dh] (the same values for every row).
  const window = (t: string) => positions
    ? g.op('Unsqueeze', [g.op('Gather', [t, positions]), g.ints([1])])
    : g.op('Reshape', [g.op('Slice', [t, g.ints([0]), g.ints([S]), g.ints([0])]), g.ints([1, 1, S, cfg.headDim])]);
  const cos = window(c.rope.cos);
  const sin = window(c.rope.sin);
  let x = embedRows(c, inputIds, dynamic);
  const hiddenStates = [toGrid(b, x, B, S, [cfg.hidden], grid.shape, 'hidden_states.0')];
  for (let l = 0; l < cfg.layers; l++) {
    x = layer(c, l, x, grid, cos, sin, (k, v) => ({ k, v, bias }));
    if (l < cfg.layers - 1) hiddenStates.push(toGrid(b, x, B, S, [cfg.hidden], grid.shape, `hidden_states.${l + 1}`));
  }
  const { normed, logits: rows } = head(c, x);
  hiddenStates.push(toGrid(b, normed, B, S, [cfg.hidden], grid.shape, `hidden_states.${cfg.layers}`));
  const logits = toGrid(b, rows, B, S, [cfg.vocabSize], grid.shape, 'logits');
  return { g, inputIds, attentionMask, hiddenStates, logits, params: c.p.specs, dropoutSites: b.dropoutSites, output: (name) => exposeOutput(g, name, symbolic) };
}

export function qwen3ParamSpecs(cfg: Qwen3Config): ParamSpec[] {
  return buildQwen3({ ...cfg, attentionDropout: 0, hiddenDropout: 0 }, { batch: 1, seqLen: 1, training: false }).params;
}

export interface Qwen3StepGraph {
  g: GraphBuilder;
  logits: string;
  presentKeys: string[];
  presentValues: string[];
}

/**
 * One decoding step for N rows over a fixed cache of `maxLen` columns. Inputs: `input_ids` [N, 1], `position_ids`
 * [N, 1] (rotary position of the token: its index among the row's real tokens, so left-padded prompts work),
 * `cache_position` [1] (the column written), `key_mask` [N, maxLen] int64 (1 for columns holding real keys, this
 * step's included), `beam_index` [N], `past_key.l` [N, kvHeads, dh, maxLen] (keys transposed) / `past_value.l`
 * [N, kvHeads, maxLen, dh].
 */
export function buildQwen3Step(cfg: Qwen3Config, opts: { rows: number; maxLen: number; dtype?: DataType; params?: ParamSource }): Qwen3StepGraph {
  const { rows: N, maxLen } = opts;
  if (maxLen > cfg.maxPositions) throw new Error(`qwen3: maxLen ${maxLen} exceeds maxPositions ${cfg.maxPositions}`);
  const c = context(cfg, 'qwen3_step', opts.dtype ?? DataType.FLOAT, false, opts.params ?? { kind: 'inputs' });
  const { g, b } = c;
  const ids = g.input('input_ids', DataType.INT64, [N, 1]);
  const positions = g.input('position_ids', DataType.INT64, [N, 1]);
  const cachePosition = g.input('cache_position', DataType.INT64, [1]);
  const keyMask = g.input('key_mask', DataType.INT64, [N, maxLen]);
  const beamIndex = g.input('beam_index', DataType.INT64, [N]);
  const bias = keyMaskBias(b, keyMask);
  const at = (t: string) => g.op('Reshape', [g.op('Gather', [t, positions]), g.ints([N, 1, 1, cfg.headDim])]);
  const cos = at(c.rope.cos);
  const sin = at(c.rope.sin);
  let x = embedRows(c, ids);
  const presentKeys: string[] = [];
  const presentValues: string[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const pastK = g.input(`past_key.${l}`, b.dtype, [N, cfg.kvHeads, cfg.headDim, maxLen]);
    const pastV = g.input(`past_value.${l}`, b.dtype, [N, cfg.kvHeads, maxLen, cfg.headDim]);
    x = layer(c, l, x, { B: N, S: 1 }, cos, sin, (k, v) => {
      const pk = writeCache(b, pastK, transposeKeys(b, k), beamIndex, cachePosition, 3, `present_key.${l}`);
      const pv = writeCache(b, pastV, v, beamIndex, cachePosition, 2, `present_value.${l}`);
      presentKeys.push(pk);
      presentValues.push(pv);
      return { k: pk, v: pv, bias, keysTransposed: true };
    });
  }
  const logits = g.op('Identity', [head(c, x).logits], {}, { output: 'logits' });
  return { g, logits, presentKeys, presentValues };
}

/** Forward FLOPs of one sequence of S tokens (multiply-adds × 2). */
export function qwen3ForwardFlops(cfg: Qwen3Config, seqLen: number): number {
  const H = cfg.hidden;
  const attnDense = 2 * H * cfg.heads * cfg.headDim + 2 * H * cfg.kvHeads * cfg.headDim;
  const perLayer = 2 * seqLen * (attnDense + 3 * H * cfg.intermediate) + 4 * seqLen * seqLen * cfg.heads * cfg.headDim;
  return cfg.layers * perLayer + 2 * seqLen * H * cfg.vocabSize;
}
