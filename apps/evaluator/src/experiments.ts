// The evaluator's experiments: registered manifests (kept under <artifacts>/evaluator/experiments/ so a restart
// keeps them), each cell's score once its student has finished, and the closing aggregation (results.json, report,
// plots, angles) once every cell has a score. Results land in the experiment's directory exactly as in embedded mode.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bertParameters,
  cellHash,
  checkpointTrainSeconds,
  cellResult,
  encodeClassification,
  experimentGrid,
  finishExperiment,
  finishGenerationExperiment,
  generationResultCell,
  generationServiceRun,
  isLegacyCell,
  loadGenerationModel,
  savedGenerationTeacherMetrics,
  scoreGenerationModel,
  serviceCellHash,
  loadTeacher,
  savedTeacherMetrics,
  scoreClassifier,
  sha256File,
  writeAtomic,
  type CellResultFile,
  type Curve,
  type EpochMetrics,
  type ExperimentManifest,
  type ExperimentResults,
  type GenerationServiceRun,
  type GridCell,
  type LoadedTeacher,
} from '@strata/experiment';
import { getTask } from '@strata/data';
import { confinePath } from '@strata/service';
import type { Logger } from 'pino';

export type Phase = 'running' | 'complete' | 'failed';

/** students/<cellId>/training.json as the student-trainer writes it (dev, wallSeconds, parameters: since results schemaVersion 2). */
interface TrainingRecord {
  cellId: string;
  hash: string;
  cacheKey: string;
  curve: Curve[];
  /** Classification: one map per epoch; generation: one map per stack per epoch. */
  layerMaps: [number, number][][] | Partial<Record<'encoder' | 'decoder', [number, number][]>>[];
  dev?: EpochMetrics[];
  wallSeconds?: number;
  parameters?: number;
  onnx: string;
  /** Generation students: the cache's top-k size, training examples, steps and training seconds. */
  generation?: { topK: number; trainExamples: number; steps: number; trainSeconds: number };
}

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
  teacher?: LoadedTeacher;
  teacherHash?: string;
  /** Generation tasks (seq2seq, multiple choice): the run as the services see it, instead of `teacher`. */
  generation?: GenerationServiceRun;
  /** Generation: training examples and the cache's top-k, from the students' training records. */
  cacheInfo?: { trainExamples: number; topK: number };
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
    if (existing && JSON.stringify(existing.manifest) === JSON.stringify(manifest) && existing.dir === dir) {
      // Registered before its teacher existed (Kubernetes registers while the teacher Job runs): try again now.
      if (!existing.teacher && !existing.generation) await this.serial(() => this.attachTeacher(existing));
      return this.summary(name)!;
    }
    const expDir = confinePath(this.artifacts, dir, 'dir');
    const state: ExperimentState = { manifest, dir, expDir, cells: [], results: new Map(), failures: new Map(), progress: new Map(), phase: 'running' };
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
    if (state.teacher || state.generation) return true;
    const teacherOnnx = experimentFile(state, 'teacher', 'teacher.onnx');
    if (!fs.existsSync(teacherOnnx)) return false;
    if (getTask(state.manifest.spec.task).kind !== 'classification') {
      try {
        state.generation = generationServiceRun(state.manifest, state.expDir, { dataRoot: this.dataRoot, teacherOnnx, tokenizer: experimentFile(state, 'teacher', 'tokenizer.json') });
      } catch (err) {
        throw Object.assign(new Error(`${path.relative(this.artifacts, teacherOnnx)} is not a usable generation teacher: ${(err as Error).message}`), { status: 400 });
      }
      state.teacherHash = state.generation.teacherHash;
      state.cells = state.generation.cells;
      await this.scoreFinished(state);
      return true;
    }
    try {
      state.teacher = loadTeacher(teacherOnnx, undefined, { hiddenStates: state.manifest.spec.teacher.hiddenStates });
    } catch (err) {
      throw Object.assign(new Error(`${path.relative(this.artifacts, teacherOnnx)} is not a usable ONNX teacher: ${(err as Error).message}`), { status: 400 });
    }
    state.teacherHash = sha256File(teacherOnnx);
    state.cells = experimentGrid(state.manifest, state.teacher.config.layers).cells;
    await this.scoreFinished(state);
    return true;
  }

  /** Takes the cells already scored with the current hash, scores those trained since, and aggregates when all are. */
  private async scoreFinished(state: ExperimentState): Promise<void> {
    for (const cell of state.cells) {
      const done = this.readJson<CellResultFile>(experimentFile(state, 'students', cell.id, 'result.json'));
      const record = this.readJson<TrainingRecord>(experimentFile(state, 'students', cell.id, 'training.json'));
      // A result.json from before schemaVersion 2 is scored again: its training record has the rest.
      if (record?.generation) state.cacheInfo ??= { trainExamples: record.generation.trainExamples, topK: record.generation.topK };
      if (done && record && !isLegacyCell(done) && done.hash === record.hash && this.currentHash(state, cell, record.cacheKey, record) === done.hash) state.results.set(cell.id, done);
      else if (record) await this.scoreCell(state, cell, record);
    }
    await this.maybeFinish(state);
  }

  private readJson<T>(file: string): T | undefined {
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
  }

  private currentHash(state: ExperimentState, cell: GridCell, cacheKey: string, record?: TrainingRecord): string {
    if (state.generation) {
      const topK = record?.generation?.topK ?? state.cacheInfo?.topK;
      // A generation record without its top-k cannot be checked: it is from before generation ran over Kafka.
      return topK === undefined ? '' : serviceCellHash(state.generation, cell, { cacheKey, topK });
    }
    return cellHash(cell, { teacherHash: state.teacherHash!, cacheKey });
  }

  private async scoreCell(state: ExperimentState, cell: GridCell, record: TrainingRecord): Promise<void> {
    const expected = this.currentHash(state, cell, record.cacheKey, record);
    if (record.hash !== expected) {
      this.log.warn({ experiment: state.manifest.metadata.name, cell: cell.id, record: record.hash, expected }, 'training record is from another configuration of this cell; waiting for a fresh one');
      return;
    }
    if (state.generation) return this.scoreGenerationCell(state, state.generation, cell, record);
    const t0 = Date.now();
    const { spec } = state.manifest;
    const onnx = experimentFile(state, record.onnx);
    const student = loadTeacher(onnx, state.teacher!.tokenizerPath);
    const dev = await encodeClassification(spec.task, spec.eval.split, state.teacher!.tokenizer, student.config.maxLength ?? student.config.maxPositions, { dataRoot: this.dataRoot, maxExamples: spec.data.maxEvalExamples });
    const metrics = await scoreClassifier(student.config, student.values, dev.rows, cell.training.batchSize);
    // An older student-trainer's record lacks the training time: the checkpoint beside it keeps it.
    const ckpt = experimentFile(state, 'students', cell.id, 'student.ckpt');
    const saved = record.wallSeconds ?? checkpointTrainSeconds(ckpt);
    const result = cellResult(cell, {
      metrics, curve: record.curve, layerMaps: record.layerMaps as [number, number][][], dev: record.dev,
      wallSeconds: (saved ?? 0) + (Date.now() - t0) / 1000,
      parameters: record.parameters ?? bertParameters(student.config), onnxBytes: fs.statSync(onnx).size,
    }, record.hash);
    writeAtomic(experimentFile(state, 'students', cell.id, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    state.results.set(cell.id, result);
    state.failures.delete(cell.id);
    this.onScored(cell.id, (Date.now() - t0) / 1000);
    this.log.info({ experiment: state.manifest.metadata.name, cell: cell.id, metrics: result.metrics }, 'scored');
  }

  /**
   * A generation student: scored as embedded mode scores it (evaluateGeneration on the eval split: BLEU, chrF, exact
   * match, multiple-choice accuracy, gold NLL, with the run's beam and lengths), its predictions kept beside it.
   */
  private async scoreGenerationCell(state: ExperimentState, run: GenerationServiceRun, cell: GridCell, record: TrainingRecord): Promise<void> {
    const g = record.generation;
    if (!g) throw new Error(`training record of ${cell.id} has no generation section (topK, trainExamples, steps, trainSeconds)`);
    state.cacheInfo ??= { trainExamples: g.trainExamples, topK: g.topK };
    const t0 = Date.now();
    const onnx = experimentFile(state, record.onnx);
    const student = loadGenerationModel(onnx, run.teacher.tokenizerPath);
    const evaluated = await scoreGenerationModel(state.manifest.spec.task, run.settings, { ...student, tokenizer: run.teacher.tokenizer }, cell.training.batchSize);
    const evalSeconds = (Date.now() - t0) / 1000;
    writeAtomic(experimentFile(state, 'students', cell.id, 'predictions.jsonl'), evaluated.samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const result = generationResultCell(cell, {
      metrics: evaluated.metrics, layerMaps: record.layerMaps as Partial<Record<'encoder' | 'decoder', [number, number][]>>[], curve: record.curve,
      wallSeconds: (record.wallSeconds ?? g.trainSeconds) + evalSeconds, parameters: record.parameters ?? 0, seconds: { train: g.trainSeconds, eval: evalSeconds }, steps: g.steps,
    }, record.hash, fs.statSync(onnx).size);
    writeAtomic(experimentFile(state, 'students', cell.id, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    state.results.set(cell.id, result);
    state.failures.delete(cell.id);
    this.onScored(cell.id, evalSeconds);
    this.log.info({ experiment: state.manifest.metadata.name, cell: cell.id, metrics: result.metrics }, 'scored');
  }

  private async maybeFinish(state: ExperimentState): Promise<void> {
    if (state.phase === 'complete' || !state.cells.length || state.results.size < state.cells.length) return;
    if (state.generation) {
      const run = state.generation;
      try {
        state.final = await finishGenerationExperiment({
          run: {
            manifest: state.manifest, outDir: state.expDir, settings: run.settings, teacher: run.teacher, teacherMetrics: savedGenerationTeacherMetrics(experimentFile(state, 'teacher')),
            teacherHash: run.teacherHash, teacherLayers: run.teacherLayers, cells: state.cells, cacheLayers: run.cacheLayers, timings: { students: {} }, log: (l) => this.log.info(l),
          },
          resultCells: state.cells.map((c) => state.results.get(c.id)),
          trainExamples: state.cacheInfo?.trainExamples ?? 0,
          topK: state.cacheInfo?.topK ?? run.settings.topK,
        });
        state.phase = 'complete';
      } catch (e) {
        state.phase = 'failed';
        state.error = `aggregating results failed: ${(e as Error).message}`;
        this.log.error({ err: e }, state.error);
      }
      return;
    }
    try {
      state.final = await finishExperiment({
        outDir: state.expDir,
        manifest: state.manifest,
        teacher: state.teacher!,
        teacherMetrics: savedTeacherMetrics(experimentFile(state, 'teacher')),
        teacherHash: state.teacherHash!,
        cells: state.cells,
        resultCells: state.cells.map((c) => state.results.get(c.id)!),
        dataRoot: this.dataRoot,
        log: (l) => this.log.info(l),
      });
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
      if (!done || done.hash !== record.hash) await this.scoreCell(state, cell, record);
      await this.maybeFinish(state);
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
