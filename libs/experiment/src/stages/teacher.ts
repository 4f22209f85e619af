// Stage 1: the classification teacher, trained from scratch or fine-tuned from a pretrained Hugging Face BERT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer, TokenizerModelKind, encodeSplit, makeBatches, type Batch, type BatchRow, type ClassificationSplit } from '@strata/data';
import { bertToHfConfig, loadCheckpoint } from '@strata/hub';
import { BERT_DEFAULTS, BertConfig, bertMaxLength, bertParamSpecs, initParams } from '@strata/nn';
import { Rng, Trainer, batchFeeds, bertTrainGraph, bucketKey, exportBertClassifier } from '@strata/train';
import { lengthBuckets, loadClassification, pretrainedTokenizer, subsample, writeHfConfig } from './common';
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
  /** A fine-tuned pretrained teacher: the checkpoint folder, what was initialized, what went unused. */
  pretrained?: { dir: string; initialized: string[]; unused: string[] };
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
  const splits = teacherSplits(opts);
  const tokenizerPath = path.join(opts.outDir, 'tokenizer.json');
  let tokenizer: Tokenizer;
  if (fs.existsSync(tokenizerPath)) tokenizer = Tokenizer.fromFile(tokenizerPath);
  else {
    log(`training a ${cfg.tokenizer} tokenizer (vocab ${cfg.vocabSize}) on ${splits.trainExamples.length} ${opts.task} training examples`);
    tokenizer = Tokenizer.train(splits.trainExamples.flatMap((e) => (e.textB === undefined ? [e.textA] : [e.textA, e.textB])), { kind: cfg.tokenizer, vocabSize: cfg.vocabSize });
    tokenizer.save(tokenizerPath);
  }
  const bert = bertConfigFor(cfg, tokenizer.vocabSize, splits.labelNames.length);
  const params = bertParamSpecs(bert);
  const rng = new Rng(cfg.seed);
  return fitTeacher({
    ...opts, log, splits, tokenizer, tokenizerPath, bert, hyper: cfg, initial: initParams(params, () => rng.next()),
    label: `teacher ${cfg.layers}L/${cfg.hidden}H on ${opts.task}`,
  });
}

export interface TeacherFinetuneConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  /** Longest input in tokens; at most the checkpoint's max_position_embeddings. */
  maxLength: number;
  /** Overrides the checkpoint's dropout rates. */
  dropout?: number;
  seed: number;
}

/** The reference's BERT fine-tuning (METHOD.md §6): AdamW, linear decay, lr 5e-5, batch 32, 3 epochs. */
export const TEACHER_FINETUNE_DEFAULTS: TeacherFinetuneConfig = { epochs: 3, batchSize: 32, lr: 5e-5, warmupRatio: 0.1, maxLength: 128, seed: 1 };

export type TeacherFinetuneOptions = Omit<TeacherTrainOptions, 'config'> & {
  /** A Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json) of a BERT model. */
  pretrained: string;
  /** tokenizer.json to use instead of the checkpoint's. */
  tokenizer?: string;
  config?: Partial<TeacherFinetuneConfig>;
};

/**
 * Fine-tunes a pretrained Hugging Face BERT on the task (the paper's teacher): its weights, its tokenizer, a seeded
 * fresh classifier when the checkpoint has none. Resumable like trainTeacher; the checkpoint folder is only read.
 */
export async function finetuneTeacher(opts: TeacherFinetuneOptions): Promise<TeacherTrainResult> {
  const cfg = { ...TEACHER_FINETUNE_DEFAULTS, ...opts.config };
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  fs.mkdirSync(opts.outDir, { recursive: true });
  const splits = teacherSplits(opts);
  const rng = new Rng(cfg.seed);
  const ckpt = loadCheckpoint(opts.pretrained, { numLabels: splits.labelNames.length, uniform: () => rng.next() });
  if (ckpt.imported.arch !== 'bert')
    throw new Error(`${opts.pretrained}: a ${ckpt.imported.architecture} checkpoint cannot teach the classification task '${opts.task}'; classification teachers are BERT models (model_type bert)`);
  checkLabels(ckpt.imported.labels, splits.labelNames, opts.pretrained, opts.task);
  const base = ckpt.imported.config;
  if (cfg.maxLength > base.maxPositions) throw new Error(`teacher maxLength ${cfg.maxLength} exceeds the checkpoint's max_position_embeddings ${base.maxPositions}`);
  log(`pretrained teacher ${ckpt.imported.architecture} from ${opts.pretrained}: ${base.layers} layers, hidden ${base.hidden}, ${base.heads} heads, FFN ${base.intermediate}, vocab ${base.vocabSize}`);
  const { tokenizer, tokenizerPath } = pretrainedTokenizer(ckpt, opts.tokenizer, opts.outDir, log, cfg.seed);
  const dropout = cfg.dropout === undefined ? {} : { hiddenDropout: cfg.dropout, attentionDropout: cfg.dropout };
  const bert: BertConfig = { ...base, ...dropout, maxLength: cfg.maxLength };
  return fitTeacher({
    ...opts, log, splits, tokenizer, tokenizerPath, bert, hyper: cfg, initial: ckpt.values,
    label: `teacher ${path.basename(path.resolve(opts.pretrained))} (${base.layers}L/${base.hidden}H) on ${opts.task}`,
    pretrained: { dir: path.resolve(opts.pretrained), initialized: ckpt.initialized, unused: ckpt.unused.map((u) => u.tensor) },
  });
}

/** A checkpoint's own label names must be the task's, in the task's order (generic LABEL_i names say nothing). */
function checkLabels(own: string[] | undefined, task: readonly string[], dir: string, taskId: string): void {
  if (!own || own.every((l, i) => l === `LABEL_${i}`)) return;
  const same = own.length === task.length && own.every((l, i) => l.toLowerCase() === task[i].toLowerCase());
  if (!same) throw new Error(`${dir}/config.json: id2label ${JSON.stringify(own)} does not match the labels of task '${taskId}' ${JSON.stringify(task)} (names and order must agree)`);
}

interface TeacherSplits {
  train: ClassificationSplit;
  dev: ClassificationSplit;
  trainExamples: ClassificationSplit['examples'];
  devExamples: ClassificationSplit['examples'];
  labelNames: readonly string[];
  evalSplitName: string;
}

function teacherSplits(opts: Omit<TeacherTrainOptions, 'config'>): TeacherSplits {
  const train = loadClassification(opts.task, opts.trainSplit ?? 'train', opts.dataRoot);
  const evalSplitName = opts.evalSplit ?? 'dev';
  const dev = loadClassification(opts.task, evalSplitName, opts.dataRoot);
  return { train, dev, trainExamples: subsample(train.examples, opts.maxTrainExamples), devExamples: subsample(dev.examples, opts.maxEvalExamples), labelNames: train.labelNames, evalSplitName };
}

interface FitOptions extends Omit<TeacherTrainOptions, 'config'> {
  log: (line: string) => void;
  splits: TeacherSplits;
  tokenizer: Tokenizer;
  tokenizerPath: string;
  bert: BertConfig;
  hyper: { epochs: number; batchSize: number; lr: number; warmupRatio: number; seed: number };
  initial: Map<string, Float32Array>;
  label: string;
  pretrained?: TeacherTrainResult['pretrained'];
}

/** Trains `bert` from `initial` on the task, evaluates, exports teacher.onnx and writes teacher.json. */
async function fitTeacher(opts: FitOptions): Promise<TeacherTrainResult> {
  const { log, splits, tokenizer, tokenizerPath, bert, hyper: cfg } = opts;
  const { train, dev, evalSplitName } = splits;
  const maxLength = bertMaxLength(bert);
  const trainRows: BatchRow[] = await encodeSplit(tokenizer, { ...train, examples: splits.trainExamples }, { maxLength });
  const devRows: BatchRow[] = await encodeSplit(tokenizer, { ...dev, examples: splits.devExamples }, { maxLength });
  const batchOpts = { batchSize: cfg.batchSize, buckets: lengthBuckets(maxLength), seed: cfg.seed };
  const epochBatches = (epoch: number): Batch[] => makeBatches(trainRows, { ...batchOpts, epoch });
  const stepsPerEpoch = epochBatches(0).length;
  const totalSteps = stepsPerEpoch * cfg.epochs;

  const onnxPath = path.join(opts.outDir, 'teacher.onnx');
  const trainer = new Trainer({
    params: bertParamSpecs(bert),
    initial: opts.initial,
    buildGraph: (key) => bertTrainGraph(bert, key),
    schedule: { peakLr: cfg.lr, warmupSteps: Math.round(totalSteps * cfg.warmupRatio), totalSteps, decay: 'linear' },
    seed: cfg.seed,
  });
  try {
    const { curve, resumedFromStep, bar } = await trainEpochs({
      trainer,
      checkpoint: path.join(opts.outDir, 'teacher.ckpt'),
      settings: JSON.stringify({ bert, hyper: cfg, task: opts.task, trainSplit: opts.trainSplit ?? 'train', examples: splits.trainExamples.length, pretrained: opts.pretrained?.dir ?? null }),
      epochs: cfg.epochs,
      totalSteps,
      batches: epochBatches,
      key: (b) => bucketKey(b.batchSize, b.length),
      feeds: (b) => batchFeeds(b, true),
      label: opts.label,
      checkpointEvery: opts.checkpointEvery,
      log,
    });
    await trainer.release(); // its training sessions are not needed to evaluate
    const metrics = await scoreClassifier(bert, trainer.params, devRows, cfg.batchSize);
    bar.done(`${evalSplitName} accuracy ${(metrics.accuracy * 100).toFixed(2)}%`);
    const labels = (rows: readonly BatchRow[]) => rows.map((r) => r.label ?? -1).filter((l) => l >= 0);
    const chance = teacherChanceWarning({
      accuracy: metrics.accuracy, trainLabels: labels(trainRows), evalLabels: labels(devRows), labelNames: splits.labelNames, evalSplit: evalSplitName,
      firstLoss: curve[0]?.loss, lastLoss: curve[curve.length - 1]?.loss,
    });
    const warnings = chance ? [chance] : [];
    for (const w of warnings) log(`warning: ${w}`);
    exportBertClassifier(onnxPath, bert, trainer.params);
    writeHfConfig(onnxPath, bertToHfConfig(bert, splits.labelNames));
    const result: TeacherTrainResult = { onnx: onnxPath, tokenizer: tokenizerPath, config: bert, evalSplit: evalSplitName, metrics, curve, resumedFromStep, warnings, ...(opts.pretrained ? { pretrained: opts.pretrained } : {}) };
    fs.writeFileSync(path.join(opts.outDir, 'teacher.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await trainer.release();
  }
}
