// Generation on ONNX Runtime with the key/value-cache step graphs of @strata/nn: greedy or beam search, batched.
import { GraphBuilder, Model, SessionPool, attr, createSession, ort } from '@strata/onnx';
import { BartConfig, ParamSpec, Qwen3Config, buildBartDecoderStep, buildBartEncoder, buildQwen3Step } from '@strata/nn';
import { Hypothesis, StepDecoder, generate } from './beam-search';

export interface GeneratorOptions {
  /** 1 = greedy; default 4. */
  beam?: number;
  /** Most tokens generated, EOS included. */
  maxLength: number;
  /** Default 1 (Hugging Face's length_penalty). */
  lengthPenalty?: number;
  /** Step graphs (one per batch shape) kept open; default DEFAULT_POOL_CAPACITY. More: fewer rebuilds, more memory. */
  openSessions?: number;
}

const int64 = (values: ArrayLike<number>, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);

/** Parameters as ORT tensors once (wrapped over the JS arrays, no copy), fed to whichever session needs them. */
class ParamFeeds {
  private readonly tensors = new Map<string, ort.Tensor>();
  constructor(specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>) {
    for (const s of specs) {
      const v = values.get(s.name);
      if (v) this.tensors.set(s.name, new ort.Tensor('float32', v, s.shape));
    }
  }

  fill(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    for (const name of session.inputNames) {
      if (name in feeds) continue;
      const t = this.tensors.get(name);
      if (!t) throw new Error(`no value for parameter '${name}'`);
      feeds[name] = t;
    }
    return feeds;
  }
}

/** Adds log_probs (LogSoftmax of the step's logits) as the output beam search reads. */
function withLogProbs(g: GraphBuilder, logits: string, keep: string[]): Model {
  g.output(g.op('LogSoftmax', [logits], { axis: attr.i(-1) }), 'log_probs');
  for (const k of keep) g.output(k);
  return g.build();
}

/** Cache tensors of zeros for a fresh batch: keys transposed [rows, h, dh, maxLen], values [rows, h, maxLen, dh]. */
function emptyCache(layers: number, rows: number, heads: number, maxLen: number, dh: number): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (let l = 0; l < layers; l++) {
    out[`past_key.${l}`] = new ort.Tensor('float32', new Float32Array(rows * heads * maxLen * dh), [rows, heads, dh, maxLen]);
    out[`past_value.${l}`] = new ort.Tensor('float32', new Float32Array(rows * heads * maxLen * dh), [rows, heads, maxLen, dh]);
  }
  return out;
}

/** The BART step graph as a StepDecoder over one batch: every row at the same decoder position. */
class BartStepDecoder implements StepDecoder {
  private t = 0;
  private past: Record<string, ort.Tensor>;
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly params: ParamFeeds,
    readonly rows: number,
    readonly vocabSize: number,
    private readonly maxLen: number,
    private readonly layers: number,
    private readonly fixed: Record<string, ort.Tensor>,
    cache: { heads: number; dh: number },
  ) {
    this.past = emptyCache(layers, rows, cache.heads, maxLen, cache.dh);
  }

  async step(tokens: readonly number[], beamIndex: readonly number[]): Promise<Float32Array> {
    const t = this.t;
    if (t >= this.maxLen) throw new Error(`decoder step ${t + 1} exceeds the cache's ${this.maxLen} columns`);
    const keyMask = new BigInt64Array(this.rows * this.maxLen);
    for (let r = 0; r < this.rows; r++) for (let j = 0; j <= t; j++) keyMask[r * this.maxLen + j] = 1n;
    const feeds = this.params.fill(this.session, {
      ...this.fixed, ...this.past,
      input_ids: int64(tokens, [this.rows, 1]), position_ids: int64(new Array(this.rows).fill(t), [this.rows, 1]), cache_position: int64([t], [1]),
      key_mask: new ort.Tensor('int64', keyMask, [this.rows, this.maxLen]), beam_index: int64(beamIndex, [this.rows]),
    });
    const out = await this.session.run(feeds);
    for (let l = 0; l < this.layers; l++) {
      this.past[`past_key.${l}`] = out[`present_key.${l}`];
      this.past[`past_value.${l}`] = out[`present_value.${l}`];
    }
    this.t++;
    return out.log_probs.data as Float32Array;
  }
}

/** A source batch for generation (field names of @strata/data's Batch). */
export interface SourceBatch {
  batchSize: number;
  length: number;
  size: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** Encoder-decoder generation: the encoder graph once per batch, then one step graph run per generated token. */
export class BartGenerator {
  private readonly sessions: SessionPool<{ encoder: ort.InferenceSession; step: ort.InferenceSession }>;
  private readonly params: ParamFeeds;
  readonly beam: number;
  constructor(private readonly cfg: BartConfig, specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>, private readonly opts: GeneratorOptions) {
    this.sessions = new SessionPool(async ({ encoder, step }) => {
      await encoder.release();
      await step.release();
    }, opts.openSessions);
    this.params = new ParamFeeds(specs, values);
    this.beam = opts.beam ?? 4;
    if (opts.maxLength > cfg.maxPositions) throw new Error(`maxLength ${opts.maxLength} exceeds the model's maxPositions ${cfg.maxPositions}`);
  }

  private async openPair(batch: number, srcLen: number) {
    const enc = buildBartEncoder(this.cfg, { batch, srcLen, repeat: this.beam });
    for (const o of [...enc.crossKeys, ...enc.crossValues]) enc.g.output(o);
    const step = buildBartDecoderStep(this.cfg, { rows: batch * this.beam, srcLen, maxLen: this.opts.maxLength });
    return {
      encoder: await createSession(enc.g.build()),
      step: await createSession(withLogProbs(step.g, step.logits, [...step.presentKeys, ...step.presentValues])),
    };
  }

  /** The best hypothesis of each real row of the batch. */
  generate(b: SourceBatch): Promise<Hypothesis[]> {
    return this.sessions.use(`${b.batchSize}x${b.length}`, () => this.openPair(b.batchSize, b.length), (pair) => this.run(b, pair));
  }

  /** Sessions opened so far, reopenings included. */
  get sessionOpens(): number {
    return this.sessions.opens;
  }

  private async run(b: SourceBatch, { encoder, step }: { encoder: ort.InferenceSession; step: ort.InferenceSession }): Promise<Hypothesis[]> {
    const shape = [b.batchSize, b.length];
    const cross = await encoder.run(this.params.fill(encoder, { input_ids: new ort.Tensor('int64', b.inputIds, shape), attention_mask: new ort.Tensor('int64', b.attentionMask, shape) }));
    const rows = b.batchSize * this.beam;
    const srcMask = new BigInt64Array(rows * b.length);
    for (let r = 0; r < rows; r++) srcMask.set(b.attentionMask.subarray(Math.floor(r / this.beam) * b.length, (Math.floor(r / this.beam) + 1) * b.length), r * b.length);
    const fixed: Record<string, ort.Tensor> = { encoder_attention_mask: new ort.Tensor('int64', srcMask, [rows, b.length]) };
    for (let l = 0; l < this.cfg.decoderLayers; l++) {
      fixed[`cross_key.${l}`] = cross[`cross_key.${l}`];
      fixed[`cross_value.${l}`] = cross[`cross_value.${l}`];
    }
    const decoder = new BartStepDecoder(step, this.params, rows, this.cfg.vocabSize, this.opts.maxLength, this.cfg.decoderLayers, fixed, { heads: this.cfg.heads, dh: this.cfg.hidden / this.cfg.heads });
    const hyps = await generate(decoder, {
      beam: this.beam, maxLength: this.opts.maxLength, lengthPenalty: this.opts.lengthPenalty, eosId: this.cfg.eosId,
      startTokens: new Array(b.batchSize).fill(this.cfg.decoderStartId),
    });
    return hyps.slice(0, b.size);
  }

  release(): Promise<void> {
    return this.sessions.release();
  }
}

/** The Qwen3 step graph as a StepDecoder: left-padded prompts, each row with its own rotary position. */
class Qwen3StepDecoder implements StepDecoder {
  private column = 0;
  private past: Record<string, ort.Tensor>;
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly params: ParamFeeds,
    readonly rows: number,
    readonly vocabSize: number,
    private readonly maxLen: number,
    private readonly cfg: Qwen3Config,
    /** Left padding of each row. */
    private readonly pads: readonly number[],
  ) {
    this.past = emptyCache(cfg.layers, rows, cfg.kvHeads, maxLen, cfg.headDim);
  }

  async step(tokens: readonly number[], beamIndex: readonly number[]): Promise<Float32Array> {
    const c = this.column;
    if (c >= this.maxLen) throw new Error(`decoder step ${c + 1} exceeds the cache's ${this.maxLen} columns`);
    const keyMask = new BigInt64Array(this.rows * this.maxLen);
    for (let r = 0; r < this.rows; r++) for (let j = this.pads[r]; j <= c; j++) keyMask[r * this.maxLen + j] = 1n;
    const feeds = this.params.fill(this.session, {
      ...this.past,
      input_ids: int64(tokens, [this.rows, 1]), position_ids: int64(this.pads.map((p) => Math.max(0, c - p)), [this.rows, 1]), cache_position: int64([c], [1]),
      key_mask: new ort.Tensor('int64', keyMask, [this.rows, this.maxLen]), beam_index: int64(beamIndex, [this.rows]),
    });
    const out = await this.session.run(feeds);
    for (let l = 0; l < this.cfg.layers; l++) {
      this.past[`past_key.${l}`] = out[`present_key.${l}`];
      this.past[`past_value.${l}`] = out[`present_value.${l}`];
    }
    this.column++;
    return out.log_probs.data as Float32Array;
  }
}

/** Decoder-only generation: continues each prompt (token ids, at least one) with greedy or beam search. */
export class Qwen3Generator {
  private readonly sessions: SessionPool<ort.InferenceSession>;
  private readonly params: ParamFeeds;
  readonly beam: number;
  constructor(private readonly cfg: Qwen3Config, specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>, private readonly opts: GeneratorOptions & { maxPromptLength: number }) {
    this.sessions = new SessionPool((s) => s.release(), opts.openSessions);
    this.params = new ParamFeeds(specs, values);
    this.beam = opts.beam ?? 4;
    if (opts.maxPromptLength + opts.maxLength > cfg.maxPositions) throw new Error(`maxPromptLength + maxLength (${opts.maxPromptLength + opts.maxLength}) exceeds the model's maxPositions ${cfg.maxPositions}`);
  }

  private openStep(rows: number): Promise<ort.InferenceSession> {
    const step = buildQwen3Step(this.cfg, { rows, maxLen: this.opts.maxPromptLength + this.opts.maxLength });
    return createSession(withLogProbs(step.g, step.logits, [...step.presentKeys, ...step.presentValues]));
  }

  /** The best continuation of each prompt. */
  async generate(prompts: readonly (readonly number[])[]): Promise<Hypothesis[]> {
    const P = Math.max(...prompts.map((p) => p.length));
    if (P > this.opts.maxPromptLength) throw new Error(`a prompt has ${P} tokens; maxPromptLength is ${this.opts.maxPromptLength}`);
    if (prompts.some((p) => p.length === 0)) throw new Error('every prompt needs at least one token');
    const rows = prompts.length * this.beam;
    return this.sessions.use(String(rows), () => this.openStep(rows), (session) => this.run(prompts, P, session));
  }

  private async run(prompts: readonly (readonly number[])[], P: number, session: ort.InferenceSession): Promise<Hypothesis[]> {
    const beam = this.beam;
    const rows = prompts.length * beam;
    const pads = Array.from({ length: rows }, (_, r) => P - prompts[Math.floor(r / beam)].length);
    const decoder = new Qwen3StepDecoder(session, this.params, rows, this.cfg.vocabSize, this.opts.maxPromptLength + this.opts.maxLength, this.cfg, pads);
    const identity = Array.from({ length: rows }, (_, r) => r);
    // Prefill every prompt token but the last through the cache; the last one is the first generation step's input.
    for (let c = 0; c < P - 1; c++) {
      const tokens = Array.from({ length: rows }, (_, r) => {
        const prompt = prompts[Math.floor(r / beam)];
        const k = c - pads[r];
        return k >= 0 ? prompt[k] : this.cfg.padId;
      });
      await decoder.step(tokens, identity);
    }
    return generate(decoder, {
      beam, maxLength: this.opts.maxLength, lengthPenalty: this.opts.lengthPenalty, eosId: this.cfg.eosId, startTokens: prompts.map((p) => p[p.length - 1]),
    });
  }

  release(): Promise<void> {
    return this.sessions.release();
  }
}
