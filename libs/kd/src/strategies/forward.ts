import { forwardTeacherLayers, pairInOrder } from '../layer-map';
import type { LayerSelectionStrategy } from '../strategy';

/** Forward: student layer k ↔ teacher hs[ceil(k·L_t/L_s)] (12→3: 4, 8, 12). */
export const forwardStrategy: LayerSelectionStrategy = {
  name: 'forward',
  description: 'student layer k matches teacher layer ceil(k*L_t/L_s), evenly spaced and in order',
  embeddingTeacher: () => 0,
  layerPairs: ({ teacherLayers, studentLayers }) => pairInOrder(forwardTeacherLayers(teacherLayers, studentLayers)),
};
