import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore, fileEpochRecords } from '@strata/activations';
import { makeBatches, type BatchRow } from '@strata/data';
import { studentKdGraph, teacherFeeds } from '@strata/experiment';
import { kdLossConfig, layerMap, type KdLossConfig, type LayerMap } from '@strata/kd';
import { BERT_DEFAULTS, BertConfig, bertForwardFlops, bertParamSpecs, initParams } from '@strata/nn';
import { createSession, quantizeWeightsInt8, type Model } from '@strata/onnx';
import { Rng, Trainer, batchFeeds, bertInferenceModel, bucketKey, type StepPhases } from '@strata/train';
import { measureMatMulPeak } from './matmul-peak';

/** The two students the issue names: MiniLM's width under its 6-layer teacher, and train-step's d256 under 12 layers. */
export const KD_STEP_CONFIGS = {
  minilm: { vocab: 30522, hidden: 384, heads: 12, ffn: 1536, layers: 3, teacherLayers: 6, maxPositions: 512 },
  d256: { vocab: 8000, hidden: 256, heads: 4, ffn: 1024, layers: 3, teacherLayers: 12, maxPositions: 128 },
} as const;
export type KdStepConfigName = keyof typeof KD_STEP_CONFIGS;

export interface KdStepOptions {
  config?: KdStepConfigName;
  steps?: number;
  batch?: number;
  seqLen?: number;
  strategy?: string;
  /** Also time the teacher's forward alone (what the cache stage runs per batch). Default true. */
  teacher?: boolean;
  log?: (line: string) => void;
}

/** Median time of each phase of one KD step, in ms. `assemble` = cache read, float16 decode and feed layout. */
export interface KdStepPhases extends StepPhases {
  assemble: number;
}

export interface KdStepReport {
  config: { name: KdStepConfigName; layers: number; hidden: number; heads: number; ffn: number; vocab: number; teacher_layers: number; seq_len: number; batch: number; dropout: number };
  strategy: string;
  layer_map: LayerMap;
  loss: KdLossConfig;
  cache: { dtype: 'float16'; records: number; cached_layers: number[]; bytes: number };
  steps: number;
  step_ms: number;
  examples_per_s: number;
  phases_ms: KdStepPhases;
  /** Each phase's median over the step's median. */
  phase_shares: KdStepPhases;
  flops_per_step: number;
  achieved_gflops: number;
  peak_gflops: number;
  ratio: number;
  /** The teacher's inference forward alone on the same batch (hidden states + logits), float32. */
  teacher_forward_ms?: number;
  /** The same forward with the teacher's weight products in int8 (cache.teacherPrecision: int8), and its speed-up. */
  teacher_forward_int8_ms?: number;
  int8_speedup?: number;
  /** Student KD step with the teacher's forward inside (the paper's code path: no cache) over the cached step. */
  online_over_cached?: number;
  step_ms_all: number[];
  final_loss: number;
  flop_count: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * The step students really run (stages/student.ts): CE + prediction KL + hidden-state MSE under the pretrained SST-2
 * manifest's loss, with the teacher's states read from a float16 file cache, decoded and laid out per batch. Times
 * each phase; the MatMul peak is measured in the same run.
 */
export async function benchKdStep(options: KdStepOptions = {}): Promise<KdStepReport> {
  const name = options.config ?? 'minilm';
  const c = KD_STEP_CONFIGS[name];
  if (!c) throw new Error(`unknown kd-step configuration '${name}'; choose one of ${Object.keys(KD_STEP_CONFIGS).join(', ')}`);
  const steps = options.steps ?? 6;
  const batch = options.batch ?? 32;
  const seqLen = options.seqLen ?? 128;
  const strategy = options.strategy ?? 'forward';
  const log = options.log ?? (() => undefined);
  if (!(seqLen <= c.maxPositions)) throw new Error(`kd-step: --seq-len ${seqLen} is longer than the ${name} configuration's ${c.maxPositions} positions`);
  // examples/table1-sst2-pretrained.yaml's loss.
  const loss = kdLossConfig({ ce: 1, kl: 1, hidden: 3, temperature: 1, normalize: 'bert-reference' });
  const teacherCfg: BertConfig = { ...BERT_DEFAULTS, vocabSize: c.vocab, numLabels: 2, layers: c.teacherLayers, hidden: c.hidden, heads: c.heads, intermediate: c.ffn, maxPositions: c.maxPositions };
  const cfg: BertConfig = { ...teacherCfg, layers: c.layers };
  const map = layerMap(strategy, { teacherLayers: c.teacherLayers, studentLayers: c.layers, seed: 1, epoch: 0 });
  const needed = [...new Set(map.map(([, t]) => t))];

  log('measuring the ONNX Runtime MatMul peak (float32 1024x1024x1024)');
  const peak = await measureMatMulPeak();

  // A float16 cache of 4 batches of full-length examples, holding every teacher state (as the grid's cache does).
  const rng = new Rng(1);
  const rows: BatchRow[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 4 * batch; i++) {
    rows.push({ inputIds: Array.from({ length: seqLen }, () => 1 + rng.nextInt(c.vocab - 1)), label: rng.nextInt(2) });
    ids.push(`bench/${i}`);
  }
  const cachedLayers = Array.from({ length: c.teacherLayers + 1 }, (_, i) => i);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kd-step-'));
  let trainer: Trainer | undefined;
  try {
    const cacheKey = 'bench';
    const store = FileStore.open(dir, cacheKey);
    const states = new Float32Array(cachedLayers.length * seqLen * c.hidden);
    for (let i = 0; i < rows.length; i++) {
      for (let k = 0; k < states.length; k++) states[k] = (rng.next() - 0.5) * 4;
      store.append({ exampleId: ids[i], validTokens: seqLen, hiddenSize: c.hidden, layers: cachedLayers, states, logits: { kind: 'full', values: Float32Array.of(rng.next() * 4 - 2, rng.next() * 4 - 2) } });
    }
    store.complete({ layers: cachedLayers, dtype: 'float16' });
    store.close();
    const reader = FileStore.open(dir, cacheKey, { readOnly: true });
    const cacheBytes = fs.readdirSync(path.join(dir, cacheKey)).reduce((s, f) => s + fs.statSync(path.join(dir, cacheKey, f)).size, 0);
    const records = fileEpochRecords(reader);
    const batches = makeBatches(rows, { batchSize: batch, buckets: [seqLen], seed: 1, epoch: 0 });

    const params = bertParamSpecs(cfg);
    trainer = new Trainer({
      params,
      initial: initParams(params, () => rng.next()),
      buildGraph: () => studentKdGraph(cfg, batch, seqLen, map, cfg.numLabels, loss),
      schedule: { peakLr: 5e-4, warmupSteps: 0, totalSteps: 1000, decay: 'linear' },
      seed: 1,
    });
    const key = bucketKey(batch, seqLen);
    const assemble = async (i: number) => {
      const b = batches[i % batches.length];
      const recs = await records.get(Array.from(b.rowIndex.subarray(0, b.size), (r) => ids[r]), { layers: needed });
      return { b, feeds: { ...batchFeeds(b, true), ...teacherFeeds(b, recs, cachedLayers, needed, c.hidden, cfg.numLabels) } };
    };

    log(`warming up (${name}: ${c.layers} x ${c.hidden}, ${c.heads} heads, FFN ${c.ffn}, vocab ${c.vocab}; batch ${batch} x ${seqLen}; map ${JSON.stringify(map)})`);
    await trainer.trainStep(key, (await assemble(0)).feeds);
    const times: number[] = [];
    const phases: KdStepPhases[] = [];
    let finalLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const { feeds } = await assemble(i);
      const t1 = performance.now();
      const r = await trainer.trainStep(key, feeds);
      times.push(performance.now() - t0);
      phases.push({ assemble: t1 - t0, ...r.phases });
      finalLoss = r.loss;
      log(`step ${i + 1}/${steps}: ${times[i].toFixed(0)} ms (assemble ${(t1 - t0).toFixed(0)}, masks ${r.phases.masks.toFixed(0)}, run ${r.phases.run.toFixed(0)}, clip ${r.phases.clip.toFixed(0)}, adamw ${r.phases.adamw.toFixed(0)}), loss ${r.loss.toFixed(4)}`);
    }
    reader.close();

    let teacherForwardMs: number | undefined;
    let teacherInt8Ms: number | undefined;
    if (options.teacher ?? true) {
      log(`timing the ${c.teacherLayers}-layer teacher's forward (float32, then int8)`);
      const values = initParams(bertParamSpecs(teacherCfg), () => rng.next());
      const model = bertInferenceModel(teacherCfg, batch, seqLen, { kind: 'initializers', values });
      const forward = async (m: Model) => {
        const teacher = await createSession(m);
        const tt: number[] = [];
        await teacher.run(batchFeeds(batches[0], false));
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          await teacher.run(batchFeeds(batches[i % batches.length], false));
          tt.push(performance.now() - t0);
        }
        await teacher.release();
        return median(tt);
      };
      teacherForwardMs = await forward(model);
      teacherInt8Ms = await forward(quantizeWeightsInt8(model).model);
    }

    const stepMs = median(times);
    const phaseMs = Object.fromEntries((['assemble', 'masks', 'run', 'clip', 'adamw'] as const).map((k) => [k, median(phases.map((p) => p[k]))])) as unknown as KdStepPhases;
    const flops = 3 * batch * bertForwardFlops(cfg, seqLen);
    const achieved = flops / (stepMs * 1e6);
    return {
      config: { name, layers: c.layers, hidden: c.hidden, heads: c.heads, ffn: c.ffn, vocab: c.vocab, teacher_layers: c.teacherLayers, seq_len: seqLen, batch, dropout: cfg.hiddenDropout },
      strategy,
      layer_map: map,
      loss,
      cache: { dtype: 'float16', records: rows.length, cached_layers: cachedLayers, bytes: cacheBytes },
      steps,
      step_ms: stepMs,
      examples_per_s: (batch * 1000) / stepMs,
      phases_ms: phaseMs,
      phase_shares: Object.fromEntries(Object.entries(phaseMs).map(([k, v]) => [k, v / stepMs])) as unknown as KdStepPhases,
      flops_per_step: flops,
      achieved_gflops: achieved,
      peak_gflops: peak.gflops,
      ratio: achieved / peak.gflops,
      teacher_forward_ms: teacherForwardMs,
      teacher_forward_int8_ms: teacherInt8Ms,
      int8_speedup: teacherForwardMs !== undefined && teacherInt8Ms !== undefined ? teacherForwardMs / teacherInt8Ms : undefined,
      online_over_cached: teacherForwardMs === undefined ? undefined : (teacherForwardMs + stepMs) / stepMs,
      step_ms_all: times,
      final_loss: finalLoss,
      flop_count: 'student only, as train-step: 3 x forward; forward = 2 x (dense weights: 4H^2 + 2H*FFN per layer, pooler, classifier) x tokens + 2 x 2 x S^2 x H per layer per example; loss terms, embeddings and elementwise ops not counted',
    };
  } finally {
    await trainer?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
