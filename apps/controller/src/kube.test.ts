// The real controller process (`bin/controller.js run`, client-node informers and API calls) against a fake
// Kubernetes API server on 127.0.0.1: it must list and watch, create the ConfigMap and the teacher Job of a new
// Experiment, merge-patch its status, and serve its health endpoints. (A child process: client-node is an ES module,
// which Jest cannot load.)
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

jest.setTimeout(60_000);

const repo = path.resolve(__dirname, '../../..');
const doc = parse(fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8'));
const experiment = { ...doc, metadata: { name: doc.metadata.name, namespace: 'strata', uid: 'uid-42', generation: 1, resourceVersion: '5' } };

interface Request {
  method: string;
  path: string;
  contentType?: string;
  body?: any;
}

const requests: Request[] = [];
const created = new Map<string, any>();
let status: any;
const watches: http.ServerResponse[] = [];

const api = http.createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    const url = new URL(req.url!, 'http://x');
    const r: Request = { method: req.method!, path: url.pathname, contentType: req.headers['content-type'] };
    if (data) r.body = JSON.parse(data);
    if (url.searchParams.get('watch') === 'true') {
      watches.push(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // an open watch with no events
    }
    requests.push(r);
    const json = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const notFound = () => json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    const p = url.pathname;
    if (req.method === 'GET' && p === '/apis/strata.dev/v1alpha1/namespaces/strata/experiments') return json(200, { apiVersion: 'strata.dev/v1alpha1', kind: 'ExperimentList', metadata: { resourceVersion: '5' }, items: [experiment] });
    if (req.method === 'GET' && p === '/apis/batch/v1/namespaces/strata/jobs') return json(200, { apiVersion: 'batch/v1', kind: 'JobList', metadata: { resourceVersion: '5' }, items: [] });
    if (req.method === 'GET' && p === `/apis/strata.dev/v1alpha1/namespaces/strata/experiments/${experiment.metadata.name}`) return json(200, { ...experiment, ...(status ? { status } : {}) });
    const item = /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/strata\/(configmaps|jobs)\/(.+)$/.exec(p);
    if (req.method === 'GET' && item) return created.has(`${item[1]}/${item[2]}`) ? json(200, created.get(`${item[1]}/${item[2]}`)) : notFound();
    const coll = /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/strata\/(configmaps|jobs)$/.exec(p);
    if (req.method === 'POST' && coll) {
      created.set(`${coll[1]}/${r.body.metadata.name}`, r.body);
      return json(201, r.body);
    }
    if (req.method === 'PATCH' && p.endsWith('/status')) {
      status = { ...(status ?? {}), ...r.body.status };
      return json(200, { ...experiment, status });
    }
    return notFound();
  });
});

let controller: ChildProcess | undefined;
let stderr = '';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kube-'));

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; controller stderr:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  controller?.kill('SIGKILL');
  for (const w of watches) w.destroy();
  await new Promise<void>((r) => api.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('strata-controller run', () => {
  it('creates the ConfigMap and teacher Job of a listed Experiment, patches its status, and is ready', async () => {
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: fake, user: u, namespace: strata } }]
current-context: c
`);
    const port = await freePort();
    controller = spawn(process.execPath, [path.join(repo, 'apps/controller/bin/controller.js'), 'run'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, STRATA_NAMESPACE: 'strata', STRATA_PORT: String(port), STRATA_ARTIFACTS: dir, STRATA_TOKEN: 'x' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    controller.stderr!.on('data', (c) => (stderr += String(c)));

    await until('the status patch', () => status?.phase === 'TrainingTeacher');
    expect([...created.keys()].sort()).toEqual(['configmaps/sst2-layer-selection-manifest', 'jobs/sst2-layer-selection-teacher']);
    expect(created.get('jobs/sst2-layer-selection-teacher').metadata.ownerReferences).toEqual([
      { apiVersion: 'strata.dev/v1alpha1', kind: 'Experiment', name: 'sst2-layer-selection', uid: 'uid-42', controller: true, blockOwnerDeletion: true },
    ]);
    const patch = requests.find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/apis/strata.dev/v1alpha1/namespaces/strata/experiments/sst2-layer-selection/status');
    expect(patch.contentType).toBe('application/merge-patch+json');
    expect(status).toEqual(expect.objectContaining({ cellsTotal: 30, cellsDone: 0, observedGeneration: 1 }));
    await until('the two watches', () => watches.length >= 2);

    const ready = await until('readiness', () => stderr.includes('watching Experiments in namespace strata'));
    expect(ready).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect([health.status, await health.text()]).toEqual([200, 'ready\n']);

    const exited = new Promise<number | null>((r) => controller!.once('exit', (code) => r(code)));
    controller.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Stopping aborts the watches; that is not a failure to report or retry.
    expect(stderr).not.toMatch(/watch of \w+ failed|restarting in 5s|aborted/);
  });

  it('is not ready while the API server refuses connections, and says so once', async () => {
    const closed = await freePort();
    const kubeconfig = path.join(dir, 'kubeconfig-closed');
    fs.writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: gone, cluster: { server: "http://127.0.0.1:${closed}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: gone, user: u, namespace: strata } }]
current-context: c
`);
    const port = await freePort();
    let err = '';
    const child = spawn(process.execPath, [path.join(repo, 'apps/controller/bin/controller.js'), 'run'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, STRATA_NAMESPACE: 'strata', STRATA_PORT: String(port), STRATA_ARTIFACTS: dir, STRATA_TOKEN: 'x' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (c) => (err += String(c)));
    try {
      const readiness: number[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < 12_000) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (res) readiness.push(res.status);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(readiness.length).toBeGreaterThan(10);
      expect(new Set(readiness)).toEqual(new Set([503]));
      expect(err).not.toContain('watching Experiments');
      expect(err.match(/not ready: the API server does not answer/g)).toHaveLength(1);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
