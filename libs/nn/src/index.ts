export { buildBert, bertMaxLength, bertParamSpecs, bertForwardFlops, validateBertConfig, BERT_DEFAULTS } from './bert';
export type { BertConfig, BertGraph, BertGraphOptions } from './bert';
export {
  BART_DEFAULTS, BART_POSITION_OFFSET, bartForwardFlops, bartParamSpecs, buildBart, buildBartDecoderStep, buildBartEncoder, validateBartConfig,
} from './bart';
export type { BartConfig, BartEncoderGraph, BartGraph, BartGraphOptions, DecoderStepGraph } from './bart';
export { QWEN3_DEFAULTS, buildQwen3, buildQwen3Step, qwen3ForwardFlops, qwen3ParamSpecs, validateQwen3Config } from './qwen3';
export type { Qwen3Config, Qwen3Graph, Qwen3GraphOptions, Qwen3StepGraph } from './qwen3';
export { MASKED, applyRope, ropeTables } from './attention';
export { Blocks } from './blocks';
export type { Activation, DropoutSite, TableLookup } from './blocks';
export { ParamDeclarer, initParams } from './params';
export type { ParamSpec, ParamInit, ParamSource } from './params';
