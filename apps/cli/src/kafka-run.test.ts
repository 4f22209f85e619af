// End to end on a tiny task against the real broker: one teacher-inference, five concurrent student-trainers and one
// evaluator produce complete results, equal to embedded mode's for the same teacher and seeds, while a stray evaluator
// (another one on the same broker, in the default consumer group) runs beside them: the run's evaluator reads in a
// group of its own and still receives every event. One run checks both (each would otherwise train its own teacher
// and run its own grid).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunEvents, runExperiment, trainTinyTeacher, writeTinyManifest, type ExperimentResults, type RunEvent } from '@strata/experiment';
import { createKafkaClient, describeKafka, uniqueName } from '@strata/kafka';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

describeKafka('experiment run --transport kafka (beside another evaluator on the same broker)', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the grid through the services and writes the same results as embedded mode; a stray evaluator does not take its events', async () => {
    // A stray evaluator as apps/evaluator/README.md starts one: the default consumer group, another artifact root.
    const { startServiceProcess, stopServiceProcess } = await import('@strata/service');
    const strayRoot = path.join(dir, 'stray');
    fs.mkdirSync(strayRoot, { recursive: true });
    const stray = await startServiceProcess('evaluator', require.resolve('@strata/evaluator/bin/evaluator.js'), { ...process.env, STRATA_ARTIFACTS: strayRoot, STRATA_BROKERS: brokers, STRATA_PORT: '0' }, path.join(dir, 'stray.log'));
    const name = uniqueName('e2e').replace(/[^a-z0-9-]/g, '-');
    let embedded: ExperimentResults;
    let streamed: ExperimentResults;
    try {
      await trainTinyTeacher(path.join(dir, 'T'), 600);
      const teacher = path.join(dir, 'T', 'teacher.onnx');
      const kafkaManifest = writeTinyManifest(path.join(dir, 'kafka.yaml'), name, teacher, { store: 'kafka' });
      const fileManifest = writeTinyManifest(path.join(dir, 'file.yaml'), name, teacher, { store: 'file' });
      const quiet = () => undefined;
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        embedded = (await runExperiment(fileManifest, { outDir: path.join(dir, 'embedded', name), log: quiet })).results;
        streamed = (await runExperimentOverKafka(kafkaManifest, { outDir: path.join(dir, 'kafka', name), brokers, parallelism: 5, log: quiet, evaluatorTimeoutMs: 120_000 })).results;
      } finally {
        stderr.mockRestore();
      }
    } finally {
      await stopServiceProcess(stray);
    }

    expect(streamed.cells.map((c) => c.id)).toEqual(['none-random-d1-s1', 'forward-random-d1-s1', 'reverse-random-d1-s1', 'all-to-one-random-d1-s1', 'out-of-order-random-random-d1-s1']);
    for (const c of streamed.cells) {
      const e = embedded.cells.find((x) => x.id === c.id)!;
      expect(Object.keys(c.metrics).sort()).toEqual(['accuracy', 'f1']);
      for (const [k, v] of Object.entries(c.metrics)) expect(Math.abs(v - e.metrics[k])).toBeLessThanOrEqual(1e-6);
      expect(c.layerMap).toEqual(e.layerMap);
      expect(c.hash).toBe(e.hash);
    }
    // The students did learn something, and differently: not every cell sits at the majority class.
    expect(new Set(streamed.cells.map((c) => c.metrics.accuracy)).size).toBeGreaterThan(1);
    expect(streamed.angles?.length).toBe(4);
    streamed.angles!.forEach((a, i) => a.layers.forEach((l, j) => expect(Math.abs(l.acuteFraction - embedded.angles![i].layers[j].acuteFraction)).toBeLessThanOrEqual(1e-6)));
    for (const f of ['results.json', 'report.md', 'plots/curves-random.svg']) expect(fs.existsSync(path.join(dir, 'kafka', name, f))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'kafka', name, 'report.md'), 'utf8')).toContain('Forward');

    // The stray evaluator saw the run's events and said it ignores them (the run completed all the same, above) ...
    const strayLog = fs.readFileSync(path.join(dir, 'stray.log'), 'utf8');
    expect(strayLog).toMatch(/ignoring events of a run this evaluator has not registered/);
    // ... and, started without a token on loopback, it warned at start.
    expect(strayLog).toMatch(/no STRATA_TOKEN: mutating requests are accepted without authentication/);

    // The five student-trainers overlapped: every one had started before the first finished.
    const client = createKafkaClient({ brokers });
    let events: RunEvent[];
    try {
      events = await readRunEvents(client, uniqueName('e2e-events'), name);
    } finally {
      await client.close();
    }
    const started = events.filter((e) => e.type === 'started').map((e) => Date.parse(e.at));
    const finished = events.filter((e) => e.type === 'finished').map((e) => Date.parse(e.at));
    expect(started).toHaveLength(5);
    expect(finished).toHaveLength(5);
    expect(Math.max(...started)).toBeLessThan(Math.min(...finished));
  });
});
