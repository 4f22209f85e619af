// Test fixtures shared by the services' tests: a small teacher trained in seconds on the embedded spam corpus (it
// needs neither ../shared/data nor a download), and a manifest around it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainTeacher, type TeacherTrainResult } from './stages/teacher';

export const TINY_TEACHER = { layers: 2, hidden: 32, heads: 2, intermediate: 64, maxLength: 32, vocabSize: 1000, epochs: 3, lr: 0.003, seed: 1 } as const;

/** Trains the tiny teacher into `dir` (teacher.onnx, tokenizer.json, teacher.json); silent. */
export async function trainTinyTeacher(dir: string, examples = 600, seed: number = TINY_TEACHER.seed): Promise<TeacherTrainResult> {
  return trainTeacher({ task: 'spam', outDir: dir, config: { ...TINY_TEACHER, seed }, maxTrainExamples: examples, maxEvalExamples: 200, log: () => undefined });
}

/**
 * A manifest (YAML) for the spam task with the given teacher .onnx, five strategies, depth 1; optionally students
 * `hidden` wide and a sweep over prediction `divergences`.
 */
export function tinyManifestYaml(name: string, teacherOnnx: string, o: { store?: 'file' | 'kafka'; examples?: number; epochs?: number; strategies?: string[]; seeds?: number[]; hidden?: number; divergences?: string[] } = {}): string {
  return [
    'apiVersion: strata.dev/v1alpha1',
    'kind: Experiment',
    `metadata: { name: ${name} }`,
    'spec:',
    '  task: spam',
    `  teacher: { onnx: ${JSON.stringify(teacherOnnx)} }`,
    `  cache: { dtype: float16, store: ${o.store ?? 'kafka'} }`,
    '  students:',
    '    depths: [1]',
    '    inits: [random]',
    `    strategies: [${(o.strategies ?? ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random']).join(', ')}]`,
    `    seeds: [${(o.seeds ?? [1]).join(', ')}]`,
    `    epochs: ${o.epochs ?? 2}`,
    '    lr: 0.003',
    ...(o.hidden !== undefined ? [`    hidden: ${o.hidden}`] : []),
    ...(o.divergences ? [`    divergences: [${o.divergences.join(', ')}]`] : []),
    '  eval: { split: dev }',
    '  analysis: { angles: true }',
    `  data: { maxTrainExamples: ${o.examples ?? 600}, maxEvalExamples: 200 }`,
    '',
  ].join('\n');
}

export function writeTinyManifest(file: string, name: string, teacherOnnx: string, o: Parameters<typeof tinyManifestYaml>[2] = {}): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, tinyManifestYaml(name, teacherOnnx, o));
  return file;
}
