// Strategies registered by name. Adding one: a file in strategies/, one line in BUILT_IN, and a test.
import { KdError } from './errors';
import { checkDepths, matchesEmbeddings, type LayerMap, type LayerMapInput } from './layer-map';
import type { LayerSelectionStrategy } from './strategy';
import { allToOneStrategy } from './strategies/all-to-one';
import { explicitStrategy } from './strategies/explicit';
import { forwardStrategy } from './strategies/forward';
import { lastKStrategy } from './strategies/last-k';
import { noneStrategy } from './strategies/none';
import { outOfOrderRandomStrategy } from './strategies/out-of-order-random';
import { railKdStrategy } from './strategies/rail-kd';
import { reverseStrategy } from './strategies/reverse';

const BUILT_IN: readonly LayerSelectionStrategy[] = [
  noneStrategy,
  forwardStrategy,
  reverseStrategy,
  allToOneStrategy,
  outOfOrderRandomStrategy,
  railKdStrategy,
  lastKStrategy,
  explicitStrategy,
];

const registry = new Map<string, LayerSelectionStrategy>(BUILT_IN.map((s) => [s.name, s]));

/** Registers a strategy under its name; a name can be registered once. */
export function registerLayerSelection(strategy: LayerSelectionStrategy): void {
  if (registry.has(strategy.name)) throw new KdError(`strategy '${strategy.name}' is already registered`);
  registry.set(strategy.name, strategy);
}

/** The registered strategy names, in registration order. */
export function layerSelectionNames(): string[] {
  return [...registry.keys()];
}

/** The strategy registered as `name`; the error lists the known names. */
export function layerSelectionStrategy(name: string): LayerSelectionStrategy {
  const strategy = registry.get(name);
  if (!strategy) throw new KdError(`unknown strategy '${name}'; known strategies: ${layerSelectionNames().join(', ')}`);
  return strategy;
}

/**
 * Resolves `strategy` to a layer map: the embedding pair first (when matched, see METHOD.md §2), then the pairs
 * of student layers 1..L_s. Pure: the same input always gives the same map.
 */
export function layerMap(strategy: string, input: LayerMapInput): LayerMap {
  const s = layerSelectionStrategy(strategy);
  checkDepths(input.teacherLayers, input.studentLayers);
  const embed = matchesEmbeddings(input.options);
  const pairs = s.layerPairs(input);
  const embeddingTeacher = s.embeddingTeacher(input.teacherLayers);
  return embed && embeddingTeacher !== null ? [[0, embeddingTeacher], ...pairs] : pairs;
}

/** A strategy with its depths and options, standing for every map it can produce under any seed and epoch. */
export interface StrategyRequest extends LayerMapInput {
  strategy: string;
}

/** The teacher hidden states (hs[0] included when matched) that `request` can ask for under any seed and epoch. */
export function possibleTeacherStates(request: StrategyRequest): number[] {
  const s = layerSelectionStrategy(request.strategy);
  checkDepths(request.teacherLayers, request.studentLayers);
  const layers = s.possibleTeacherLayers
    ? s.possibleTeacherLayers(request)
    : s.layerPairs(request).map(([, t]) => t);
  const embeddingTeacher = s.embeddingTeacher(request.teacherLayers);
  if (matchesEmbeddings(request.options) && embeddingTeacher !== null) layers.push(embeddingTeacher);
  return [...new Set(layers)].sort((a, b) => a - b);
}

/**
 * The union of teacher hidden-state indices needed by the given resolved maps and/or strategy requests, sorted:
 * the layer set of the shared activation cache.
 */
export function teacherLayerSet(...mapsOrRequests: ReadonlyArray<LayerMap | StrategyRequest>): number[] {
  const set = new Set<number>();
  for (const item of mapsOrRequests) {
    const states = Array.isArray(item) ? item.map(([, t]) => t) : possibleTeacherStates(item as StrategyRequest);
    for (const t of states) set.add(t);
  }
  return [...set].sort((a, b) => a - b);
}
