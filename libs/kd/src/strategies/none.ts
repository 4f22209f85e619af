import type { LayerSelectionStrategy } from '../strategy';

/** No Matching: no hidden loss (λ = 0); prediction KL and hard-label CE stay on. The map is empty, embeddings included. */
export const noneStrategy: LayerSelectionStrategy = {
  name: 'none',
  description: 'no intermediate-layer matching (empty map)',
  embeddingTeacher: () => null,
  layerPairs: () => [],
};
