// Glue between the BART-style graph builder and the trainer: teacher forcing with optional label smoothing.
import { DataType, Model, ort } from '@strata/onnx';
import { BartConfig, BartGraph, ParamSource, buildBart } from '@strata/nn';
import { tokenCrossEntropy } from './losses';
import type { TrainGraph } from './trainer';

/**
 * One static-shape seq2seq batch; rows from `size` on are padding. Field names match @strata/data's Batch, so its
 * batches feed the trainer as they are. `targetIds` end with EOS; the decoder reads them shifted right.
 */
export interface Seq2SeqBatch {
  batchSize: number;
  /** Source length (bucket). */
  length: number;
  size: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  targetLength?: number;
  targetIds?: BigInt64Array;
  targetMask?: BigInt64Array;
}

export const seq2seqKey = (batch: number, srcLen: number, tgtLen: number): string => `${batch}x${srcLen}x${tgtLen}`;

export function parseSeq2SeqKey(key: string): { batch: number; srcLen: number; tgtLen: number } {
  const [batch, srcLen, tgtLen] = key.split('@')[0].split('x').map(Number);
  if (![batch, srcLen, tgtLen].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`bad seq2seq shape key '${key}' (expected <batch>x<srcLen>x<tgtLen>)`);
  return { batch, srcLen, tgtLen };
}

export function seq2seqBatchKey(b: Seq2SeqBatch): string {
  if (b.targetLength === undefined) throw new Error('seq2seq batch has no targets');
  return seq2seqKey(b.batchSize, b.length, b.targetLength);
}

export interface TeacherForcingOptions {
  /** Label smoothing ε of the cross-entropy (0: none). */
  labelSmoothing?: number;
}

/** Training graph: the teacher-forced BART with fed dropout masks and token cross-entropy on `labels`. */
export function bartTrainGraph(cfg: BartConfig, key: string, opts: TeacherForcingOptions = {}): TrainGraph & { model: BartGraph; labels: string; tokenWeights: string } {
  const { batch, srcLen, tgtLen } = parseSeq2SeqKey(key);
  const model = buildBart(cfg, { batch, srcLen, tgtLen, training: true });
  const labels = model.g.input('labels', DataType.INT64, [batch, tgtLen]);
  const tokenWeights = model.g.input('token_weights', DataType.FLOAT, [batch, tgtLen]);
  const loss = tokenCrossEntropy(model.g, model.logits, labels, tokenWeights, opts.labelSmoothing ?? 0);
  return { g: model.g, loss, dropoutSites: model.dropoutSites, model, labels, tokenWeights };
}

/** Forward-only model exposing logits and every hidden state; parameters as inputs (eval) or initializers (export). */
export function bartInferenceModel(cfg: BartConfig, batch: number, srcLen: number, tgtLen: number, params: ParamSource = { kind: 'inputs' }): Model {
  return seq2seqModel(cfg, buildBart(cfg, { batch, srcLen, tgtLen, training: false, params }));
}

/**
 * The published form of an encoder-decoder: bartInferenceModel with dynamic axes (batch_size, encoder_sequence_length,
 * decoder_sequence_length), so one file runs any batch and any source and target length up to maxPositions.
 */
export function bartExportModel(cfg: BartConfig, params: ParamSource = { kind: 'inputs' }): Model {
  return seq2seqModel(cfg, buildBart(cfg, { dynamicAxes: true, training: false, params }));
}

function seq2seqModel(cfg: BartConfig, m: BartGraph): Model {
  m.output(m.logits);
  for (const h of [...m.encoderHiddenStates, ...m.decoderHiddenStates]) m.output(h);
  return m.g.build({ 'strata.architecture': 'bart', 'strata.config': JSON.stringify(cfg) });
}

/** Decoder inputs: the decoder start token, then the target shifted right by one. */
export function decoderInputIds(b: Seq2SeqBatch, startId: number): BigInt64Array {
  const T = b.targetLength!;
  const out = new BigInt64Array(b.batchSize * T);
  for (let r = 0; r < b.batchSize; r++) {
    out[r * T] = BigInt(startId);
    for (let t = 1; t < T; t++) out[r * T + t] = b.targetIds![r * T + t - 1];
  }
  return out;
}

/** 1/N on every real target token of a real row, 0 elsewhere (padding rows hold one masked-in token; see @strata/data). */
export function targetTokenWeights(b: Seq2SeqBatch): { weights: Float32Array; tokens: number } {
  const T = b.targetLength!;
  const weights = new Float32Array(b.batchSize * T);
  let n = 0;
  for (let r = 0; r < b.size; r++) for (let t = 0; t < T; t++) if (b.targetMask![r * T + t] !== 0n) n++;
  for (let r = 0; r < b.size; r++) for (let t = 0; t < T; t++) if (b.targetMask![r * T + t] !== 0n) weights[r * T + t] = 1 / Math.max(1, n);
  return { weights, tokens: n };
}

/** Feeds of the teacher-forced graph; with labels for training. */
export function seq2seqFeeds(b: Seq2SeqBatch, startId: number, withLabels: boolean): Record<string, ort.Tensor> {
  if (!b.targetIds || !b.targetMask || b.targetLength === undefined) throw new Error('seq2seq batch has no targets');
  const T = b.targetLength;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.inputIds, [b.batchSize, b.length]),
    attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batchSize, b.length]),
    decoder_input_ids: new ort.Tensor('int64', decoderInputIds(b, startId), [b.batchSize, T]),
  };
  if (withLabels) {
    feeds.labels = new ort.Tensor('int64', b.targetIds, [b.batchSize, T]);
    feeds.token_weights = new ort.Tensor('float32', targetTokenWeights(b).weights, [b.batchSize, T]);
  }
  return feeds;
}
