// @strata/kd: knowledge-distillation building blocks as pure functions over plain data.
// Layer-selection strategies (docs METHOD.md §2) are registered by name; weight-copy init follows §3.
export { KdError } from './errors';
export {
  ARCHITECTURES,
  forwardTeacherLayers,
  type Architecture,
  type LayerMap,
  type LayerMapInput,
  type LayerMapOptions,
  type LayerPair,
} from './layer-map';
export type { LayerSelectionStrategy } from './strategy';
export {
  layerMap,
  layerSelectionNames,
  layerSelectionStrategy,
  registerLayerSelection,
  possibleTeacherStates,
  teacherLayerSet,
  type StrategyRequest,
} from './registry';
export { middleTeacherLayer } from './strategies/all-to-one';
export { copyLayers, stackedInitMap, studentInitMap, type LayerStack, type StudentInitOptions } from './weight-copy';
export { mulberry32, seededRng, type Rng } from './rng';
export { AngleAccumulator, ANGLE_EPSILON, angleCosine, type AngleBatch, type HistogramBin, type StudentLayerAngles } from './angles';
export * from './losses';
export { topKGap, type TopKGap } from './topk-gap';
