// BERT-style encoder classifier as an ONNX graph (post-LN, Hugging Face parameter names).
import { DataType, GraphBuilder, attr } from '@strata/onnx';
import { exposeOutput, nominalSizes } from './attention';
import { Activation, Blocks, DropoutSite, TableLookup } from './blocks';
import { ParamDeclarer, ParamSource, ParamSpec } from './params';

export interface BertConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** Rows of the position table (max_position_embeddings). */
  maxPositions: number;
  /**
   * The longest input the pipeline encodes (truncation length, largest length bucket); default maxPositions. A
   * pretrained model keeps its 512-row position table while a task trains at 128.
   */
  maxLength?: number;
  typeVocabSize: number;
  numLabels: number;
  hiddenDropout: number;
  attentionDropout: number;
  layerNormEps: number;
  activation: Activation;
}

export const BERT_DEFAULTS: Omit<BertConfig, 'vocabSize' | 'numLabels'> = {
  hidden: 256,
  layers: 4,
  heads: 4,
  intermediate: 1024,
  maxPositions: 128,
  typeVocabSize: 2,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  layerNormEps: 1e-12,
  activation: 'gelu',
};

interface BertGraphCommon {
  /** Training graphs get fed dropout masks; inference graphs have none. */
  training: boolean;
  dtype?: DataType;
  params?: ParamSource;
}

/**
 * A static [batch, seqLen] graph, or with dynamicAxes (inference only) one that runs for any batch and any sequence
 * length up to maxPositions: inputs and outputs declare the symbolic dims batch_size and sequence_length, as Hugging
 * Face's ONNX exports do. Training graphs stay static: gradient rules read static shapes and dropout masks are fed.
 */
export type BertGraphOptions = BertGraphCommon & ({ batch: number; seqLen: number; dynamicAxes?: false } | { dynamicAxes: true; batch?: undefined; seqLen?: undefined });

export interface BertGraph {
  g: GraphBuilder;
  /** int64 [batch, seqLen] inputs. */
  inputIds: string;
  attentionMask: string;
  tokenTypeIds: string;
  /** hidden_states.0 (embeddings) .. hidden_states.L, each [batch, seqLen, hidden]. */
  hiddenStates: string[];
  logits: string;
  params: ParamSpec[];
  dropoutSites: DropoutSite[];
  /** The word-embedding lookup (the table is most of a small BERT's parameters; its gradient is sparse in rows). */
  lookups: TableLookup[];
  /** Exposes a tensor as a graph output; in a dynamic-axes graph with its batch and sequence dims declared symbolic. */
  output(name: string): string;
}

/** The symbolic dims of a dynamic-axes graph, as Hugging Face's ONNX exports name them. */
export const BERT_DYNAMIC_DIMS = { batch: 'batch_size', seqLen: 'sequence_length' } as const;

export function validateBertConfig(cfg: BertConfig): void {
  const fail = (field: string, msg: string) => {
    throw new Error(`bert config: ${field} ${msg}`);
  };
  for (const f of ['vocabSize', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions', 'typeVocabSize', 'numLabels'] as const)
    if (!Number.isInteger(cfg[f]) || cfg[f] < 1) fail(f, `must be a positive integer (got ${cfg[f]})`);
  if (cfg.hidden % cfg.heads !== 0) fail('hidden', `(${cfg.hidden}) must be divisible by heads (${cfg.heads})`);
  if (cfg.maxLength !== undefined && !(Number.isInteger(cfg.maxLength) && cfg.maxLength >= 1 && cfg.maxLength <= cfg.maxPositions))
    fail('maxLength', `must be an integer in 1..maxPositions (${cfg.maxPositions}) (got ${cfg.maxLength})`);
  for (const f of ['hiddenDropout', 'attentionDropout'] as const) if (!(cfg[f] >= 0 && cfg[f] < 1)) fail(f, `must be in [0, 1) (got ${cfg[f]})`);
}

/** The longest input the pipeline encodes for this model: maxLength, else the position table's size. */
export function bertMaxLength(cfg: BertConfig): number {
  return cfg.maxLength ?? cfg.maxPositions;
}

/** Builds the encoder into a fresh graph; outputs are declared by the caller (training adds a loss, export adds all states). */
export function buildBert(cfg: BertConfig, opts: BertGraphOptions): BertGraph {
  validateBertConfig(cfg);
  const dynamic = opts.dynamicAxes === true;
  if (dynamic && opts.training) throw new Error('buildBert: dynamicAxes is for inference graphs only (training feeds dropout masks of one static shape)');
  // Dynamic axes: batch and length tracked under sizes no real dim can equal (attention.ts, nominalSizes).
  const [B, S] = opts.dynamicAxes ? nominalSizes([cfg.vocabSize, cfg.hidden, cfg.layers, cfg.heads, cfg.intermediate, cfg.maxPositions, cfg.typeVocabSize, cfg.numLabels], 2) : [opts.batch, opts.seqLen];
  if (!dynamic && S > cfg.maxPositions) throw new Error(`sequence length ${S} exceeds maxPositions ${cfg.maxPositions}`);
  const dtype = opts.dtype ?? DataType.FLOAT;
  const H = cfg.hidden;
  const nh = cfg.heads;
  const dh = H / nh;
  const g = new GraphBuilder('bert');
  const p = new ParamDeclarer(g, dtype, opts.params ?? { kind: 'inputs' });
  const b = new Blocks(g, p, dtype, opts.training);

  const inputIds = g.input('input_ids', DataType.INT64, [B, S]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [B, S]);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, [B, S]);
  // Dynamic axes: every shape that involves B or S is computed at run time from input_ids' shape.
  let runtime: { heads: string; state: string } | undefined;
  if (dynamic) {
    for (const x of [inputIds, attentionMask, tokenTypeIds]) g.declareDims(x, [BERT_DYNAMIC_DIMS.batch, BERT_DYNAMIC_DIMS.seqLen]);
    const shape = g.op('Shape', [inputIds]);
    const concat = (tail: number[]) => g.op('Concat', [shape, g.ints(tail)], { axis: attr.i(0) });
    runtime = { heads: concat([nh, dh]), state: concat([H]) };
  }

  // Embeddings: word + position + token type, LayerNorm, dropout.
  const wordTable = p.declare('bert.embeddings.word_embeddings.weight', [cfg.vocabSize, H], 'normal', false);
  const word = g.op('Gather', [wordTable, inputIds]);
  // Dynamic: ids 0..S-1 in every row, an exclusive running count of ones shaped like input_ids. ONNX Runtime then sees
  // [batch_size, sequence_length] on both sides of the embedding Adds and fuses the embedding LayerNorm as in the static
  // graph; a Slice of the table to a computed length hides that shape, and the outputs then differ in the last bits.
  const positions = runtime
    ? g.op('CumSum', [g.op('Add', [g.op('Mul', [inputIds, g.constant([0], DataType.INT64, [])]), g.constant([1], DataType.INT64, [])]), g.constant([1], DataType.INT64, [])], { exclusive: attr.i(1) })
    : g.constant(Array.from({ length: S }, (_, i) => i), DataType.INT64, [S], 'position_ids');
  const pos = g.op('Gather', [p.declare('bert.embeddings.position_embeddings.weight', [cfg.maxPositions, H], 'normal', false), positions]);
  const types = g.op('Gather', [p.declare('bert.embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, H], 'normal', false), tokenTypeIds]);
  const summed = g.op('Add', [g.op('Add', [word, pos]), types]);
  const emb = b.dropout(b.layerNorm(summed, 'bert.embeddings.LayerNorm', H, cfg.layerNormEps), cfg.hiddenDropout, 'embeddings');
  const hiddenStates = [g.op('Identity', [emb], {}, { output: 'hidden_states.0' })];

  // Additive attention bias: 0 where attended, -10000 on padding (as BERT does), shaped [B, 1, 1, S].
  const maskF = g.op('Cast', [attentionMask], { to: attr.i(dtype) });
  const additive = g.op('Mul', [g.op('Sub', [b.scalar(1), maskF]), b.scalar(-10000)]);
  const bias = runtime ? g.op('Unsqueeze', [additive, g.ints([1, 2])]) : g.op('Reshape', [additive, g.ints([B, 1, 1, S])]);

  const rows = runtime ? [-1, H] : [B * S, H];
  let x2d = g.op('Reshape', [emb, g.ints(rows)]);
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `bert.encoder.layer.${l}`;
    const split = (t: string) => (runtime ? g.opTyped('Reshape', [t, runtime.heads], { dtype, shape: [B, S, nh, dh] }) : g.op('Reshape', [t, g.ints([B, S, nh, dh])]));
    const heads = (t: string, perm: number[]) => g.op('Transpose', [split(t)], { perm: attr.ints(perm) });
    const q = heads(b.linear(x2d, `${pre}.attention.self.query`, H, H), [0, 2, 1, 3]);
    const k = heads(b.linear(x2d, `${pre}.attention.self.key`, H, H), [0, 2, 3, 1]);
    const v = heads(b.linear(x2d, `${pre}.attention.self.value`, H, H), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('MatMul', [g.op('Mul', [q, b.scalar(1 / Math.sqrt(dh))]), k]), bias]);
    const probs = b.dropout(g.op('Softmax', [scores], { axis: attr.i(-1) }), cfg.attentionDropout, `layer.${l}.attention.probs`);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: attr.ints([0, 2, 1, 3]) }), g.ints(rows)]);
    const attnOut = b.dropout(b.linear(ctx, `${pre}.attention.output.dense`, H, H), cfg.hiddenDropout, `layer.${l}.attention.output`);
    const a = b.layerNorm(g.op('Add', [attnOut, x2d]), `${pre}.attention.output.LayerNorm`, H, cfg.layerNormEps);
    const inter = b.activation(b.linear(a, `${pre}.intermediate.dense`, H, cfg.intermediate), cfg.activation);
    const ffn = b.dropout(b.linear(inter, `${pre}.output.dense`, cfg.intermediate, H), cfg.hiddenDropout, `layer.${l}.output`);
    x2d = b.layerNorm(g.op('Add', [ffn, a]), `${pre}.output.LayerNorm`, H, cfg.layerNormEps);
    const output = `hidden_states.${l + 1}`;
    hiddenStates.push(runtime ? g.opTyped('Reshape', [x2d, runtime.state], { dtype, shape: [B, S, H] }, {}, { output }) : g.op('Reshape', [x2d, g.ints([B, S, H])], {}, { output }));
  }

  // Pooler (tanh over the first token) and classifier.
  const first = g.op('Gather', [hiddenStates[cfg.layers], g.constant([0], DataType.INT64, [])], { axis: attr.i(1) });
  const pooled = b.dropout(g.op('Tanh', [b.linear(first, 'bert.pooler.dense', H, H)]), cfg.hiddenDropout, 'pooler');
  const logits = g.op('Identity', [b.linear(pooled, 'classifier', H, cfg.numLabels)], {}, { output: 'logits' });
  const symbolic = dynamic ? new Map([[B, BERT_DYNAMIC_DIMS.batch], [S, BERT_DYNAMIC_DIMS.seqLen]]) : undefined;
  const output = (name: string): string => exposeOutput(g, name, symbolic);
  return { g, inputIds, attentionMask, tokenTypeIds, hiddenStates, logits, params: p.specs, dropoutSites: b.dropoutSites, lookups: [{ param: wordTable, ids: inputIds, output: word }], output };
}

/** The parameter list of a configuration (names, shapes, init), without building a graph. */
export function bertParamSpecs(cfg: BertConfig): ParamSpec[] {
  return buildBert({ ...cfg, hiddenDropout: 0, attentionDropout: 0 }, { batch: 1, seqLen: 1, training: false }).params;
}

/** Forward FLOPs of one example (multiply-adds × 2): dense layers plus the attention products. */
export function bertForwardFlops(cfg: BertConfig, seqLen: number): number {
  const H = cfg.hidden;
  const perLayerDense = 2 * seqLen * (4 * H * H + 2 * H * cfg.intermediate);
  const attention = 2 * 2 * seqLen * seqLen * H;
  return cfg.layers * (perLayerDense + attention) + 2 * (H * H + H * cfg.numLabels);
}
