import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '@strata/activations';
import { loadSplit } from '@strata/data';
import { loadCheckpoint } from '@strata/train';
import { readSafetensors } from '@strata/hub';
import { readModel } from '@strata/onnx';
import { PROJECTIONS_FILE } from './student-width';
import { cacheGenerationTeacher, recordIds } from './generation-cache';
import { carvePart, describeSplit, formatSource } from './generation-data';
import { loadGenerationModel } from './generation-model';
import { initialGenerationStudent, stackMaps, trainGenerationStudent } from './generation-student';
import { trainGenerationTeacher } from './generation-teacher';
import { parseManifest } from '../validate';
import { runGenerationExperiment } from '../run';

// A tiny encoder-decoder on the embedded CMUdict task (installed from npm): every generation stage runs for real.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-generation-'));
const quiet = () => undefined;
const data = { maxExamples: 256 };
const train = { split: 'train' };
const evalRef = { split: 'dev' };
const evaluation = { beam: 2, lengthPenalty: 1 };
const sizes = { maxLength: 16, maxTargetLength: 16 };
let teacherOnnx = '';
let teacherMetrics: Record<string, number> = {};

beforeAll(async () => {
  const t = await trainGenerationTeacher({
    task: 'cmudict-g2p', outDir: path.join(root, 'teacher'), train, eval: evalRef, data, maxEvalExamples: 16, evaluation, log: quiet,
    config: { layers: 2, hidden: 16, heads: 2, intermediate: 32, ...sizes, vocabSize: 128, tokenizer: 'word-level', epochs: 1, batchSize: 32, lr: 2e-3, warmupRatio: 0.1, dropout: 0.1, labelSmoothing: 0.1, seed: 1 },
  });
  teacherOnnx = t.onnx;
  teacherMetrics = t.metrics;
  expect(Object.keys(t.metrics).sort()).toEqual(['bleu', 'per', 'word_accuracy']);
  expect(t.model.arch).toBe('bart');
});

describe('generation pipeline stages', () => {
  it('carves a split deterministically by id hash and spells G2P sources letter by letter', () => {
    const examples = Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}` }));
    const carve = { from: 'dev', evalFraction: 0.2, seed: 1 };
    const test = carvePart(examples, carve, 'eval');
    const rest = carvePart(examples, carve, 'train');
    expect(test.length + rest.length).toBe(1000);
    expect(test.length).toBeGreaterThan(150);
    expect(test.length).toBeLessThan(250);
    expect(test.some((e) => rest.includes(e))).toBe(false);
    expect(carvePart(examples, carve, 'eval')).toEqual(test);
    expect(carvePart(examples, { ...carve, seed: 2 }, 'eval')).not.toEqual(test);
    expect(describeSplit({ split: 'dev', part: 'eval', carve })).toBe('dev[eval 20%, seed 1]');
    expect(formatSource('cmudict-g2p', "O'NEIL")).toBe("O ' N E I L");
    expect(formatSource('dart', 'a : b : c')).toBe('a : b : c');
  });

  it('caches encoder and decoder states and the top-k distribution per example; copy init maps each stack', async () => {
    const teacher = loadGenerationModel(teacherOnnx);
    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheGenerationTeacher({ teacher, task: 'cmudict-g2p', train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet });
    expect(cache).toMatchObject({ count: 256, computed: true, topK: 8 });
    const store = FileStore.open(cacheRoot, cache.cacheKey, { readOnly: true });
    expect(store.count).toBe(512);
    const first = loadSplit('cmudict-g2p', 'train').examples.find((e) => store.has(recordIds(teacher.model, e.id).decoder))!;
    const enc = store.get(`enc:${first.id}`)!;
    const dec = store.get(`dec:${first.id}`)!;
    expect(enc.validTokens).toBe(Array.from(first.source).length + 2); // [CLS] letters [SEP]
    expect(dec.validTokens).toBe(first.target.split(' ').length + 1); // phonemes + EOS
    expect(dec.logits).toMatchObject({ kind: 'topk', k: 8, positions: dec.validTokens });
    expect(enc.logits).toBeUndefined();
    store.close();
    expect((await cacheGenerationTeacher({ teacher, task: 'cmudict-g2p', train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet })).computed).toBe(false);
    // From the teacher quantized to int8: its own key, records of the same layout, states near float32's.
    const int8 = await cacheGenerationTeacher({ teacher, task: 'cmudict-g2p', train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet, teacherPrecision: 'int8' });
    expect(int8.cacheKey).not.toBe(cache.cacheKey);
    const q = FileStore.open(cacheRoot, int8.cacheKey, { readOnly: true });
    expect(q.readManifest()!.meta).toMatchObject({ teacherPrecision: 'int8' });
    const f = FileStore.open(cacheRoot, cache.cacheKey, { readOnly: true });
    const [fd, qd] = [f.get(`dec:${first.id}`)!, q.get(`dec:${first.id}`)!];
    f.close();
    expect(qd.states.length).toBe(fd.states.length);
    let [num, den] = [0, 0];
    fd.states.forEach((x, i) => ((num += (qd.states[i] - x) ** 2), (den += x * x)));
    expect(Math.sqrt(num / den)).toBeGreaterThan(0);
    expect(Math.sqrt(num / den)).toBeLessThan(0.1);
    q.close();

    const student = initialGenerationStudent(teacher, 1, 'copy', 3);
    expect(Array.from(student.get('model.encoder.layers.0.fc1.weight')!)).toEqual(Array.from(teacher.values.get('model.encoder.layers.1.fc1.weight')!));
    expect(Array.from(student.get('model.decoder.layers.0.encoder_attn.k_proj.weight')!)).toEqual(Array.from(teacher.values.get('model.decoder.layers.1.encoder_attn.k_proj.weight')!));
    expect(Array.from(student.get('model.shared.weight')!)).toEqual(Array.from(teacher.values.get('model.shared.weight')!));
    const maps = stackMaps([{ name: 'encoder', layers: 12, states: '', params: '' }, { name: 'decoder', layers: 12, states: '', params: '' }], 'out-of-order-random', 3, 5, 0, {}, 'encoder-decoder');
    expect(maps.encoder![0]).toEqual([0, 0]);
    expect(maps.encoder!.map(([, t]) => t).sort((a, b) => a - b)).toEqual([0, 4, 8, 12]);
    expect(maps.encoder).not.toEqual(maps.decoder); // independent permutations per stack (this seed)
  });

  it('a student killed mid-training resumes from its checkpoint and ends bit-identical to an uninterrupted run', async () => {
    const teacher = loadGenerationModel(teacherOnnx);
    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheGenerationTeacher({ teacher, task: 'cmudict-g2p', train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet });
    const base = {
      teacher, task: 'cmudict-g2p', cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'random' as const, depth: 1, seed: 2, labelSmoothing: 0.1,
      epochs: 2, batchSize: 32, lr: 2e-3, train, eval: evalRef, data, maxEvalExamples: 16, ...sizes, evaluation, checkpointEvery: 3, log: quiet,
    };
    const straight = await trainGenerationStudent({ ...base, outDir: path.join(root, 'straight') });
    expect(straight.layerMaps[0]).toEqual({ encoder: [[0, 0], [1, 2]], decoder: [[0, 0], [1, 2]] });
    await expect(trainGenerationStudent({ ...base, outDir: path.join(root, 'killed'), stopAfterSteps: 11 })).rejects.toThrow('stopped after 11 steps');
    // The checkpoint carries the killed segment's training time, so the resumed run reports the whole of it.
    const killedSeconds = loadCheckpoint(path.join(root, 'killed', 'student.ckpt')).meta?.trainSeconds as number;
    expect(killedSeconds).toBeGreaterThan(0);
    const resumed = await trainGenerationStudent({ ...base, outDir: path.join(root, 'killed') });
    expect(resumed.seconds.train).toBeGreaterThan(killedSeconds);
    expect(resumed.metrics).toEqual(straight.metrics);
    expect(Buffer.compare(fs.readFileSync(resumed.onnx), fs.readFileSync(straight.onnx))).toBe(0);
  });

  it('a half-width student trains through per-stack projections, resumes bit-identically and exports without them', async () => {
    const teacher = loadGenerationModel(teacherOnnx);
    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheGenerationTeacher({ teacher, task: 'cmudict-g2p', train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet });
    const base = {
      teacher, task: 'cmudict-g2p', cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'random' as const, depth: 1, seed: 2, labelSmoothing: 0.1, width: { hidden: 8 },
      loss: { kd: 'js' as const }, epochs: 2, batchSize: 32, lr: 2e-3, train, eval: evalRef, data, maxEvalExamples: 16, ...sizes, evaluation, checkpointEvery: 3, log: quiet,
    };
    const straight = await trainGenerationStudent({ ...base, outDir: path.join(root, 'half') });
    const model = loadGenerationModel(straight.onnx, teacher.tokenizerPath);
    expect(model.model.config).toMatchObject({ hidden: 8, heads: 2, ffn: 16 });
    expect(readModel(straight.onnx).graph.initializers.filter((t) => t.name.startsWith('kd.'))).toEqual([]);
    expect(straight.parameters).toBe([...model.values.values()].reduce((n, v) => n + v.length, 0));
    const saved = readSafetensors(path.join(root, 'half', PROJECTIONS_FILE));
    expect(saved.names()).toEqual(['kd.projection.encoder.0.weight', 'kd.projection.encoder.1.weight', 'kd.projection.decoder.0.weight', 'kd.projection.decoder.1.weight']);
    expect(saved.info('kd.projection.decoder.1.weight').shape).toEqual([16, 8]);
    await expect(trainGenerationStudent({ ...base, outDir: path.join(root, 'half-killed'), stopAfterSteps: 11 })).rejects.toThrow('stopped after 11 steps');
    const resumed = await trainGenerationStudent({ ...base, outDir: path.join(root, 'half-killed') });
    expect(Buffer.compare(fs.readFileSync(resumed.onnx), fs.readFileSync(straight.onnx))).toBe(0);
    expect(resumed.metrics).toEqual(straight.metrics);
    await expect(trainGenerationStudent({ ...base, init: 'copy', outDir: path.join(root, 'half-copy') })).rejects.toThrow(/weight copy needs the teacher's width/);

    // Through strata experiment run: a divergence sweep of half-width students, angles per stack through the projections.
    const file = path.join(root, 'g2p-half.yaml');
    fs.writeFileSync(file, [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: g2p-half }', 'spec:', '  task: cmudict-g2p',
      `  teacher: { onnx: ${JSON.stringify(teacherOnnx)} }`,
      '  cache: { topK: 8 }', '  students: { depths: [1], inits: [random], strategies: [forward], divergences: [forward-kl, tvd], hidden: 8, seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { beam: 2 }', '  data: { maxTrainExamples: 64, maxEvalExamples: 8 }',
    ].join('\n'));
    const { results } = await runGenerationExperiment(parseManifest(fs.readFileSync(file, 'utf8'), file), file, { outDir: path.join(root, 'run-half'), log: quiet, angleExamples: 8 });
    expect(results.cells.map((c) => c.id)).toEqual(['forward-random-d1-s1', 'forward-tvd-random-d1-s1']);
    expect(results.cells.map((c) => c.kd)).toEqual([undefined, 'tvd']);
    expect(results.angles!.map((a) => a.cellId)).toEqual(['forward-random-d1-s1 (encoder)', 'forward-random-d1-s1 (decoder)', 'forward-tvd-random-d1-s1 (encoder)', 'forward-tvd-random-d1-s1 (decoder)']);
    for (const a of results.angles!) expect(a.layers.map((l) => l.studentLayer)).toEqual([1]);
    expect(results.cells[0].student.parameters).toBe(straight.parameters);
  });

  it('strata experiment run: teacher, cache, cells with per-stack maps, angles, results and report', async () => {
    const file = path.join(root, 'g2p.yaml');
    fs.writeFileSync(file, [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: g2p-test }', 'spec:', '  task: cmudict-g2p',
      '  teacher: { train: { layers: 2, hidden: 16, heads: 2, intermediate: 32, maxLength: 16, maxTargetLength: 16, vocabSize: 128, tokenizer: word-level, epochs: 1, batchSize: 32, lr: 0.002 } }',
      '  cache: { topK: 8 }', '  students: { depths: [1], inits: [copy], strategies: [none, reverse], seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { beam: 2 }', '  data: { maxTrainExamples: 128, maxEvalExamples: 8 }',
    ].join('\n'));
    const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
    const { outDir, results } = await runGenerationExperiment(manifest, file, { outDir: path.join(root, 'run'), log: quiet, angleExamples: 8 });
    expect(results.cells.map((c) => c.id)).toEqual(['none-copy-d1-s1', 'reverse-copy-d1-s1']);
    expect(results.cells[1].stackMaps).toEqual({ encoder: [[0, 0], [1, 2]], decoder: [[0, 0], [1, 2]] });
    expect(Object.keys(results.cells[0].metrics).sort()).toEqual(['bleu', 'per', 'word_accuracy']);
    expect(results.angles!.map((a) => a.cellId)).toEqual(['reverse-copy-d1-s1 (encoder)', 'reverse-copy-d1-s1 (decoder)']);
    const report = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    expect(report).toContain('| reverse-copy-d1-s1 | encoder: 0→0, 1→2; decoder: 0→0, 1→2 |');
    expect(report).toContain('Trained on train (128 examples); evaluated on dev (at most 8 examples).');
    // A re-run reuses every finished cell by content hash.
    const again = await runGenerationExperiment(manifest, file, { outDir: path.join(root, 'run'), log: quiet, angleExamples: 8 });
    expect(again.results.cells.map((c) => c.hash)).toEqual(results.cells.map((c) => c.hash));
    expect((again.results as typeof results & { timings: { cache: number } }).timings.cache).toBe(0);
    // A cell finished by an older evaluator (its result lacks a metric the teacher now reports) is re-scored from
    // its saved student, not retrained.
    const resultFile = path.join(outDir, 'students', 'reverse-copy-d1-s1', 'result.json');
    const saved = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { metrics: Record<string, number>; seconds: { train: number } };
    delete saved.metrics.per;
    fs.writeFileSync(resultFile, JSON.stringify(saved));
    const studentOnnx = path.join(outDir, 'students', 'reverse-copy-d1-s1.onnx');
    const onnxTime = fs.statSync(studentOnnx).mtimeMs;
    const lines: string[] = [];
    const third = await runGenerationExperiment(manifest, file, { outDir: path.join(root, 'run'), log: (l) => lines.push(l), angleExamples: 8 });
    expect(lines).toContain('[2/2] reverse-copy-d1-s1: finished earlier without per; re-scoring students/reverse-copy-d1-s1.onnx');
    expect(lines).toContain('[1/2] none-copy-d1-s1: finished earlier, skipped');
    expect(third.results.cells[1].metrics).toEqual(results.cells[1].metrics);
    expect(fs.statSync(studentOnnx).mtimeMs).toBe(onnxTime);
    expect(JSON.parse(fs.readFileSync(resultFile, 'utf8')).seconds.train).toBe(saved.seconds.train);
  });

  it('spec.resources.parallelism trains the students in worker threads, to the cells of the one-at-a-time run', async () => {
    const file = path.join(root, 'g2p.yaml');
    const parallelFile = path.join(root, 'g2p-parallel.yaml');
    fs.writeFileSync(parallelFile, `${fs.readFileSync(file, 'utf8')}\n  resources: { parallelism: 2 }\n`);
    const manifest = parseManifest(fs.readFileSync(parallelFile, 'utf8'), parallelFile);
    const lines: string[] = [];
    const { results } = await runGenerationExperiment(manifest, parallelFile, { outDir: path.join(root, 'run-parallel'), log: (l) => lines.push(l), angleExamples: 8 });
    expect(lines.some((l) => l.startsWith('training 2 students, 2 at a time in worker threads'))).toBe(true);
    const one = JSON.parse(fs.readFileSync(path.join(root, 'run', 'results.json'), 'utf8')) as typeof results;
    expect(results.cells.map((c) => c.id)).toEqual(one.cells.map((c) => c.id));
    for (const [i, c] of results.cells.entries()) {
      expect(c.hash).toBe(one.cells[i].hash);
      expect(c.stackMaps).toEqual(one.cells[i].stackMaps);
      for (const [k, v] of Object.entries(c.metrics)) expect(Math.abs(v - one.cells[i].metrics[k])).toBeLessThanOrEqual(1e-6);
    }
  });

  it('strata experiment run with an exported teacher scores it with the run settings', async () => {
    const file = path.join(root, 'g2p-loaded.yaml');
    fs.writeFileSync(file, [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: g2p-loaded }', 'spec:', '  task: cmudict-g2p',
      `  teacher: { onnx: ${JSON.stringify(teacherOnnx)} }`,
      '  cache: { topK: 8 }', '  students: { depths: [1], inits: [copy], strategies: [none], seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { beam: 2 }', '  data: { maxTrainExamples: 64, maxEvalExamples: 16 }', '  analysis: { angles: false }',
    ].join('\n'));
    const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
    const { results } = await runGenerationExperiment(manifest, file, { outDir: path.join(root, 'run-loaded'), log: quiet });
    // The same model, examples and settings as the teacher stage's own evaluation.
    expect(results.teacher.metrics).toEqual(teacherMetrics);
    expect(results.cells.map((c) => c.id)).toEqual(['none-copy-d1-s1']);
  });
});
