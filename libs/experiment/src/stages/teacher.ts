// Stage 1: train a BERT-style teacher from scratch on a classification task (no pretrained weights are reachable).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer, TokenizerModelKind, encodeSplit, makeBatches, type Batch, type BatchRow } from '@strata/data';
import { BERT_DEFAULTS, BertConfig, bertParamSpecs, initParams } from '@strata/nn';
import { Rng, Trainer, batchFeeds, bertInferenceModel, bertTrainGraph, bucketKey, exportInference } from '@strata/train';
import { lengthBuckets, loadClassification, subsample } from './common';
import { scoreClassifier } from './eval';
import { trainEpochs } from './loop';
import { teacherChanceWarning } from './teacher-check';

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
  /** Things the user should know about this teacher (e.g. that it ended no better than the majority class). */
  warnings: string[];
}

export function bertConfigFor(cfg: TeacherTrainConfig, vocabSize: number, numLabels: number): BertConfig {
  return {
    ...BERT_DEFAULTS, vocabSize, numLabels, layers: cfg.layers, hidden: cfg.hidden, heads: cfg.heads, intermediate: cfg.intermediate,
    maxPositions: cfg.maxLength, hiddenDropout: cfg.dropout, attentionDropout: cfg.dropout,
  };
}

/**
 * Trains the teacher, checkpointing as it goes: re-running with the same outDir resumes from the last checkpoint
 * (a finished teacher is only re-evaluated and re-exported) and reuses its saved tokenizer.
 */
export async function trainTeacher(opts: TeacherTrainOptions): Promise<TeacherTrainResult> {
  const cfg = { ...TEACHER_TRAIN_DEFAULTS, ...opts.config };
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  fs.mkdirSync(opts.outDir, { recursive: true });
  const train = loadClassification(opts.task, opts.trainSplit ?? 'train', opts.dataRoot);
  const evalSplitName = opts.evalSplit ?? 'dev';
  const dev = loadClassification(opts.task, evalSplitName, opts.dataRoot);
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
  const batchOpts = { batchSize: cfg.batchSize, buckets: lengthBuckets(cfg.maxLength), seed: cfg.seed };
  const epochBatches = (epoch: number): Batch[] => makeBatches(trainRows, { ...batchOpts, epoch });
  const stepsPerEpoch = epochBatches(0).length;
  const totalSteps = stepsPerEpoch * cfg.epochs;

  const onnxPath = path.join(opts.outDir, 'teacher.onnx');
  const params = bertParamSpecs(bert);
  const rng = new Rng(cfg.seed);
  const trainer = new Trainer({
    params,
    initial: initParams(params, () => rng.next()),
    buildGraph: (key) => bertTrainGraph(bert, key),
    schedule: { peakLr: cfg.lr, warmupSteps: Math.round(totalSteps * cfg.warmupRatio), totalSteps, decay: 'linear' },
    seed: cfg.seed,
  });
  try {
    const { curve, resumedFromStep, bar } = await trainEpochs({
      trainer,
      checkpoint: path.join(opts.outDir, 'teacher.ckpt'),
      epochs: cfg.epochs,
      totalSteps,
      batches: epochBatches,
      key: (b) => bucketKey(b.batchSize, b.length),
      feeds: (b) => batchFeeds(b, true),
      label: `teacher ${cfg.layers}L/${cfg.hidden}H on ${opts.task}`,
      checkpointEvery: opts.checkpointEvery,
      log,
    });
    await trainer.release(); // its training sessions are not needed to evaluate
    const metrics = await scoreClassifier(bert, trainer.params, devRows, cfg.batchSize);
    bar.done(`${evalSplitName} accuracy ${(metrics.accuracy * 100).toFixed(2)}%`);
    const labels = (rows: readonly BatchRow[]) => rows.map((r) => r.label ?? -1).filter((l) => l >= 0);
    const chance = teacherChanceWarning({
      accuracy: metrics.accuracy, trainLabels: labels(trainRows), evalLabels: labels(devRows), labelNames: train.labelNames, evalSplit: evalSplitName,
      firstLoss: curve[0]?.loss, lastLoss: curve[curve.length - 1]?.loss,
    });
    const warnings = chance ? [chance] : [];
    for (const w of warnings) log(`warning: ${w}`);
    exportInference(onnxPath, (values) => bertInferenceModel(bert, cfg.batchSize, cfg.maxLength, { kind: 'initializers', values }), trainer.params);
    const result: TeacherTrainResult = { onnx: onnxPath, tokenizer: tokenizerPath, config: bert, evalSplit: evalSplitName, metrics, curve, resumedFromStep, warnings };
    fs.writeFileSync(path.join(opts.outDir, 'teacher.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await trainer.release();
  }
}
