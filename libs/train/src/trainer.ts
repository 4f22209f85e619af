import { appendGradients } from '@strata/autodiff';
import { GraphBuilder, SessionOptions, createSession, numel, ort } from '@strata/onnx';
import type { DropoutSite, ParamSpec, TableLookup } from '@strata/nn';
import { ADAMW_DEFAULTS, AdamWConfig, AdamWSlot, adamwUpdate, adamwUpdateRows, globalNorm, sumRowsById } from './adamw';
import { CheckpointState, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { Rng, fillDropoutMask } from './rng';
import { ScheduleConfig, learningRate } from './schedule';

/** A forward graph for one static shape, with its scalar loss declared (gradients are appended by the trainer). */
export interface TrainGraph {
  g: GraphBuilder;
  loss: string;
  dropoutSites: DropoutSite[];
  /** Other tensors to return from each step (e.g. logits for running accuracy). */
  fetch?: string[];
  /**
   * Embedding tables read through one Gather: their gradients are taken as the looked-up rows' gradients and summed
   * by id in JS, not as a dense table-sized tensor (same numbers; docs/BENCHMARKS.md, "KD step").
   */
  lookups?: TableLookup[];
}

export interface TrainerOptions {
  params: ParamSpec[];
  initial: Map<string, Float32Array>;
  /** Builds the graph for a shape bucket key (e.g. "32x128"); called once per key. */
  buildGraph: (key: string) => TrainGraph;
  schedule: ScheduleConfig;
  adamw?: Partial<AdamWConfig>;
  /** Global gradient-norm clipping threshold; 0 disables (default 1). */
  clipNorm?: number;
  seed: number;
  /** Parameters left out are frozen (no gradient computed). */
  trainable?: (name: string) => boolean;
  session?: SessionOptions;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  fetched: Record<string, ort.Tensor>;
  /** Wall time of the step's phases in ms (for benchmarks; measuring costs nanoseconds). */
  phases: StepPhases;
}

export interface StepPhases {
  /** Drawing the dropout masks. */
  masks: number;
  /** The ONNX Runtime run: forward, loss and gradients, the binding's copies of every output included. */
  run: number;
  /** The global gradient norm for clipping. */
  clip: number;
  /** The AdamW update of every parameter. */
  adamw: number;
}

/** Where a parameter's gradient comes from: a dense output, or the rows of a table lookup's output and its ids. */
type GradSource = { param: string; grad: string } | { param: string; grad: string; ids: string; width: number; rows: number };

interface Bucket {
  session: ort.InferenceSession;
  masks: { site: DropoutSite; data: Float32Array; tensor: ort.Tensor }[];
  loss: string;
  fetch: string[];
  /** In parameter order (the order the gradient norm sums in). */
  grads: GradSource[];
}

/** Trains parameters fed as graph inputs: one ONNX Runtime run per step for loss and gradients, AdamW in JS. */
export class Trainer {
  step = 0;
  rng: Rng;
  readonly params: Map<string, Float32Array>;
  private readonly slots = new Map<string, AdamWSlot>();
  private readonly paramTensors = new Map<string, ort.Tensor>();
  private readonly buckets = new Map<string, Promise<Bucket>>();
  private readonly cfg: AdamWConfig;

  constructor(private readonly opts: TrainerOptions) {
    this.cfg = { ...ADAMW_DEFAULTS, ...opts.adamw };
    this.rng = new Rng(opts.seed);
    this.params = new Map();
    for (const spec of opts.params) {
      const init = opts.initial.get(spec.name);
      if (!init) throw new Error(`no initial value for parameter '${spec.name}'`);
      if (init.length !== numel(spec.shape)) throw new Error(`parameter '${spec.name}': ${init.length} values for shape [${spec.shape}]`);
      const param = Float32Array.from(init);
      this.params.set(spec.name, param);
      this.paramTensors.set(spec.name, new ort.Tensor('float32', param, spec.shape));
      if (this.isTrainable(spec.name)) this.slots.set(spec.name, { param, m: new Float32Array(param.length), v: new Float32Array(param.length), decay: spec.decay });
    }
  }

  private isTrainable(name: string): boolean {
    return this.opts.trainable ? this.opts.trainable(name) : true;
  }

  private bucket(key: string): Promise<Bucket> {
    let b = this.buckets.get(key);
    if (!b) {
      b = (async () => {
        const graph = this.opts.buildGraph(key);
        const trainable = this.opts.params.filter((p) => this.isTrainable(p.name));
        // A table only that Gather reads, with ids fed each step: differentiate its output instead of the table.
        const lookups = new Map((graph.lookups ?? []).filter((l) => graph.g.nodes.filter((n) => n.inputs.includes(l.param)).length === 1 && graph.g.inputs.some((i) => i.name === l.ids)).map((l) => [l.param, l]));
        const wrt = trainable.map((p) => lookups.get(p.name)?.output ?? p.name);
        const grads = appendGradients(graph.g, { loss: graph.loss, wrt });
        if (!graph.g.outputs.some((o) => o.name === graph.loss)) graph.g.output(graph.loss);
        const fetch = graph.fetch ?? [];
        for (const f of fetch) if (!graph.g.outputs.some((o) => o.name === f)) graph.g.output(f);
        const session = await createSession(graph.g.build(), this.opts.session);
        const masks = graph.dropoutSites.map((site) => {
          const data = new Float32Array(numel(site.shape));
          return { site, data, tensor: new ort.Tensor('float32', data, site.shape) };
        });
        const sources: GradSource[] = trainable.map((p) => {
          const l = lookups.get(p.name);
          return l ? { param: p.name, grad: grads[l.output], ids: l.ids, width: numel(p.shape.slice(1)), rows: p.shape[0] } : { param: p.name, grad: grads[p.name] };
        });
        return { session, masks, loss: graph.loss, fetch, grads: sources };
      })();
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Runs forward + backward on one batch and applies one AdamW update. */
  async trainStep(key: string, batch: Record<string, ort.Tensor>): Promise<StepResult> {
    const b = await this.bucket(key);
    const feeds: Record<string, ort.Tensor> = { ...batch };
    for (const [name, t] of this.paramTensors) feeds[name] = t;
    const t0 = performance.now();
    for (const m of b.masks) {
      fillDropoutMask(m.data, m.site.rate, this.rng);
      feeds[m.site.name] = m.tensor;
    }
    const t1 = performance.now();
    const out = await b.session.run(feeds);
    const t2 = performance.now();
    const loss = Number(out[b.loss].data[0]);
    if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${this.step}; lower the learning rate or check the inputs`);
    type Grad = { param: string; dense: Float32Array } | { param: string; width: number; rows: Int32Array; sums: Float32Array };
    const grads = b.grads.map((s): Grad =>
      'ids' in s ? { param: s.param, width: s.width, ...sumRowsById(feeds[s.ids].data as BigInt64Array, out[s.grad].data as Float32Array, s.width, s.rows) } : { param: s.param, dense: out[s.grad].data as Float32Array },
    );
    const norm = globalNorm(grads.map((g) => ('dense' in g ? g.dense : g)));
    const t3 = performance.now();
    const clip = this.opts.clipNorm ?? 1;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    const lr = learningRate(this.step, this.opts.schedule);
    this.step++;
    for (const g of grads) {
      if ('dense' in g) adamwUpdate(this.slots.get(g.param)!, g.dense, lr, this.step, this.cfg, scale);
      else adamwUpdateRows(this.slots.get(g.param)!, g.width, g.rows, g.sums, lr, this.step, this.cfg, scale);
    }
    const t4 = performance.now();
    const fetched: Record<string, ort.Tensor> = {};
    for (const f of b.fetch) fetched[f] = out[f];
    return { step: this.step, loss, gradNorm: norm, lr, fetched, phases: { masks: t1 - t0, run: t2 - t1, clip: t3 - t2, adamw: t4 - t3 } };
  }

  saveCheckpoint(file: string, dataPosition: unknown, meta?: Record<string, unknown>): void {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [name, s] of this.slots) {
      m.set(name, s.m as Float32Array);
      v.set(name, s.v as Float32Array);
    }
    saveCheckpoint(file, { step: this.step, rng: this.rng.state(), dataPosition, meta, params: this.params, m, v });
  }

  /** Restores parameters, optimizer moments, step and RNG state; returns the caller's data position and meta. */
  restore(file: string): Pick<CheckpointState, 'dataPosition' | 'meta' | 'step'> {
    const state = loadCheckpoint(file);
    for (const [name, values] of state.params) {
      const p = this.params.get(name);
      if (!p) throw new Error(`${file}: checkpoint has parameter '${name}', which this model lacks`);
      if (p.length !== values.length) throw new Error(`${file}: parameter '${name}' has ${values.length} values, the model expects ${p.length}`);
      p.set(values);
    }
    for (const [name, s] of this.slots) {
      const m = state.m.get(name);
      const v = state.v.get(name);
      if (!m || !v) throw new Error(`${file}: no optimizer state for '${name}'`);
      s.m.set(m);
      s.v.set(v);
    }
    this.step = state.step;
    this.rng = new Rng(state.rng);
    return { dataPosition: state.dataPosition, meta: state.meta, step: state.step };
  }

  /**
   * Frees every training session (one per batch shape, each with its own arena); `params` stay readable, so evaluate
   * after this. Calling it again is harmless; a later step rebuilds what it needs.
   */
  async release(): Promise<void> {
    for (const b of this.buckets.values()) await (await b).session.release();
    this.buckets.clear();
  }
}

