// One grid cell trained from teacher states streamed over Kafka: the task family's own training, as in embedded mode
// (family.ts), fed by a per-epoch replay of strata.acts.<cacheKey>, publishing run events as it goes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaEpoch } from '@strata/activations';
import {
  Interrupted, familyOf, stopRequested, writeJsonAtomic, type ExperimentManifest, type GridCell, type RunEventPublisher, type TeacherStateSource, type TrainingRecord as FamilyTrainingRecord,
} from '@strata/experiment';
import type { KafkaClient } from '@strata/kafka';
import { confinePath } from '@strata/service';

/** How long a student waits for the next teacher record while the cache is incomplete (STRATA_RECORD_IDLE_TIMEOUT_MS). */
export const DEFAULT_RECORD_IDLE_MS = Number(process.env.STRATA_RECORD_IDLE_TIMEOUT_MS) > 0 ? Number(process.env.STRATA_RECORD_IDLE_TIMEOUT_MS) : 300_000;

export interface CellSpec {
  manifest: ExperimentManifest;
  /** The experiment's directory relative to the artifacts root (default: metadata.name). */
  dir?: string;
  cell: { id: string } | { index: number };
  /** Teacher .onnx under the artifacts root (default <dir>/teacher/teacher.onnx). */
  teacher?: string;
}

/** What a student-trainer leaves for the evaluator beside student.onnx (the evaluator scores and writes result.json). */
export type TrainingRecord = FamilyTrainingRecord & Required<Pick<FamilyTrainingRecord, 'dev' | 'wallSeconds' | 'parameters' | 'finishedAt'>>;

export interface RunCellOptions {
  client: KafkaClient;
  events: RunEventPublisher;
  artifacts: string;
  dataRoot?: string;
  log: (line: string) => void;
  /** Progress events at most this often (default 2000 ms). */
  progressEveryMs?: number;
  /** Give up when no teacher record arrives for this long and the cache is not complete (default: wait). */
  /** No record for this long while the cache is incomplete fails the cell, naming the cache, topic and group (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Checkpoint every this many steps, besides each epoch end (default 200). */
  checkpointEvery?: number;
}

export function pickCell(cells: GridCell[], which: CellSpec['cell'], name: string): GridCell {
  if ('index' in which) {
    if (!Number.isInteger(which.index) || which.index < 0 || which.index >= cells.length)
      throw new Error(`cell index ${which.index} is outside 0..${cells.length - 1} of experiment ${name}'s ${cells.length} cells`);
    return cells[which.index];
  }
  const cell = cells.find((c) => c.id === which.id);
  if (!cell) throw new Error(`experiment ${name} has no cell '${which.id}'; its cells: ${cells.map((c) => c.id).join(', ')}`);
  return cell;
}

/** Trains the cell unless it finished earlier (same content hash); returns its training record. */
export async function runCell(spec: CellSpec, o: RunCellOptions): Promise<{ cell: GridCell; record: TrainingRecord; skipped: boolean }> {
  const { manifest } = spec;
  const { spec: s } = manifest;
  const name = manifest.metadata.name;
  const dirRel = spec.dir ?? name;
  const expDir = confinePath(o.artifacts, dirRel, 'dir');
  const teacherPath = confinePath(o.artifacts, spec.teacher ?? path.join(dirRel, 'teacher', 'teacher.onnx'), 'teacher');
  if (!fs.existsSync(teacherPath)) throw new Error(`teacher '${teacherPath}' not found: the experiment's teacher must be trained (or copied) before its students run`);
  const family = familyOf(s.task);
  const run = family.serviceRun(manifest, expDir, { dataRoot: o.dataRoot, teacherOnnx: teacherPath });
  const cell = pickCell(run.cells, spec.cell, name);
  const cellDir = path.join(expDir, 'students', cell.id);
  const plan = await family.streamedCell(run, cell, { outDir: cellDir, log: o.log, checkpointEvery: o.checkpointEvery });
  const { hash } = plan;
  const recordFile = path.join(cellDir, 'training.json');
  const rel = (p: string) => path.relative(o.artifacts, p);

  if (fs.existsSync(recordFile)) {
    const done = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as TrainingRecord;
    if (done.hash === hash && fs.existsSync(path.join(expDir, done.onnx))) {
      o.log(`${cell.id}: finished earlier (hash ${hash.slice(0, 12)}), not retrained`);
      await o.events.publish({ type: 'finished', experiment: name, cellId: cell.id, onnx: rel(path.join(expDir, done.onnx)), result: rel(recordFile), dir: dirRel });
      return { cell, record: done, skipped: true };
    }
  }

  // A consumer group of its own per process and epoch: a killed predecessor's membership would otherwise hold up the
  // next join until its session times out.
  const incarnation = crypto.randomBytes(4).toString('hex');
  const source: TeacherStateSource = {
    layers: plan.layers,
    openEpoch: (epoch) => KafkaEpoch.open(o.client, plan.cacheKey, { groupId: `strata-student.${name}.${cell.id}.${incarnation}.e${epoch}`, expectedIds: plan.recordIds, idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_RECORD_IDLE_MS, stopped: stopRequested }),
    close: async () => undefined,
  };
  let lastProgress = 0;
  let lastStep: { step: number; loss: number } | undefined;
  const every = o.progressEveryMs ?? 2000;
  const pending: Promise<unknown>[] = [];
  try {
    const r = await plan.train(source, {
      onStart: ({ resumedFromStep, totalSteps }) => void pending.push(o.events.publish({ type: 'started', experiment: name, dir: dirRel, cellId: cell.id, resumedFromStep, totalSteps }).catch((e) => o.log(`${cell.id}: started event not published: ${(e as Error).message}`))),
      onStep: ({ step, epoch, loss, totalSteps }) => {
        lastStep = { step, loss };
        if (Date.now() - lastProgress < every && step !== totalSteps) return;
        lastProgress = Date.now();
        // A lost progress event is not worth a run: log it and train on.
        pending.push(o.events.publish({ type: 'progress', experiment: name, dir: dirRel, cellId: cell.id, step, totalSteps, epoch, loss }).catch((e) => o.log(`${cell.id}: progress event not published: ${(e as Error).message}`)));
      },
    });
    await Promise.all(pending);
    const onnx = path.join(expDir, 'students', `${cell.id}.onnx`);
    fs.copyFileSync(r.onnx, `${onnx}.tmp-${process.pid}`);
    fs.renameSync(`${onnx}.tmp-${process.pid}`, onnx);
    const record: TrainingRecord = {
      cellId: cell.id, hash, cacheKey: plan.cacheKey, curve: r.curve, layerMaps: r.layerMaps, dev: r.dev, wallSeconds: r.wallSeconds, parameters: r.parameters,
      onnx: path.relative(expDir, onnx), finishedAt: new Date().toISOString(), ...(r.generation ? { generation: r.generation } : {}),
    };
    writeJsonAtomic(recordFile, record);
    // Training-side figures; the eval-split metrics are the evaluator's.
    const metrics = { ...(lastStep ? { trainLoss: lastStep.loss, steps: lastStep.step } : {}), trainSeconds: r.trainSeconds };
    await o.events.publish({ type: 'finished', experiment: name, cellId: cell.id, onnx: rel(onnx), result: rel(recordFile), dir: dirRel, metrics });
    return { cell, record, skipped: false };
  } catch (caught) {
    await Promise.allSettled(pending);
    // A stop that ended a wait for records is a stop, not a failure.
    const reason = stopRequested();
    const e = reason && !(caught instanceof Interrupted) ? new Interrupted(`${cell.id}: stopped by ${reason}; run the same command again to resume`, reason) : caught;
    // A cell stopped by a signal has not failed: it resumes from its checkpoint, and says so with its next 'started'.
    if (!(e instanceof Interrupted)) await o.events.publish({ type: 'failed', experiment: name, dir: dirRel, cellId: cell.id, error: (e as Error).message }).catch(() => undefined);
    throw e;
  }
}
