// A generation cell's record: the result a trained student leaves, and a finished cell found again on resume.
import { finishedResult, savedStudentSize } from '../finished-cell';
import { GridCell, cellDivergence } from '../grid';
import type { ResultCell } from '../report';
import { resolvedStackMaps, trainCurves } from '../results';
import type { StackMaps } from '../stages/generation-student';
import type { Curve } from '../stages/loop';

/** Metrics the current evaluator reports (as the teacher's fresh scores show) that a saved result lacks. */
export function staleMetrics(saved: Readonly<Record<string, number>>, current: Readonly<Record<string, number>>): string[] {
  return Object.keys(current).filter((k) => !(k in saved));
}

/** What a trained generation student contributes to its result (from the trainer embedded, from its training record and the evaluator's score over Kafka). */
export interface GenerationCellTraining {
  metrics: Record<string, number>;
  layerMaps: StackMaps[];
  curve: Curve[];
  wallSeconds: number;
  parameters: number;
  seconds: { train: number; eval: number };
  steps: number;
}

export function generationResultCell(cell: GridCell, r: GenerationCellTraining, hash: string, onnxBytes: number): ResultCell {
  return {
    id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, ...resolvedStackMaps(r.layerMaps),
    metrics: r.metrics, curves: trainCurves(r.curve), hash, wallSeconds: r.wallSeconds, student: { parameters: r.parameters, onnxBytes }, seconds: r.seconds, steps: r.steps, ...cellDivergence(cell),
  };
}


/**
 * A finished cell's result.json when its hash matches (so a re-run skips it), else undefined. A file from an older
 * run (schemaVersion 1) gets its sizes from the saved student and its wall time from its seconds (train + eval).
 */
export function finishedGenerationCell(outDir: string, cellId: string, hash: string, parameters: () => number): ResultCell | undefined {
  return finishedResult(outDir, cellId, hash, () => ({ student: savedStudentSize(outDir, cellId, parameters) }));
}
