// A task family (classification; seq2seq and decoder-only generation) as the one pipeline sees it: each step whose
// work depends on the model family goes through this adapter, so embedded mode, the CLI over Kafka and the evaluator
// share the loop around it and a new loss, transport or student shape is written once.
import type { CacheWriter } from '@strata/activations';
import type { StudentLayerAngles } from '@strata/kd';
import type { ExperimentContext } from './context';
import type { GridCell } from './grid';
import type { ExperimentResults, ResultCell } from './report';
import type { FillOptions } from './stages/cache';
import type { Curve, EpochMetrics } from './stages/loop';
import type { TeacherStateSource } from './stages/student';

export type FamilyKind = 'classification' | 'generation';

/** A run set up with its teacher: what every later step reads, whatever the family. */
export interface FamilyRun {
  manifest: ExperimentContext['manifest'];
  outDir: string;
  log: (line: string) => void;
  teacherHash: string;
  teacherLayers: number;
  teacherMetrics: Record<string, number>;
  cells: GridCell[];
  /** Teacher hidden states any cell can ask for: the one cache of the run. */
  cacheLayers: number[];
}

/** What a cell's hash takes from its cache: the key, and for generation the top-k the cache keeps. */
export interface CacheRef {
  cacheKey: string;
  topK?: number;
}

/** How a pending cell trains: on the calling thread, or in a worker thread with its own ONNX Runtime sessions. */
export interface Lane {
  parallel: number;
  threads: number;
  log: (line: string) => void;
}

/** One angle analysis of a student: a cell, or one stack of a cell. */
export interface LabelledAngles {
  /** As results.json names it: the cell id, with the stack for an encoder-decoder. */
  id: string;
  /** Plot file stem: angles-<file>-layer<n>.svg. */
  file: string;
  layers: StudentLayerAngles[];
}

/** Seconds the shared pipeline measured, for a family that reports its stages. */
export interface StageTimes {
  studentsWall?: number;
  parallelism?: number;
  angles?: number;
  /** When the run began (Date.now()). */
  started?: number;
}

/**
 * students/<cellId>/training.json as a student-trainer writes it for the evaluator: the training half of a cell's
 * result (the evaluator adds the score).
 */
export interface TrainingRecord {
  cellId: string;
  hash: string;
  cacheKey: string;
  /** Logged steps: total loss and each weighted term. */
  curve: Curve[];
  /** Classification: the map of each epoch; generation: each epoch's map per stack ({encoder?, decoder}). */
  layerMaps: [number, number][][] | Partial<Record<'encoder' | 'decoder', [number, number][]>>[];
  /** Eval-split metrics (fractions) after each epoch (classification; [] for generation students). */
  dev?: EpochMetrics[];
  /** Training (every resumed segment) and export; the evaluator adds its scoring time. */
  wallSeconds?: number;
  /** Trained parameters of the student. */
  parameters?: number;
  /** The exported student, relative to the experiment directory. */
  onnx: string;
  finishedAt?: string;
  /** Generation students: what the evaluator needs for the cell's hash and result (cache top-k, training examples, steps, training seconds). */
  generation?: { topK: number; trainExamples: number; steps: number; trainSeconds: number };
}

/** A cell as a student-trainer trains it, from teacher records streamed to it each epoch. */
export interface StreamedCell {
  hash: string;
  cacheKey: string;
  /** Teacher hidden-state indices the cache holds. */
  layers: number[];
  /** Every record the student reads each epoch (the epoch stops reading once all have arrived). */
  recordIds: readonly string[];
  train(source: TeacherStateSource, hooks: StreamHooks): Promise<StreamedTraining>;
}

export interface StreamHooks {
  onStart: (info: { resumedFromStep: number; totalSteps: number }) => void;
  onStep: (step: { step: number; epoch: number; loss: number; totalSteps: number }) => void;
}

/** The training half of a record, and the exported student to copy into students/. */
export type StreamedTraining = Required<Pick<TrainingRecord, 'curve' | 'layerMaps' | 'dev' | 'wallSeconds' | 'parameters'>> & Pick<TrainingRecord, 'generation'> & { onnx: string; trainSeconds: number };

/** teacher-inference's work for one cache request, whatever the family: its key, its size, and filling a writer. */
export interface CacheWork {
  cacheKey: string;
  /** Examples in the cache once complete. */
  total: number;
  /** Examples the writer already holds (a resumed job). */
  produced(writer: CacheWriter): number;
  /** Fills the writer from where it stands; false when stopped first (resumable). */
  fill(writer: CacheWriter, o: Pick<FillOptions, 'batchSize' | 'shouldStop' | 'onProgress'>): Promise<boolean>;
}

/** A scored student: its result, and files to keep beside it (generation: its predictions). */
export interface ScoredCell {
  result: ResultCell;
  seconds: number;
  extraFiles?: Record<string, string>;
}

/** Results fields a family adds to the shared ones; teacherCache and latency keep their place in results.json. */
export type ResultExtras = Partial<Pick<ExperimentResults, 'teacherCache' | 'latency'>> & Record<string, unknown>;

export interface FamilyAdapter<R extends FamilyRun = FamilyRun, C extends CacheRef = CacheRef> {
  readonly kind: FamilyKind;
  /** The teacher in <outDir>/teacher/ (trained there, resumable; fine-tuned; or a given model copied there), the grid and the cache's layers. */
  obtainTeacher(ctx: ExperimentContext): Promise<R>;
  /** A run whose teacher already sits in its folder, as a service finds it. */
  serviceRun(manifest: FamilyRun['manifest'], expDir: string, o: { dataRoot?: string; teacherOnnx: string; tokenizer?: string }): R;
  /** Embedded mode: the teacher's states of every training example on disk, once (reused when present); logs it. */
  fillCache(run: R): Promise<C>;
  /** What a teacher-inference cache request carries beside the common fields, for a run in the folder `dir` under the artifact root. */
  cacheRequestFields(run: R, dir: string): Record<string, unknown>;
  /** The cache teacher-inference made for the run, as cellHash takes it (noted on the run for its results). */
  servedCache(run: R, cacheKey: string, count: number): CacheRef;
  /** The cache a student-trainer's record was trained from, as cellHash takes it (noted on the run for its results). */
  recordCache(run: R, record: TrainingRecord): CacheRef;
  /** The content hash that decides whether a finished cell is reused. */
  cellHash(run: R, cell: GridCell, cache: CacheRef): string;
  /** A finished cell's result.json when its hash matches, upgraded from an older schemaVersion (and rewritten). */
  finishedCell(run: R, cell: GridCell, hash: string): ResultCell | undefined;
  /** Metrics a finished cell lacks that this run measures (generation: a newer evaluator); they are re-scored. */
  staleMetrics?(run: R, result: ResultCell): string[];
  rescore?(run: R, cell: GridCell, result: ResultCell): Promise<ResultCell>;
  /** Trains a cell from the embedded cache; returns the exported student and its result. */
  trainCell(run: R, cell: GridCell, hash: string, cache: C, lane: Lane): Promise<{ onnx: string; result: ResultCell }>;
  /** teacher.json's metrics beside the teacher, as the run that trained it saved them ({} for none). */
  savedTeacherMetrics(run: R): Record<string, number>;
  /** A student-trainer's cell: the cache teacher-inference streams for this run, and training from that stream (unscored). */
  streamedCell(run: R, cell: GridCell, o: { outDir: string; log: (line: string) => void; checkpointEvery?: number }): Promise<StreamedCell>;
  /** The evaluator: scores a student-trainer's student as embedded mode scores its own. */
  scoreCell(run: R, cell: GridCell, record: TrainingRecord, files: { onnx: string; checkpoint: string }): Promise<ScoredCell>;
  /** The finished cells as results.json lists them (sizes an upgraded cell could not tell). */
  collect(run: R, cells: ResultCell[]): ResultCell[];
  /** Angle analyses of a first-seed student. */
  angles(run: R, cell: GridCell, examples: number): Promise<LabelledAngles[]>;
  teacherSummary(run: R): ExperimentResults['teacher'];
  resultExtras(run: R, cells: ResultCell[], times: StageTimes): Promise<ResultExtras>;
  report(results: ExperimentResults): string;
}
