// teacher-inference as a real process against the real broker: the HTTP contract, a SIGKILL mid-cache and a SIGTERM
// mid-cache, each followed by a restart that completes the cache with exactly one record per example.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHES_TOPIC, RecordAssembler, actsTopic, readCacheManifest } from '@strata/activations';
import { trainTinyTeacher } from '@strata/experiment';
import { createKafkaClient, describeKafka, uniqueName, type KafkaClient } from '@strata/kafka';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from '@strata/service';

jest.setTimeout(240_000);

const BIN = path.join(__dirname, '..', 'bin', 'teacher-inference.js');
const TOKEN = 'teacher-inference-test-token';
// Cached examples: enough that a kill at 100 (or a SIGTERM at 50) of them, sent one per batch, lands mid-cache.
const EXAMPLES = 300;

interface Status {
  cacheKey: string;
  topic: string;
  state: string;
  produced: number;
  total: number;
  error?: string;
}

/** Every whole record in the topic, counted per example id (a raw scan, no deduplication). */
async function wholeRecordsPerId(client: KafkaClient, topic: string): Promise<Map<string, number>> {
  const end = (await client.endOffsets(topic)).get(0) ?? 0n;
  // By offset: a client may deliver the same message twice (kafkajs re-fetches from the start after a group
  // rebalance), which is not a second record in the topic; a record written twice sits at two offsets.
  const offsets = new Map<string, Set<string>>();
  const assembler = new RecordAssembler();
  let deliveries = 0;
  const reader = await client.read(topic, { groupId: uniqueName('count'), from: 'earliest' });
  try {
    for await (const batch of reader) {
      for (const m of batch) {
        const r = assembler.push(m);
        if (!r) continue;
        deliveries++;
        offsets.set(r.exampleId, (offsets.get(r.exampleId) ?? new Set()).add(`${r.partition}@${r.offset}`));
      }
      if (batch[batch.length - 1].offset >= end - 1n) break;
    }
  } finally {
    await reader.close();
  }
  const distinct = [...offsets.values()].reduce((n, at) => n + at.size, 0);
  // Evidence for the one CI flake: a log then shows whether the client re-delivered (which this counter ignores).
  if (deliveries > distinct) process.stderr.write(`${topic}: the client delivered ${deliveries - distinct} record(s) a second time (not counted)\n`);
  return new Map([...offsets].map(([id, at]) => [id, at.size]));
}

describeKafka('teacher-inference', (brokers) => {
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ti-'));
  const log = path.join(artifacts, 'service.log');
  let client: KafkaClient;
  let svc: ServiceProcess | undefined;
  const env = { ...process.env, STRATA_ARTIFACTS: artifacts, STRATA_BROKERS: brokers, STRATA_PORT: '0', STRATA_TOKEN: TOKEN };
  const start = async () => (svc = await startServiceProcess('teacher-inference', BIN, env, log));
  const post = (body: unknown, token = TOKEN) => fetch(`${svc!.url}/v1/caches`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const status = async (key: string): Promise<Status> => (await (await fetch(`${svc!.url}/v1/caches/${key}`)).json()) as Status;
  const waitFor = async (key: string, done: (s: Status) => boolean, timeoutMs = 120_000) => {
    const t0 = Date.now();
    for (;;) {
      const s = await status(key);
      if (done(s)) return s;
      if (s.state === 'failed') throw new Error(`cache job failed: ${s.error}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`cache job still ${s.state} (${s.produced}/${s.total}) after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // One teacher in three experiments' folders; each asks for other layers, so each has a cache key (a job) of its own.
  const LAYERS: Record<string, number[]> = { a: [0, 1, 2], b: [0, 2], c: [1, 2] };
  const request = (exp: string, batchSize: number) => ({ experiment: exp, teacher: `${exp}/teacher/teacher.onnx`, task: 'spam', split: 'train', layers: LAYERS[exp], dtype: 'float16', maxExamples: EXAMPLES, batchSize });

  beforeAll(async () => {
    client = createKafkaClient({ brokers, clientId: 'ti-test' });
    // A teacher of this run only: the cache key hashes the teacher, and the broker keeps earlier runs' caches.
    const seed = 1000 + Math.floor(Math.random() * 1e6);
    await trainTinyTeacher(path.join(artifacts, 'a', 'teacher'), EXAMPLES, seed);
    for (const exp of ['b', 'c']) fs.cpSync(path.join(artifacts, 'a', 'teacher'), path.join(artifacts, exp, 'teacher'), { recursive: true });
    await start();
  });
  afterAll(async () => {
    if (svc) await stopServiceProcess(svc);
    await client.close();
    fs.rmSync(artifacts, { recursive: true, force: true });
  });

  it('validates requests, requires the token, confines paths, and is idempotent by cache key', async () => {
    expect((await post(request('a', 32), 'wrong-token-000000000000')).status).toBe(401);
    const bad = await post({ ...request('a', 32), layers: [0, 'x'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^layers\[1\]: /);
    const outside = await post({ ...request('a', 32), teacher: '../../etc/passwd' });
    expect(outside.status).toBe(400);
    expect(((await outside.json()) as { error: string }).error).toMatch(/teacher: '..\/..\/etc\/passwd' is outside the configured root/);
    const unknownTask = await post({ ...request('a', 32), task: 'no-such-task' });
    expect(((await unknownTask.json()) as { error: string }).error).toMatch(/^task: unknown task/);
    // Requests that pass the schema but cannot be served: 400 naming the reason, never a 500 with a stack trace.
    fs.writeFileSync(path.join(artifacts, 'a', 'not-onnx.onnx'), 'this is not a protobuf');
    fs.mkdirSync(path.join(artifacts, 'a', 'folder.onnx'), { recursive: true });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ layers: [0, 99] }, /^cache layers: 99 is outside 0\.\.\d+ of the teacher/],
      [{ split: 'no-such-split' }, /no split "no-such-split"/],
      [{ teacher: 'a/not-onnx.onnx' }, /^teacher: 'a\/not-onnx\.onnx' is not a usable ONNX teacher: /],
      [{ teacher: 'a/folder.onnx' }, /^teacher: 'a\/folder\.onnx' is a directory; expected an \.onnx file$/],
    ];
    for (const [change, message] of cases) {
      const res = await post({ ...request('a', 32), ...change });
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(message)]);
    }
    const plain = await fetch(`${svc!.url}/v1/caches`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `bearer ${TOKEN}` }, body: JSON.stringify(request('a', 32)) });
    expect(plain.status).toBe(415);

    const first = await post(request('a', 32));
    expect(first.status).toBe(202);
    const job = (await first.json()) as Status;
    expect(job.topic).toBe(actsTopic(job.cacheKey));
    const again = await post(request('a', 32));
    expect(again.status).toBe(200);
    expect(((await again.json()) as Status).cacheKey).toBe(job.cacheKey);
    const done = await waitFor(job.cacheKey, (s) => s.state === 'complete');
    expect(done.produced).toBe(EXAMPLES);
    expect((await readCacheManifest(client, job.cacheKey))?.count).toBe(EXAMPLES);
    expect((await fetch(`${svc!.url}/v1/caches/nope`)).status).toBe(404);
    const metrics = await (await fetch(`${svc!.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`strata_cache_records_total\\{service="teacher-inference"\\} ${EXAMPLES}\\b`));
    expect(metrics).toMatch(/strata_cache_bytes_total\{service="teacher-inference"\} [1-9]\d+/);
    expect(metrics).toMatch(/strata_cache_jobs\{state="complete",service="teacher-inference"\} 1/);
    expect(metrics).toMatch(/strata_cache_records_per_second\{service="teacher-inference"\} [1-9]/);
    expect((await fetch(`${svc!.url}/readyz`)).status).toBe(200);
  });

  it('killed mid-cache (SIGKILL) and restarted, completes with exactly one record per example', async () => {
    // One example per batch, so the kill lands between two of the sends.
    const job = (await (await post(request('b', 1))).json()) as Status;
    const before = await waitFor(job.cacheKey, (s) => s.produced >= 100);
    svc!.child.kill('SIGKILL');
    await new Promise((r) => svc!.child.once('exit', r));
    expect(before.produced).toBeLessThan(EXAMPLES);
    await start();
    const done = await waitFor(job.cacheKey, (s) => s.state === 'complete');
    expect(done.produced).toBe(EXAMPLES);
    const counts = await wholeRecordsPerId(client, job.topic);
    expect(counts.size).toBe(EXAMPLES);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect((await readCacheManifest(client, job.cacheKey))?.count).toBe(EXAMPLES);
  });

  it('on SIGTERM finishes the batch in flight and exits 0; restarted, it resumes the job', async () => {
    const job = (await (await post(request('c', 1))).json()) as Status;
    await waitFor(job.cacheKey, (s) => s.produced >= 50);
    const t0 = Date.now();
    const code = await stopServiceProcess(svc!);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const saved = JSON.parse(fs.readFileSync(path.join(artifacts, 'teacher-inference', 'jobs', `${job.cacheKey}.json`), 'utf8')) as Status;
    expect(saved.state).toBe('queued');
    expect(saved.produced).toBeGreaterThanOrEqual(50);
    expect(saved.produced).toBeLessThan(EXAMPLES);
    await start();
    await waitFor(job.cacheKey, (s) => s.state === 'complete');
    const counts = await wholeRecordsPerId(client, job.topic);
    expect(counts.size).toBe(EXAMPLES);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  });

  it('a job saved as complete is made again when the broker no longer holds its manifest (completion is what the broker holds)', async () => {
    const first = (await (await post(request('a', 32))).json()) as Status;
    expect(first.state).toBe('complete');
    expect(await stopServiceProcess(svc!)).toBe(0);
    // The broker loses the cache's manifest (a tombstone on the compacted topic): the local job file still says complete.
    const producer = await client.producer();
    await producer.send(CACHES_TOPIC, [{ key: first.cacheKey, value: Buffer.alloc(0) }]);
    await producer.close();
    expect(await readCacheManifest(client, first.cacheKey)).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(artifacts, 'teacher-inference', 'jobs', `${first.cacheKey}.json`), 'utf8')).state).toBe('complete');
    await start();
    await waitFor(first.cacheKey, (s) => s.state === 'complete');
    expect((await readCacheManifest(client, first.cacheKey))?.count).toBe(EXAMPLES);
  });

  it('logs one JSON shape on stderr: pino records and the cache progress lines alike (STRATA_LOG_FORMAT defaults to json)', () => {
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.trim());
    const records = lines.map((l) => JSON.parse(l) as { time: string; level: string; msg: string; name?: string; progress?: unknown });
    for (const r of records) {
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(r.level);
      expect(r.name).toBe('teacher-inference');
    }
    expect(records.some((r) => r.progress)).toBe(true);
    expect(records.some((r) => r.msg === 'teacher-inference listening')).toBe(true);
  });
});
