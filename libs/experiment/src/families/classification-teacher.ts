// The classification teacher of a run in <outDir>/teacher/: trained, fine-tuned, or a given export copied there,
// and what it saved for later steps and services (metrics, warnings).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeModel } from '@strata/onnx';
import type { ExperimentContext } from '../context';
import { sha256File } from '../files';
import { LoadedTeacher, copyIntoRun, loadTeacher } from '../stages/common';
import { studentShape } from '../stages/student-width';
import { finetuneTeacher, trainTeacher, type TeacherTrainResult } from '../stages/teacher';
import { validateAgainstTeacher } from '../validate';

/** Metrics on the paper's scale (percent). */
export const percentMetrics = (m: { accuracy: number; f1?: number }) => {
  const out: Record<string, number> = { accuracy: m.accuracy * 100 };
  if (m.f1 !== undefined) out.f1 = m.f1 * 100;
  return out;
};

export interface ExperimentTeacher {
  teacher: LoadedTeacher;
  metrics: Record<string, number>;
  hash: string;
}

/**
 * The experiment's teacher in <outDir>/teacher/: trained or fine-tuned there (resumable), or loaded from
 * spec.teacher.onnx and copied there with its tokenizer, so every later step (and every service) finds it at the same
 * place.
 */
export async function obtainTeacher(ctx: ExperimentContext): Promise<ExperimentTeacher> {
  const { manifest, baseDir, outDir, dataRoot, evalSplit, log } = ctx;
  const { spec } = manifest;
  const teacherDir = path.join(outDir, 'teacher');
  fs.mkdirSync(teacherDir, { recursive: true });
  let teacher: LoadedTeacher;
  let metrics: Record<string, number>;
  const stage = { task: spec.task, outDir: teacherDir, evalSplit, trainSplit: spec.data.trainSplit, dataRoot, maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples, log };
  if (spec.teacher.train || spec.teacher.pretrained) {
    const t = spec.teacher.train
      ? await trainTeacher({ ...stage, config: spec.teacher.train })
      : await finetuneTeacher({
        ...stage, maxTrainExamples: spec.teacher.finetune?.maxTrainExamples ?? stage.maxTrainExamples,
        pretrained: path.resolve(baseDir, spec.teacher.pretrained!), tokenizer: spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined, config: spec.teacher.finetune,
      });
    teacher = loadTeacher(t.onnx, t.tokenizer);
    metrics = percentMetrics(t.metrics);
    validateAgainstTeacher(manifest, { layers: teacher.config.layers, hidden: teacher.config.hidden });
  } else {
    const given = loadTeacher(path.resolve(baseDir, spec.teacher.onnx!), spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined, { hiddenStates: spec.teacher.hiddenStates });
    validateAgainstTeacher(manifest, { layers: given.config.layers, hidden: given.config.hidden });
    const onnx = path.join(teacherDir, 'teacher.onnx');
    const tokenizer = path.join(teacherDir, 'tokenizer.json');
    if (given.graph) {
      // Another tool's export: keep it with its hidden states exposed and its config.json, so every later step and
      // service reads the same self-describing file.
      log(`teacher ${given.onnx}: an external export, ${given.config.layers} layers, hidden ${given.config.hidden}${given.valuesError ? `; weight copy unavailable: ${given.valuesError}` : ''}`);
      if (path.resolve(given.onnx) !== onnx) writeModel(onnx, given.graph);
      const config = path.join(path.dirname(given.onnx), 'config.json');
      if (fs.existsSync(config) && path.resolve(config) !== path.join(teacherDir, 'config.json')) copyIntoRun(config, path.join(teacherDir, 'config.json'));
    } else if (path.resolve(given.onnx) !== onnx) copyIntoRun(given.onnx, onnx);
    if (path.resolve(given.tokenizerPath) !== tokenizer) copyIntoRun(given.tokenizerPath, tokenizer);
    teacher = loadTeacher(onnx, tokenizer);
    metrics = {};
  }
  // The student's shape is checked here, before any cache or student work, with the field that does not fit named.
  studentShape(teacher.config, spec.students);
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  return { teacher, metrics, hash: sha256File(teacher.onnx) };
}

/** teacher.json as `trainTeacher` saved it next to the teacher; undefined for a given teacher. */
function savedTeacher(teacherDir: string): (Pick<TeacherTrainResult, 'metrics'> & Partial<Pick<TeacherTrainResult, 'warnings'>>) | undefined {
  const file = path.join(teacherDir, 'teacher.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/** The warnings saved by `trainTeacher` next to the teacher ([] for a given teacher, or one saved before warnings). */
export function savedTeacherWarnings(teacherDir: string): string[] {
  return savedTeacher(teacherDir)?.warnings ?? [];
}

/** The teacher metrics saved by `trainTeacher` next to the teacher ({} for a given teacher). */
export function savedTeacherMetrics(teacherDir: string): Record<string, number> {
  const saved = savedTeacher(teacherDir);
  return saved ? percentMetrics(saved.metrics) : {};
}

