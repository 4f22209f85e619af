// The evaluator's experiments: registered manifests (kept under <artifacts>/evaluator/experiments/ so a restart
// keeps them), each cell's score once its student has finished, and the closing aggregation (results.json, report,
// plots, angles) once every cell has a score. Results land in the experiment's directory exactly as in embedded mode.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { familyOf, finishRun, isLegacyCell, writeAtomic, writeJsonAtomic, type CellResultFile, type ExperimentManifest, type ExperimentResults, type FamilyAdapter, type FamilyRun, type GridCell, type TrainingRecord } from '@strata/experiment';
import { confinePath } from '@strata/service';
import type { Logger } from 'pino';

export type Phase = 'running' | 'complete' | 'failed';

export interface CellProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  at: string;
}

/**
 * A file of an experiment by its real path, confined to the experiment's folder: a symlink inside the folder (or a
 * training record naming `../..`) must not reach files outside it. Throws `PathOutsideRootError`.
 */
export function experimentFile(state: { expDir: string }, ...parts: string[]): string {
  return confinePath(state.expDir, path.join(...parts), 'file');
}

interface ExperimentState {
  manifest: ExperimentManifest;
  dir: string;
  expDir: string;
  cells: GridCell[];
  family: FamilyAdapter;
  /** The run as the services see it, once its teacher exists. */
  run?: FamilyRun;
  results: Map<string, CellResultFile>;
  failures: Map<string, string>;
  progress: Map<string, CellProgress>;
  phase: Phase;
  final?: ExperimentResults;
  error?: string;
}

export interface ExperimentSummary {
  /** metadata.name of the manifest. */
  name: string;
  /**
   * The run's key: its folder under the artifact root (metadata.name unless registered with another `dir`). Two runs
   * of one manifest in different folders are two registrations; the API's `/v1/experiments/<run>` takes this key.
   */
  run: string;
  phase: Phase;
  cellsDone: number;
  cellsFailed: number;
  cellsTotal: number;
  resultsLocation?: string;
}

/** A run's key from its folder: normalized and relative, so 'a/b/', './a/b' and 'a//b' are one run. */
export function runKey(dir: string): string {
  return path.posix.normalize(dir.split(path.sep).join('/')).replace(/^(\.\/)+|\/+$/g, '');
}

export class Experiments {
  /** By run key (the experiment's folder relative to the artifact root), not by name: see ExperimentSummary.run. */
  private byName = new Map<string, ExperimentState>();
  private readonly registryDir: string;
  /** Serializes scoring and finishing: one ONNX Runtime evaluation at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly artifacts: string,
    private readonly dataRoot: string | undefined,
    private readonly log: Logger,
    private readonly onScored: (cellId: string, seconds: number) => void = () => undefined,
  ) {
    this.registryDir = path.join(artifacts, 'evaluator', 'experiments');
    fs.mkdirSync(this.registryDir, { recursive: true });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Re-registers what a previous run of the service had registered. */
  async loadSaved(): Promise<number> {
    let n = 0;
    for (const f of fs.readdirSync(this.registryDir).filter((x) => x.endsWith('.json')).sort()) {
      const saved = JSON.parse(fs.readFileSync(path.join(this.registryDir, f), 'utf8')) as { manifest: ExperimentManifest; dir: string };
      try {
        await this.register(saved.manifest, saved.dir);
        n++;
      } catch (e) {
        this.log.error({ err: e, file: f }, 'could not restore a registered experiment');
      }
    }
    return n;
  }

  /**
   * Registers an experiment (idempotent by name). Cells whose students already finished (a training record with
   * the current hash) are scored now, so events missed while the experiment was unknown are not needed.
   */
  async register(manifest: ExperimentManifest, dir = manifest.metadata.name): Promise<ExperimentSummary> {
    const name = runKey(dir);
    const existing = this.byName.get(name);
    // A run whose results.json was deleted since it completed (its folder removed, the Experiment applied again) is
    // registered afresh: answering "complete" from memory would point at files that are no longer there.
    const vanished = existing?.phase === 'complete' && !fs.existsSync(path.join(existing.expDir, 'results.json'));
    if (vanished) this.log.info({ experiment: name }, 'results.json of a completed run is gone; registering it afresh');
    if (existing && !vanished && JSON.stringify(existing.manifest) === JSON.stringify(manifest) && existing.dir === dir) {
      // Registered before its teacher existed (Kubernetes registers while the teacher Job runs): try again now.
      if (!existing.run) await this.serial(() => this.attachTeacher(existing));
      return this.summary(name)!;
    }
    const expDir = confinePath(this.artifacts, dir, 'dir');
    const state: ExperimentState = { manifest, dir, expDir, cells: [], family: familyOf(manifest.spec.task), results: new Map(), failures: new Map(), progress: new Map(), phase: 'running' };
    this.byName.set(name, state);
    const teacherOnnx = experimentFile({ expDir }, 'teacher', 'teacher.onnx');
    try {
      if (fs.existsSync(teacherOnnx)) await this.serial(() => this.attachTeacher(state));
    } catch (err) {
      // Not kept: a registration that cannot be scored would sit as "running" with no cells.
      if (existing) this.byName.set(name, existing);
      else this.byName.delete(name);
      throw err;
    }
    writeAtomic(path.join(this.registryDir, `${encodeURIComponent(name)}.json`), `${JSON.stringify({ manifest, dir, registeredAt: new Date().toISOString() }, null, 2)}\n`);
    return this.summary(name)!;
  }

  /** Grid and teacher, once the teacher exists (the controller may register before its teacher Job finished). */
  private async attachTeacher(state: ExperimentState): Promise<boolean> {
    if (state.run) return true;
    const teacherOnnx = experimentFile(state, 'teacher', 'teacher.onnx');
    if (!fs.existsSync(teacherOnnx)) return false;
    try {
      const tokenizer = state.family.kind === 'generation' ? experimentFile(state, 'teacher', 'tokenizer.json') : undefined;
      state.run = { ...state.family.serviceRun(state.manifest, state.expDir, { dataRoot: this.dataRoot, teacherOnnx, tokenizer }), log: (l: string) => this.log.info(l) };
    } catch (err) {
      const what = state.family.kind === 'generation' ? 'generation teacher' : 'ONNX teacher';
      throw Object.assign(new Error(`${path.relative(this.artifacts, teacherOnnx)} is not a usable ${what}: ${(err as Error).message}`), { status: 400 });
    }
    state.cells = state.run.cells;
    await this.scoreFinished(state, state.run);
    return true;
  }

  /** Takes the cells already scored with the current hash, scores those trained since, and aggregates when all are. */
  private async scoreFinished(state: ExperimentState, run: FamilyRun): Promise<void> {
    for (const cell of state.cells) {
      const done = this.readJson<CellResultFile>(experimentFile(state, 'students', cell.id, 'result.json'));
      const record = this.readJson<TrainingRecord>(experimentFile(state, 'students', cell.id, 'training.json'));
      // A result.json from before schemaVersion 2 is scored again: its training record has the rest.
      const hash = record && state.family.cellHash(run, cell, state.family.recordCache(run, record));
      if (done && record && !isLegacyCell(done) && done.hash === record.hash && hash === done.hash) state.results.set(cell.id, done);
      else if (record) await this.scoreCell(state, run, cell, record);
    }
    await this.maybeFinish(state, run);
  }

  private readJson<T>(file: string): T | undefined {
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
  }

  /** Scored as embedded mode scores its students (the family's metrics), with any files the family keeps beside it. */
  private async scoreCell(state: ExperimentState, run: FamilyRun, cell: GridCell, record: TrainingRecord): Promise<void> {
    const expected = state.family.cellHash(run, cell, state.family.recordCache(run, record));
    if (record.hash !== expected) {
      this.log.warn({ experiment: state.manifest.metadata.name, cell: cell.id, record: record.hash, expected }, 'training record is from another configuration of this cell; waiting for a fresh one');
      return;
    }
    const { result, seconds, extraFiles } = await state.family.scoreCell(run, cell, record, { onnx: experimentFile(state, record.onnx), checkpoint: experimentFile(state, 'students', cell.id, 'student.ckpt') });
    for (const [name, text] of Object.entries(extraFiles ?? {})) writeAtomic(experimentFile(state, 'students', cell.id, name), text);
    writeJsonAtomic(experimentFile(state, 'students', cell.id, 'result.json'), result);
    state.results.set(cell.id, result);
    state.failures.delete(cell.id);
    this.onScored(cell.id, seconds);
    this.log.info({ experiment: state.manifest.metadata.name, cell: cell.id, metrics: result.metrics }, 'scored');
  }

  private async maybeFinish(state: ExperimentState, run: FamilyRun): Promise<void> {
    if (state.phase === 'complete' || !state.cells.length || state.results.size < state.cells.length) return;
    try {
      // teacher.json as it is now: a teacher trained beside the services may have finished after registration.
      state.final = await finishRun(state.family, { ...run, teacherMetrics: state.family.savedTeacherMetrics(run) }, state.cells.map((c) => state.results.get(c.id)));
      state.phase = 'complete';
    } catch (e) {
      state.phase = 'failed';
      state.error = `aggregating results failed: ${(e as Error).message}`;
      this.log.error({ err: e }, state.error);
    }
  }

  /** A student finished: score it, and aggregate once it was the last. */
  async finished(experiment: string, cellId: string, recordPath: string): Promise<void> {
    const state = this.byName.get(experiment);
    if (!state) return;
    await this.serial(async () => {
      if (!(await this.attachTeacher(state))) return;
      const cell = state.cells.find((c) => c.id === cellId);
      if (!cell) {
        this.log.warn({ experiment, cellId }, 'finished event for a cell the grid does not have');
        return;
      }
      const record = this.readJson<TrainingRecord>(confinePath(this.artifacts, recordPath, 'result'));
      if (!record) throw new Error(`training record ${recordPath} not found`);
      const done = state.results.get(cellId);
      if (!done || done.hash !== record.hash) await this.scoreCell(state, state.run!, cell, record);
      await this.maybeFinish(state, state.run!);
    });
  }

  failed(experiment: string, cellId: string, error: string): void {
    this.byName.get(experiment)?.failures.set(cellId, error);
  }

  progress(experiment: string, cellId: string, p: CellProgress): void {
    this.byName.get(experiment)?.progress.set(cellId, p);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  summary(name: string): ExperimentSummary | undefined {
    const s = this.byName.get(name);
    if (!s) return undefined;
    return {
      name: s.manifest.metadata.name,
      run: name,
      phase: s.phase,
      cellsDone: s.results.size,
      cellsFailed: s.failures.size,
      cellsTotal: s.cells.length,
      resultsLocation: s.phase === 'complete' ? path.relative(this.artifacts, path.join(s.expDir, 'results.json')) : undefined,
    };
  }

  /** results.json when complete; otherwise what is known so far. */
  results(name: string): Record<string, unknown> | undefined {
    const s = this.byName.get(name);
    if (!s) return undefined;
    if (s.final) return { ...s.final, complete: true };
    return {
      experiment: name,
      task: s.manifest.spec.task,
      complete: false,
      phase: s.phase,
      cellsTotal: s.cells.length,
      cells: s.cells.filter((c) => s.results.has(c.id)).map((c) => s.results.get(c.id)),
      failures: Object.fromEntries(s.failures),
      progress: Object.fromEntries(s.progress),
      ...(s.error ? { error: s.error } : {}),
    };
  }

  state(name: string): Readonly<ExperimentState> | undefined {
    return this.byName.get(name);
  }

  /** Waits for pending scoring and aggregation. */
  async idle(): Promise<void> {
    await this.chain;
  }
}
