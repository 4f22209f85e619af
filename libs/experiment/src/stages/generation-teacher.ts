// Stage 1 for generation tasks: train an encoder-decoder (seq2seq tasks) or decoder-only (multiple choice) teacher
// from scratch with teacher forcing, evaluate it by generation or ranking, export it as a standalone .onnx.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer, makeBatches, type Batch, type BatchRow } from '@strata/data';
import { initParams } from '@strata/nn';
import { Rng, Trainer, bartTrainGraph, causalFeeds, causalKey, exportInference, qwen3TrainGraph, seq2seqBatchKey, seq2seqFeeds, type TrainGraph } from '@strata/train';
import { lengthBuckets } from './common';
import {
  DataOptions, MultipleChoiceData, Seq2SeqData, SplitRef, continuationOf, describeSplit, encodeCausal, encodeSeq2Seq, generationArchitecture, loadGenerationData, promptOf, tokenizerTexts,
} from './generation-data';
import { evaluateGeneration } from './generation-eval';
import { GenerationConfig, fullInferenceModel, generationConfig, paramSpecs } from './generation-model';
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
  const evalData = loadGenerationData(opts.task, opts.eval, { ...opts.data, maxExamples: opts.maxEvalExamples }, true);

  const tokenizerPath = path.join(opts.outDir, 'tokenizer.json');
  let tokenizer: Tokenizer;
  if (fs.existsSync(tokenizerPath)) tokenizer = Tokenizer.fromFile(tokenizerPath);
  else {
    log(`training a ${cfg.tokenizer} tokenizer (vocab ${cfg.vocabSize}) on ${train.examples.length} ${opts.task} training examples (${describeSplit(opts.train)})`);
    tokenizer = Tokenizer.train(tokenizerTexts(opts.task, train), { kind: cfg.tokenizer, vocabSize: cfg.vocabSize });
    tokenizer.save(tokenizerPath);
  }
  const model = generationConfig(arch, { ...cfg, maxPositions: Math.max(cfg.maxLength, maxTargetLength) }, tokenizer);
  const rows = await trainingRows(opts.task, tokenizer, train, cfg.maxLength, maxTargetLength);
  const batchOpts = generationBatchOptions(opts.task, cfg.batchSize, cfg.maxLength, maxTargetLength, cfg.seed);
  const epochBatches = (epoch: number): Batch[] => makeBatches(rows, { ...batchOpts, epoch });
  const totalSteps = epochBatches(0).length * cfg.epochs;

  const specs = paramSpecs(model);
  const rng = new Rng(cfg.seed);
  const trainer = new Trainer({
    params: specs,
    initial: initParams(specs, () => rng.next()),
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
      label: `teacher ${arch} ${cfg.layers}L/${cfg.hidden}H on ${opts.task}`,
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
    exportInference(onnxPath, (values) => fullInferenceModel(model, 1, cfg.maxLength, maxTargetLength, { kind: 'initializers', values }), trainer.params);
    fs.writeFileSync(path.join(opts.outDir, 'predictions.jsonl'), evaluated.samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
    const result: GenerationTeacherResult = {
      onnx: onnxPath, tokenizer: tokenizerPath, model, metrics: evaluated.metrics, curve, resumedFromStep, trainExamples: train.examples.length, steps: totalSteps, seconds: { train: trainSeconds, eval: evalSeconds },
    };
    fs.writeFileSync(path.join(opts.outDir, 'teacher.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await trainer.release();
  }
}
