import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serviceClient, ServiceError } from './services';

interface Seen {
  method: string;
  url: string;
  auth?: string;
  body: unknown;
}

let server: http.Server;
let base = '';
const seen: Seen[] = [];
let reply: (req: Seen) => [number, unknown] = () => [200, {}];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, auth: req.headers.authorization, body: data ? JSON.parse(data) : undefined };
      seen.push(s);
      const [status, body] = reply(s);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (seen.length = 0));

const client = () => serviceClient({ teacherInferenceUrl: base, evaluatorUrl: `${base}/`, token: 's3cret' });
const body = { experiment: 'e', teacher: 'e/teacher/teacher.onnx', task: 'sst2', split: 'train', layers: [0, 4], dtype: 'float16' };

describe('serviceClient', () => {
  it('POSTs the cache request with the bearer token and reads the answer (202 started, 200 joined)', async () => {
    reply = () => [202, { cacheKey: 'k1', topic: 'strata.acts.k1', state: 'queued' }];
    expect(await client().requestCache(body)).toEqual({ ok: true, cacheKey: 'k1', topic: 'strata.acts.k1', state: 'queued' });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/caches', auth: 'Bearer s3cret', body }]);
    reply = () => [200, { cacheKey: 'k1', topic: 'strata.acts.k1', state: 'running', produced: 5, total: 9 }];
    expect(await client().getCache('k1')).toEqual({ ok: true, cacheKey: 'k1', topic: 'strata.acts.k1', state: 'running', produced: 5, total: 9 });
    expect(seen[1]).toEqual({ method: 'GET', url: '/v1/caches/k1', auth: undefined, body: undefined });
  });

  it('registers the manifest with the evaluator and reads its results', async () => {
    reply = (s) => (s.method === 'POST' ? [200, { name: 'e' }] : [200, { complete: true, cells: [{}, {}] }]);
    await client().register({ metadata: { name: 'e' } } as never);
    expect(seen[0]).toEqual({ method: 'POST', url: '/v1/experiments', auth: 'Bearer s3cret', body: { manifest: { metadata: { name: 'e' } } } });
    expect(await client().getResults('e')).toEqual({ complete: true, cellsDone: 2 });
    expect(seen[1].url).toBe('/v1/experiments/e/results');
    reply = () => [404, { error: 'no experiment e' }];
    expect(await client().getResults('e')).toEqual({ complete: false, cellsDone: 0 });
  });

  it("reports the service's error message and status", async () => {
    reply = () => [400, { error: 'layers[1]: must be at most 12' }];
    const e = await client().requestCache(body).catch((x) => x);
    expect(e).toBeInstanceOf(ServiceError);
    expect(e.message).toBe('teacher-inference POST /v1/caches: 400 layers[1]: must be at most 12');
    expect(e.status).toBe(400);
    reply = () => [200, { nope: true }];
    await expect(client().requestCache(body)).rejects.toThrow('teacher-inference POST /v1/caches: expected { cacheKey, topic, state }, got {"nope":true}');
  });

  it('names the service it could not reach', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = serviceClient({ teacherInferenceUrl: base, evaluatorUrl: `http://127.0.0.1:${port}` });
    await expect(down.register({} as never)).rejects.toThrow(`evaluator POST /v1/experiments: ECONNREFUSED (http://127.0.0.1:${port}/v1/experiments)`);
  });
});
