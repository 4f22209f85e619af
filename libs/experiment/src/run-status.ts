// A run folder's state, read from its files alone (no broker, no training): what `strata status` prints and what
// `strata dashboard` serves. Every transport writes the same files, so one reader covers embedded and Kafka runs,
// finished or still running.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './files';
import type { GridCell } from './grid';
import type { ExperimentManifest } from './schema';

export const RUN_PLAN_FILE = 'run.json';

/** run.json: written when a run starts (the grid once the teacher's depth is known), so a reader knows every cell. */
export interface RunPlan {
  planVersion: 1;
  name: string;
  task: string;
  transport: 'embedded' | 'kafka';
  startedAt: string;
  manifest: ExperimentManifest;
  /** The grid; absent until the teacher's depth is known. */
  cells?: Array<Pick<GridCell, 'id' | 'label' | 'init' | 'depth' | 'seed'>>;
}

/** students/<cellId>/progress.json, rewritten while the cell trains. */
export interface CellProgressFile {
  step: number;
  totalSteps: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
  updatedAt?: string;
}

export type CellState = 'done' | 'training' | 'waiting';
export type RunPhase = 'empty' | 'teacher' | 'cache' | 'students' | 'analysis' | 'complete';

export interface CellStatus {
  id: string;
  strategy: string;
  init: string;
  depth: number;
  seed: number;
  state: CellState;
  progress?: CellProgressFile;
  metrics?: Record<string, number>;
}

export interface RunStatus {
  /** The folder name (the run key). */
  run: string;
  dir: string;
  name: string;
  task?: string;
  phase: RunPhase;
  teacher: { done: boolean; metrics?: Record<string, number> };
  cells: CellStatus[];
  cellsDone: number;
  cellsTotal: number;
  /** False when the grid is not known yet (no run.json cells and no results.json): cellsTotal counts what exists. */
  gridKnown: boolean;
  /** Newest modification time among the files read (ISO 8601). */
  updatedAt?: string;
}

/** Writes (or rewrites, keeping startedAt) <outDir>/run.json. */
export function writeRunPlan(outDir: string, plan: Omit<RunPlan, 'planVersion' | 'startedAt' | 'name' | 'task'>): void {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, RUN_PLAN_FILE);
  const before = readJson<RunPlan>(file);
  writeJsonAtomic(file, {
    planVersion: 1,
    name: plan.manifest.metadata.name,
    task: plan.manifest.spec.task,
    transport: plan.transport,
    startedAt: before?.startedAt ?? new Date().toISOString(),
    manifest: plan.manifest,
    ...(plan.cells ? { cells: plan.cells.map((c) => ({ id: c.id, label: c.label, init: c.init, depth: c.depth, seed: c.seed })) } : {}),
  } satisfies RunPlan);
}

/** A JSON file, or undefined when it is missing or half-written (a reader never fails on a run being written). */
function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Cell ids end `-<init>-d<depth>-s<seed>`; the rest is the strategy label. */
export function parseCellId(id: string): { strategy: string; init: string; depth: number; seed: number } | undefined {
  const m = /^(.+)-([a-z]+)-d(\d+)-s(\d+)$/.exec(id);
  return m ? { strategy: m[1], init: m[2], depth: Number(m[3]), seed: Number(m[4]) } : undefined;
}

interface ResultsLike {
  experiment?: string;
  task?: string;
  teacher?: { metrics?: Record<string, number> };
  cells?: Array<{ id: string; strategy: string; init: string; depth: number; seed: number; metrics?: Record<string, number> }>;
}

/** True when `dir` looks like a Strata run folder (what `strata dashboard` lists). */
export function isRunDir(dir: string): boolean {
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  return [RUN_PLAN_FILE, 'results.json', 'teacher.onnx'].some(has) || (has('students') && has('teacher'));
}

export function readRunStatus(outDir: string): RunStatus {
  const dir = path.resolve(outDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${outDir}: not a directory (expected a run folder such as runs/<metadata.name>)`);
  const planFile = path.join(dir, RUN_PLAN_FILE);
  const resultsFile = path.join(dir, 'results.json');
  const plan = readJson<RunPlan>(planFile);
  const results = readJson<ResultsLike>(resultsFile);
  const studentsDir = path.join(dir, 'students');
  const times = [mtime(planFile), mtime(resultsFile)];

  // The grid: the plan's, else the finished results', else whatever cell folders exist (older runs).
  let grid: Array<{ id: string; strategy: string; init: string; depth: number; seed: number }>;
  let gridKnown = true;
  if (plan?.cells) grid = plan.cells.map((c) => ({ id: c.id, strategy: c.label, init: c.init, depth: c.depth, seed: c.seed }));
  else if (results?.cells) grid = results.cells.map((c) => ({ id: c.id, strategy: c.strategy, init: c.init, depth: c.depth, seed: c.seed }));
  else {
    gridKnown = false;
    const ids = fs.existsSync(studentsDir) ? fs.readdirSync(studentsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
    grid = ids.flatMap((id) => {
      const p = parseCellId(id);
      return p ? [{ id, ...p }] : [];
    });
  }

  const finalCells = new Map((results?.cells ?? []).map((c) => [c.id, c]));
  const cells: CellStatus[] = grid.map((c) => {
    const cellDir = path.join(studentsDir, c.id);
    const resultFile = path.join(cellDir, 'result.json');
    const progressFile = path.join(cellDir, 'progress.json');
    times.push(mtime(resultFile), mtime(progressFile));
    const result = finalCells.get(c.id) ?? readJson<{ metrics?: Record<string, number> }>(resultFile);
    const progress = readJson<CellProgressFile>(progressFile);
    if (result?.metrics) return { ...c, state: 'done', metrics: result.metrics, ...(progress ? { progress } : {}) };
    return { ...c, state: progress ? 'training' : 'waiting', ...(progress ? { progress } : {}) };
  });
  const cellsDone = cells.filter((c) => c.state === 'done').length;

  const teacherDir = path.join(dir, 'teacher');
  const teacherDone = fs.existsSync(path.join(dir, 'teacher.onnx'));
  const teacherJson = readJson<{ metrics?: { accuracy: number; f1?: number } }>(path.join(teacherDir, 'teacher.json'));
  const teacherMetrics = results?.teacher?.metrics ?? (teacherJson?.metrics ? percent(teacherJson.metrics) : undefined);
  times.push(mtime(path.join(dir, 'teacher.onnx')));

  let phase: RunPhase;
  if (results && (!gridKnown || cellsDone === cells.length)) phase = 'complete';
  else if (cells.length && cellsDone === cells.length) phase = 'analysis';
  else if (cells.some((c) => c.state !== 'waiting')) phase = 'students';
  else if (teacherDone) phase = fs.existsSync(path.join(dir, 'cache')) && fs.readdirSync(path.join(dir, 'cache')).length ? 'students' : 'cache';
  else if (fs.existsSync(teacherDir) || plan) phase = 'teacher';
  else phase = 'empty';
  const newest = Math.max(...times);
  return {
    run: path.basename(dir),
    dir,
    name: plan?.name ?? results?.experiment ?? path.basename(dir),
    task: plan?.task ?? results?.task,
    phase,
    teacher: { done: teacherDone, ...(teacherMetrics ? { metrics: teacherMetrics } : {}) },
    cells,
    cellsDone,
    cellsTotal: cells.length,
    gridKnown: gridKnown || !!results,
    ...(newest > 0 ? { updatedAt: new Date(newest).toISOString() } : {}),
  };
}

const percent = (m: { accuracy: number; f1?: number }) => ({ accuracy: m.accuracy * 100, ...(m.f1 !== undefined ? { f1: m.f1 * 100 } : {}) });

/** Run folders at `root` itself or one level below (a runs/ folder of many experiments), sorted by name. */
export function findRunDirs(root: string): string[] {
  const dir = path.resolve(root);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${root}: not a directory (expected a run folder or a folder of runs, e.g. runs/)`);
  if (isRunDir(dir)) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && isRunDir(path.join(dir, e.name))).map((e) => path.join(dir, e.name)).sort();
}
