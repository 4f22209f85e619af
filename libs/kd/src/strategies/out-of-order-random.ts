import { KdError } from '../errors';
import { forwardTeacherLayers, pairInOrder, type LayerMapInput } from '../layer-map';
import { seededRng, shuffled } from '../rng';
import type { LayerSelectionStrategy } from '../strategy';

export function requireSeed(input: LayerMapInput, strategy: string): number {
  if (input.seed === undefined) throw new KdError(`seed is required by strategy '${strategy}'`);
  return input.seed;
}

/**
 * Out-of-order random: a permutation of the forward teacher list, drawn once from the run's seed (and
 * `options.stack`, so encoder and decoder stacks draw independent permutations) and fixed for the run.
 */
export const outOfOrderRandomStrategy: LayerSelectionStrategy = {
  name: 'out-of-order-random',
  description: 'a seeded random permutation of the forward teacher layers, fixed for the run (needs --seed)',
  embeddingTeacher: () => 0,
  layerPairs: (input) => {
    const rng = seededRng(requireSeed(input, 'out-of-order-random'), 'out-of-order-random', input.options?.stack ?? '');
    return pairInOrder(shuffled(forwardTeacherLayers(input.teacherLayers, input.studentLayers), rng));
  },
  possibleTeacherLayers: ({ teacherLayers, studentLayers }) => forwardTeacherLayers(teacherLayers, studentLayers),
};
