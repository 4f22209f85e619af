// Step 1 of a generation run: the teacher in <outDir>/teacher/ (trained there, resumable; fine-tuned there; or a
// given Strata export copied there with its tokenizer and scored, its metrics saved in teacher.json), so every later
// step and every service finds it at the same place; then the settings, the grid and the cache's layer set.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentContext } from '../context';
import { sha256File, writeJsonAtomic } from '../files';
import { GridCell, planGrid } from '../grid';
import type { ExperimentResults } from '../report';
import { ExperimentManifest } from '../schema';
import { generationArchitecture, loadGenerationData } from '../stages/generation-data';
import { evaluateGeneration } from '../stages/generation-eval';
import { LoadedGenerationModel, depthOf, loadGenerationModel } from '../stages/generation-model';
import { finetuneGenerationTeacher, trainGenerationTeacher, type GenerationTeacherResult } from '../stages/generation-teacher';
import { TEACHER_FINETUNE_DEFAULTS } from '../stages/teacher';
import { validateAgainstTeacher } from '../validate';
import { GenerationSettings, generationCacheLayers, generationData, generationSettings, generationTeacherConfig } from './generation-settings';

export interface GenerationResults extends ExperimentResults {
  /** How the run was set up: splits (carved or not), sizes, cache. */
  setup: Record<string, unknown>;
  /** Wall-clock seconds per stage, for sizing longer runs. */
  timings: { teacherTrain?: number; teacherSteps?: number; teacherEval?: number; cache?: number; students: Record<string, { train: number; eval: number; steps: number }>; studentsWall?: number; parallelism?: number; angles?: number; total?: number };
}

/** Scores a saved student (or teacher) .onnx on the run's evaluation split with the run's generation settings. */
export async function scoreGenerationModel(task: string, s: GenerationSettings, model: Pick<LoadedGenerationModel, 'model' | 'values' | 'tokenizer'>, batchSize: number, evalData?: ReturnType<typeof loadGenerationData>) {
  const examples = evalData ?? loadGenerationData(task, s.eval, { ...s.data, maxExamples: s.maxEvalExamples }, true);
  return evaluateGeneration({ task, model: model.model, values: model.values, tokenizer: model.tokenizer, maxLength: s.maxLength, maxTargetLength: s.maxTargetLength, ...s.evaluation, batchSize }, examples.examples as never);
}

/** A generation experiment set up: its teacher (trained, fine-tuned or copied into <outDir>/teacher/), settings and grid. */
export interface GenerationExperiment {
  manifest: ExperimentManifest;
  outDir: string;
  settings: GenerationSettings;
  teacher: LoadedGenerationModel;
  teacherMetrics: Record<string, number>;
  teacherHash: string;
  teacherLayers: number;
  cells: GridCell[];
  /** Teacher hidden states every cell can ask for, the same set for each stack. */
  cacheLayers: number[];
  timings: GenerationResults['timings'];
  log: (line: string) => void;
}

/** teacher.json beside a generation teacher: its metrics (trained, fine-tuned, or a given teacher scored by the run). */
export function savedGenerationTeacherMetrics(teacherDir: string): Record<string, number> {
  const file = path.join(teacherDir, 'teacher.json');
  return fs.existsSync(file) ? ((JSON.parse(fs.readFileSync(file, 'utf8')) as { metrics?: Record<string, number> }).metrics ?? {}) : {};
}

export async function generationTeacher(ctx: ExperimentContext): Promise<GenerationExperiment> {
  const { manifest, manifestPath, baseDir, outDir, log } = ctx;
  const { spec } = manifest;
  const architecture = generationArchitecture(spec.task);
  const teacherDir = path.join(outDir, 'teacher');
  const timings: GenerationResults['timings'] = { students: {} };
  // Data and evaluation settings need no teacher; the lengths come from it below.
  const { train, eval: evalRef, data } = generationData(manifest, baseDir);
  const evaluation = { beam: spec.eval.beam ?? 4, lengthPenalty: spec.eval.lengthPenalty ?? 1, maxAnswerLength: spec.eval.maxAnswerLength ?? 12 };

  let teacher: LoadedGenerationModel;
  let teacherMetrics: Record<string, number>;
  if (spec.teacher.train || spec.teacher.pretrained) {
    // Trained from scratch or fine-tuned: the same stage result, the lengths it trained at.
    let t: GenerationTeacherResult;
    const common = { task: spec.task, outDir: teacherDir, train, eval: evalRef, maxEvalExamples: spec.data.maxEvalExamples, evaluation, log };
    if (spec.teacher.train) {
      const config = generationTeacherConfig(spec.teacher.train);
      t = await trainGenerationTeacher({ ...common, config, data });
    } else {
      const f = { ...TEACHER_FINETUNE_DEFAULTS, ...spec.teacher.finetune };
      t = await finetuneGenerationTeacher({
        ...common, config: f, data: { ...data, maxExamples: f.maxTrainExamples ?? data.maxExamples },
        pretrained: path.resolve(baseDir, spec.teacher.pretrained!), tokenizer: spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined,
      });
    }
    teacher = loadGenerationModel(t.onnx, t.tokenizer);
    validateAgainstTeacher(manifest, { layers: depthOf(teacher.model), hidden: teacher.model.config.hidden });
    teacherMetrics = t.metrics;
    timings.teacherTrain = t.seconds.train;
    timings.teacherSteps = t.steps;
    timings.teacherEval = t.seconds.eval;
  } else {
    const given = loadGenerationModel(path.resolve(baseDir, spec.teacher.onnx!), spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined);
    if ((given.model.arch === 'bart') !== (architecture === 'encoder-decoder')) throw new Error(`${path.resolve(manifestPath)}: task '${spec.task}' needs an ${architecture} teacher; ${given.onnx} is '${given.model.arch}'`);
    validateAgainstTeacher(manifest, { layers: depthOf(given.model), hidden: given.model.config.hidden });
    fs.mkdirSync(teacherDir, { recursive: true });
    const onnx = path.join(teacherDir, 'teacher.onnx');
    const tokenizer = path.join(teacherDir, 'tokenizer.json');
    if (path.resolve(given.onnx) !== onnx) fs.copyFileSync(given.onnx, onnx);
    if (path.resolve(given.tokenizerPath) !== tokenizer) fs.copyFileSync(given.tokenizerPath, tokenizer);
    teacher = loadGenerationModel(onnx, tokenizer);
    const t0 = Date.now();
    teacherMetrics = (await scoreGenerationModel(spec.task, generationSettings(manifest, baseDir, teacher.model), teacher, spec.students.batchSize)).metrics;
    timings.teacherEval = (Date.now() - t0) / 1000;
    writeJsonAtomic(path.join(teacherDir, 'teacher.json'), { onnx, tokenizer, given: path.resolve(given.onnx), metrics: teacherMetrics });
  }
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  const teacherLayers = depthOf(teacher.model);
  const cells = planGrid(manifest, { teacherLayers });
  return {
    manifest, outDir, settings: generationSettings(manifest, baseDir, teacher.model), teacher, teacherMetrics, teacherHash: sha256File(teacher.onnx), teacherLayers, cells,
    cacheLayers: generationCacheLayers(cells, teacherLayers, architecture), timings, log,
  };
}
