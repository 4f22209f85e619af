import type { LayerSelectionStrategy } from '../strategy';

/** The middle teacher layer hs[floor(L_t/2)] (hs[6] of 12, hs[18] of 36, hs[20] of 40); hs[1] for a 1-layer teacher. */
export function middleTeacherLayer(teacherLayers: number): number {
  return Math.max(1, Math.floor(teacherLayers / 2));
}

/** All-to-one: every student state, hs[0] included, ↔ the middle teacher layer. */
export const allToOneStrategy: LayerSelectionStrategy = {
  name: 'all-to-one',
  description: 'every student layer (and the embeddings) matches the middle teacher layer floor(L_t/2)',
  embeddingTeacher: middleTeacherLayer,
  layerPairs: ({ teacherLayers, studentLayers }) =>
    Array.from({ length: studentLayers }, (_, i): [number, number] => [i + 1, middleTeacherLayer(teacherLayers)]),
};
