// student-trainer as a real process against the real broker: a run SIGKILLed mid-epoch and restarted ends with the
// same parameters as an uninterrupted one; a corrupted record stops its run with an error naming the example id and
// offset while a run on a healthy cache, at the same time, finishes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaCacheWriter, actsTopic, encodeRecord, recordMessages } from '@strata/activations';
import { RUNS_TOPIC, RUNS_TOPIC_SPEC, RunEventPublisher, experimentGrid, fillCache, loadTeacher, parseManifest, parseRunEvent, prepareCache, trainTinyTeacher, tinyManifestYaml, type RunEvent } from '@strata/experiment';
import { createKafkaClient, describeKafka, uniqueName, type KafkaClient } from '@strata/kafka';
import { cellFromArgs, pickCell } from './index';

jest.setTimeout(300_000);

const BIN = path.join(__dirname, '..', 'bin', 'student-trainer.js');
const EXAMPLES = 400;

function trainer(args: string[], env: NodeJS.ProcessEnv, logFile: string) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal === 'SIGKILL' ? 137 : 1))));
  return { child, exited };
}

describe('cell selection', () => {
  it('takes --cell, --cell-index or JOB_COMPLETION_INDEX, and names what is wrong', () => {
    expect(cellFromArgs({ cell: 'forward-random-d1-s1' }, {})).toEqual({ id: 'forward-random-d1-s1' });
    expect(cellFromArgs({ cellIndex: 2 }, {})).toEqual({ index: 2 });
    expect(cellFromArgs({}, { JOB_COMPLETION_INDEX: '4' })).toEqual({ index: 4 });
    expect(() => cellFromArgs({}, {})).toThrow(/which cell\?/);
    expect(() => cellFromArgs({ cell: 'a', cellIndex: 1 }, {})).toThrow('give --cell or --cell-index, not both');
    const cells = experimentGrid(parseManifest(tinyManifestYaml('pick', 't.onnx', { store: 'kafka' })), 2).cells;
    expect(pickCell(cells, { index: 1 }, 'pick').id).toBe('forward-random-d1-s1');
    expect(() => pickCell(cells, { index: 5 }, 'pick')).toThrow("cell index 5 is outside 0..4 of experiment pick's 5 cells");
    expect(() => pickCell(cells, { id: 'nope' }, 'pick')).toThrow(/experiment pick has no cell 'nope'; its cells: none-random-d1-s1, forward-random-d1-s1/);
  });
});

describeKafka('student-trainer', (brokers) => {
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-st-'));
  const env = { ...process.env, STRATA_ARTIFACTS: artifacts, STRATA_BROKERS: brokers, STRATA_PROGRESS_EVERY_MS: '0', STRATA_THREADS: '1' };
  let client: KafkaClient;

  /** An experiment dir with the teacher and its cache in Kafka; `corrupt` flips a byte of one record. */
  /** The broker keeps earlier runs' events and the watchers read from the start: names of this run only. */
  const names = { kill: uniqueName('kill'), healthy: uniqueName('healthy'), corrupt: uniqueName('corrupt'), listen: uniqueName('listen') };

  // Teachers of this run only, too: the cache key hashes the teacher, and the broker keeps earlier runs' caches. The
  // experiments on a healthy cache share one teacher (so one cache, filled once: a second fill finds every record
  // there); the corrupted cache has a teacher, and so a cache key, of its own.
  const runSeed = 1000 + Math.floor(Math.random() * 1e6);

  const trained = new Map<number, string>();

  async function experiment(name: string, teacherSeed: number, corrupt?: number): Promise<{ manifest: string; cacheKey: string }> {
    const teacherDir = path.join(artifacts, name, 'teacher');
    const earlier = trained.get(teacherSeed);
    if (earlier) fs.cpSync(earlier, teacherDir, { recursive: true });
    else {
      await trainTinyTeacher(teacherDir, EXAMPLES, runSeed + teacherSeed);
      trained.set(teacherSeed, teacherDir);
    }
    const manifest = path.join(artifacts, name, 'manifest.yaml');
    fs.writeFileSync(manifest, tinyManifestYaml(name, path.join(teacherDir, 'teacher.onnx'), { examples: EXAMPLES, epochs: 3, strategies: ['none', 'forward'] }));
    const teacher = loadTeacher(path.join(teacherDir, 'teacher.onnx'));
    const m = parseManifest(fs.readFileSync(manifest, 'utf8'));
    const { cacheLayers } = experimentGrid(m, teacher.config.layers);
    const prepared = await prepareCache({ teacher, task: 'spam', split: 'train', layers: cacheLayers, dtype: 'float16', maxExamples: EXAMPLES });
    const writer = await KafkaCacheWriter.open(client, prepared.cacheKey);
    if (corrupt === undefined) {
      await fillCache(teacher, prepared, writer);
    } else {
      // Fill through a writer that damages one record's bytes on their way out.
      let n = 0;
      const producer = await client.producer();
      const damaging = {
        cacheKey: writer.cacheKey,
        get count() { return n; },
        has: () => false,
        isComplete: () => false,
        appendBatch: async (records: Parameters<KafkaCacheWriter['appendBatch']>[0]) => {
          const msgs = records.flatMap((r) => {
            const bytes = r instanceof Uint8Array ? r : encodeRecord(r);
            if (n++ === corrupt) bytes[40] ^= 0x10;
            return recordMessages((r as { exampleId: string }).exampleId, bytes, prepared.cacheKey);
          });
          await producer.send(actsTopic(prepared.cacheKey), msgs);
        },
        complete: async () => undefined,
        close: async () => producer.close(),
      };
      await fillCache(teacher, prepared, damaging);
      await damaging.close();
    }
    await writer.close();
    return { manifest, cacheKey: prepared.cacheKey };
  }

  beforeAll(async () => {
    client = createKafkaClient({ brokers, clientId: 'st-test' });
    // The tests watch strata.runs from the start, before any trainer has created it.
    await client.ensureTopics([RUNS_TOPIC_SPEC]);
  });
  afterAll(async () => {
    await client.close();
    fs.rmSync(artifacts, { recursive: true, force: true });
  });

  it('a run killed mid-epoch and restarted ends with the same parameters as an uninterrupted run', async () => {
    const { manifest } = await experiment(names.kill, 1);
    // The same experiment in a second directory (same teacher bytes, so the same cache) for the interrupted run.
    fs.cpSync(path.join(artifacts, names.kill, 'teacher'), path.join(artifacts, 'kill2', 'teacher'), { recursive: true });
    const args = (dir: string) => ['--manifest', manifest, '--dir', dir, '--cell', 'forward-random-d1-s1'];
    const whole = trainer(args(names.kill), env, path.join(artifacts, 'whole.log'));
    expect(await whole.exited).toBe(0);

    // Watch the interrupted run's progress events and kill it inside its second epoch (13 steps per epoch),
    // between checkpoints (every 5 steps).
    const events = await client.read(RUNS_TOPIC, { groupId: uniqueName('watch'), from: 'earliest' });
    const run = trainer([...args('kill2'), '--checkpoint-every', '5'], env, path.join(artifacts, 'killed.log'));
    let killedAt = -1;
    for await (const batch of events) {
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (e?.type === 'progress' && e.experiment === names.kill && e.cellId === 'forward-random-d1-s1' && e.step >= 21 && killedAt < 0 && run.child.exitCode === null) {
          const ckpt = path.join(artifacts, 'kill2', 'students', 'forward-random-d1-s1', 'student.ckpt');
          if (!fs.existsSync(ckpt)) continue;
          run.child.kill('SIGKILL');
          killedAt = e.step;
        }
      }
      if (killedAt >= 0) break;
    }
    await events.close();
    expect(await run.exited).toBe(137);
    expect(killedAt).toBeGreaterThanOrEqual(21);
    expect(fs.existsSync(path.join(artifacts, 'kill2', 'students', 'forward-random-d1-s1.onnx'))).toBe(false);

    const resumed = trainer([...args('kill2'), '--checkpoint-every', '5'], env, path.join(artifacts, 'resumed.log'));
    expect(await resumed.exited).toBe(0);
    // The kill lands a little after step 21 (progress events travel through the broker; on a loaded machine they lag
    // by a few steps), so the resume point is the last checkpoint before it: every 5 steps or an epoch's end (13, 26).
    const resumedFrom = Number(/resuming from step (\d+)\b/.exec(fs.readFileSync(path.join(artifacts, 'resumed.log'), 'utf8'))?.[1]);
    expect(resumedFrom).toBeGreaterThanOrEqual(15);
    expect(resumedFrom).toBeLessThan(39);
    expect(resumedFrom % 5 === 0 || resumedFrom % 13 === 0).toBe(true);
    const a = fs.readFileSync(path.join(artifacts, names.kill, 'students', 'forward-random-d1-s1.onnx'));
    const b = fs.readFileSync(path.join(artifacts, 'kill2', 'students', 'forward-random-d1-s1.onnx'));
    expect(Buffer.compare(a, b)).toBe(0);
    const ta = JSON.parse(fs.readFileSync(path.join(artifacts, names.kill, 'students', 'forward-random-d1-s1', 'training.json'), 'utf8'));
    const tb = JSON.parse(fs.readFileSync(path.join(artifacts, 'kill2', 'students', 'forward-random-d1-s1', 'training.json'), 'utf8'));
    expect(tb.curve).toEqual(ta.curve);
    expect(tb.hash).toBe(ta.hash);

    // A second start of a finished cell trains nothing and says so.
    const again = trainer(args(names.kill), env, path.join(artifacts, 'again.log'));
    expect(await again.exited).toBe(0);
    expect(fs.readFileSync(path.join(artifacts, 'again.log'), 'utf8')).toContain('finished earlier');

    // SIGTERM (an eviction) instead of SIGKILL: the run checkpoints at the step it is at, off the checkpoint cadence,
    // exits 143, and restarted resumes from exactly that step to the same student.
    fs.cpSync(path.join(artifacts, names.kill, 'teacher'), path.join(artifacts, 'term2', 'teacher'), { recursive: true });
    const watch = await client.read(RUNS_TOPIC, { groupId: uniqueName('watch-term'), from: 'earliest' });
    const termed = trainer(args('term2'), env, path.join(artifacts, 'termed.log'));
    let signalled = false;
    for await (const batch of watch) {
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (!signalled && e?.type === 'progress' && e.experiment === names.kill && e.step >= 8 && termed.child.exitCode === null && fs.existsSync(path.join(artifacts, 'term2', 'students', 'forward-random-d1-s1'))) {
          termed.child.kill('SIGTERM');
          signalled = true;
        }
      }
      if (signalled) break;
    }
    await watch.close();
    expect(await termed.exited).toBe(143);
    const stoppedAt = Number(/stopped by SIGTERM after step (\d+); checkpoint saved/.exec(fs.readFileSync(path.join(artifacts, 'termed.log'), 'utf8'))?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(8);
    expect(stoppedAt).toBeLessThan(39);
    const restarted = trainer(args('term2'), env, path.join(artifacts, 'restarted.log'));
    expect(await restarted.exited).toBe(0);
    expect(fs.readFileSync(path.join(artifacts, 'restarted.log'), 'utf8')).toContain(`resuming from step ${stoppedAt} `);
    expect(Buffer.compare(fs.readFileSync(path.join(artifacts, 'term2', 'students', 'forward-random-d1-s1.onnx')), a)).toBe(0);
  });

  it('a corrupted record stops its run with the example id and offset; a run on a healthy cache finishes', async () => {
    const healthy = await experiment(names.healthy, 1);
    const bad = await experiment(names.corrupt, 5, 123);
    const events = await client.read(RUNS_TOPIC, { groupId: uniqueName('watch-corrupt'), from: 'earliest' });
    const badRun = trainer(['--manifest', bad.manifest, '--cell', 'forward-random-d1-s1'], env, path.join(artifacts, 'corrupt.log'));
    const goodRun = trainer(['--manifest', healthy.manifest, '--cell', 'forward-random-d1-s1'], env, path.join(artifacts, 'healthy.log'));
    const [badCode, goodCode] = await Promise.all([badRun.exited, goodRun.exited]);
    expect(badCode).toBe(1);
    expect(goodCode).toBe(0);
    const message = fs.readFileSync(path.join(artifacts, 'corrupt.log'), 'utf8');
    // The final error is one JSON record (STRATA_LOG_FORMAT defaults to json) of level error.
    const record = message.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string }).find((r) => r.level === 'error');
    const line = record?.msg ?? '';
    expect(line).toMatch(/^student-trainer: /);
    expect(line).toContain(`${actsTopic(bad.cacheKey)}/0@`);
    expect(line).toMatch(/\/0@\d+: example '[^']+': activation record checksum mismatch/);
    let failed: RunEvent | undefined;
    let finished: RunEvent | undefined;
    for await (const batch of events) {
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (e?.type === 'failed' && e.experiment === names.corrupt) failed = e;
        if (e?.type === 'finished' && e.experiment === names.healthy) finished = e;
      }
      if (failed && finished) break;
    }
    await events.close();
    expect(failed && failed.type === 'failed' && failed.error).toMatch(/\/0@\d+: example '[^']+': activation record checksum mismatch/);
    expect(finished && finished.type === 'finished' && finished.onnx).toBe(`${names.healthy}/students/forward-random-d1-s1.onnx`);
    expect(finished && finished.type === 'finished' && finished.metrics).toEqual({ trainLoss: expect.any(Number), steps: 39, trainSeconds: expect.any(Number) });
  });

  it('--listen trains a cell requested on strata.runs and stops on SIGTERM', async () => {
    const { manifest } = await experiment(names.listen, 1);
    const group = uniqueName('listeners');
    const listener = trainer(['--listen', '--group', group], env, path.join(artifacts, 'listen.log'));
    const events = await client.read(RUNS_TOPIC, { groupId: uniqueName('watch-listen'), from: 'earliest' });
    const publisher = new RunEventPublisher(client);
    await publisher.publish({ type: 'requested', experiment: names.listen, cellId: 'none-random-d1-s1', manifest: JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(manifest, 'utf8')))) });
    await publisher.close();
    let finished: RunEvent | undefined;
    for await (const batch of events) {
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (e && e.experiment === names.listen && (e.type === 'finished' || e.type === 'failed')) finished = e;
      }
      if (finished) break;
    }
    await events.close();
    expect(finished?.type).toBe('finished');
    expect(fs.existsSync(path.join(artifacts, names.listen, 'students', 'none-random-d1-s1.onnx'))).toBe(true);
    listener.child.kill('SIGTERM');
    expect(await listener.exited).toBe(0);

    // SIGTERM while a cell trains: it checkpoints and the listener exits 0 without committing the request, so the
    // group's next trainer takes it up and resumes from that step. Ten epochs (130 steps) so that it is mid-way.
    const longer = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(manifest, 'utf8'))));
    longer.spec.students.epochs = 10;
    const group2 = uniqueName('listeners');
    const first = trainer(['--listen', '--group', group2], env, path.join(artifacts, 'listen-1.log'));
    const watch = await client.read(RUNS_TOPIC, { groupId: uniqueName('watch-listen-term'), from: 'earliest' });
    const requester = new RunEventPublisher(client);
    await requester.publish({ type: 'requested', experiment: names.listen, cellId: 'forward-random-d1-s1', manifest: longer });
    await requester.close();
    let second: ReturnType<typeof trainer> | undefined;
    let resumedFrom: number | undefined;
    let done: RunEvent | undefined;
    for await (const batch of watch) {
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (e?.experiment !== names.listen || e.cellId !== 'forward-random-d1-s1') continue;
        if (!second && e.type === 'progress' && e.step >= 5) {
          first.child.kill('SIGTERM');
          expect(await first.exited).toBe(0);
          second = trainer(['--listen', '--group', group2], env, path.join(artifacts, 'listen-2.log'));
        }
        if (second && e.type === 'started') resumedFrom = e.resumedFromStep;
        if (second && (e.type === 'finished' || e.type === 'failed')) done = e;
      }
      if (done) break;
    }
    await watch.close();
    const stoppedAt = Number(/stopped by SIGTERM after step (\d+); checkpoint saved/.exec(fs.readFileSync(path.join(artifacts, 'listen-1.log'), 'utf8'))?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(5);
    expect(resumedFrom).toBe(stoppedAt);
    expect(done?.type).toBe('finished');
    second!.child.kill('SIGTERM');
    expect(await second!.exited).toBe(0);
  });
});
