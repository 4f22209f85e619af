import { createSession } from '@strata/onnx';
import { BERT_DEFAULTS, BertConfig, bertForwardFlops, bertParamSpecs, initParams } from '@strata/nn';
import { ClassifierBatch, Rng, Trainer, batchFeeds, bertInferenceModel, bertTrainGraph, bucketKey } from '@strata/train';
import { measureMatMulPeak } from './matmul-peak';

export interface TrainStepReport {
  config: { layers: number; hidden: number; heads: number; ffn: number; seq_len: number; batch: number; vocab: number; teacher_layers: number; dropout: number };
  steps: number;
  step_ms: number;
  examples_per_s: number;
  flops_per_step: number;
  achieved_gflops: number;
  peak_gflops: number;
  ratio: number;
  cached_teacher_step_ms: number;
  online_teacher_step_ms: number;
  online_over_cached: number;
  flop_count: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function randomBatch(batch: number, seqLen: number, vocab: number, rng: Rng): ClassifierBatch {
  const n = batch * seqLen;
  const b: ClassifierBatch = {
    batchSize: batch, length: seqLen, size: batch,
    inputIds: new BigInt64Array(n), attentionMask: new BigInt64Array(n).fill(1n), tokenTypeIds: new BigInt64Array(n), labels: new BigInt64Array(batch),
  };
  for (let i = 0; i < n; i++) b.inputIds[i] = BigInt(rng.nextInt(vocab));
  for (let i = 0; i < batch; i++) b.labels[i] = BigInt(rng.nextInt(2));
  return b;
}

/**
 * Training-step throughput of the reference student (3 layers, hidden 256, 4 heads, FFN 1024, seq 128,
 * batch 32, vocab 8000), as a ratio over ONNX Runtime's MatMul peak measured in the same run, and the cost of
 * running a 12-layer teacher forward inside every step ("online") instead of reading cached states.
 */
export async function benchTrainStep(options: { steps?: number; log?: (line: string) => void } = {}): Promise<TrainStepReport> {
  const steps = options.steps ?? 6;
  const log = options.log ?? (() => undefined);
  const batch = 32;
  const seqLen = 128;
  const cfg: BertConfig = { ...BERT_DEFAULTS, vocabSize: 8000, numLabels: 2, layers: 3, hidden: 256, heads: 4, intermediate: 1024, maxPositions: 128 };
  const teacherCfg: BertConfig = { ...cfg, layers: 12 };

  log('measuring the ONNX Runtime MatMul peak (float32 1024x1024x1024)');
  const peak = await measureMatMulPeak();

  const params = bertParamSpecs(cfg);
  const rng = new Rng(1);
  const trainer = new Trainer({
    params,
    initial: initParams(params, () => rng.next()),
    buildGraph: (key) => bertTrainGraph(cfg, key),
    schedule: { peakLr: 1e-4, warmupSteps: 0, totalSteps: 1000, decay: 'linear' },
    seed: 1,
  });
  const key = bucketKey(batch, seqLen);
  const batches = Array.from({ length: 4 }, () => randomBatch(batch, seqLen, cfg.vocabSize, rng));

  const teacherParams = bertParamSpecs(teacherCfg);
  const teacherValues = initParams(teacherParams, () => rng.next());
  const teacher = await createSession(bertInferenceModel(teacherCfg, batch, seqLen, { kind: 'initializers', values: teacherValues }));

  const cached: number[] = [];
  const online: number[] = [];
  log('warming up (session creation, first steps)');
  await trainer.trainStep(key, batchFeeds(batches[0], true));
  await teacher.run(batchFeeds(batches[0], false));
  for (let i = 0; i < steps; i++) {
    const b = batches[i % batches.length];
    let t0 = process.hrtime.bigint();
    await trainer.trainStep(key, batchFeeds(b, true));
    cached.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    // Online teacher: the teacher's hidden states and logits are recomputed for the batch, then the student steps.
    await teacher.run(batchFeeds(b, false));
    await trainer.trainStep(key, batchFeeds(b, true));
    online.push(Number(process.hrtime.bigint() - t0) / 1e6);
    log(`step ${i + 1}/${steps}: cached ${cached[i].toFixed(0)} ms, online ${online[i].toFixed(0)} ms`);
  }
  await trainer.release();
  await teacher.release();

  const stepMs = median(cached);
  // Training FLOPs = 3 x forward (forward, plus two products per weight in the backward pass): 6 x dense
  // parameters x tokens, plus 3 x the attention products (QK^T and PV, 2·S²·H multiply-adds each per example).
  const flops = 3 * batch * bertForwardFlops(cfg, seqLen);
  const achieved = flops / (stepMs * 1e6);
  return {
    config: { layers: cfg.layers, hidden: cfg.hidden, heads: cfg.heads, ffn: cfg.intermediate, seq_len: seqLen, batch, vocab: cfg.vocabSize, teacher_layers: teacherCfg.layers, dropout: cfg.hiddenDropout },
    steps,
    step_ms: stepMs,
    examples_per_s: (batch * 1000) / stepMs,
    flops_per_step: flops,
    achieved_gflops: achieved,
    peak_gflops: peak.gflops,
    ratio: achieved / peak.gflops,
    cached_teacher_step_ms: stepMs,
    online_teacher_step_ms: median(online),
    online_over_cached: median(online) / stepMs,
    flop_count: '3 x forward; forward = 2 x (dense weights: 4H^2 + 2H*FFN per layer, pooler, classifier) x tokens + 2 x 2 x S^2 x H per layer per example; embeddings lookups and elementwise ops not counted',
  };
}

