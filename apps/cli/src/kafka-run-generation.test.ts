// Generation over Kafka (#23 point 1), end to end against the real broker: a quickstart-g2p-shaped run (a tiny
// BART-style teacher trained from scratch on CMUdict, its states of both stacks and its top-k per target token cached
// by teacher-inference into the activation topic, chunked into many messages; three student-trainers at once
// replaying it; the evaluator scoring the saved students) gives the results of embedded mode: the same cells, hashes,
// layer maps and metrics, and byte-identical students.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunEvents, runExperiment, type ExperimentResults, type RunEvent } from '@strata/experiment';
import { createKafkaClient, describeKafka, uniqueName } from '@strata/kafka';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

/** Training examples: the cache holds one job of this many. */
const TRAIN = 384;

/** quickstart-g2p's shape (examples/quickstart-g2p.yaml), small enough for a test. */
function g2pManifest(file: string, name: string, store: 'file' | 'kafka'): string {
  fs.writeFileSync(file, [
    'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', `metadata: { name: ${name} }`, 'spec:', '  task: cmudict-g2p',
    '  teacher:',
    '    train: { layers: 3, hidden: 32, heads: 2, intermediate: 64, maxLength: 16, maxTargetLength: 16, vocabSize: 128, tokenizer: word-level, epochs: 3, batchSize: 32, lr: 0.003, dropout: 0.1, seed: 1 }',
    `  cache: { dtype: float16, store: ${store}, topK: 8 }`,
    '  students: { depths: [2], inits: [copy], strategies: [none, forward, reverse], seeds: [1], epochs: 2, lr: 0.003, loss: { ce: 1, kl: 1, hidden: 3, temperature: 1, normalize: element } }',
    '  eval: { split: dev, beam: 2 }',
    '  analysis: { angles: true }',
    `  data: { maxTrainExamples: ${TRAIN}, maxEvalExamples: 24 }`,
    '',
  ].join('\n'));
  return file;
}

describeKafka('experiment run --transport kafka, generation task (quickstart-g2p shape)', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-gen-e2e-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('caches both stacks and the top-k into the topic, trains three students at once from it, and equals embedded mode', async () => {
    const name = uniqueName('g2p').replace(/[^a-z0-9-]/g, '-');
    const quiet = () => undefined;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // Records above this size are split into chunks (a record here is 1-3 KB): the students must reassemble them.
    const chunk = process.env.STRATA_KAFKA_CHUNK_BYTES;
    process.env.STRATA_KAFKA_CHUNK_BYTES = '512';
    let embedded: ExperimentResults;
    let streamed: ExperimentResults;
    const embeddedDir = path.join(dir, 'embedded', name);
    const kafkaDir = path.join(dir, 'kafka', name);
    const t0 = Date.now();
    try {
      embedded = (await runExperiment(g2pManifest(path.join(dir, 'file.yaml'), name, 'file'), { outDir: embeddedDir, log: quiet })).results;
      const t1 = Date.now();
      streamed = (await runExperimentOverKafka(g2pManifest(path.join(dir, 'kafka.yaml'), name, 'kafka'), { outDir: kafkaDir, brokers, parallelism: 3, log: quiet })).results;
      process.stdout.write(`generation e2e: embedded ${((t1 - t0) / 1000).toFixed(0)} s, over Kafka ${((Date.now() - t1) / 1000).toFixed(0)} s\n`);
    } finally {
      if (chunk === undefined) delete process.env.STRATA_KAFKA_CHUNK_BYTES;
      else process.env.STRATA_KAFKA_CHUNK_BYTES = chunk;
      stderr.mockRestore();
    }

    const ids = ['none-copy-d2-s1', 'forward-copy-d2-s1', 'reverse-copy-d2-s1'];
    expect(streamed.cells.map((c) => c.id)).toEqual(ids);
    expect(embedded.cells.map((c) => c.id)).toEqual(ids);
    // The same teacher, trained twice from the same seed.
    expect(streamed.teacher.hash).toBe(embedded.teacher.hash);
    expect(streamed.teacher.metrics).toEqual(embedded.teacher.metrics);
    for (const c of streamed.cells) {
      const e = embedded.cells.find((x) => x.id === c.id)!;
      expect(c.hash).toBe(e.hash);
      expect(c.stackMaps).toEqual(e.stackMaps);
      expect(Object.keys(c.metrics).sort()).toEqual(['bleu', 'per', 'word_accuracy']);
      expect(c.metrics).toEqual(e.metrics);
      expect(c.steps).toBe(e.steps);
      expect(c.student).toEqual(e.student);
      // Byte-identical students: the same records in the same batches, whichever transport carried them.
      const a = fs.readFileSync(path.join(kafkaDir, 'students', `${c.id}.onnx`));
      const b = fs.readFileSync(path.join(embeddedDir, 'students', `${c.id}.onnx`));
      expect(a.equals(b)).toBe(true);
      expect(c.curves).toEqual(e.curves);
    }
    expect(streamed.cells.find((c) => c.id === 'reverse-copy-d2-s1')!.stackMaps).toEqual({ encoder: [[0, 0], [1, 3], [2, 2]], decoder: [[0, 0], [1, 3], [2, 2]] });
    expect(streamed.cells.find((c) => c.id === 'forward-copy-d2-s1')!.stackMaps).toEqual({ encoder: [[0, 0], [1, 2], [2, 3]], decoder: [[0, 0], [1, 2], [2, 3]] });
    // The students learned something, and differently (the metrics compared above are not all the untrained ones).
    expect(new Set(streamed.cells.map((c) => JSON.stringify(c.curves.loss))).size).toBe(3);
    expect(Math.min(...streamed.cells.map((c) => c.metrics.per))).toBeLessThan(100);
    expect(Math.max(...streamed.cells.map((c) => c.metrics.bleu))).toBeGreaterThan(0);
    expect(streamed.angles?.map((a) => a.cellId)).toEqual(embedded.angles?.map((a) => a.cellId));
    streamed.angles!.forEach((a, i) => a.layers.forEach((l, j) => expect(l.acuteFraction).toBe(embedded.angles![i].layers[j].acuteFraction)));
    const setup = (r: ExperimentResults) => (r as ExperimentResults & { setup: Record<string, unknown> }).setup;
    expect(setup(streamed)).toEqual(setup(embedded));
    for (const f of ['results.json', 'report.md', 'students/reverse-copy-d2-s1/predictions.jsonl']) expect(fs.existsSync(path.join(kafkaDir, f))).toBe(true);
    expect(fs.readFileSync(path.join(kafkaDir, 'report.md'), 'utf8')).toContain('| reverse-copy-d2-s1 | encoder: 0→0, 1→3, 2→2; decoder: 0→0, 1→3, 2→2 |');
    // teacher-inference cached two records per example (the encoder's and the decoder's), in chunks: the topic holds
    // more messages than records.
    const jobs = path.join(dir, 'kafka', 'teacher-inference', 'jobs');
    const job = JSON.parse(fs.readFileSync(path.join(jobs, fs.readdirSync(jobs).find((f) => f.endsWith('.json'))!), 'utf8')) as { cacheKey: string; state: string; produced: number; total: number };
    expect(job).toMatchObject({ state: 'complete', produced: TRAIN, total: TRAIN });
    const client = createKafkaClient({ brokers });
    let events: RunEvent[] = [];
    try {
      const messages = [...(await client.endOffsets(`strata.acts.${job.cacheKey}`)).values()].reduce((x, y) => x + y, 0n);
      expect(messages).toBeGreaterThan(2n * BigInt(TRAIN));

      // The three student-trainers read the topic concurrently: each one trained while another did.
      events = await readRunEvents(client, uniqueName('gen-events'), name);
    } finally {
      await client.close();
    }
    const spans = ids.map((id) => {
      const at = (type: string) => events.filter((e) => e.type === type && e.cellId === id).map((e) => Date.parse(e.at));
      expect(at('started')).toHaveLength(1);
      expect(at('finished')).toHaveLength(1);
      return { id, start: at('started')[0], end: at('finished')[0] };
    });
    for (const a of spans) expect(spans.filter((b) => b !== a && b.start < a.end && a.start < b.end).map((b) => b.id)).not.toEqual([]);
  });
});

describeKafka('experiment run --transport kafka --cells, generation task', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-gen-cells-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains the chosen cells, writes partial generation results naming the rest, and completes the grid on the next run', async () => {
    const name = uniqueName('g2p-cells').replace(/[^a-z0-9-]/g, '-');
    const file = path.join(dir, 'kafka.yaml');
    fs.writeFileSync(file, [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', `metadata: { name: ${name} }`, 'spec:', '  task: cmudict-g2p',
      '  teacher: { train: { layers: 2, hidden: 16, heads: 2, intermediate: 32, maxLength: 16, maxTargetLength: 16, vocabSize: 128, tokenizer: word-level, epochs: 1, batchSize: 32, lr: 0.002 } }',
      '  cache: { store: kafka, topK: 8 }', '  students: { depths: [1], inits: [copy], strategies: [none, reverse], seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { beam: 1 }', '  analysis: { angles: false }', '  data: { maxTrainExamples: 128, maxEvalExamples: 8 }', '',
    ].join('\n'));
    const outDir = path.join(dir, 'runs', name);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const first = await runExperimentOverKafka(file, { outDir, brokers, parallelism: 2, cells: ['reverse-copy-d1-s1'], log: () => undefined, evaluatorTimeoutMs: 120_000 });
      expect(first.results.cells.map((c) => c.id)).toEqual(['reverse-copy-d1-s1']);
      expect(first.results.missingCells).toEqual(['none-copy-d1-s1']);
      expect(Object.keys(first.results.cells[0].metrics).sort()).toEqual(['bleu', 'per', 'word_accuracy']);
      expect(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')).toContain('**Partial results:** 1 of 2 cells of the grid have finished');

      const second = await runExperimentOverKafka(file, { outDir, brokers, parallelism: 2, cells: ['none-copy-d1-s1'], log: () => undefined, evaluatorTimeoutMs: 120_000 });
      expect(second.results.cells.map((c) => c.id)).toEqual(['none-copy-d1-s1', 'reverse-copy-d1-s1']);
      expect(second.results.missingCells).toBeUndefined();
      // The first run's cell was kept (same hash), not retrained.
      expect(second.results.cells[1].hash).toBe(first.results.cells[0].hash);
      expect(second.results.cells[1].metrics).toEqual(first.results.cells[0].metrics);
    } finally {
      stderr.mockRestore();
    }
  });
});
