// Half-width students and a sweep over prediction divergences through the services (issue 23): the student-trainers
// train the projections from the streamed teacher states, the evaluator reads them for the angle analysis, and every
// student equals embedded mode's byte for byte.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECTIONS_FILE, runExperiment, trainTinyTeacher, writeTinyManifest, type ExperimentResults } from '@strata/experiment';
import { readSafetensors } from '@strata/hub';
import { describeKafka, uniqueName } from '@strata/kafka';
import { readModel } from '@strata/onnx';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

describeKafka('experiment run --transport kafka: narrower students and divergences', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kafka-width-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains half-width students under two divergences, equal to embedded mode, exported without projections', async () => {
    const name = uniqueName('width').replace(/[^a-z0-9-]/g, '-');
    await trainTinyTeacher(path.join(dir, 'T'), 300);
    const teacher = path.join(dir, 'T', 'teacher.onnx');
    const o = { strategies: ['none', 'forward'], divergences: ['forward-kl', 'js'], hidden: 16, epochs: 1, examples: 300 };
    const kafkaManifest = writeTinyManifest(path.join(dir, 'kafka.yaml'), name, teacher, { ...o, store: 'kafka' });
    const fileManifest = writeTinyManifest(path.join(dir, 'file.yaml'), name, teacher, { ...o, store: 'file' });
    const quiet = () => undefined;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let embedded: ExperimentResults;
    let streamed: ExperimentResults;
    try {
      embedded = (await runExperiment(fileManifest, { outDir: path.join(dir, 'embedded'), log: quiet })).results;
      streamed = (await runExperimentOverKafka(kafkaManifest, { outDir: path.join(dir, 'kafka'), brokers, parallelism: 2, log: quiet, evaluatorTimeoutMs: 120_000 })).results;
    } finally {
      stderr.mockRestore();
    }
    const ids = ['none-random-d1-s1', 'none-js-random-d1-s1', 'forward-random-d1-s1', 'forward-js-random-d1-s1'];
    expect(streamed.cells.map((c) => c.id)).toEqual(ids);
    expect(embedded.cells.map((c) => c.id)).toEqual(ids);
    for (const id of ids) {
      const [k, e] = [path.join(dir, 'kafka', 'students', `${id}.onnx`), path.join(dir, 'embedded', 'students', `${id}.onnx`)];
      expect(Buffer.compare(fs.readFileSync(k), fs.readFileSync(e))).toBe(0);
      const model = readModel(k);
      expect(model.graph.initializers.find((t) => t.name === 'bert.embeddings.word_embeddings.weight')?.dims[1]).toBe(16);
      expect(model.graph.initializers.filter((t) => t.name.startsWith('kd.'))).toEqual([]);
    }
    // The forward cells trained a projection per matched pair (16 -> 32), kept beside their checkpoints; None none.
    for (const id of ['forward-random-d1-s1', 'forward-js-random-d1-s1']) {
      const p = readSafetensors(path.join(dir, 'kafka', 'students', id, PROJECTIONS_FILE));
      expect(p.names()).toEqual(['kd.projection.0.weight', 'kd.projection.1.weight']);
      expect(p.info('kd.projection.0.weight').shape).toEqual([32, 16]);
    }
    expect(fs.existsSync(path.join(dir, 'kafka', 'students', 'none-random-d1-s1', PROJECTIONS_FILE))).toBe(false);
    // The divergence changed the students (the KL and the JS cells differ), and the angles go through the projections.
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'kafka', 'students', 'forward-random-d1-s1.onnx')), fs.readFileSync(path.join(dir, 'kafka', 'students', 'forward-js-random-d1-s1.onnx')))).not.toBe(0);
    expect(streamed.angles?.map((a) => a.cellId)).toEqual(['forward-random-d1-s1', 'forward-js-random-d1-s1']);
    expect(streamed.angles).toEqual(embedded.angles);
    expect(streamed.cells.map((c) => c.student.parameters)).toEqual(embedded.cells.map((c) => c.student.parameters));
  });
});
