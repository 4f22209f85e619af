// The quickstart over Kubernetes, end to end, on the local cluster's node: Strata's images built without Docker and
// imported, `kubectl apply -k k8s/overlays/local`, then `kubectl apply -f examples/quickstart.yaml`; the controller
// (in the cluster, under its ServiceAccount) takes the Experiment through the teacher Job, the cache, the students'
// Indexed Job and the evaluation to Succeeded. On the way: a student pod deleted mid-training is replaced by the Job,
// the controller's pod deleted mid-experiment is replaced and continues without duplicating objects; at the end,
// deleting the Experiment removes every object it owned. Needs a node (root, containerd): the cluster of
// STRATA_K8S_STATE_DIR started with `start --node` (.ci/run does); a test-started cluster has none, so it skips.
// About 10 minutes on 2 busy cores (the images: about 2 more when the commit changed).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_VOLUMES } from './cluster';
import { buildImages, buildKafkaImage, loadImages } from './images';
import { REQUIRE_K8S_ENV, describeK8sNode, type TestCluster } from './testing';

const repo = path.resolve(__dirname, '../../..');
const NS = 'strata';
const NAME = 'quickstart-spam';

jest.setTimeout(40 * 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TITLE = 'the quickstart over Kubernetes (local overlay)';

describeK8sNode(TITLE, (cluster: () => TestCluster) => {
  let applied = false;
  // The overlay's pods hold host ports (8081-8083, 29092): take them down so later tests find the ports free.
  afterAll(() => {
    if (applied) cluster().run(['delete', '-k', path.join(repo, 'k8s/overlays/local'), '--ignore-not-found', '--wait=true', '--timeout=180s']);
  });
  const hasNode = () => !!cluster().info.node.containerdSocket;
  const kubectl = (args: string[], input?: string) => {
    const r = cluster().run(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const json = <T>(args: string[]) => JSON.parse(kubectl([...args, '-o', 'json'])) as T;
  const experiment = () => {
    const r = cluster().run(['-n', NS, 'get', 'experiment', NAME, '-o', 'json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as { status?: { phase?: string; message?: string; cellsDone?: number; cellsTotal?: number } }) : undefined;
  };
  /** The Experiment ended Failed or Invalid: its message, and the service logs it points at. */
  const ended = (st: { phase?: string; message?: string }) =>
    new Error(`the Experiment ended ${st.phase}: ${st.message}\n--- teacher-inference (tail) ---\n${cluster().run(['-n', NS, 'logs', 'deploy/strata-teacher-inference', '--tail=5']).stdout}\n--- evaluator (tail) ---\n${cluster().run(['-n', NS, 'logs', 'deploy/strata-evaluator', '--tail=5']).stdout}`);
  const owned = () => json<{ items: Array<{ kind: string; metadata: { name: string } }> }>(['-n', NS, 'get', 'jobs,configmaps', '-l', `strata.dev/experiment=${NAME}`]).items.map((i) => `${i.kind}/${i.metadata.name}`).sort();
  async function until<T>(what: string, f: () => T | undefined | false, ms: number, every = 2000): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = f();
      if (v) return v;
      if (Date.now() - start > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}; experiment status: ${JSON.stringify(experiment()?.status)}\npods:\n${cluster().run(['-n', NS, 'get', 'pods']).stdout}`);
      await sleep(every);
    }
  }

  it('runs the quickstart Experiment to Succeeded, surviving a deleted student pod and a restarted controller', async () => {
    if (!hasNode()) {
      const reason = `no node in this cluster (${cluster().info.node.skipped}); start one with node tools/k8s/bin/k8s.js start --node and set STRATA_K8S_STATE_DIR`;
      if (process.env[REQUIRE_K8S_ENV] === '1') throw new Error(`${reason}; ${REQUIRE_K8S_ENV}=1 requires the end-to-end run`);
      process.stderr.write(`skipping the quickstart over Kubernetes: ${reason}\n`);
      return;
    }
    const t0 = Date.now();
    const stamp = (what: string) => process.stderr.write(`e2e: ${what} after ${Math.round((Date.now() - t0) / 1000)} s\n`);
    for (const built of [buildImages({ repo }), buildKafkaImage()]) loadImages(built, cluster().info.node);
    stamp('images built and loaded');
    // A fresh start: no overlay, no Experiment, and empty volumes (the services keep state there: an evaluator that
    // registered the quickstart before reports it done again; Kafka keeps the cache).
    cluster().run(['delete', '-k', path.join(repo, 'k8s/overlays/local'), '--ignore-not-found', '--wait=true', '--timeout=300s']);
    for (const v of ['artifacts', 'data', 'kafka']) for (const f of fs.readdirSync(path.join(LOCAL_VOLUMES, v))) fs.rmSync(path.join(LOCAL_VOLUMES, v, f), { recursive: true, force: true });
    stamp('previous run cleared');
    applied = true;
    kubectl(['apply', '-k', path.join(repo, 'k8s/overlays/local')]);
    kubectl(['-n', NS, 'rollout', 'status', 'statefulset/strata-kafka', 'deploy/strata-teacher-inference', 'deploy/strata-evaluator', 'deploy/strata-controller', '--timeout=600s']);
    stamp('overlay applied and rolled out');
    kubectl(['-n', NS, 'apply', '-f', path.join(repo, 'examples/quickstart.yaml')]);
    await until('phase Training', () => {
      const st = experiment()?.status;
      if (st?.phase === 'Failed' || st?.phase === 'Invalid') throw ended(st);
      return st?.phase === 'Training' || st?.phase === 'Evaluating' || st?.phase === 'Succeeded';
    }, 15 * 60_000);
    stamp('teacher trained, cache requested, students started');
    // A running student pod deleted: the Job replaces it (the cell resumes from its checkpoint or starts over).
    const running = json<{ items: Array<{ metadata: { name: string }; status: { phase: string } }> }>(['-n', NS, 'get', 'pods', '-l', 'batch.kubernetes.io/job-name=' + `${NAME}-students`]).items.find((p) => p.status.phase === 'Running');
    if (running) kubectl(['-n', NS, 'delete', 'pod', running.metadata.name, '--wait=false']);
    // The controller's pod deleted: its Deployment starts another, which continues from the Experiment's status.
    const before = owned();
    kubectl(['-n', NS, 'delete', 'pod', '-l', 'app.kubernetes.io/component=controller', '--wait=false']);
    kubectl(['-n', NS, 'rollout', 'status', 'deploy/strata-controller', '--timeout=300s']);
    const table = kubectl(['-n', NS, 'get', 'experiments']);
    process.stderr.write(`e2e: kubectl get experiments:\n${table}`);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+TASK\s+PHASE\s+DONE\s+CELLS\s+AGE/);
    const done = await until('phase Succeeded', () => {
      const s = experiment()?.status;
      if (s?.phase === 'Failed' || s?.phase === 'Invalid') throw ended(s);
      return s?.phase === 'Succeeded' ? s : undefined;
    }, 30 * 60_000, 5000);
    stamp('Succeeded');
    expect(done).toEqual(expect.objectContaining({ cellsDone: 20, cellsTotal: 20 }));
    expect(owned()).toEqual(before);
    const results = JSON.parse(fs.readFileSync(path.join(LOCAL_VOLUMES, 'artifacts', NAME, 'results.json'), 'utf8')) as { experiment: string; cells: Array<{ id: string; metrics: Record<string, number> }> };
    expect(results.experiment).toBe(NAME);
    expect(results.cells).toHaveLength(20);
    for (const cell of results.cells) expect(cell.metrics.accuracy).toBeGreaterThan(50);
    expect(fs.existsSync(path.join(LOCAL_VOLUMES, 'artifacts', NAME, 'report.md'))).toBe(true);

    kubectl(['-n', NS, 'delete', 'experiment', NAME, '--wait=true', '--timeout=120s']);
    await until('the owned objects to go', () => owned().length === 0, 120_000);
    // The Jobs' pods go after their Jobs (the garbage collector works in the background).
    await until('the Jobs\' pods to go', () => json<{ items: unknown[] }>(['-n', NS, 'get', 'pods', '-l', `strata.dev/experiment=${NAME}`]).items.length === 0, 120_000);
  });
});
