// A classification cell's record: the grid with its cache layers, the result a trained student leaves, and a
// finished cell found again on resume.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrategyRequest, teacherLayerSet, type LayerMap } from '@strata/kd';
import { bertParamSpecs, type BertConfig } from '@strata/nn';
import { readCheckpointMeta } from '@strata/train';
import { finishedResult, savedStudentSize } from '../finished-cell';
import { GridCell, cellDivergence, planGrid } from '../grid';
import type { ResultCell } from '../report';
import { devPoints, resolvedMaps, trainCurves } from '../results';
import { ExperimentManifest } from '../schema';
import type { Curve, EpochMetrics } from '../stages/loop';
import { percentMetrics } from './classification-teacher';

/** A finished cell as written to students/<cellId>/result.json: the same object as its entry in results.json. */
export type CellResultFile = ResultCell;

/** The grid and the one set of teacher layers every cell can ask for (the cache's layers). */
export function experimentGrid(manifest: ExperimentManifest, teacherLayers: number): { cells: GridCell[]; cacheLayers: number[] } {
  const cells = planGrid(manifest, { teacherLayers });
  const requests: StrategyRequest[] = cells.filter((c) => c.strategy !== 'none').map((c) => ({ strategy: c.strategy, teacherLayers, studentLayers: c.depth, options: c.options }));
  const layers = requests.length ? teacherLayerSet(...requests) : [];
  return { cells, cacheLayers: layers.length ? layers : [teacherLayers] };
}

/** What training leaves for a cell's record (every transport: embedded, worker thread, student-trainer + evaluator). */
export interface CellTraining {
  metrics: { accuracy: number; f1?: number };
  curve: Curve[];
  layerMaps: LayerMap[];
  /** Eval-split metrics after each epoch, as fractions. */
  dev?: EpochMetrics[];
  wallSeconds: number;
  parameters: number;
  /** Bytes of the student's .onnx. */
  onnxBytes: number;
}

/** One cell's result record (pure): what results.json lists for it and students/<cellId>/result.json holds. */
export function cellResult(cell: GridCell, r: CellTraining, hash: string): CellResultFile {
  return {
    id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, ...resolvedMaps(r.layerMaps),
    metrics: percentMetrics(r.metrics), curves: trainCurves(r.curve), ...(r.dev?.length ? { dev: devPoints(r.dev, (m) => percentMetrics(m as { accuracy: number; f1?: number })) } : {}),
    hash, wallSeconds: r.wallSeconds, student: { parameters: r.parameters, onnxBytes: r.onnxBytes }, ...cellDivergence(cell),
  };
}

/** Parameters of a BERT classifier of this shape (what the trainer trains and the export holds). */
export const bertParameters = (cfg: BertConfig) => bertParamSpecs(cfg).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

/** The training seconds a checkpoint carries (summed over resumed segments), if it exists and has them. */
export function checkpointTrainSeconds(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const seconds = readCheckpointMeta(file).trainSeconds;
  return typeof seconds === 'number' ? seconds : undefined;
}

/**
 * A finished cell's result.json when its hash matches (so a re-run skips it), else undefined. A file from an older
 * run (schemaVersion 1) is upgraded and rewritten: its wall time from the checkpoint's training time (scoring and
 * export not included), its sizes from students/<cellId>.onnx and `parametersOf` its depth.
 */
export function finishedCell(outDir: string, cellId: string, hash: string, parametersOf?: (depth: number) => number): CellResultFile | undefined {
  return finishedResult(outDir, cellId, hash, ({ depth }) => ({
    wallSeconds: checkpointTrainSeconds(path.join(outDir, 'students', cellId, 'student.ckpt')),
    student: parametersOf && typeof depth === 'number' ? savedStudentSize(outDir, cellId, () => parametersOf(depth)) : undefined,
  }));
}
