// The real controller process against a real API server (tools/k8s' local cluster), under its own ServiceAccount
// with k8s/base/rbac.yaml's Role: it reconciles an Experiment applied with kubectl (ConfigMap, teacher Job, owner
// references, status), is not ready while the API server is down and ready again when it returns, its owned
// objects go when the Experiment is deleted (the garbage collector), and SIGTERM stops it cleanly (exit 0, no
// "restarting" line). The node is not needed: the teacher Job's pod may stay Pending.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeK8s, runs, type TestCluster } from '@strata/k8s-cluster';

jest.setTimeout(180_000);

const repo = path.resolve(__dirname, '../../..');
const namespace = `strata-ctl-${crypto.randomBytes(3).toString('hex')}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ctl-'));

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeK8s('strata-controller against a local API server', (cluster: () => TestCluster) => {
  let controller: ChildProcess | undefined;
  let stderr = '';
  let port = 0;
  const kubectl = (args: string[], input?: string) => {
    const r = cluster().run(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const readyz = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status;
  async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; controller stderr:\n${stderr}`);
      await sleep(250);
    }
  }
  const get = (kind: string, name: string) => {
    const r = cluster().run(['-n', namespace, 'get', kind, name, '-o', 'json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as { metadata: { ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> }; status?: Record<string, unknown> }) : undefined;
  };

  beforeAll(async () => {
    kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(repo, 'k8s/base/crd.yaml')]);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/experiments.strata.dev']);
    kubectl(['create', 'namespace', namespace]);
    kubectl(['apply', '-f', '-'], fs.readFileSync(path.join(repo, 'k8s/base/rbac.yaml'), 'utf8').replace(/namespace: strata$/gm, `namespace: ${namespace}`));
    // The controller's own ServiceAccount and Role: a token for it, in a kubeconfig like the admin's.
    const token = kubectl(['-n', namespace, 'create', 'token', 'strata-controller', '--duration=1h']).trim();
    const admin = fs.readFileSync(cluster().kubeconfig, 'utf8');
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, admin.replace(/^ {4}token: .*$/m, `    token: ${token}`));
    port = await freePort();
    const closed = await freePort();
    controller = spawn(process.execPath, [path.join(repo, 'apps/controller/bin/controller.js'), 'run'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, STRATA_NAMESPACE: namespace, STRATA_PORT: String(port), STRATA_ARTIFACTS: dir, STRATA_TOKEN: 'x', STRATA_TEACHER_INFERENCE_URL: `http://127.0.0.1:${closed}`, STRATA_EVALUATOR_URL: `http://127.0.0.1:${closed}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    controller.stderr!.on('data', (c) => (stderr += String(c)));
  });

  afterAll(async () => {
    controller?.kill('SIGKILL');
    cluster().run(['delete', 'namespace', namespace, '--wait=false']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is ready, and reconciles an Experiment applied with kubectl under its own ServiceAccount', async () => {
    await until('readiness', async () => (await readyz()) === 200);
    kubectl(['-n', namespace, 'apply', '-f', path.join(repo, 'examples/quickstart.yaml')]);
    const status = await until('the status patch', () => {
      const s = get('experiment', 'quickstart-spam')?.status;
      return s?.phase === 'TrainingTeacher' ? s : undefined;
    });
    expect(status).toEqual(expect.objectContaining({ cellsTotal: 20, cellsDone: 0, observedGeneration: 1 }));
    for (const [kind, name] of [['configmap', 'quickstart-spam-manifest'], ['job', 'quickstart-spam-teacher']]) {
      expect(get(kind, name)?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Experiment', name: 'quickstart-spam', controller: true })]);
    }
    const table = kubectl(['-n', namespace, 'get', 'experiments']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+.*PHASE/);
    expect(table).toMatch(/quickstart-spam\s+.*TrainingTeacher/);
    // A failed experiment's students Job is suspended with a patch: the controller's Role must allow it.
    expect(kubectl(['-n', namespace, 'auth', 'can-i', 'patch', 'jobs', `--as=system:serviceaccount:${namespace}:strata-controller`]).trim()).toBe('yes');
  });

  it('is not ready while the API server is down, and ready again when it returns', async () => {
    const info = cluster().info;
    const apiserver = info.processes['kube-apiserver'];
    expect(runs(apiserver)).toBe(true);
    const mark = stderr.length;
    process.kill(apiserver.pid, 'SIGKILL'); // a crash, or a network partition as the controller sees it
    await until('the API server to stop', () => !runs(apiserver), 30_000);
    await until('not ready', async () => (await readyz()) === 503, 30_000);
    // Not ready as soon as a watch breaks; the 5-second probe says why, once.
    await until('the probe to log it', () => /not ready: the API server does not answer/.test(stderr.slice(mark)), 15_000);
    // tools/k8s start is idempotent: it starts again only the process that died.
    const again = spawnSync(process.execPath, [path.join(repo, 'tools/k8s/bin/k8s.js'), 'start', '--dir', info.dir], { encoding: 'utf8', timeout: 180_000 });
    expect([again.status, again.stderr]).toEqual([0, expect.stringContaining('started kube-apiserver')]);
    cluster().info.processes['kube-apiserver'] = (JSON.parse(fs.readFileSync(path.join(info.dir, 'cluster.json'), 'utf8')) as typeof info).processes['kube-apiserver'];
    await until('ready again', async () => (await readyz()) === 200, 60_000);
    expect(stderr.slice(mark)).toMatch(/the API server answers again/);
    expect(stderr.slice(mark).match(/not ready: the API server does not answer/g)).toHaveLength(1);
  });

  it('leaves the owned objects to the garbage collector when the Experiment is deleted', async () => {
    kubectl(['-n', namespace, 'delete', 'experiment', 'quickstart-spam', '--wait=true', '--timeout=60s']);
    await until('the ConfigMap and Job to go', () => !get('configmap', 'quickstart-spam-manifest') && !get('job', 'quickstart-spam-teacher'), 60_000);
  });

  it('stops cleanly on SIGTERM: exit 0, no watch failure or restart', async () => {
    const mark = stderr.length;
    const exited = new Promise<number | null>((r) => controller!.once('exit', (code) => r(code)));
    controller!.kill('SIGTERM');
    expect(await exited).toBe(0);
    await sleep(100);
    expect(stderr.slice(mark)).not.toMatch(/watch of \w+ failed|restarting in|aborted/);
  });
});
