// KD loss graph builders (docs METHOD.md §4): pure functions over a GraphBuilder and tensor names.
export { HIDDEN_NORMALIZATIONS, KD_LOSS_DEFAULTS, kdLossConfig, type HiddenNormalize, type KdLossConfig } from './config';
export { predictionKl, type PredictionKlOptions } from './kl';
export {
  PREDICTION_DIVERGENCES,
  SKEW_KL_DEFAULT_ALPHA,
  predictionDivergence,
  type PredictionDivergence,
  type PredictionDivergenceOptions,
} from './divergences';
export { COSINE_NORM_EPS, TOKEN_COUNT_EPS, hiddenMse, type HiddenMseOptions, type HiddenPair } from './hidden';
export { projectPairs, projection, projectionParamName, type ParamDeclare } from './projection';
export { KD_LOSS_WEIGHTS, totalKdLoss, type KdLossTerms, type KdLossWeights } from './total';
export { TOPK_REST_FLOOR, topKLogProbs, topKPredictionKl, type TopKKlOptions } from './topk-kl';
export { topKPredictionDivergence, type TopKDivergenceOptions } from './topk-divergences';
export { STATE_RMS_WARNING, hiddenScaleWarning, stateRms } from './state-scale';
