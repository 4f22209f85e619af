import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '@strata/activations';
import { copyLayers } from '@strata/kd';
import { cacheTeacherStates } from './cache';
import { loadTeacher, subsample } from './common';
import { readModel } from '@strata/onnx';
import { readSafetensors } from '@strata/hub';
import { analyzeAngles } from './angles';
import { initialStudentParams, trainStudent } from './student';
import { PROJECTIONS_FILE, readProjections } from './student-width';
import { trainTeacher } from './teacher';
import { Interrupted, clearStopRequest, requestStop } from '../stop';

// A tiny teacher on the embedded spam task (installed from npm): every stage runs for real, in seconds.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-stages-'));
const quiet = () => undefined;
let teacherOnnx = '';

const tinyTeacher = (dir: string) => trainTeacher({
  task: 'spam', outDir: path.join(root, dir), maxTrainExamples: 320, maxEvalExamples: 64, log: quiet,
  config: { layers: 4, hidden: 32, heads: 2, intermediate: 64, maxLength: 32, vocabSize: 1500, epochs: 1, batchSize: 32 },
});

beforeAll(async () => {
  const t = await tinyTeacher('teacher');
  teacherOnnx = t.onnx;
  expect(t.metrics.accuracy).toBeGreaterThan(0);
});

describe('pipeline stages', () => {
  it('trains the same teacher from scratch twice: byte-identical tokenizer and model', async () => {
    const again = await tinyTeacher('teacher-again');
    for (const file of ['tokenizer.json', 'teacher.onnx']) expect(fs.readFileSync(path.join(root, 'teacher-again', file)).equals(fs.readFileSync(path.join(root, 'teacher', file)))).toBe(true);
    expect(again.curve).toEqual(JSON.parse(fs.readFileSync(path.join(root, 'teacher', 'teacher.json'), 'utf8')).curve);
  });

  it('warns, in its result and teacher.json, when the teacher ends no better than the majority class', async () => {
    // At a learning rate of 1e-7 nothing is learned: the teacher answers one class.
    const stuck = await trainTeacher({
      task: 'spam', outDir: path.join(root, 'teacher-stuck'), maxTrainExamples: 320, maxEvalExamples: 64, log: quiet,
      config: { layers: 1, hidden: 16, heads: 2, intermediate: 32, maxLength: 32, vocabSize: 1000, epochs: 1, batchSize: 32, lr: 1e-7 },
    });
    expect(stuck.warnings).toHaveLength(1);
    expect(stuck.warnings[0]).toMatch(/^the teacher's dev accuracy \d+\.\d\d% is within two standard errors \(\d+\.\d\d points\) of always answering '(ham|spam)'/);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'teacher-stuck', 'teacher.json'), 'utf8')).warnings).toEqual(stuck.warnings);
  });

  it('subsamples deterministically without taking the first rows', () => {
    const examples = Array.from({ length: 100 }, (_, i) => ({ id: `e${i}` }));
    const a = subsample(examples, 10);
    expect(a).toHaveLength(10);
    expect(subsample(examples, 10)).toEqual(a);
    expect(a.map((e) => e.id)).not.toEqual(examples.slice(0, 10).map((e) => e.id));
  });

  it('copy init puts the selected teacher layers into the student (classifier stays random)', () => {
    const teacher = loadTeacher(teacherOnnx);
    const student = initialStudentParams(teacher, 2, 'copy', 5);
    const layers = copyLayers(4, 2);
    expect(layers).toEqual([2, 4]);
    layers.forEach((t, k) => {
      for (const suffix of ['attention.self.query.weight', 'output.LayerNorm.bias', 'intermediate.dense.weight'])
        expect(Array.from(student.get(`bert.encoder.layer.${k}.${suffix}`)!)).toEqual(Array.from(teacher.values.get(`bert.encoder.layer.${t - 1}.${suffix}`)!));
    });
    expect(Array.from(student.get('bert.embeddings.word_embeddings.weight')!)).toEqual(Array.from(teacher.values.get('bert.embeddings.word_embeddings.weight')!));
    expect(Array.from(student.get('classifier.weight')!)).not.toEqual(Array.from(teacher.values.get('classifier.weight')!));
    const random = initialStudentParams(teacher, 2, 'random', 5);
    expect(Array.from(random.get('bert.encoder.layer.0.attention.self.query.weight')!)).not.toEqual(Array.from(teacher.values.get('bert.encoder.layer.1.attention.self.query.weight')!));
  });

  it('refills a cache whose last segment was torn by a crash, reusing the records before the tear', async () => {
    const teacher = loadTeacher(teacherOnnx);
    const cacheRoot = path.join(root, 'cache-torn');
    const first = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 320, log: quiet });
    expect(first).toMatchObject({ count: 320, computed: true });
    // Simulate a teacher killed while writing: no completion manifest, half a record at the end of the segment.
    const dir = path.join(cacheRoot, first.cacheKey);
    fs.rmSync(path.join(dir, 'manifest.json'));
    const segment = path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.acts')).sort().pop()!);
    fs.truncateSync(segment, fs.statSync(segment).size - 100);
    const again = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 320, log: quiet });
    expect(again).toEqual({ cacheKey: first.cacheKey, count: 320, computed: true, teacherPrecision: 'float32' });
    const store = FileStore.open(cacheRoot, first.cacheKey, { readOnly: true });
    expect(store.isComplete()).toBe(true);
    expect(store.ids()).toHaveLength(320);
    store.close();
    const reused = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 320, log: quiet });
    expect(reused.computed).toBe(false);
  });

  it('caches from the teacher quantized to int8 under its own key, with its error against float32 measured and kept', async () => {
    const teacher = loadTeacher(teacherOnnx);
    const cacheRoot = path.join(root, 'cache-int8');
    const opts = { teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 64, log: quiet };
    const float = await cacheTeacherStates(opts);
    const int8 = await cacheTeacherStates({ ...opts, teacherPrecision: 'int8' });
    expect(int8.cacheKey).not.toBe(float.cacheKey);
    expect(float.int8Error).toBeUndefined();
    const e = int8.int8Error!;
    expect(e.examples).toBe(32);
    expect(e.relRms).toBeGreaterThan(0);
    expect(e.relRms).toBeLessThan(0.05);
    expect(e.sameArgmax).toBeGreaterThan(0.9);
    // The measured difference is the one between the two caches' records of the first batch's examples.
    const [a, b] = [FileStore.open(cacheRoot, float.cacheKey, { readOnly: true }), FileStore.open(cacheRoot, int8.cacheKey, { readOnly: true })];
    const id = a.ids()[0];
    const [ra, rb] = [a.get(id)!, b.get(id)!];
    expect(rb.states.length).toBe(ra.states.length);
    expect(rb.states.some((v, i) => v !== ra.states[i])).toBe(true);
    expect(b.readManifest()!.meta).toMatchObject({ teacherPrecision: 'int8', int8Error: e });
    a.close();
    b.close();
    // Reused, it reports the error kept in its manifest.
    expect(await cacheTeacherStates({ ...opts, teacherPrecision: 'int8' })).toEqual({ ...int8, computed: false });
  });

  it('a student killed mid-training resumes from its checkpoint and ends bit-identical to an uninterrupted run', async () => {
    const teacher = loadTeacher(teacherOnnx);
    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 320, log: quiet });
    const base = {
      teacher, task: 'spam', cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'copy' as const, depth: 2, seed: 3,
      epochs: 2, batchSize: 32, lr: 5e-4, maxTrainExamples: 320, maxEvalExamples: 64, checkpointEvery: 4, log: quiet,
    };
    const straight = await trainStudent({ ...base, outDir: path.join(root, 'straight') });
    expect(straight.layerMaps[0]).toEqual([[0, 0], [1, 2], [2, 4]]);
    await expect(trainStudent({ ...base, outDir: path.join(root, 'killed'), stopAfterSteps: 13 })).rejects.toThrow('stopped after 13 steps');
    expect(fs.existsSync(path.join(root, 'killed', 'student.onnx'))).toBe(false);
    const resumed = await trainStudent({ ...base, outDir: path.join(root, 'killed') });
    expect(resumed.metrics).toEqual(straight.metrics);
    expect(Buffer.compare(fs.readFileSync(resumed.onnx), fs.readFileSync(straight.onnx))).toBe(0);

    // A stop request (what SIGINT/SIGTERM become) between checkpoints: the loop saves where it is, off the
    // checkpoint cadence, and the resumed student is still the same bit for bit.
    const lines: string[] = [];
    const stopped = trainStudent({ ...base, outDir: path.join(root, 'signalled'), log: (l) => lines.push(l), onStep: ({ step }) => step === 7 && requestStop('SIGTERM') });
    try {
      await expect(stopped).rejects.toThrow(Interrupted);
      await expect(stopped).rejects.toMatchObject({ exitCode: 143, message: expect.stringMatching(/: stopped by SIGTERM after step 7; checkpoint saved to .*signalled\/student\.ckpt; run the same command again to resume$/) });
      // Asked again before it starts, the loop trains nothing.
      await expect(trainStudent({ ...base, outDir: path.join(root, 'signalled') })).rejects.toThrow(/stopped by SIGTERM; run the same command again to resume/);
    } finally {
      clearStopRequest();
    }
    const again = await trainStudent({ ...base, outDir: path.join(root, 'signalled'), log: (l) => lines.push(l) });
    expect(lines).toContainEqual(expect.stringMatching(/resuming from step 7 /));
    expect(Buffer.compare(fs.readFileSync(again.onnx), fs.readFileSync(straight.onnx))).toBe(0);

    // The same folder with another learning rate: the old checkpoint is set aside, not resumed.
    await expect(trainStudent({ ...base, outDir: path.join(root, 'edited'), stopAfterSteps: 5 })).rejects.toThrow('stopped after 5 steps');
    const edited: string[] = [];
    const other = await trainStudent({ ...base, lr: 1e-4, outDir: path.join(root, 'edited'), log: (l) => edited.push(l) });
    expect(edited).toContainEqual(expect.stringMatching(/student\.ckpt was made with other settings; starting over \(the old checkpoint is now .*student\.ckpt\.stale\)$/));
    expect(edited.some((l) => /resuming from step/.test(l))).toBe(false);
    const fresh = await trainStudent({ ...base, lr: 1e-4, outDir: path.join(root, 'edited-fresh') });
    expect(Buffer.compare(fs.readFileSync(other.onnx), fs.readFileSync(fresh.onnx))).toBe(0);
  });

  it('a half-width student trains through per-pair projections, resumes bit-identically and exports without them', async () => {
    const teacher = loadTeacher(teacherOnnx);
    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 4], cacheRoot, maxExamples: 320, log: quiet });
    const base = {
      teacher, task: 'spam', cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'random' as const, depth: 2, seed: 3, width: { hidden: 16 },
      epochs: 2, batchSize: 32, lr: 5e-4, maxTrainExamples: 320, maxEvalExamples: 64, checkpointEvery: 4, log: quiet,
    };
    const straight = await trainStudent({ ...base, outDir: path.join(root, 'half') });
    // The exported student: 16 wide, 2 heads of 8, FFN scaled with the width (64 x 16/32), no projection.
    const model = readModel(straight.onnx);
    const inits = new Map(model.graph.initializers.map((t) => [t.name, t.dims]));
    expect(inits.get('bert.embeddings.word_embeddings.weight')?.[1]).toBe(16);
    expect(inits.get('bert.encoder.layer.0.intermediate.dense.weight')).toEqual([32, 16]);
    expect([...inits.keys()].filter((n) => n.startsWith('kd.'))).toEqual([]);
    // Trained parameters: the model's weights (the export's other initializers are shape constants).
    const weights = [...inits].filter(([n]) => /^(bert|classifier)\./.test(n));
    expect(straight.parameters).toBe(weights.reduce((n, [, d]) => n + d.reduce((a, b) => a * b, 1), 0));
    // The projections (one per matched pair of the forward map, 16 -> 32) sit beside the checkpoint.
    const saved = readSafetensors(path.join(root, 'half', PROJECTIONS_FILE));
    expect(saved.names()).toEqual(['kd.projection.0.weight', 'kd.projection.1.weight', 'kd.projection.2.weight']);
    for (const n of saved.names()) expect(saved.info(n).shape).toEqual([32, 16]);
    expect(JSON.parse(saved.metadata.layerMaps)).toEqual({ '': [[0, 0], [1, 2], [2, 4]] });

    await expect(trainStudent({ ...base, outDir: path.join(root, 'half-killed'), stopAfterSteps: 9 })).rejects.toThrow('stopped after 9 steps');
    const resumed = await trainStudent({ ...base, outDir: path.join(root, 'half-killed') });
    expect(Buffer.compare(fs.readFileSync(resumed.onnx), fs.readFileSync(straight.onnx))).toBe(0);
    expect(Buffer.compare(fs.readFileSync(path.join(root, 'half-killed', PROJECTIONS_FILE)), fs.readFileSync(path.join(root, 'half', PROJECTIONS_FILE)))).toBe(0);

    // One shared projection instead: a single weight, a different student.
    const shared = await trainStudent({ ...base, width: { hidden: 16, projection: 'shared' }, epochs: 1, outDir: path.join(root, 'half-shared') });
    expect(readSafetensors(path.join(root, 'half-shared', PROJECTIONS_FILE)).names()).toEqual(['kd.projection.shared.weight']);
    expect(Buffer.compare(fs.readFileSync(shared.onnx), fs.readFileSync(straight.onnx))).not.toBe(0);

    // Angles through the projections: every student layer compared in the teacher's 32-wide space.
    const angles = await analyzeAngles(teacher, straight.onnx, 2, 'spam', 'dev', 32, undefined, readProjections(path.join(root, 'half', PROJECTIONS_FILE)));
    expect(angles.map((l) => l.studentLayer)).toEqual([1, 2]);
    for (const l of angles) expect(Array.from(l.meanCosine).every((c) => c >= -1 && c <= 1)).toBe(true);
    await expect(analyzeAngles(teacher, straight.onnx, 2, 'spam', 'dev', 32)).rejects.toThrow(/no projections were given/);

    // Weight copy cannot fill a narrower student.
    await expect(trainStudent({ ...base, init: 'copy', outDir: path.join(root, 'half-copy') })).rejects.toThrow(/weight copy needs the teacher's width: the student is 16 wide, the teacher 32/);
  });
});
