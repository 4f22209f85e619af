export { Trainer } from './trainer';
export type { TrainerOptions, TrainGraph, StepResult, StepPhases } from './trainer';
export { adamwUpdate, globalNorm, ADAMW_DEFAULTS } from './adamw';
export type { AdamWConfig, AdamWSlot } from './adamw';
export { learningRate } from './schedule';
export type { ScheduleConfig } from './schedule';
export { saveCheckpoint, loadCheckpoint, readCheckpointMeta } from './checkpoint';
export type { CheckpointState } from './checkpoint';
export { Rng, fillDropoutMask } from './rng';
export { weightedCrossEntropy } from './losses';
export { exportInference } from './export';
export { bertTrainGraph, bertInferenceModel, bertExportModel, exportBertClassifier, batchFeeds, argmaxRows, BertEvaluator, bucketKey, parseBucketKey } from './bert-classifier';
export type { ClassifierBatch } from './bert-classifier';
export { tokenCrossEntropy } from './losses';
export {
  bartExportModel, bartInferenceModel, bartTrainGraph, decoderInputIds, parseSeq2SeqKey, seq2seqBatchKey, seq2seqFeeds, seq2seqKey, targetTokenWeights,
} from './seq2seq';
export type { Seq2SeqBatch, TeacherForcingOptions } from './seq2seq';
export { generate, hypothesisScore } from './beam-search';
export type { GenerationOptions, Hypothesis, StepDecoder } from './beam-search';
export { BartGenerator, Qwen3Generator } from './generation';
export type { GeneratorOptions, SourceBatch } from './generation';
export { ContinuationScorer, causalFeeds, causalKey, nextTokenTargets, parseCausalKey, qwen3ExportModel, qwen3InferenceModel, qwen3TrainGraph } from './causal-lm';
export type { CausalBatch, LossTokens } from './causal-lm';
