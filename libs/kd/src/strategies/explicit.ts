import { checkTeacherLayerList, pairInOrder } from '../layer-map';
import type { LayerSelectionStrategy } from '../strategy';

/** Explicit: `options.explicit[k-1]` is the teacher layer (1..L_t) of student layer k. */
export const explicitStrategy: LayerSelectionStrategy = {
  name: 'explicit',
  description: 'a user-given teacher layer (1..L_t) for each student layer (--explicit 4,8,12)',
  embeddingTeacher: () => 0,
  layerPairs: ({ teacherLayers, studentLayers, options }) =>
    pairInOrder(checkTeacherLayerList(options?.explicit, teacherLayers, studentLayers, 'options.explicit')),
};
