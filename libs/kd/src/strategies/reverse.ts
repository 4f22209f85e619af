import { forwardTeacherLayers, pairInOrder } from '../layer-map';
import type { LayerSelectionStrategy } from '../strategy';

/** Reverse: the forward teacher list reversed (12→3: student 1, 2, 3 ↔ teacher 12, 8, 4); hs[0] still ↔ hs[0]. */
export const reverseStrategy: LayerSelectionStrategy = {
  name: 'reverse',
  description: 'the forward teacher layers in reverse order (first student layer matches the last teacher layer)',
  embeddingTeacher: () => 0,
  layerPairs: ({ teacherLayers, studentLayers }) => pairInOrder(forwardTeacherLayers(teacherLayers, studentLayers).reverse()),
};
