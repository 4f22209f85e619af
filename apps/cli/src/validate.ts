// `strata experiment validate` and `experiment run --dry-run`: everything that can be checked before training —
// the manifest (schema and cross-field rules), the files it names, the task's data under the data root, the grid —
// and a rough wall-time estimate from the step counts and this machine's measured MatMul speed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATA_ROOT_ENV, getTask, listSplits, loadSplit, resolveSplitName, taskDataDir } from '@strata/data';
import { ManifestError, checkFiles, planGrid, readManifestFile, strategyOptions, type ExperimentManifest } from '@strata/experiment';
import { bertForwardFlops, type BertConfig } from '@strata/nn';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';

export interface SplitCheck {
  role: 'train' | 'eval' | 'analysis';
  split: string;
  available: boolean;
  /** Files read (or looked for). */
  files: string[];
  /** Examples used (after data.maxTrainExamples / maxEvalExamples), when the split could be read. */
  examples?: number;
  problem?: string;
}

export interface Estimate {
  seconds: number;
  stages: { teacher: number; cache: number; students: number; evaluation: number };
  steps: { teacher: number; students: number };
  /** How it was computed, in words. */
  method: string;
}

export interface ValidationReport {
  manifest: string;
  valid: boolean;
  /** What makes it invalid: each names the field (file:line:col) or the file. */
  problems: string[];
  name?: string;
  task?: string;
  kind?: string;
  data?: { source: 'embedded' | 'shared'; root?: string; rootFrom?: string; taskDir?: string; splits: SplitCheck[] };
  grid?: { cells: number; depths: number[]; inits: string[]; strategies: string[]; divergences: string[]; seeds: number[]; ids: string[] };
  estimate?: Estimate;
}

/** Where the data root came from, as the user would set it. */
function rootSource(manifest: ExperimentManifest): string {
  if (manifest.spec.data.root) return 'spec.data.root';
  if (process.env[DATA_ROOT_ENV]) return `$${DATA_ROOT_ENV}`;
  return 'the default <repo>/../shared/data';
}

function checkSplits(manifest: ExperimentManifest, dataRoot: string | undefined, load: boolean): SplitCheck[] {
  const { spec } = manifest;
  const carve = spec.data.carve;
  const wanted: Array<[SplitCheck['role'], string, number | undefined]> = [
    ['train', carve ? carve.from : spec.data.trainSplit, spec.data.maxTrainExamples],
    ['eval', carve ? carve.from : spec.eval.split, spec.data.maxEvalExamples],
  ];
  if (spec.analysis.angles && spec.analysis.split && spec.analysis.split !== spec.eval.split) wanted.push(['analysis', spec.analysis.split, undefined]);
  const known = listSplits(spec.task, { dataRoot });
  const seen = new Map<string, number>();
  return wanted.map(([role, split, limit]) => {
    let name: string;
    try {
      name = resolveSplitName(spec.task, split);
    } catch (e) {
      return { role, split, available: false, files: [], problem: (e as Error).message };
    }
    const info = known.find((s) => s.name === name);
    const check: SplitCheck = { role, split: name, available: !!info?.available, files: info?.files ?? [] };
    if (!check.available) {
      check.problem = `split '${name}' (${role}) not found: ${check.files.length ? `looked for ${check.files.join(' + ')}` : 'no files known'}`;
      return check;
    }
    if (!load) return check;
    // Reading the split also finds malformed rows and empty files before hours of training do.
    try {
      const count = seen.get(name) ?? loadSplit(spec.task, name, { dataRoot }).examples.length;
      seen.set(name, count);
      const share = carve ? (role === 'eval' ? carve.evalFraction : 1 - carve.evalFraction) : 1;
      check.examples = Math.min(Math.round(count * share), limit ?? Infinity);
    } catch (e) {
      check.available = false;
      check.problem = `split '${name}' (${role}): ${(e as Error).message}`;
    }
    return check;
  });
}

/** A Hugging Face config.json's BERT-style shape (pretrained teachers, or config.json beside an ONNX teacher). */
function configShape(file: string): Pick<BertConfig, 'layers' | 'hidden' | 'intermediate'> | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
    const layers = c.num_hidden_layers ?? c.encoder_layers ?? c.n_layer;
    const hidden = c.hidden_size ?? c.d_model;
    const intermediate = c.intermediate_size ?? c.encoder_ffn_dim ?? 4 * hidden;
    return layers && hidden ? { layers, hidden, intermediate } : undefined;
  } catch {
    return undefined;
  }
}

/** The teacher's shape and sequence length, from the manifest or the config.json it points at. */
function teacherShape(manifest: ExperimentManifest, baseDir: string): { shape: Pick<BertConfig, 'layers' | 'hidden' | 'intermediate'>; seqLen: number } | undefined {
  const t = manifest.spec.teacher;
  if (t.train) return { shape: t.train, seqLen: t.train.maxLength + (t.train.maxTargetLength ?? 0) };
  const file = t.pretrained ? path.join(path.resolve(baseDir, t.pretrained), 'config.json') : t.onnx ? path.join(path.dirname(path.resolve(baseDir, t.onnx)), 'config.json') : undefined;
  const shape = file ? configShape(file) : undefined;
  return shape ? { shape, seqLen: t.finetune?.maxLength ?? 128 } : undefined;
}

/** ONNX Runtime's float32 MatMul speed here (GFLOP/s), in a fraction of a second: what the estimate scales by. */
async function matmulGflops(size = 512): Promise<number> {
  const g = new GraphBuilder('estimate-probe');
  g.input('a', DataType.FLOAT, [size, size]);
  g.input('b', DataType.FLOAT, [size, size]);
  g.output(g.op('MatMul', ['a', 'b']), 'c');
  const session = await createSession(g.build());
  const x = new ort.Tensor('float32', Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [size, size]);
  let best = Infinity;
  for (let i = 0; i < 8; i++) {
    const t0 = process.hrtime.bigint();
    await session.run({ a: x, b: x });
    if (i >= 2) best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();
  return (2 * size ** 3) / (best * 1e6);
}

/** Fixed cost of a training step besides its FLOPs (session call, feeds, AdamW in JS): tiny models are bound by it. */
const STEP_OVERHEAD_S = 0.02;
/** Share of the MatMul peak a training step achieves (docs/BENCHMARKS.md: 0.3-0.6 for the KD step). */
const ACHIEVED_SHARE = 0.4;

/** Rough wall time: steps x (overhead + FLOPs / achieved speed); forward-only work (cache, evaluation) at a third. */
export function estimateSeconds(manifest: ExperimentManifest, shape: Pick<BertConfig, 'layers' | 'hidden' | 'intermediate'>, seqLen: number, trainExamples: number, evalExamples: number, gflops: number): Estimate {
  const { spec } = manifest;
  const stacks = getTask(spec.task).kind === 'seq2seq' ? 2 : 1;
  const forward = (layers: number, width: Pick<BertConfig, 'hidden' | 'intermediate'> = shape) => stacks * bertForwardFlops({ vocabSize: 0, maxPositions: seqLen, heads: 1, numLabels: 2, typeVocabSize: 2, ...shape, ...width, layers } as BertConfig, seqLen);
  const speed = gflops * 1e9 * ACHIEVED_SHARE;
  const stepSeconds = (layers: number, batch: number, width?: Pick<BertConfig, 'hidden' | 'intermediate'>) => STEP_OVERHEAD_S + (3 * forward(layers, width) * batch) / speed;
  const t = spec.teacher;
  const teacherEpochs = t.train?.epochs ?? (t.pretrained ? t.finetune?.epochs ?? 3 : 0);
  const teacherBatch = t.train?.batchSize ?? t.finetune?.batchSize ?? 32;
  const teacherSteps = Math.ceil(Math.min(trainExamples, t.finetune?.maxTrainExamples ?? Infinity) / teacherBatch) * teacherEpochs;
  const cells = planGrid(manifest, { teacherLayers: shape.layers });
  const s = spec.students;
  // A narrower student: its FFN scales with the width unless given (stages/student-width.ts).
  const hidden = s.hidden ?? shape.hidden;
  const studentWidth = { hidden, intermediate: s.intermediate ?? Math.max(1, Math.round((shape.intermediate * hidden) / shape.hidden)) };
  const studentSteps = cells.reduce((n, c) => n + Math.ceil(trainExamples / s.batchSize) * s.epochs, 0);
  const studentSeconds = cells.reduce((sec, c) => sec + Math.ceil(trainExamples / s.batchSize) * s.epochs * stepSeconds(c.depth, s.batchSize, studentWidth), 0);
  const stages = {
    teacher: teacherSteps * stepSeconds(shape.layers, teacherBatch),
    cache: (trainExamples * forward(shape.layers)) / speed + Math.ceil(trainExamples / 32) * STEP_OVERHEAD_S,
    students: studentSeconds,
    evaluation: ((evalExamples * forward(shape.layers)) + cells.reduce((n, c) => n + evalExamples * forward(c.depth, studentWidth), 0)) / speed,
  };
  const seconds = stages.teacher + stages.cache + stages.students + stages.evaluation;
  return {
    seconds,
    stages,
    steps: { teacher: teacherSteps, students: studentSteps },
    method: `${teacherSteps} teacher and ${studentSteps} student steps of ${seqLen}-token examples at ${(ACHIEVED_SHARE * gflops).toFixed(0)} GFLOP/s (${ACHIEVED_SHARE} x the MatMul speed measured now, ${gflops.toFixed(0)} GFLOP/s on ${os.cpus().length} cores) plus ${STEP_OVERHEAD_S * 1000} ms a step; one student at a time, angles and generation decoding not counted; the machine's load can double it`,
  };
}

/** Validates `manifestPath` without training. `load` reads the splits (counts examples, finds malformed rows). */
export async function validateExperiment(manifestPath: string, o: { load?: boolean; estimate?: boolean } = {}): Promise<ValidationReport> {
  const report: ValidationReport = { manifest: manifestPath, valid: false, problems: [] };
  let manifest: ExperimentManifest;
  try {
    manifest = readManifestFile(manifestPath);
  } catch (e) {
    report.problems.push(...(e instanceof ManifestError ? e.lines() : [(e as Error).message]));
    return report;
  }
  const { spec } = manifest;
  const baseDir = path.dirname(path.resolve(manifestPath));
  Object.assign(report, { name: manifest.metadata.name, task: spec.task, kind: getTask(spec.task).kind });
  try {
    checkFiles(manifest, baseDir);
  } catch (e) {
    report.problems.push(...(e instanceof ManifestError ? e.lines() : [(e as Error).message]));
  }
  const dataRoot = spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined;
  const task = getTask(spec.task);
  const splits = checkSplits(manifest, dataRoot, o.load ?? true);
  report.data = task.source === 'embedded' ? { source: 'embedded', splits } : { source: 'shared', root: path.dirname(taskDataDir(spec.task, dataRoot)), rootFrom: rootSource(manifest), taskDir: taskDataDir(spec.task, dataRoot), splits };
  for (const s of splits) if (s.problem) report.problems.push(task.source === 'shared' && !fs.existsSync(report.data.taskDir!) ? `data for task '${spec.task}' not found: ${report.data.taskDir} does not exist (data root from ${report.data.rootFrom}; set ${DATA_ROOT_ENV} or spec.data.root)` : s.problem);
  report.problems = [...new Set(report.problems)];

  const shape = teacherShape(manifest, baseDir);
  const cells = planGrid(manifest, shape ? { teacherLayers: shape.shape.layers } : {});
  const s = spec.students;
  report.grid = { cells: cells.length, depths: s.depths, inits: [...new Set(cells.map((c) => c.init))], strategies: [...new Set(s.strategies.map((e) => strategyOptions(e).label))], divergences: [...new Set(cells.map((c) => c.loss.kd))], seeds: s.seeds, ids: cells.map((c) => c.id) };
  const train = splits.find((x) => x.role === 'train')?.examples;
  const evalCount = splits.find((x) => x.role === 'eval')?.examples;
  if ((o.estimate ?? true) && shape && train !== undefined && evalCount !== undefined) report.estimate = estimateSeconds(manifest, shape.shape, shape.seqLen, train, evalCount, await matmulGflops());
  report.valid = report.problems.length === 0;
  return report;
}

const duration = (s: number) => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

/** The report as the terminal shows it. */
export function formatValidation(r: ValidationReport): string {
  const lines = [`${r.manifest}: ${r.valid ? 'valid' : `invalid (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`}`];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  if (r.name) lines.push(`experiment ${r.name}: task ${r.task} (${r.kind})`);
  if (r.data) {
    lines.push(r.data.source === 'embedded' ? 'data: embedded in an npm package (no data root needed)' : `data: ${r.data.taskDir} (data root from ${r.data.rootFrom})`);
    for (const s of r.data.splits) lines.push(`  ${s.role} split ${s.split}: ${s.available ? `found${s.examples !== undefined ? `, ${s.examples} examples used` : ''}` : 'MISSING'}${s.files.length ? ` (${s.files.join(', ')})` : ''}`);
  }
  if (r.grid) lines.push(`grid: ${r.grid.cells} cells = ${r.grid.depths.length} depth${r.grid.depths.length === 1 ? '' : 's'} x ${r.grid.inits.length} init${r.grid.inits.length === 1 ? '' : 's'} x ${r.grid.strategies.length} strateg${r.grid.strategies.length === 1 ? 'y' : 'ies'}${r.grid.divergences.length > 1 ? ` x ${r.grid.divergences.length} divergences` : ''} x ${r.grid.seeds.length} seed${r.grid.seeds.length === 1 ? '' : 's'} (${r.grid.ids.slice(0, 3).join(', ')}${r.grid.cells > 3 ? ', ...' : ''})`);
  if (r.estimate) {
    const e = r.estimate;
    lines.push(`estimated time: about ${duration(e.seconds)} (teacher ${duration(e.stages.teacher)}, cache ${duration(e.stages.cache)}, students ${duration(e.stages.students)}, evaluation ${duration(e.stages.evaluation)})`);
    lines.push(`  rough: ${e.method}`);
  } else if (r.valid) lines.push('estimated time: unknown (the teacher\'s shape is not in the manifest and no config.json is beside it)');
  return `${lines.join('\n')}\n`;
}
