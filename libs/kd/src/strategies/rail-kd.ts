import { KdError } from '../errors';
import { pairInOrder } from '../layer-map';
import { seededRng, sortedSubset } from '../rng';
import type { LayerSelectionStrategy } from '../strategy';
import { requireSeed } from './out-of-order-random';

/**
 * RAIL-KD: each epoch a fresh random subset of L_s teacher layers, kept in order, drawn from (seed, epoch, stack).
 * Over a run any teacher layer can be drawn, so the activation cache needs all of them.
 */
export const railKdStrategy: LayerSelectionStrategy = {
  name: 'rail-kd',
  description: 'a fresh in-order random subset of L_s teacher layers every epoch (needs --seed and --epoch)',
  embeddingTeacher: () => 0,
  layerPairs: (input) => {
    const seed = requireSeed(input, 'rail-kd');
    const { epoch } = input;
    if (epoch === undefined) throw new KdError(`epoch is required by strategy 'rail-kd' (it draws a fresh subset each epoch)`);
    if (!Number.isInteger(epoch) || epoch < 0) throw new KdError(`epoch must be a non-negative integer, got ${epoch}`);
    const rng = seededRng(seed, 'rail-kd', input.options?.stack ?? '', epoch);
    return pairInOrder(sortedSubset(input.teacherLayers, input.studentLayers, rng));
  },
  possibleTeacherLayers: ({ teacherLayers }) => Array.from({ length: teacherLayers }, (_, i) => i + 1),
};
