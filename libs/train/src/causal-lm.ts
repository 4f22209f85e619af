// Glue between the Qwen3-style graph builder and the trainer: next-token training, continuation scoring.
import { DataType, Model, SessionPool, attr, createSession, ort } from '@strata/onnx';
import { ParamSource, Qwen3Config, Qwen3Graph, buildQwen3 } from '@strata/nn';
import { tokenCrossEntropy } from './losses';
import type { TeacherForcingOptions } from './seq2seq';
import type { TrainGraph } from './trainer';
import { bucketKey, type ClassifierBatch } from './bert-classifier';

/**
 * One static-shape batch of right-padded token sequences; rows from `size` on are padding. `tokenTypeIds` marks the
 * tokens that are predicted (1) rather than only read (0): the answer or ending after a prompt. Field names match
 * @strata/data's Batch.
 */
export type CausalBatch = Omit<ClassifierBatch, 'labels'>;

/** Which tokens the next-token loss covers: every real token after the first, or only the marked ones. */
export type LossTokens = 'all' | 'marked';

/** The same static-shape key as a classifier batch's. */
export const causalKey = bucketKey;

export function parseCausalKey(key: string): { batch: number; seqLen: number } {
  const [batch, seqLen] = key.split('@')[0].split('x').map(Number);
  if (![batch, seqLen].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`bad causal-LM shape key '${key}' (expected <batch>x<seqLen>)`);
  return { batch, seqLen };
}

/** Training graph: the causal model with fed dropout masks and next-token cross-entropy. */
export function qwen3TrainGraph(cfg: Qwen3Config, key: string, opts: TeacherForcingOptions = {}): TrainGraph & { model: Qwen3Graph } {
  const { batch, seqLen } = parseCausalKey(key);
  const model = buildQwen3(cfg, { batch, seqLen, training: true });
  const labels = model.g.input('labels', DataType.INT64, [batch, seqLen]);
  const weights = model.g.input('token_weights', DataType.FLOAT, [batch, seqLen]);
  const loss = tokenCrossEntropy(model.g, model.logits, labels, weights, opts.labelSmoothing ?? 0);
  return { g: model.g, loss, dropoutSites: model.dropoutSites, model };
}

/** Forward-only model exposing logits and every hidden state. */
export function qwen3InferenceModel(cfg: Qwen3Config, batch: number, seqLen: number, params: ParamSource = { kind: 'inputs' }): Model {
  return causalModel(cfg, buildQwen3(cfg, { batch, seqLen, training: false, params }));
}

/**
 * The published form of a decoder-only model: qwen3InferenceModel with dynamic axes (batch_size, sequence_length), so
 * one file runs any batch and any length up to maxPositions.
 */
export function qwen3ExportModel(cfg: Qwen3Config, params: ParamSource = { kind: 'inputs' }): Model {
  return causalModel(cfg, buildQwen3(cfg, { dynamicAxes: true, training: false, params }));
}

function causalModel(cfg: Qwen3Config, m: Qwen3Graph): Model {
  m.output(m.logits);
  for (const h of m.hiddenStates) m.output(h);
  return m.g.build({ 'strata.architecture': 'qwen3', 'strata.config': JSON.stringify(cfg) });
}

/**
 * Next-token labels: position t predicts token t+1. The weight is 1/N on the N predicted tokens (real, and marked
 * when `tokens` is 'marked') of real rows, 0 elsewhere.
 */
export function nextTokenTargets(b: CausalBatch, tokens: LossTokens): { labels: BigInt64Array; weights: Float32Array; count: number } {
  const S = b.length;
  const labels = new BigInt64Array(b.batchSize * S);
  const weights = new Float32Array(b.batchSize * S);
  let count = 0;
  for (let r = 0; r < b.size; r++)
    for (let t = 0; t + 1 < S; t++) {
      const next = r * S + t + 1;
      labels[r * S + t] = b.inputIds[next];
      if (b.attentionMask[next] !== 0n && (tokens === 'all' || b.tokenTypeIds[next] !== 0n)) {
        weights[r * S + t] = 1;
        count++;
      }
    }
  for (let i = 0; i < weights.length; i++) if (weights[i]) weights[i] = 1 / count;
  return { labels, weights, count };
}

export function causalFeeds(b: CausalBatch, withLabels: boolean, tokens: LossTokens = 'all'): Record<string, ort.Tensor> {
  const shape = [b.batchSize, b.length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.inputIds, shape),
    attention_mask: new ort.Tensor('int64', b.attentionMask, shape),
  };
  if (withLabels) {
    const t = nextTokenTargets(b, tokens);
    feeds.labels = new ort.Tensor('int64', t.labels, shape);
    feeds.token_weights = new ort.Tensor('float32', t.weights, shape);
  }
  return feeds;
}

/**
 * Log-likelihood of the marked tokens of each sequence given what precedes them (ranking multiple-choice endings):
 * one forward pass per batch through a graph that returns log p(token t+1 | ≤ t) per position.
 */
export class ContinuationScorer {
  private readonly sessions: SessionPool<ort.InferenceSession>;
  private readonly tensors: Map<string, ort.Tensor>;
  /** `openSessions`: graphs (one per batch shape) kept open, default DEFAULT_POOL_CAPACITY. */
  constructor(private readonly cfg: Qwen3Config, params: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, number[]>, openSessions?: number) {
    this.sessions = new SessionPool((session) => session.release(), openSessions);
    this.tensors = new Map([...params].map(([n, v]) => [n, new ort.Tensor('float32', v as Float32Array, shapes.get(n)!)]));
  }

  private open(batch: number, seqLen: number): Promise<ort.InferenceSession> {
    const m = buildQwen3(this.cfg, { batch, seqLen, training: false });
    const next = m.g.input('next_ids', DataType.INT64, [batch, seqLen]);
    const logp = m.g.op('LogSoftmax', [m.logits], { axis: attr.i(-1) });
    const picked = m.g.op('GatherElements', [logp, m.g.op('Unsqueeze', [next, m.g.ints([-1])])], { axis: attr.i(2) });
    m.g.output(m.g.op('Reshape', [picked, m.g.ints([batch, seqLen])]), 'token_log_probs');
    return createSession(m.g.build());
  }

  /** Per real row: Σ log p over its marked tokens and how many there are. */
  score(b: CausalBatch): Promise<{ logProb: number; tokens: number }[]> {
    return this.sessions.use(causalKey(b.batchSize, b.length), () => this.open(b.batchSize, b.length), (session) => this.run(b, session));
  }

  private async run(b: CausalBatch, session: ort.InferenceSession): Promise<{ logProb: number; tokens: number }[]> {
    const { labels } = nextTokenTargets(b, 'marked');
    const feeds: Record<string, ort.Tensor> = { ...causalFeeds(b, false), next_ids: new ort.Tensor('int64', labels, [b.batchSize, b.length]) };
    for (const name of session.inputNames) if (!(name in feeds)) feeds[name] = this.tensor(name);
    const out = (await session.run(feeds, ['token_log_probs'])).token_log_probs.data as Float32Array;
    const S = b.length;
    const result: { logProb: number; tokens: number }[] = [];
    for (let r = 0; r < b.size; r++) {
      let logProb = 0;
      let tokens = 0;
      for (let t = 0; t + 1 < S; t++) {
        const next = r * S + t + 1;
        if (b.attentionMask[next] !== 0n && b.tokenTypeIds[next] !== 0n) {
          logProb += out[r * S + t];
          tokens++;
        }
      }
      result.push({ logProb, tokens });
    }
    return result;
  }

  private tensor(name: string): ort.Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`no value for parameter '${name}'`);
    return t;
  }

  release(): Promise<void> {
    return this.sessions.release();
  }
}
