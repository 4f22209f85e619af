// Test fixtures shared by the services' tests: a small teacher trained in seconds on the embedded spam corpus (it
// needs neither ../shared/data nor a download), and a manifest around it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './files';
import { trainTeacher, type TeacherTrainResult } from './stages/teacher';

export const TINY_TEACHER = { layers: 2, hidden: 32, heads: 2, intermediate: 64, maxLength: 32, vocabSize: 1000, epochs: 3, lr: 0.003, seed: 1 } as const;

/**
 * Where one `npm test` run keeps the tiny teachers it has trained: beside the run's summary file, in the fresh folder
 * tools/test/run.js makes for each run, so a cached teacher never outlives the code that trained it. Outside
 * `npm test` (one jest run by hand) there is no cache and every call trains.
 */
function tinyTeacherCache(): string | undefined {
  const summary = process.env.STRATA_TEST_SUMMARY;
  return summary ? path.join(path.dirname(summary), 'tiny-teachers') : undefined;
}

/** What a training into `dir` writes in teacher.json and returns: the same teacher, its files in `dir`. */
function teacherIn(dir: string, r: TeacherTrainResult): TeacherTrainResult {
  return { ...r, onnx: path.join(dir, path.basename(r.onnx)), tokenizer: path.join(dir, path.basename(r.tokenizer)) };
}

/**
 * Trains the tiny teacher into `dir` (teacher.onnx, tokenizer.json, teacher.json); silent. Training is deterministic
 * (stages.test.ts checks it byte for byte), so within one `npm test` run a teacher of the same settings is trained
 * once and copied to the later callers' folders (all its files, teacher.json naming the new folder).
 */
export async function trainTinyTeacher(dir: string, examples = 600, seed: number = TINY_TEACHER.seed): Promise<TeacherTrainResult> {
  const options = { task: 'spam', config: { ...TINY_TEACHER, seed }, maxTrainExamples: examples, maxEvalExamples: 200 };
  const cacheRoot = tinyTeacherCache();
  const cached = cacheRoot && path.join(cacheRoot, `spam-${examples}-${seed}-${createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16)}`);
  if (cached && fs.existsSync(path.join(cached, 'teacher.json')) && !fs.existsSync(path.join(dir, 'teacher.json'))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.cpSync(cached, dir, { recursive: true });
    const result = teacherIn(dir, JSON.parse(fs.readFileSync(path.join(cached, 'teacher.json'), 'utf8')) as TeacherTrainResult);
    writeJsonAtomic(path.join(dir, 'teacher.json'), result);
    return result;
  }
  const result = await trainTeacher({ ...options, outDir: dir, log: () => undefined });
  if (cached && !fs.existsSync(cached)) {
    // Into place in one rename, so a reader never sees half a teacher.
    const partial = `${cached}.${process.pid}.partial`;
    fs.cpSync(dir, partial, { recursive: true });
    try {
      fs.renameSync(partial, cached);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another test file cached it first
    }
  }
  return result;
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
