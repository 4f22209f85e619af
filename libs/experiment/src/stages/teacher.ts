// Stage 1: train a BERT-style teacher from scratch on a classification task (no pretrained weights are reachable).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClassificationSplit, Tokenizer, TokenizerModelKind, encodeSplit, loadSplit, makeBatches, type Batch, type BatchRow } from '@strata/data';
import { accuracy, f1PositiveClass } from '@strata/metrics';
import { BERT_DEFAULTS, BertConfig, bertParamSpecs, initParams } from '@strata/nn';
import { BertEvaluator, Rng, Trainer, batchFeeds, bertInferenceModel, bertTrainGraph, bucketKey, exportInference } from '@strata/train';
import { progress } from '../progress';
import { subsample } from './common';

export interface TeacherTrainConfig {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  maxLength: number;
  vocabSize: number;
  tokenizer: TokenizerModelKind;
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  dropout: number;
  seed: number;
}

export const TEACHER_TRAIN_DEFAULTS: TeacherTrainConfig = {
  layers: 6, hidden: 128, heads: 4, intermediate: 512, maxLength: 64, vocabSize: 8000, tokenizer: 'wordpiece',
  epochs: 3, batchSize: 32, lr: 5e-4, warmupRatio: 0.1, dropout: 0.1, seed: 1,
};

export interface TeacherTrainOptions {
  task: string;
  outDir: string;
  config?: Partial<TeacherTrainConfig>;
  evalSplit?: string;
  /** Split to train on (default 'train'). */
  trainSplit?: string;
  dataRoot?: string;
  maxTrainExamples?: number;
  maxEvalExamples?: number;
  /** Checkpoint every this many steps (and at each epoch end). */
  checkpointEvery?: number;
  log?: (line: string) => void;
}

export interface TeacherTrainResult {
  onnx: string;
  tokenizer: string;
  config: BertConfig;
  evalSplit: string;
  metrics: { accuracy: number; f1?: number };
  curve: { step: number; loss: number }[];
  resumedFromStep: number;
}

interface Position {
  epoch: number;
  batch: number;
}

function buckets(maxLength: number): number[] {
  return [16, 32, 64, 128, 256, 512].filter((b) => b < maxLength).concat(maxLength);
}

export function bertConfigFor(cfg: TeacherTrainConfig, vocabSize: number, numLabels: number): BertConfig {
  return {
    ...BERT_DEFAULTS, vocabSize, numLabels, layers: cfg.layers, hidden: cfg.hidden, heads: cfg.heads, intermediate: cfg.intermediate,
    maxPositions: cfg.maxLength, hiddenDropout: cfg.dropout, attentionDropout: cfg.dropout,
  };
}

function classification(split: ReturnType<typeof loadSplit>, task: string): ClassificationSplit {
  if (split.kind !== 'classification') throw new Error(`task '${task}' is ${split.kind}; teacher training supports classification tasks so far`);
  return split;
}

/**
 * Trains the teacher, checkpointing as it goes: re-running with the same outDir resumes from the last checkpoint,
 * and a finished teacher (teacher.onnx present) is returned without training.
 */
export async function trainTeacher(opts: TeacherTrainOptions): Promise<TeacherTrainResult> {
  const cfg = { ...TEACHER_TRAIN_DEFAULTS, ...opts.config };
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  fs.mkdirSync(opts.outDir, { recursive: true });
  const load = { dataRoot: opts.dataRoot };
  const train = classification(loadSplit(opts.task, opts.trainSplit ?? 'train', load), opts.task);
  const evalSplitName = opts.evalSplit ?? 'dev';
  const dev = classification(loadSplit(opts.task, evalSplitName, load), opts.task);
  const trainExamples = subsample(train.examples, opts.maxTrainExamples);
  const devExamples = subsample(dev.examples, opts.maxEvalExamples);
  const numLabels = train.labelNames.length;

  const tokenizerPath = path.join(opts.outDir, 'tokenizer.json');
  let tokenizer: Tokenizer;
  if (fs.existsSync(tokenizerPath)) tokenizer = Tokenizer.fromFile(tokenizerPath);
  else {
    log(`training a ${cfg.tokenizer} tokenizer (vocab ${cfg.vocabSize}) on ${trainExamples.length} ${opts.task} training examples`);
    tokenizer = Tokenizer.train(trainExamples.flatMap((e) => (e.textB === undefined ? [e.textA] : [e.textA, e.textB])), { kind: cfg.tokenizer, vocabSize: cfg.vocabSize });
    tokenizer.save(tokenizerPath);
  }
  const bert = bertConfigFor(cfg, tokenizer.vocabSize, numLabels);
  const trainRows: BatchRow[] = await encodeSplit(tokenizer, { ...train, examples: trainExamples }, { maxLength: cfg.maxLength });
  const devRows: BatchRow[] = await encodeSplit(tokenizer, { ...dev, examples: devExamples }, { maxLength: cfg.maxLength });
  const batchOpts = { batchSize: cfg.batchSize, buckets: buckets(cfg.maxLength), seed: cfg.seed };
  const epochBatches = (epoch: number): Batch[] => makeBatches(trainRows, { ...batchOpts, epoch });
  const stepsPerEpoch = epochBatches(0).length;
  const totalSteps = stepsPerEpoch * cfg.epochs;

  const onnxPath = path.join(opts.outDir, 'teacher.onnx');
  const ckptPath = path.join(opts.outDir, 'teacher.ckpt');
  const params = bertParamSpecs(bert);
  const rng = new Rng(cfg.seed);
  const trainer = new Trainer({
    params,
    initial: initParams(params, () => rng.next()),
    buildGraph: (key) => bertTrainGraph(bert, key),
    schedule: { peakLr: cfg.lr, warmupSteps: Math.round(totalSteps * cfg.warmupRatio), totalSteps, decay: 'linear' },
    seed: cfg.seed,
  });
  let pos: Position = { epoch: 0, batch: 0 };
  let resumedFromStep = 0;
  const curve: { step: number; loss: number }[] = [];
  if (fs.existsSync(ckptPath)) {
    const state = trainer.restore(ckptPath);
    pos = state.dataPosition as Position;
    resumedFromStep = state.step;
    curve.push(...(((state.meta ?? {}).curve as { step: number; loss: number }[]) ?? []));
    log(`resuming teacher training from step ${state.step} (epoch ${pos.epoch + 1}, batch ${pos.batch})`);
  }
  const every = opts.checkpointEvery ?? 200;
  const bar = progress(`teacher ${cfg.layers}L/${cfg.hidden}H on ${opts.task}`, totalSteps);
  bar.tick(trainer.step);
  for (let epoch = pos.epoch; epoch < cfg.epochs; epoch++) {
    const batches = epochBatches(epoch);
    for (let i = epoch === pos.epoch ? pos.batch : 0; i < batches.length; i++) {
      const b = batches[i];
      const r = await trainer.trainStep(bucketKey(b.batchSize, b.length), batchFeeds(b, true));
      if (r.step % 10 === 0 || r.step === 1) curve.push({ step: r.step, loss: r.loss });
      bar.tick(1, `loss ${r.loss.toFixed(4)}`);
      const next = i + 1 === batches.length ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: i + 1 };
      if (r.step % every === 0 || next.batch === 0) trainer.saveCheckpoint(ckptPath, next, { curve });
    }
  }
  const evaluator = new BertEvaluator(bert);
  const devBatches = makeBatches(devRows, { ...batchOpts, shuffle: false });
  const preds = await evaluator.predict(trainer.params, devBatches);
  // Batches reorder rows by length: map predictions back through rowIndex.
  const ordered = new Array<number>(devRows.length);
  let k = 0;
  for (const b of devBatches) for (let r = 0; r < b.size; r++) ordered[b.rowIndex[r]] = preds[k++];
  const gold = devRows.map((r) => r.label ?? -1);
  const acc = accuracy(ordered, gold);
  bar.done(`${evalSplitName} accuracy ${(acc * 100).toFixed(2)}%`);
  exportInference(onnxPath, (values) => bertInferenceModel(bert, cfg.batchSize, cfg.maxLength, { kind: 'initializers', values }), trainer.params);
  await trainer.release();
  await evaluator.release();
  const result: TeacherTrainResult = { onnx: onnxPath, tokenizer: tokenizerPath, config: bert, evalSplit: evalSplitName, metrics: numLabels === 2 ? { accuracy: acc, f1: f1PositiveClass(ordered, gold) } : { accuracy: acc }, curve, resumedFromStep };
  fs.writeFileSync(path.join(opts.outDir, 'teacher.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
