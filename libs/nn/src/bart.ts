// BART-style encoder-decoder transformer as ONNX graphs (post-LN, learned positions, tied embeddings; Hugging Face
// BartForConditionalGeneration parameter names). Three graphs share one set of layer functions so they compute the
// same thing: the teacher-forced model (training, teacher caching), the encoder for generation (which also projects
// every decoder layer's cross-attention keys and values once), and one decoder step over a key/value cache.
// Why BART-style and not T5's relative position bias: see README.md ("Encoder-decoder").
import { DataType, GraphBuilder, attr } from '@strata/onnx';
import {
  Grid, attend, causalBias, causalBiasOf, exposeOutput, keyMaskBias, mergeHeads, nominalSizes, runningPositions, splitHeads, toGrid, transposeKeys, writeCache,
} from './attention';
import { Activation, Blocks, DropoutSite } from './blocks';
import { ParamDeclarer, ParamSource, ParamSpec } from './params';

export interface BartConfig {
  vocabSize: number;
  /** d_model. */
  hidden: number;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  /** encoder_ffn_dim = decoder_ffn_dim. */
  ffn: number;
  /** Longest source or target sequence (max_position_embeddings). */
  maxPositions: number;
  dropout: number;
  attentionDropout: number;
  activation: Activation;
  layerNormEps: number;
  /** Multiply token embeddings by √d_model (scale_embedding; false in bart-base). */
  scaleEmbedding: boolean;
  /**
   * Pre-LN layers (mBART's layout, Hugging Face MBartForConditionalGeneration names): each sublayer normalizes its
   * input and adds its output to the residual, and each stack ends with its own LayerNorm (`model.encoder.layer_norm`,
   * `model.decoder.layer_norm`). Default false: BART's post-LN.
   */
  normalizeBefore?: boolean;
  /**
   * Add a learned [1, vocab] bias to the logits (`final_logits_bias`, as Hugging Face's BART and mBART checkpoints
   * carry it). Default false: a model trained from scratch has none. Strata trains it like any bias.
   */
  finalLogitsBias?: boolean;
  padId: number;
  /** First decoder input of every target (decoder_start_token_id). */
  decoderStartId: number;
  eosId: number;
}

export const BART_DEFAULTS: Omit<BartConfig, 'vocabSize' | 'padId' | 'decoderStartId' | 'eosId'> = {
  hidden: 256,
  encoderLayers: 3,
  decoderLayers: 3,
  heads: 4,
  ffn: 1024,
  maxPositions: 128,
  dropout: 0.1,
  attentionDropout: 0,
  activation: 'gelu',
  layerNormEps: 1e-5,
  scaleEmbedding: false,
};

/** BART offsets learned positions by 2 (fairseq's padding offset): position p reads row p + 2 of embed_positions. */
export const BART_POSITION_OFFSET = 2;

export function validateBartConfig(cfg: BartConfig): void {
  const fail = (field: string, msg: string) => {
    throw new Error(`bart config: ${field} ${msg}`);
  };
  for (const f of ['vocabSize', 'hidden', 'encoderLayers', 'decoderLayers', 'heads', 'ffn', 'maxPositions'] as const)
    if (!Number.isInteger(cfg[f]) || cfg[f] < 1) fail(f, `must be a positive integer (got ${cfg[f]})`);
  if (cfg.hidden % cfg.heads !== 0) fail('hidden', `(${cfg.hidden}) must be divisible by heads (${cfg.heads})`);
  for (const f of ['dropout', 'attentionDropout'] as const) if (!(cfg[f] >= 0 && cfg[f] < 1)) fail(f, `must be in [0, 1) (got ${cfg[f]})`);
  for (const f of ['padId', 'decoderStartId', 'eosId'] as const) if (!Number.isInteger(cfg[f]) || cfg[f] < 0 || cfg[f] >= cfg.vocabSize) fail(f, `must be a token id in 0..${cfg.vocabSize - 1} (got ${cfg[f]})`);
}

interface Ctx {
  cfg: BartConfig;
  g: GraphBuilder;
  b: Blocks;
  p: ParamDeclarer;
  dh: number;
  shared: string;
}

function context(cfg: BartConfig, name: string, dtype: DataType, training: boolean, params: ParamSource): Ctx {
  validateBartConfig(cfg);
  const g = new GraphBuilder(name);
  const p = new ParamDeclarer(g, dtype, params);
  const b = new Blocks(g, p, dtype, training);
  const shared = p.declare('model.shared.weight', [cfg.vocabSize, cfg.hidden], 'normal', false);
  return { cfg, g, b, p, dh: cfg.hidden / cfg.heads, shared };
}

/** Token embeddings (× √d when scaled) + learned positions, then layernorm_embedding and dropout: [rows, H]. */
function embed(c: Ctx, stack: 'encoder' | 'decoder', ids: string, positions: string, dynamic = false): string {
  const { g, b, cfg } = c;
  const rows = dynamic ? -1 : g.shapeOf(ids).reduce((a, d) => a * d, 1);
  // [B, S, H] tokens + [S, H] (or [N, 1, H]) positions, summed before flattening to rows.
  let tokens = g.op('Gather', [c.shared, ids]);
  if (cfg.scaleEmbedding) tokens = g.op('Mul', [tokens, b.scalar(Math.sqrt(cfg.hidden))]);
  const table = c.p.declare(`model.${stack}.embed_positions.weight`, [cfg.maxPositions + BART_POSITION_OFFSET, cfg.hidden], 'normal', false);
  const shifted = g.op('Add', [positions, g.constant([BART_POSITION_OFFSET], DataType.INT64, [])]);
  const summed = g.op('Reshape', [g.op('Add', [tokens, g.op('Gather', [table, shifted])]), g.ints([rows, cfg.hidden])]);
  const x = b.layerNorm(summed, `model.${stack}.layernorm_embedding`, cfg.hidden, cfg.layerNormEps);
  return b.dropout(x, cfg.dropout, `${stack}.embeddings`);
}

/** Residual + post-LN feed-forward block of a BART layer. */
/**
 * A residual sublayer: post-LN `LN(x + f(x))` (BART) or pre-LN `x + f(LN(x))` (mBART), the LayerNorm named `norm`.
 */
function sublayer(c: Ctx, x: string, norm: string, f: (h: string) => string): string {
  const { g, b, cfg } = c;
  if (cfg.normalizeBefore) return g.op('Add', [x, f(b.layerNorm(x, norm, cfg.hidden, cfg.layerNormEps))]);
  return b.layerNorm(g.op('Add', [x, f(x)]), norm, cfg.hidden, cfg.layerNormEps);
}

/** The feed-forward sublayer of a BART layer. */
function feedForward(c: Ctx, x: string, pre: string, site: string): string {
  const { b, cfg } = c;
  return sublayer(c, x, `${pre}.final_layer_norm`, (h) => {
    const inner = b.activation(b.linear(h, `${pre}.fc1`, cfg.hidden, cfg.ffn), cfg.activation);
    return b.dropout(b.linear(inner, `${pre}.fc2`, cfg.ffn, cfg.hidden), cfg.dropout, `${site}.output`);
  });
}

/** Pre-LN stacks end with their own LayerNorm (`model.<stack>.layer_norm`); post-LN ones need none. */
function finalNorm(c: Ctx, stack: 'encoder' | 'decoder', x: string): string {
  return c.cfg.normalizeBefore ? c.b.layerNorm(x, `model.${stack}.layer_norm`, c.cfg.hidden, c.cfg.layerNormEps) : x;
}

/** The encoder over [B, S] ids: hidden_states 0..L as [B·S, H] rows (pre-LN: the last one after the final LayerNorm, as HF). */
function encoderStack(c: Ctx, ids: string, mask: string, { B, S, shape }: Grid): string[] {
  const { g, b, cfg, dh } = c;
  const dynamic = shape !== undefined;
  const positions = dynamic ? runningPositions(b, ids) : g.constant(Array.from({ length: S }, (_, i) => i), DataType.INT64, [S], 'position_ids');
  let x = embed(c, 'encoder', ids, positions, dynamic);
  const states = [x];
  const bias = keyMaskBias(b, mask, dynamic);
  for (let l = 0; l < cfg.encoderLayers; l++) {
    const pre = `model.encoder.layers.${l}`;
    const site = `encoder.layer.${l}`;
    x = sublayer(c, x, `${pre}.self_attn_layer_norm`, (h) => {
      const heads = (name: string) => splitHeads(b, b.linear(h, `${pre}.self_attn.${name}`, cfg.hidden, cfg.hidden), B, S, cfg.heads, dh, shape);
      const ctx = attend(b, heads('q_proj'), heads('k_proj'), heads('v_proj'), { scale: 1 / Math.sqrt(dh), bias: [bias], dropout: { rate: cfg.attentionDropout, site: `${site}.attention.probs` } });
      return b.dropout(b.linear(mergeHeads(b, ctx, B, S, cfg.heads, dh, shape), `${pre}.self_attn.out_proj`, cfg.hidden, cfg.hidden), cfg.dropout, `${site}.attention.output`);
    });
    x = feedForward(c, x, pre, site);
    states.push(l === cfg.encoderLayers - 1 ? finalNorm(c, 'encoder', x) : x);
  }
  return states;
}

/** Cross-attention keys (transposed, [B, h, dh, S]) and values ([B, h, S, dh]) of decoder layer l from encoder rows [B·S, H]. */
function crossKeyValue(c: Ctx, l: number, encoderRows: string, { B, S, shape }: Grid): { kT: string; v: string } {
  const { b, cfg, dh } = c;
  const pre = `model.decoder.layers.${l}.encoder_attn`;
  return {
    kT: transposeKeys(b, splitHeads(b, b.linear(encoderRows, `${pre}.k_proj`, cfg.hidden, cfg.hidden), B, S, cfg.heads, dh, shape)),
    v: splitHeads(b, b.linear(encoderRows, `${pre}.v_proj`, cfg.hidden, cfg.hidden), B, S, cfg.heads, dh, shape),
  };
}

/**
 * One decoder layer over [B·T, H] rows. `selfKv` turns this layer's fresh keys/values [B, h, T, dh] into the ones
 * attended (itself in the teacher-forced graph; the updated cache in the step graph) and gives the self-attention
 * bias. Cross keys/values come projected (crossKeyValue), so the step graph takes them as inputs.
 */
function decoderLayer(
  c: Ctx, l: number, y: string, { B, S: T, shape }: Grid,
  selfKv: (k: string, v: string) => { k: string; v: string; bias: string; keysTransposed?: boolean },
  cross: { kT: string; v: string; bias: string },
): string {
  const { b, cfg, dh } = c;
  const pre = `model.decoder.layers.${l}`;
  const site = `decoder.layer.${l}`;
  const scale = 1 / Math.sqrt(dh);
  const heads = (x: string, name: string) => splitHeads(b, b.linear(x, `${pre}.${name}`, cfg.hidden, cfg.hidden), B, T, cfg.heads, dh, shape);
  y = sublayer(c, y, `${pre}.self_attn_layer_norm`, (h) => {
    // Hugging Face declares q, k, v in the order k, v, q; the order here only affects the parameter list.
    const k = heads(h, 'self_attn.k_proj');
    const v = heads(h, 'self_attn.v_proj');
    const q = heads(h, 'self_attn.q_proj');
    const attended = selfKv(k, v);
    const ctx = attend(b, q, attended.k, attended.v, { scale, bias: [attended.bias], keysTransposed: attended.keysTransposed, dropout: { rate: cfg.attentionDropout, site: `${site}.attention.probs` } });
    return b.dropout(b.linear(mergeHeads(b, ctx, B, T, cfg.heads, dh, shape), `${pre}.self_attn.out_proj`, cfg.hidden, cfg.hidden), cfg.dropout, `${site}.attention.output`);
  });
  y = sublayer(c, y, `${pre}.encoder_attn_layer_norm`, (h) => {
    const cq = heads(h, 'encoder_attn.q_proj');
    const cctx = attend(b, cq, cross.kT, cross.v, { scale, bias: [cross.bias], keysTransposed: true, dropout: { rate: cfg.attentionDropout, site: `${site}.cross_attention.probs` } });
    return b.dropout(b.linear(mergeHeads(b, cctx, B, T, cfg.heads, dh, shape), `${pre}.encoder_attn.out_proj`, cfg.hidden, cfg.hidden), cfg.dropout, `${site}.cross_attention.output`);
  });
  return feedForward(c, y, pre, site);
}

/** The tied LM head: rows [N, H] · sharedᵀ (+ final_logits_bias) -> [N, V]. */
function lmHead(c: Ctx, rows: string): string {
  const inputs = [rows, c.shared];
  if (c.cfg.finalLogitsBias) inputs.push(c.p.declare('final_logits_bias', [1, c.cfg.vocabSize], 'zeros', false));
  return c.g.op('Gemm', inputs, { transB: attr.i(1) });
}

interface BartGraphCommon {
  /** Training graphs get fed dropout masks; inference graphs have none. */
  training: boolean;
  dtype?: DataType;
  params?: ParamSource;
}

/**
 * A static [batch, srcLen] / [batch, tgtLen] graph, or with dynamicAxes (inference only, as buildBert's) one that
 * runs for any batch and any lengths up to maxPositions: inputs and outputs declare the symbolic dims of
 * BART_DYNAMIC_DIMS, as Hugging Face's ONNX exports of BART name them.
 */
export type BartGraphOptions = BartGraphCommon & (
  | { batch: number; srcLen: number; tgtLen: number; dynamicAxes?: false }
  | { dynamicAxes: true; batch?: undefined; srcLen?: undefined; tgtLen?: undefined }
);

/** The symbolic dims of a dynamic-axes graph. */
export const BART_DYNAMIC_DIMS = { batch: 'batch_size', srcLen: 'encoder_sequence_length', tgtLen: 'decoder_sequence_length' } as const;

export interface BartGraph {
  g: GraphBuilder;
  /** int64 [B, S] source ids and mask, [B, T] decoder inputs (decoder start token, then the target shifted right). */
  inputIds: string;
  attentionMask: string;
  decoderInputIds: string;
  /** encoder_hidden_states.0 (embeddings) .. .L, each [B, S, H]. */
  encoderHiddenStates: string[];
  /** decoder_hidden_states.0 .. .L, each [B, T, H]. */
  decoderHiddenStates: string[];
  /** [B, T, V] next-token logits at every decoder position. */
  logits: string;
  params: ParamSpec[];
  dropoutSites: DropoutSite[];
  /** Exposes a tensor as a graph output; in a dynamic-axes graph with its batch and length dims declared symbolic. */
  output(name: string): string;
}

/**
 * The teacher-forced encoder-decoder. The decoder's self-attention is causal only: with right-padded targets a real
 * position never sees a padding one, and padding positions are masked out of every loss.
 */
export function buildBart(cfg: BartConfig, opts: BartGraphOptions): BartGraph {
  const dynamic = opts.dynamicAxes === true;
  if (dynamic && opts.training) throw new Error('buildBart: dynamicAxes is for inference graphs only (training feeds dropout masks of one static shape)');
  if (!opts.dynamicAxes && (opts.srcLen > cfg.maxPositions || opts.tgtLen > cfg.maxPositions))
    throw new Error(`bart: source length ${opts.srcLen} or target length ${opts.tgtLen} exceeds maxPositions ${cfg.maxPositions}`);
  const c = context(cfg, 'bart', opts.dtype ?? DataType.FLOAT, opts.training, opts.params ?? { kind: 'inputs' });
  const { g, b } = c;
  const [B, S, T] = opts.dynamicAxes
    ? nominalSizes([cfg.vocabSize, cfg.hidden, cfg.encoderLayers, cfg.decoderLayers, cfg.heads, cfg.ffn, cfg.maxPositions + BART_POSITION_OFFSET], 3)
    : [opts.batch, opts.srcLen, opts.tgtLen];
  const inputIds = g.input('input_ids', DataType.INT64, [B, S]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [B, S]);
  const decoderInputIds = g.input('decoder_input_ids', DataType.INT64, [B, T]);
  const src: Grid = { B, S };
  const tgt: Grid = { B, S: T };
  let symbolic: Map<number, string> | undefined;
  if (dynamic) {
    const { batch, srcLen, tgtLen } = BART_DYNAMIC_DIMS;
    symbolic = new Map([[B, batch], [S, srcLen], [T, tgtLen]]);
    for (const x of [inputIds, attentionMask]) g.declareDims(x, [batch, srcLen]);
    g.declareDims(decoderInputIds, [batch, tgtLen]);
    // Each stack splits its rows back into [batch, length] by its own ids' shape.
    src.shape = g.op('Shape', [inputIds]);
    tgt.shape = g.op('Shape', [decoderInputIds]);
  }
  const enc = encoderStack(c, inputIds, attentionMask, src);
  const encoderHiddenStates = enc.map((x, i) => toGrid(b, x, B, S, [cfg.hidden], src.shape, `encoder_hidden_states.${i}`));
  const srcBias = keyMaskBias(b, attentionMask, dynamic);
  const decoderPositions = dynamic ? runningPositions(b, decoderInputIds) : undefined;
  const causal = decoderPositions ? causalBiasOf(b, decoderPositions) : causalBias(b, T);
  const positions = decoderPositions ?? g.constant(Array.from({ length: T }, (_, i) => i), DataType.INT64, [T], 'decoder_position_ids');
  let y = embed(c, 'decoder', decoderInputIds, positions, dynamic);
  const decoderHiddenStates = [toGrid(b, y, B, T, [cfg.hidden], tgt.shape, 'decoder_hidden_states.0')];
  const encOut = enc[enc.length - 1];
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const cross = crossKeyValue(c, l, encOut, src);
    y = decoderLayer(c, l, y, tgt, (k, v) => ({ k, v, bias: causal }), { ...cross, bias: srcBias });
    if (l === cfg.decoderLayers - 1) y = finalNorm(c, 'decoder', y);
    decoderHiddenStates.push(toGrid(b, y, B, T, [cfg.hidden], tgt.shape, `decoder_hidden_states.${l + 1}`));
  }
  const logits = toGrid(b, lmHead(c, y), B, T, [cfg.vocabSize], tgt.shape, 'logits');
  return {
    g, inputIds, attentionMask, decoderInputIds, encoderHiddenStates, decoderHiddenStates, logits, params: c.p.specs, dropoutSites: b.dropoutSites,
    output: (name) => exposeOutput(g, name, symbolic),
  };
}

/** The parameter list of a configuration (names, shapes, init), without building a graph. */
export function bartParamSpecs(cfg: BartConfig): ParamSpec[] {
  return buildBart({ ...cfg, dropout: 0, attentionDropout: 0 }, { batch: 1, srcLen: 1, tgtLen: 1, training: false }).params;
}

export interface BartEncoderGraph {
  g: GraphBuilder;
  /** cross_key.l [B·repeat, h, dh, S] (keys transposed) / cross_value.l [B·repeat, h, S, dh]: every row repeated `repeat` times in a row (one per beam). */
  crossKeys: string[];
  crossValues: string[];
  /** The encoder's last hidden state [B, S, H] (not repeated). */
  lastHidden: string;
}

/** The encoder for generation: runs once per batch and hands every decoder layer its cross-attention keys/values. */
export function buildBartEncoder(cfg: BartConfig, opts: { batch: number; srcLen: number; repeat?: number; dtype?: DataType; params?: ParamSource }): BartEncoderGraph {
  const { batch: B, srcLen: S } = opts;
  const repeat = opts.repeat ?? 1;
  const c = context(cfg, 'bart_encoder', opts.dtype ?? DataType.FLOAT, false, opts.params ?? { kind: 'inputs' });
  const { g } = c;
  const ids = g.input('input_ids', DataType.INT64, [B, S]);
  const mask = g.input('attention_mask', DataType.INT64, [B, S]);
  const enc = encoderStack(c, ids, mask, { B, S });
  const encOut = enc[enc.length - 1];
  const lastHidden = g.op('Reshape', [encOut, g.ints([B, S, cfg.hidden])], {}, { output: 'encoder_last_hidden_state' });
  const rep = (x: string, name: string) => {
    if (repeat === 1) return g.op('Identity', [x], {}, { output: name });
    const [, h, s, d] = g.shapeOf(x);
    const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.ints([1])]), g.ints([B, repeat, h, s, d])]);
    return g.op('Reshape', [expanded, g.ints([B * repeat, h, s, d])], {}, { output: name });
  };
  const crossKeys: string[] = [];
  const crossValues: string[] = [];
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const kv = crossKeyValue(c, l, encOut, { B, S });
    crossKeys.push(rep(kv.kT, `cross_key.${l}`));
    crossValues.push(rep(kv.v, `cross_value.${l}`));
  }
  return { g, crossKeys, crossValues, lastHidden };
}

export interface DecoderStepGraph {
  g: GraphBuilder;
  /** [N, V] next-token logits of the step. */
  logits: string;
  /** present_key.l [N, h, dh, maxLen] (keys transposed) / present_value.l [N, h, maxLen, dh]: the cache to feed back as past_key.l / past_value.l. */
  presentKeys: string[];
  presentValues: string[];
}

/**
 * One decoder step for N rows over a fixed-size cache of `maxLen` columns. Inputs: `input_ids` [N, 1],
 * `position_ids` [N, 1] (the decoder position of the token), `cache_position` [1] (the column written, the same for
 * every row), `key_mask` [N, maxLen] int64 (1 for the columns holding real keys, this step's included),
 * `beam_index` [N] (row r continues the cache of row beam_index[r]; 0..N−1 for no reordering),
 * `encoder_attention_mask` [N, S], `past_key.l` [N, h, dh, maxLen] (keys transposed) / `past_value.l` [N, h, maxLen, dh],
 * `cross_key.l` [N, h, dh, S] / `cross_value.l` [N, h, S, dh].
 */
export function buildBartDecoderStep(cfg: BartConfig, opts: { rows: number; srcLen: number; maxLen: number; dtype?: DataType; params?: ParamSource }): DecoderStepGraph {
  const { rows: N, srcLen: S, maxLen } = opts;
  if (maxLen > cfg.maxPositions) throw new Error(`bart: maxLen ${maxLen} exceeds maxPositions ${cfg.maxPositions}`);
  const c = context(cfg, 'bart_decoder_step', opts.dtype ?? DataType.FLOAT, false, opts.params ?? { kind: 'inputs' });
  const { g, b, dh } = c;
  const ids = g.input('input_ids', DataType.INT64, [N, 1]);
  const positions = g.input('position_ids', DataType.INT64, [N, 1]);
  const cachePosition = g.input('cache_position', DataType.INT64, [1]);
  const keyMask = g.input('key_mask', DataType.INT64, [N, maxLen]);
  const beamIndex = g.input('beam_index', DataType.INT64, [N]);
  const srcMask = g.input('encoder_attention_mask', DataType.INT64, [N, S]);
  const selfBias = keyMaskBias(b, keyMask);
  const srcBias = keyMaskBias(b, srcMask);
  let y = embed(c, 'decoder', ids, positions);
  const presentKeys: string[] = [];
  const presentValues: string[] = [];
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const pastK = g.input(`past_key.${l}`, b.dtype, [N, cfg.heads, dh, maxLen]);
    const pastV = g.input(`past_value.${l}`, b.dtype, [N, cfg.heads, maxLen, dh]);
    const crossK = g.input(`cross_key.${l}`, b.dtype, [N, cfg.heads, dh, S]);
    const crossV = g.input(`cross_value.${l}`, b.dtype, [N, cfg.heads, S, dh]);
    y = decoderLayer(c, l, y, { B: N, S: 1 }, (k, v) => {
      const pk = writeCache(b, pastK, transposeKeys(b, k), beamIndex, cachePosition, 3, `present_key.${l}`);
      const pv = writeCache(b, pastV, v, beamIndex, cachePosition, 2, `present_value.${l}`);
      presentKeys.push(pk);
      presentValues.push(pv);
      return { k: pk, v: pv, bias: selfBias, keysTransposed: true };
    }, { kT: crossK, v: crossV, bias: srcBias });
  }
  const logits = g.op('Identity', [lmHead(c, finalNorm(c, 'decoder', y))], {}, { output: 'logits' });
  return { g, logits, presentKeys, presentValues };
}

/** Forward FLOPs of one example (multiply-adds × 2): dense layers, attention products and the LM head. */
export function bartForwardFlops(cfg: BartConfig, srcLen: number, tgtLen: number): number {
  const H = cfg.hidden;
  const encoder = cfg.encoderLayers * (2 * srcLen * (4 * H * H + 2 * H * cfg.ffn) + 4 * srcLen * srcLen * H);
  const decoder = cfg.decoderLayers * (2 * tgtLen * (4 * H * H + 2 * H * cfg.ffn) + 4 * tgtLen * tgtLen * H + 2 * tgtLen * 2 * H * H + 2 * srcLen * 2 * H * H + 4 * tgtLen * srcLen * H);
  return encoder + decoder + 2 * tgtLen * H * cfg.vocabSize;
}
