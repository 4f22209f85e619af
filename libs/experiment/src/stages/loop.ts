// The resumable epoch loop shared by the teacher and student stages: one place owns the data position,
// the checkpoint cadence and the curve, so resuming means the same thing everywhere.
import * as fs from 'node:fs';
import type { Batch } from '@strata/data';
import { ort } from '@strata/onnx';
import { readCheckpointMeta, type Trainer } from '@strata/train';
import { writeAtomic } from '../files';
import { progress } from '../progress';
import { LOSS_TERMS, lossTermOutput, type LossTerm } from './loss-terms';
import { Interrupted, stopRequested, throwIfStopRequested } from '../stop';

export interface EpochLoopOptions {
  trainer: Trainer;
  /** Checkpoint file; when it exists, training resumes from it. */
  checkpoint: string;
  /**
   * What the run is (its training settings, canonical JSON): kept in the checkpoint, and a checkpoint made with other
   * settings is set aside (renamed `.stale`) instead of resumed, so editing a manifest never continues the old run.
   */
  settings?: string;
  epochs: number;
  /** Steps of the whole run (for the progress bar; the caller already knows it for the schedule). */
  totalSteps: number;
  /** The batches of an epoch, in a deterministic order (so a resumed run sees the same data). */
  batches: (epoch: number) => Batch[];
  /** Session key of a batch (its static shape, plus whatever else changes the graph). */
  key: (batch: Batch, epoch: number) => string;
  /** May wait (a Kafka-fed student waits for the batch's records to arrive). */
  feeds: (batch: Batch, epoch: number) => Record<string, ort.Tensor> | Promise<Record<string, ort.Tensor>>;
  /** Called before the first batch of each epoch this run trains (also the resumed one) and after its last. */
  beginEpoch?: (epoch: number) => Promise<void>;
  endEpoch?: (epoch: number) => Promise<void>;
  /** Called after every step (run events, metrics). */
  onStep?: (step: { step: number; epoch: number; loss: number }) => void;
  /** Called once before the first step, with the step the checkpoint resumed from (0 for a fresh run). */
  onStart?: (resumedFromStep: number) => void;
  label: string;
  /** Checkpoint every this many steps (default 200) and at each epoch end. */
  checkpointEvery?: number;
  /** Testing aid: after this many steps, checkpoint and throw, as if the process had been killed. */
  stopAfterSteps?: number;
  log?: (line: string) => void;
  /**
   * Scores the model after each epoch's last step (before that step's checkpoint, so a resumed run keeps the point).
   * Whatever it returns is kept as the epoch's dev point.
   */
  evaluateEpoch?: (epoch: number) => Promise<Record<string, number>>;
  /** students/<cellId>/progress.json: rewritten atomically at most every PROGRESS_EVERY_MS and at each epoch end. */
  progressFile?: string;
}

/** One logged step: the optimized total and, when the graph exposes them (lossTermOutput), each weighted term. */
export type Curve = { step: number; loss: number } & Partial<Record<LossTerm, number>>;

/** Metrics after one epoch (1-based), as evaluateEpoch returned them, at the global step the epoch ended. */
export interface EpochMetrics {
  epoch: number;
  step: number;
  metrics: Record<string, number>;
}

/** The shape of progress.json (docs/RESULTS-FORMAT.md). */
export interface ProgressFile {
  step: number;
  totalSteps: number;
  /** 1-based epoch being trained (the last one finished once step = totalSteps). */
  epoch: number;
  epochs: number;
  /** Total loss of the last step; absent before the first. */
  loss?: number;
  updatedAt: string;
}

export const PROGRESS_EVERY_MS = 2000;

/** A logged curve point: the total, plus each term the graph fetched. */
export function curvePoint(step: number, loss: number, fetched: Record<string, ort.Tensor>): Curve {
  const point: Curve = { step, loss };
  for (const k of LOSS_TERMS) {
    const t = fetched[lossTermOutput(k)];
    if (t) point[k] = Number(t.data[0]);
  }
  return point;
}

interface Position {
  epoch: number;
  batch: number;
}

/** Trains to the end of the last epoch, resuming from the checkpoint when there is one. */
export async function trainEpochs(o: EpochLoopOptions): Promise<{ curve: Curve[]; dev: EpochMetrics[]; resumedFromStep: number; trainSeconds: number; bar: ReturnType<typeof progress> }> {
  const { trainer } = o;
  let pos: Position = { epoch: 0, batch: 0 };
  let resumedFromStep = 0;
  // Training time carried in the checkpoint, so a run resumed across sessions reports its whole training time
  // rather than its last segment's. undefined: a checkpoint written before the field existed.
  let priorSeconds: number | undefined = 0;
  const curve: Curve[] = [];
  const dev: EpochMetrics[] = [];
  if (fs.existsSync(o.checkpoint) && o.settings !== undefined) {
    const saved = readCheckpointMeta(o.checkpoint).settings;
    if (saved !== undefined && saved !== o.settings) {
      fs.renameSync(o.checkpoint, `${o.checkpoint}.stale`);
      o.log?.(`${o.label}: ${o.checkpoint} was made with other settings; starting over (the old checkpoint is now ${o.checkpoint}.stale)`);
    }
  }
  if (fs.existsSync(o.checkpoint)) {
    const state = trainer.restore(o.checkpoint);
    pos = state.dataPosition as Position;
    resumedFromStep = state.step;
    const meta = state.meta ?? {};
    curve.push(...((meta.curve as Curve[] | undefined) ?? []));
    dev.push(...((meta.dev as EpochMetrics[] | undefined) ?? []));
    priorSeconds = typeof meta.trainSeconds === 'number' ? meta.trainSeconds : undefined;
    o.log?.(`${o.label}: resuming from step ${state.step} (epoch ${pos.epoch + 1}, batch ${pos.batch})`);
  }
  o.onStart?.(resumedFromStep);
  const every = o.checkpointEvery ?? 200;
  const bar = progress(o.label, o.totalSteps);
  bar.tick(trainer.step);
  const t0 = Date.now();
  // An old checkpoint's earlier steps are priced at this segment's rate.
  const seconds = () => {
    const own = (Date.now() - t0) / 1000;
    if (priorSeconds !== undefined) return priorSeconds + own;
    const ran = trainer.step - resumedFromStep;
    return ran > 0 ? own * (trainer.step / ran) : own;
  };
  let lastProgress = 0;
  const writeProgress = (epoch: number, loss: number | undefined, force: boolean) => {
    if (!o.progressFile || (!force && Date.now() - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = Date.now();
    const p: ProgressFile = { step: trainer.step, totalSteps: o.totalSteps, epoch: Math.min(epoch + 1, o.epochs), epochs: o.epochs, ...(loss !== undefined ? { loss } : {}), updatedAt: new Date().toISOString() };
    writeAtomic(o.progressFile, `${JSON.stringify(p)}
`);
  };
  writeProgress(pos.epoch, curve.at(-1)?.loss, true);
  // A stop requested before this loop began (another stage was running) ends it before it trains anything new.
  throwIfStopRequested(o.label);
  for (let epoch = pos.epoch; epoch < o.epochs; epoch++) {
    const batches = o.batches(epoch);
    await o.beginEpoch?.(epoch);
    for (let i = epoch === pos.epoch ? pos.batch : 0; i < batches.length; i++) {
      const b = batches[i];
      const r = await trainer.trainStep(o.key(b, epoch), await o.feeds(b, epoch));
      if (r.step % 10 === 0 || r.step === 1) curve.push(curvePoint(r.step, r.loss, r.fetched));
      bar.tick(1, `loss ${r.loss.toFixed(4)}`);
      o.onStep?.({ step: r.step, epoch, loss: r.loss });
      const next: Position = i + 1 === batches.length ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: i + 1 };
      const stop = stopRequested();
      const stopping = stop !== undefined || (o.stopAfterSteps !== undefined && r.step >= o.stopAfterSteps);
      if (next.batch === 0 && o.evaluateEpoch) dev.push({ epoch: epoch + 1, step: r.step, metrics: await o.evaluateEpoch(epoch) });
      if (next.batch === 0 || r.step % every === 0 || stopping) trainer.saveCheckpoint(o.checkpoint, next, { curve, dev, trainSeconds: seconds(), ...(o.settings !== undefined ? { settings: o.settings } : {}) });
      writeProgress(epoch, r.loss, next.batch === 0);
      if (stop !== undefined) {
        bar.stopped(`stopped by ${stop} at step ${r.step}`);
        throw new Interrupted(`${o.label}: stopped by ${stop} after step ${r.step}; checkpoint saved to ${o.checkpoint}; run the same command again to resume`, stop);
      }
      if (stopping) throw new Error(`stopped after ${r.step} steps (stopAfterSteps)`);
    }
    await o.endEpoch?.(epoch);
  }
  return { curve, dev, resumedFromStep, trainSeconds: seconds(), bar };
}
