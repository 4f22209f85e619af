import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, createSession, ort, readModel } from '@strata/onnx';
import { BertConfig, bertParamSpecs, initParams } from '@strata/nn';
import {
  BertEvaluator, ClassifierBatch, Rng, Trainer, batchFeeds, bertInferenceModel, bertTrainGraph, bucketKey, exportInference, learningRate,
} from './index';

const PAD = 0;
const CLS = 1;
const A = 2;
const B = 3;

/** Synthetic task: does marker A occur before marker B? Variable lengths exercise the attention mask. */
function markerExamples(n: number, seqLen: number, seed: number): { ids: number[]; label: number }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = 6 + rng.nextInt(seqLen - 5);
    const ids = [CLS, ...Array.from({ length: len - 1 }, () => 4 + rng.nextInt(12))];
    const pa = 1 + rng.nextInt(len - 1);
    let pb = 1 + rng.nextInt(len - 1);
    while (pb === pa) pb = 1 + rng.nextInt(len - 1);
    ids[pa] = A;
    ids[pb] = B;
    while (ids.length < seqLen) ids.push(PAD);
    return { ids, label: pa < pb ? 1 : 0 };
  });
}

function toBatches(examples: { ids: number[]; label: number }[], batch: number, seqLen: number): ClassifierBatch[] {
  const out: ClassifierBatch[] = [];
  for (let i = 0; i < examples.length; i += batch) {
    const rows = examples.slice(i, i + batch);
    const b: ClassifierBatch = {
      batchSize: batch, length: seqLen, size: rows.length,
      inputIds: new BigInt64Array(batch * seqLen), attentionMask: new BigInt64Array(batch * seqLen), tokenTypeIds: new BigInt64Array(batch * seqLen), labels: new BigInt64Array(batch),
    };
    rows.forEach((r, k) => {
      r.ids.forEach((t, j) => {
        b.inputIds[k * seqLen + j] = BigInt(t);
        b.attentionMask[k * seqLen + j] = t === PAD ? 0n : 1n;
      });
      b.labels[k] = BigInt(r.label);
    });
    out.push(b);
  }
  return out;
}

const cfg: BertConfig = {
  vocabSize: 16, hidden: 32, layers: 2, heads: 2, intermediate: 64, maxPositions: 16, typeVocabSize: 2, numLabels: 2,
  hiddenDropout: 0.1, attentionDropout: 0.1, layerNormEps: 1e-12, activation: 'gelu',
};
const SEQ = 16;
const BATCH = 32;

function makeTrainer(totalSteps: number): Trainer {
  const params = bertParamSpecs(cfg);
  const rng = new Rng(42);
  return new Trainer({
    params,
    initial: initParams(params, () => rng.next()),
    buildGraph: (key) => bertTrainGraph(cfg, key),
    schedule: { peakLr: 2e-3, warmupSteps: 30, totalSteps, decay: 'linear' },
    seed: 7,
    session: { threads: 1 },
  });
}

/** Epoch-ordered batches from a seeded shuffle, so a resumed run sees exactly the same data order. */
function epochBatches(train: { ids: number[]; label: number }[], epoch: number): ClassifierBatch[] {
  return toBatches(new Rng(1000 + epoch).shuffle([...train]), BATCH, SEQ);
}

async function run(trainer: Trainer, train: { ids: number[]; label: number }[], from: { epoch: number; batch: number }, untilStep: number, onStep?: (pos: { epoch: number; batch: number }) => boolean): Promise<void> {
  for (let epoch = from.epoch; trainer.step < untilStep; epoch++) {
    const batches = epochBatches(train, epoch);
    for (let i = epoch === from.epoch ? from.batch : 0; i < batches.length && trainer.step < untilStep; i++) {
      await trainer.trainStep(bucketKey(BATCH, SEQ), batchFeeds(batches[i], true));
      if (onStep && onStep({ epoch: i + 1 === batches.length ? epoch + 1 : epoch, batch: (i + 1) % batches.length })) return;
    }
  }
}

describe('training on ONNX Runtime', () => {
  const train = markerExamples(2048, SEQ, 1);
  const dev = markerExamples(512, SEQ, 2);

  it('learns which marker comes first to >= 95% dev accuracy with a 2-layer encoder', async () => {
    const steps = 500;
    const trainer = makeTrainer(steps);
    const losses: number[] = [];
    for (let epoch = 0; trainer.step < steps; epoch++)
      for (const b of epochBatches(train, epoch)) {
        if (trainer.step >= steps) break;
        losses.push((await trainer.trainStep(bucketKey(BATCH, SEQ), batchFeeds(b, true))).loss);
      }
    const evaluator = new BertEvaluator(cfg);
    const preds = await evaluator.predict(trainer.params, toBatches(dev, 64, SEQ));
    const accuracy = preds.filter((p, i) => p === dev[i].label).length / dev.length;
    expect(preds).toHaveLength(dev.length);
    expect(losses[0]).toBeGreaterThan(0.6);
    expect(losses.slice(-20).reduce((a, b) => a + b) / 20).toBeLessThan(0.2);
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    await trainer.release();
    await evaluator.release();
  });

  it('resumes from a checkpoint to parameters bit-identical with an uninterrupted run', async () => {
    const steps = 90; // crosses an epoch boundary (64 batches per epoch) after the interruption
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ckpt-'));
    const file = path.join(dir, 'ckpt.bin');

    const straight = makeTrainer(steps);
    await run(straight, train, { epoch: 0, batch: 0 }, steps);

    const first = makeTrainer(steps);
    await run(first, train, { epoch: 0, batch: 0 }, steps, (pos) => {
      if (first.step === 37) {
        first.saveCheckpoint(file, pos);
        return true; // "killed" here
      }
      return false;
    });
    await first.release();

    const resumed = makeTrainer(steps);
    const { dataPosition, step } = resumed.restore(file);
    expect(step).toBe(37);
    await run(resumed, train, dataPosition as { epoch: number; batch: number }, steps);

    expect(resumed.step).toBe(straight.step);
    for (const [name, p] of straight.params) {
      const q = resumed.params.get(name)!;
      expect(Buffer.compare(Buffer.from(p.buffer), Buffer.from(q.buffer))).toBe(0);
    }
    // A truncated checkpoint is refused with a clear error, never half-loaded.
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, 100));
    expect(() => makeTrainer(steps).restore(file)).toThrow(/truncated checkpoint \(header needs/);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 8));
    expect(() => makeTrainer(steps).restore(file)).toThrow(/truncated at tensor 'classifier.bias' \(v\)/);
    await straight.release();
    await resumed.release();
  });

  it('exports a standalone .onnx that reproduces the training graph logits and hidden states to 1e-5', async () => {
    const trainer = makeTrainer(20);
    await run(trainer, train, { epoch: 0, batch: 0 }, 20);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-export-'));
    const file = path.join(dir, 'student.onnx');
    exportInference(file, (values) => bertInferenceModel(cfg, 8, SEQ, { kind: 'initializers', values }), trainer.params);

    const model = readModel(file);
    expect(model.graph.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(model.graph.initializers.some((t) => t.name === 'bert.encoder.layer.1.output.dense.weight' && t.dtype === DataType.FLOAT)).toBe(true);
    const exported = await createSession(fs.readFileSync(file));
    const reference = await createSession(bertInferenceModel(cfg, 8, SEQ));
    const batch = toBatches(dev.slice(0, 8), 8, SEQ)[0];
    const feeds = batchFeeds(batch, false);
    const refFeeds: Record<string, ort.Tensor> = { ...feeds };
    for (const p of bertParamSpecs(cfg)) refFeeds[p.name] = new ort.Tensor('float32', trainer.params.get(p.name)!, p.shape);
    const a = await exported.run(feeds);
    const b = await reference.run(refFeeds);
    const names = ['logits', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2'];
    for (const name of names) {
      expect(a[name].dims).toEqual(b[name].dims);
      const x = a[name].data as Float32Array;
      const y = b[name].data as Float32Array;
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
      expect(worst).toBeLessThanOrEqual(1e-5);
    }
    await trainer.release();
  });

  it('warms up linearly and decays linearly or by cosine', () => {
    const s = { peakLr: 1, warmupSteps: 10, totalSteps: 110 };
    expect(learningRate(0, { ...s, decay: 'linear' })).toBeCloseTo(0.1);
    expect(learningRate(9, { ...s, decay: 'linear' })).toBeCloseTo(1);
    expect(learningRate(60, { ...s, decay: 'linear' })).toBeCloseTo(0.5);
    expect(learningRate(60, { ...s, decay: 'cosine' })).toBeCloseTo(0.5);
    expect(learningRate(35, { ...s, decay: 'cosine' })).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)));
    expect(learningRate(110, { ...s, decay: 'linear' })).toBe(0);
  });
});
