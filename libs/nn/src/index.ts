export { buildBert, bertParamSpecs, bertForwardFlops, validateBertConfig, BERT_DEFAULTS } from './bert';
export type { BertConfig, BertGraph, BertGraphOptions } from './bert';
export { Blocks } from './blocks';
export type { Activation, DropoutSite } from './blocks';
export { ParamDeclarer, initParams } from './params';
export type { ParamSpec, ParamInit, ParamSource } from './params';
