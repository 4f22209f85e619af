import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { HttpError, confinePath, createServiceApp, errorHandler, isLoopback, listen, parseBody, serviceConfig, serviceLogFormat, type Listening } from './index';

describe('serviceConfig', () => {
  it('defaults to loopback and names a bad variable', () => {
    const c = serviceConfig(8081, { STRATA_ARTIFACTS: os.tmpdir() });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8081, token: undefined, brokers: '127.0.0.1:9092' });
    expect(() => serviceConfig(8081, { STRATA_PORT: 'eighty' })).toThrow("STRATA_PORT='eighty' is not a port number");
    expect(() => serviceConfig(8081, { STRATA_TOKEN: 'short' })).toThrow('STRATA_TOKEN must be at least 16 characters');
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tok-')), 'token');
    fs.writeFileSync(f, 'a-long-enough-token-value\n');
    expect(serviceConfig(1, { STRATA_TOKEN_FILE: f, STRATA_ARTIFACTS: os.tmpdir() }).token).toBe('a-long-enough-token-value');
  });
});

describe('serviceConfig: no token', () => {
  it('refuses to bind beyond loopback without a token, and allows it with one', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'my-host.example']) {
      expect(() => serviceConfig(1, { STRATA_HOST: host, STRATA_ARTIFACTS: os.tmpdir() })).toThrow(
        `STRATA_HOST='${host}' is reachable from other machines, and no STRATA_TOKEN or STRATA_TOKEN_FILE is set`,
      );
      expect(serviceConfig(1, { STRATA_HOST: host, STRATA_TOKEN: 'a-long-enough-token-value', STRATA_ARTIFACTS: os.tmpdir() }).host).toBe(host);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(serviceConfig(1, { STRATA_HOST: host, STRATA_ARTIFACTS: os.tmpdir() }).token).toBeUndefined();
      expect(isLoopback(host)).toBe(true);
    }
    expect(isLoopback('128.0.0.1')).toBe(false);
  });
});

describe('confinePath', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'root-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
  fs.mkdirSync(path.join(root, 'exp'));
  fs.symlinkSync(outside, path.join(root, 'exp', 'escape'));

  it('resolves paths inside the root, existing or not', () => {
    expect(confinePath(root, 'exp/teacher/teacher.onnx')).toBe(path.join(fs.realpathSync(root), 'exp/teacher/teacher.onnx'));
    expect(confinePath(root, path.join(root, 'exp'))).toBe(path.join(fs.realpathSync(root), 'exp'));
  });
  it('refuses .., absolute paths elsewhere and symbolic links that leave the root', () => {
    expect(() => confinePath(root, '../etc/passwd', 'teacher')).toThrow(/^teacher: '..\/etc\/passwd' is outside the configured root/);
    expect(() => confinePath(root, '/etc/passwd')).toThrow(/outside the configured root/);
    expect(() => confinePath(root, 'exp/escape/model.onnx')).toThrow(/outside the configured root/);
  });
});

describe('service app', () => {
  let l: Listening;
  let ready = false;
  const token = 'test-token-0123456789';
  beforeAll(async () => {
    const { app, log } = createServiceApp({ name: 'test', token, ready: () => ready, logLevel: 'silent' });
    const schema = z.strictObject({ name: z.string().min(1), layers: z.array(z.int().nonnegative()) });
    app.post('/v1/things', (req, res) => {
      const body = parseBody(schema, req.body);
      res.status(201).json(body);
    });
    app.get('/v1/boom', () => {
      throw new HttpError(404, 'no such thing');
    });
    app.use(errorHandler(log));
    l = await listen(app, '127.0.0.1', 0);
  });
  afterAll(() => new Promise<void>((r) => l.server.close(() => r())));

  const post = (body: string, auth?: string) => fetch(`${l.url}/v1/things`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });

  it('binds a free port on loopback and answers health, readiness and metrics', async () => {
    expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${l.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${l.url}/readyz`)).status).toBe(503);
    ready = true;
    expect(await (await fetch(`${l.url}/readyz`)).json()).toEqual({ ready: true });
    const metrics = await (await fetch(`${l.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total{service="test"}');
  });

  it('requires the bearer token on mutating requests', async () => {
    expect((await post('{"name":"a","layers":[1]}')).status).toBe(401);
    expect((await post('{"name":"a","layers":[1]}', 'Bearer wrong-token-0123456789')).status).toBe(401);
    const ok = await post('{"name":"a","layers":[1]}', `Bearer ${token}`);
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ name: 'a', layers: [1] });
  });

  it('accepts the bearer scheme in any case (RFC 7235)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) expect((await post('{"name":"a","layers":[1]}', `${scheme} ${token}`)).status).toBe(201);
    expect((await post('{"name":"a","layers":[1]}', `Basic ${token}`)).status).toBe(401);
  });

  it('answers 415 to a body that is not JSON, naming the type it got', async () => {
    const res = await fetch(`${l.url}/v1/things`, { method: 'POST', body: 'name=a', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` } });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: 'send the body as application/json (got text/plain)' });
    const json = await fetch(`${l.url}/v1/things`, { method: 'POST', body: '{"name":"a","layers":[]}', headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` } });
    expect(json.status).toBe(201);
  });

  it('names the field of a bad body, refuses unknown fields, oversized and unparsable bodies', async () => {
    const bad = await post('{"name":"","layers":[-1]}', `Bearer ${token}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^name: .*; layers\[0\]: /);
    expect(((await (await post('{"name":"a","layers":[],"extra":1}', `Bearer ${token}`)).json()) as { error: string }).error).toMatch(/Unrecognized key: "extra"/);
    const big = await post(JSON.stringify({ name: 'x'.repeat(1.1 * 1024 * 1024), layers: [] }), `Bearer ${token}`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('request body larger than 1mb');
    expect((await post('{not json', `Bearer ${token}`)).status).toBe(400);
    const missing = await fetch(`${l.url}/v1/boom`);
    expect([missing.status, ((await missing.json()) as { error: string }).error]).toEqual([404, 'no such thing']);
  });
});

describe('parseBody', () => {
  const schema = z.strictObject({ apiVersion: z.literal('v1'), spec: z.strictObject({ depths: z.array(z.number().int()) }) });
  it('names fields from the body root, with the prefix of a nested document and [i] for list items', () => {
    expect(() => parseBody(schema, { apiVersion: 'v2', spec: { depths: [1, 1.5] } }, 'manifest')).toThrow(
      new HttpError(400, 'manifest.apiVersion: Invalid input: expected "v1"; manifest.spec.depths[1]: Invalid input: expected int, received number'),
    );
    expect(() => parseBody(schema, 'text')).toThrow(/^body: /);
  });
});

describe('service log format', () => {
  it('defaults to json, accepts text, and names the variable otherwise', () => {
    expect(serviceLogFormat({})).toBe('json');
    expect(serviceLogFormat({ STRATA_LOG_FORMAT: 'text' })).toBe('text');
    expect(() => serviceLogFormat({ STRATA_LOG_FORMAT: 'xml' })).toThrow("STRATA_LOG_FORMAT='xml': expected text or json");
  });
});
