// @strata/metrics: evaluation metrics as pure functions. BLEU and chrF reproduce sacreBLEU 2.x
// (see SACREBLEU_VERSION); accuracy and F1 follow GLUE, exact match follows the SQuAD script.
export { MetricsError } from './errors';
export { segmentLines } from './text';
export { SACREBLEU_VERSION } from './version';
export { accuracy, f1PositiveClass, type Label } from './classification';
export { exactMatch, meanExactMatch, normalizeSquadAnswer } from './squad';
export { tokenizeBleu, BLEU_TOKENIZERS, type BleuTokenizer } from './bleu-tokenizers';
export {
  corpusBleu,
  sentenceBleu,
  formatBleu,
  BLEU_SMOOTHING_METHODS,
  type BleuOptions,
  type BleuScore,
  type BleuSmoothing,
} from './bleu';
export { corpusChrf, sentenceChrf, formatChrf, type ChrfOptions, type ChrfScore } from './chrf';
export type { ReferenceStream } from './references';
export { editDistance, phonemeErrorRate, type ErrorRate } from './edit-distance';
