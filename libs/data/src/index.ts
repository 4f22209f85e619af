export { DataError, type DataErrorCode, type DataErrorDetails } from './errors';
export { decodeUtf8, invalidUtf8Offset } from './io';
export * from './types';
export { DATA_ROOT_ENV, MODELS_ROOT_ENV, resolveDataRoot, resolveModelsRoot, sharedModelDir, taskDataDir } from './paths';
export { FINGERPRINT_VERSION, canonicalJson, fingerprintExamples } from './fingerprint';
export { hashString32, mixSeeds, splitmix32 } from './random';
export {
  TASK_IDS,
  getTask,
  isTaskId,
  listSplits,
  listTasks,
  loadSplit,
  resolveSplitName,
  type SplitInfo,
  type SplitOf,
  type TaskId,
  type TaskInfo,
  type TaskKinds,
} from './registry';
export { linearizeTriples, type Triple } from './tasks/dart';
export { DEFAULT_SPLIT_SEED, emailSubjectAndBody } from './tasks/embedded';
export {
  BERT_SPECIAL_TOKENS,
  Tokenizer,
  type EncodeInput,
  type EncodeOptions,
  type Encoded,
  type SpecialTokenIds,
  type TokenizerModelKind,
  type TrainTokenizerOptions,
} from './tokenizer';
export { DEFAULT_BUCKETS, bucketFor, encodeSplit, makeBatches, type Batch, type BatchRow, type BucketBatchOptions } from './batching';
export {
  formatTaskStats,
  lengthPercentiles,
  splitTexts,
  taskStats,
  type LengthPercentiles,
  type SplitStats,
  type StatsTokenizer,
  type TaskStats,
  type TaskStatsOptions,
} from './stats';
export { REQUIRE_SHARED_ENV, describeShared, describeSharedModel, sharedDataAvailable } from './testing';
