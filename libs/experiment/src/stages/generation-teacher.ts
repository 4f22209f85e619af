// Stage 1 for generation tasks: train an encoder-decoder (seq2seq tasks) or decoder-only (multiple choice) teacher
// from scratch, or fine-tune a pretrained one, with teacher forcing, evaluate it by generation or ranking, export it as a standalone .onnx.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer, makeBatches, type Batch, type BatchRow } from '@strata/data';
import { loadCheckpoint } from '@strata/hub';
import { initParams } from '@strata/nn';
import { Rng, Trainer, bartTrainGraph, causalFeeds, causalKey, exportInference, qwen3TrainGraph, seq2seqBatchKey, seq2seqFeeds, type TrainGraph } from '@strata/train';
import { lengthBuckets, pretrainedTokenizer, writeHfConfig } from './common';
import {
  DataOptions, MultipleChoiceData, Seq2SeqData, SplitRef, continuationOf, describeSplit, encodeCausal, encodeSeq2Seq, generationArchitecture, loadGenerationData, promptOf, tokenizerTexts,
} from './generation-data';
import { evaluateGeneration } from './generation-eval';
import { GenerationConfig, depthOf, generationConfig, generationExportModel, generationHfConfig, paramSpecs } from './generation-model';
import { trainEpochs } from './loop';
import type { TeacherTrainConfig } from './teacher';

/** The classification teacher's settings, plus the generation architectures' own (maxLength is the source length for seq2seq, the whole sequence for a causal LM). */
export interface GenerationTeacherConfig extends TeacherTrainConfig {
  kvHeads?: number;
  headDim?: number;
  /** Encoder-decoder: pre-LN layers (mBART layout). */
  preLayerNorm?: boolean;
  /** Seq2seq target length, EOS included (default maxLength). */
  maxTargetLength?: number;
  labelSmoothing: number;
}

export interface GenerationEvalSettings {
  beam: number;
  lengthPenalty: number;
  /** CommonsenseQA: most tokens of a generated answer. */
  maxAnswerLength?: number;
}

export interface GenerationTeacherOptions {
  task: string;
  outDir: string;
  config: GenerationTeacherConfig;
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
  maxEvalExamples?: number;
  evaluation: GenerationEvalSettings;
  checkpointEvery?: number;
  log?: (line: string) => void;
}

export interface GenerationTeacherResult {
  onnx: string;
  tokenizer: string;
  model: GenerationConfig;
  metrics: Record<string, number>;
  curve: { step: number; loss: number }[];
  resumedFromStep: number;
  trainExamples: number;
  /** Optimizer steps of the whole run. */
  steps: number;
  /** Wall-clock seconds of training (this run only) and of the evaluation. */
  seconds: { train: number; eval: number };
  /** The checkpoint folder a fine-tuned teacher came from. */
  pretrained?: string;
}

/** Token rows to train on: seq2seq pairs, or prompt + gold continuation for multiple choice. */
export async function trainingRows(task: string, tokenizer: Tokenizer, data: Seq2SeqData | MultipleChoiceData, maxLength: number, maxTargetLength: number): Promise<BatchRow[]> {
  if (generationArchitecture(task) === 'encoder-decoder') return encodeSeq2Seq(tokenizer, (data as Seq2SeqData).examples, maxLength, maxTargetLength);
  const ex = (data as MultipleChoiceData).examples;
  return encodeCausal(tokenizer, ex.map((e) => promptOf(task, e)), ex.map((e) => continuationOf(e.choices[e.label])), maxLength);
}

/** Batch options of a generation model (source and target buckets for seq2seq). */
export function generationBatchOptions(task: string, batchSize: number, maxLength: number, maxTargetLength: number, seed: number) {
  const buckets = lengthBuckets(maxLength);
  return generationArchitecture(task) === 'encoder-decoder'
    ? { batchSize, buckets, targetBuckets: lengthBuckets(maxTargetLength), seed }
    : { batchSize, buckets, seed };
}

/** Session key of one batch's static shape for either architecture. */
export function batchKey(model: GenerationConfig, b: Batch): string {
  return model.arch === 'bart' ? seq2seqBatchKey(b) : causalKey(b.batchSize, b.length);
}

/** Teacher-forced feeds with labels of one batch; causal LMs learn every real token after the first. */
export function modelFeeds(model: GenerationConfig, b: Batch): ReturnType<typeof seq2seqFeeds> {
  return model.arch === 'bart' ? seq2seqFeeds(b, model.config.decoderStartId, true) : causalFeeds(b, true, 'all');
}

export function teacherForcedGraph(model: GenerationConfig, key: string, labelSmoothing: number): TrainGraph {
  return model.arch === 'bart' ? bartTrainGraph(model.config, key.split('@')[0], { labelSmoothing }) : qwen3TrainGraph(model.config, key.split('@')[0], { labelSmoothing });
}

/**
 * Trains the teacher, checkpointing as it goes: re-running with the same outDir resumes (a finished teacher is only
 * re-evaluated and re-exported) and reuses its saved tokenizer.
 */
export async function trainGenerationTeacher(opts: GenerationTeacherOptions): Promise<GenerationTeacherResult> {
  const cfg = opts.config;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const arch = generationArchitecture(opts.task);
  const maxTargetLength = cfg.maxTargetLength ?? cfg.maxLength;
  fs.mkdirSync(opts.outDir, { recursive: true });
  const train = loadGenerationData(opts.task, opts.train, opts.data, false);
  const tokenizerPath = path.join(opts.outDir, 'tokenizer.json');
  let tokenizer: Tokenizer;
  if (fs.existsSync(tokenizerPath)) tokenizer = Tokenizer.fromFile(tokenizerPath);
  else {
    log(`training a ${cfg.tokenizer} tokenizer (vocab ${cfg.vocabSize}) on ${train.examples.length} ${opts.task} training examples (${describeSplit(opts.train)})`);
    tokenizer = Tokenizer.train(tokenizerTexts(opts.task, train), { kind: cfg.tokenizer, vocabSize: cfg.vocabSize });
    tokenizer.save(tokenizerPath);
  }
  const model = generationConfig(arch, { ...cfg, maxPositions: Math.max(cfg.maxLength, maxTargetLength) }, tokenizer);
  const specs = paramSpecs(model);
  const rng = new Rng(cfg.seed);
  return fitGenerationTeacher({
    ...opts, log, trainData: train, tokenizer, tokenizerPath, model, initial: initParams(specs, () => rng.next()), maxTargetLength,
    label: `teacher ${arch} ${cfg.layers}L/${cfg.hidden}H on ${opts.task}`,
  });
}

export interface GenerationFinetuneConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  /** Source length (seq2seq) or whole sequence (decoder-only). */
  maxLength: number;
  /** Seq2seq target length, EOS included (default maxLength). */
  maxTargetLength?: number;
  labelSmoothing?: number;
  dropout?: number;
  seed: number;
}

export type GenerationFinetuneOptions = Omit<GenerationTeacherOptions, 'config'> & {
  /** A Hugging Face checkpoint folder of a BART / mBART (seq2seq tasks) or Qwen3 (multiple-choice tasks) model. */
  pretrained: string;
  tokenizer?: string;
  config: GenerationFinetuneConfig;
};

/**
 * Fine-tunes a pretrained BART / mBART (seq2seq tasks) or Qwen3 (multiple choice) checkpoint with its own tokenizer,
 * the generation counterpart of finetuneTeacher. Resumable; the checkpoint folder is only read.
 */
export async function finetuneGenerationTeacher(opts: GenerationFinetuneOptions): Promise<GenerationTeacherResult> {
  const cfg = opts.config;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const arch = generationArchitecture(opts.task);
  const maxTargetLength = cfg.maxTargetLength ?? cfg.maxLength;
  fs.mkdirSync(opts.outDir, { recursive: true });
  const ckpt = loadCheckpoint(opts.pretrained);
  const want = arch === 'encoder-decoder' ? 'bart' : 'qwen3';
  if (ckpt.imported.arch !== want)
    throw new Error(`${opts.pretrained}: task '${opts.task}' needs ${arch === 'encoder-decoder' ? 'an encoder-decoder (BART, mBART)' : 'a decoder-only (Qwen3)'} teacher; this checkpoint is a ${ckpt.imported.architecture}`);
  let model: GenerationConfig;
  const needed = Math.max(cfg.maxLength, maxTargetLength);
  if (ckpt.imported.arch === 'bart') {
    const c = ckpt.imported.config;
    if (needed > c.maxPositions) throw new Error(`teacher maxLength/maxTargetLength ${needed} exceeds the checkpoint's max_position_embeddings ${c.maxPositions}`);
    model = { arch: 'bart', config: { ...c, ...(cfg.dropout === undefined ? {} : { dropout: cfg.dropout }) } };
  } else if (ckpt.imported.arch === 'qwen3') {
    const c = ckpt.imported.config;
    if (needed > c.maxPositions) throw new Error(`teacher maxLength ${needed} exceeds the checkpoint's max_position_embeddings ${c.maxPositions}`);
    // Rotary tables are constants of every graph, not parameters: build them only as long as the task needs.
    model = { arch: 'qwen3', config: { ...c, maxPositions: needed, ...(cfg.dropout === undefined ? {} : { hiddenDropout: cfg.dropout }) } };
  } else throw new Error(`${opts.pretrained}: a BERT checkpoint cannot teach the generation task '${opts.task}'`);
  log(`pretrained teacher ${ckpt.imported.architecture} from ${opts.pretrained}: ${depthOf(model)} layers${model.arch === 'bart' ? ' per stack' : ''}, hidden ${model.config.hidden}, vocab ${model.config.vocabSize}`);
  const { tokenizer, tokenizerPath } = pretrainedTokenizer(ckpt, opts.tokenizer, opts.outDir, log, cfg.seed);
  const train = loadGenerationData(opts.task, opts.train, opts.data, false);
  return fitGenerationTeacher({
    ...opts, log, trainData: train, tokenizer, tokenizerPath, model, initial: ckpt.values, maxTargetLength,
    config: { ...cfg, labelSmoothing: cfg.labelSmoothing ?? 0 },
    label: `teacher ${path.basename(path.resolve(opts.pretrained))} (${model.arch}) on ${opts.task}`,
    pretrained: path.resolve(opts.pretrained),
  });
}

interface FitGenerationOptions extends Omit<GenerationTeacherOptions, 'config'> {
  config: { epochs: number; batchSize: number; lr: number; warmupRatio: number; maxLength: number; seed: number; labelSmoothing: number };
  log: (line: string) => void;
  trainData: Seq2SeqData | MultipleChoiceData;
  tokenizer: Tokenizer;
  tokenizerPath: string;
  model: GenerationConfig;
  initial: Map<string, Float32Array>;
  maxTargetLength: number;
  label: string;
  pretrained?: string;
}

/** Trains `model` from `initial` with teacher forcing, evaluates, exports teacher.onnx and writes teacher.json. */
async function fitGenerationTeacher(opts: FitGenerationOptions): Promise<GenerationTeacherResult> {
  const { config: cfg, log, trainData: train, tokenizer, tokenizerPath, model, maxTargetLength } = opts;
  const evalData = loadGenerationData(opts.task, opts.eval, { ...opts.data, maxExamples: opts.maxEvalExamples }, true);
  const rows = await trainingRows(opts.task, tokenizer, train, cfg.maxLength, maxTargetLength);
  const batchOpts = generationBatchOptions(opts.task, cfg.batchSize, cfg.maxLength, maxTargetLength, cfg.seed);
  const epochBatches = (epoch: number): Batch[] => makeBatches(rows, { ...batchOpts, epoch });
  const totalSteps = epochBatches(0).length * cfg.epochs;
  const trainer = new Trainer({
    params: paramSpecs(model),
    initial: opts.initial,
    buildGraph: (key) => teacherForcedGraph(model, key, cfg.labelSmoothing),
    schedule: { peakLr: cfg.lr, warmupSteps: Math.round(totalSteps * cfg.warmupRatio), totalSteps, decay: 'linear' },
    seed: cfg.seed,
  });
  const onnxPath = path.join(opts.outDir, 'teacher.onnx');
  try {
    const { curve, resumedFromStep, trainSeconds, bar } = await trainEpochs({
      trainer,
      checkpoint: path.join(opts.outDir, 'teacher.ckpt'),
      epochs: cfg.epochs,
      totalSteps,
      batches: epochBatches,
      key: (b) => batchKey(model, b),
      feeds: (b) => modelFeeds(model, b),
      label: opts.label,
      settings: JSON.stringify({ model, cfg, maxTargetLength, task: opts.task, train: opts.train, examples: rows.length, pretrained: opts.pretrained ?? null }),
      checkpointEvery: opts.checkpointEvery,
      log,
    });
    // The training graphs' sessions held 12.3 GB for the DART teacher; evaluation needs only the values.
    await trainer.release();
    const t1 = Date.now();
    const evaluated = await evaluateGeneration(
      { task: opts.task, model, values: trainer.params, tokenizer, maxLength: cfg.maxLength, maxTargetLength, beam: opts.evaluation.beam, lengthPenalty: opts.evaluation.lengthPenalty, maxAnswerLength: opts.evaluation.maxAnswerLength, batchSize: cfg.batchSize },
      evalData.examples as never,
    );
    const evalSeconds = (Date.now() - t1) / 1000;
    bar.done(`${describeSplit(opts.eval)} ${Object.entries(evaluated.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    exportInference(onnxPath, (values) => generationExportModel(model, { kind: 'initializers', values }), trainer.params);
    writeHfConfig(onnxPath, generationHfConfig(model, tokenizer));
    fs.writeFileSync(path.join(opts.outDir, 'predictions.jsonl'), evaluated.samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
    const result: GenerationTeacherResult = {
      onnx: onnxPath, tokenizer: tokenizerPath, model, metrics: evaluated.metrics, curve, resumedFromStep, trainExamples: train.examples.length, steps: totalSteps, seconds: { train: trainSeconds, eval: evalSeconds },
      ...(opts.pretrained ? { pretrained: opts.pretrained } : {}),
    };
    fs.writeFileSync(path.join(opts.outDir, 'teacher.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await trainer.release();
  }
}
