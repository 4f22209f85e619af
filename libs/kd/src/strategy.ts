import type { LayerMap, LayerMapInput } from './layer-map';

/**
 * A layer-selection strategy: a pure function of depths, options, seed and epoch, registered by name.
 * The registry adds the embedding pair and validates depths; a strategy only maps student layers 1..L_s.
 */
export interface LayerSelectionStrategy {
  /** The name manifests and the CLI use (`forward`, `rail-kd`, ...). */
  readonly name: string;
  /** One line for `--help` and error messages. */
  readonly description: string;
  /**
   * The teacher hidden state the student's hs[0] matches when embeddings are matched: 0 for most strategies,
   * the middle layer for all-to-one; `null` for strategies that never match anything (`none`).
   */
  embeddingTeacher(teacherLayers: number): number | null;
  /** Pairs for student layers 1..L_s (depths already validated). */
  layerPairs(input: LayerMapInput): LayerMap;
  /**
   * The teacher layers (1..L_t) this strategy can ask for under any seed and epoch, to size the activation cache.
   * Defaults to the teacher side of `layerPairs`.
   */
  possibleTeacherLayers?(input: LayerMapInput): number[];
}
