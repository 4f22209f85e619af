// Glue between the BERT graph builder and the trainer for sentence classification.
import { DataType, Model, createSession, ort } from '@strata/onnx';
import { exportInference } from './export';
import { BertConfig, BertGraph, ParamSource, bertParamSpecs, buildBert } from '@strata/nn';
import { weightedCrossEntropy } from './losses';
import type { TrainGraph } from './trainer';

/**
 * One static-shape batch; rows from `size` on are padding (weight 0). Field names match @strata/data's Batch,
 * so its batches feed the trainer as they are.
 */
export interface ClassifierBatch {
  batchSize: number;
  /** Sequence length (the length bucket). */
  length: number;
  /** Real rows. */
  size: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  labels: BigInt64Array;
}

export const bucketKey = (batch: number, seqLen: number): string => `${batch}x${seqLen}`;

export function parseBucketKey(key: string): { batch: number; seqLen: number } {
  const [batch, seqLen] = key.split('x').map(Number);
  return { batch, seqLen };
}

/** Training graph: BERT with fed dropout masks, plus weighted hard-label cross-entropy. */
export function bertTrainGraph(cfg: BertConfig, key: string): TrainGraph {
  const { batch, seqLen } = parseBucketKey(key);
  const bert = buildBert(cfg, { batch, seqLen, training: true });
  const labels = bert.g.input('labels', DataType.INT64, [batch]);
  const weights = bert.g.input('example_weights', DataType.FLOAT, [batch]);
  const loss = weightedCrossEntropy(bert.g, bert.logits, labels, weights);
  return { g: bert.g, loss, dropoutSites: bert.dropoutSites, lookups: bert.lookups, fetch: [bert.logits] };
}

/** Forward-only graph exposing logits and every hidden state; parameters as inputs (eval) or initializers (export). */
export function bertInferenceModel(cfg: BertConfig, batch: number, seqLen: number, params: ParamSource = { kind: 'inputs' }): Model {
  return classifierModel(cfg, buildBert(cfg, { batch, seqLen, training: false, params }));
}

/**
 * The published form of a classifier: bertInferenceModel with dynamic axes (batch_size, sequence_length on the inputs,
 * logits and hidden states), so one file runs any batch and any length up to maxPositions, as Hugging Face's ONNX
 * exports do.
 */
export function bertExportModel(cfg: BertConfig, params: ParamSource = { kind: 'inputs' }): Model {
  return classifierModel(cfg, buildBert(cfg, { dynamicAxes: true, training: false, params }));
}

function classifierModel(cfg: BertConfig, bert: BertGraph): Model {
  bert.output(bert.logits);
  for (const h of bert.hiddenStates) bert.output(h);
  return bert.g.build({ 'strata.architecture': 'bert', 'strata.config': JSON.stringify(cfg) });
}

/**
 * Writes bertExportModel with the trained values as a standalone .onnx (validated for structure; its symbolic dims
 * keep the static shape replay out, and the builder already tracked every tensor's type under nominal sizes).
 */
export function exportBertClassifier(file: string, cfg: BertConfig, values: ReadonlyMap<string, Float32Array>): Model {
  return exportInference(file, (v) => bertExportModel(cfg, { kind: 'initializers', values: v }), values);
}

export function batchFeeds(b: ClassifierBatch, withLabels: boolean): Record<string, ort.Tensor> {
  const shape = [b.batchSize, b.length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.inputIds, shape),
    attention_mask: new ort.Tensor('int64', b.attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, shape),
  };
  if (withLabels) {
    const w = new Float32Array(b.batchSize);
    w.fill(1 / b.size, 0, b.size);
    feeds.labels = new ort.Tensor('int64', b.labels, [b.batchSize]);
    feeds.example_weights = new ort.Tensor('float32', w, [b.batchSize]);
  }
  return feeds;
}

export function argmaxRows(logits: Float32Array, rows: number, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

/** Predicts every batch with the current parameters (fed as inputs, so no export is needed during training). */
export class BertEvaluator {
  private sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly shapes: Map<string, number[]>;
  constructor(private readonly cfg: BertConfig) {
    this.shapes = new Map(bertParamSpecs(cfg).map((p) => [p.name, p.shape]));
  }

  private session(b: ClassifierBatch): Promise<ort.InferenceSession> {
    const key = bucketKey(b.batchSize, b.length);
    let s = this.sessions.get(key);
    if (!s) {
      s = createSession(bertInferenceModel(this.cfg, b.batchSize, b.length));
      this.sessions.set(key, s);
    }
    return s;
  }

  async predict(params: ReadonlyMap<string, Float32Array>, batches: ClassifierBatch[]): Promise<number[]> {
    const preds: number[] = [];
    for (const b of batches) {
      const session = await this.session(b);
      const feeds = batchFeeds(b, false);
      for (const name of session.inputNames) {
        if (name in feeds) continue;
        const p = params.get(name);
        if (!p) throw new Error(`no value for parameter '${name}'`);
        feeds[name] = new ort.Tensor('float32', p, this.shapes.get(name)!);
      }
      const out = await session.run(feeds, ['logits']);
      preds.push(...argmaxRows(out.logits.data as Float32Array, b.size, this.cfg.numLabels));
    }
    return preds;
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

