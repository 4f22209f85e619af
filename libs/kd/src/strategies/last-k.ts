import { pairInOrder } from '../layer-map';
import type { LayerSelectionStrategy } from '../strategy';

/** Last-k: student layer k ↔ teacher layer L_t - L_s + k (the top L_s teacher layers, in order). */
export const lastKStrategy: LayerSelectionStrategy = {
  name: 'last-k',
  description: 'student layer k matches teacher layer L_t - L_s + k (the last L_s teacher layers, in order)',
  embeddingTeacher: () => 0,
  layerPairs: ({ teacherLayers, studentLayers }) =>
    pairInOrder(Array.from({ length: studentLayers }, (_, i) => teacherLayers - studentLayers + i + 1)),
};
