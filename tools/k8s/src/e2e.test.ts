// The quickstart over Kubernetes, end to end, on the local cluster's node: Strata's images built without Docker and
// imported, `kubectl apply -k k8s/overlays/local`, then `kubectl apply -f examples/quickstart.yaml`; the controller
// (in the cluster, under its ServiceAccount) takes the Experiment through the teacher Job, the cache, the students'
// Indexed Job and the evaluation to Succeeded. On the way: a student pod deleted mid-training is replaced by the Job
// and its cell resumes from the checkpoint the stopped pod saved; the controller's pod deleted mid-experiment is
// replaced and continues without duplicating objects. The results and every student's bytes equal an embedded run of
// the same manifest (started beside the cluster run, so its minutes overlap the images' import and the rollout). At
// the end, deleting the Experiment removes every object it owned. Needs a node (root, containerd): the cluster of
// STRATA_K8S_STATE_DIR started with `start --node` (.ci/run does); a test-started cluster has none, so it skips.
// About 10 minutes on 2 busy cores (the images: about 2 more when the commit changed).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planGrid, readManifestFile, sha256File } from '@strata/experiment';
import { LOCAL_VOLUMES } from './cluster';
import { buildImages, buildKafkaImage, loadImages } from './images';
import { REQUIRE_K8S_ENV, describeK8sNode, type TestCluster } from './testing';

const repo = path.resolve(__dirname, '../../..');
const NS = 'strata';
const NAME = 'quickstart-spam';

jest.setTimeout(40 * 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `strata experiment run` of the quickstart, embedded, into `out`; resolves with its exit code and log tail. */
function embeddedRun(out: string): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'apps/cli/bin/strata.js'), 'experiment', 'run', path.join(repo, 'examples/quickstart.yaml'), '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => (tail = (tail + b.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('exit', (code) => resolve({ code: code ?? 1, tail }));
  });
}

type Results = { experiment: string; teacher: { hash: string; metrics: Record<string, number> }; cells: Array<Record<string, unknown> & { id: string; metrics: Record<string, number> }> };
/** A cell's record without what depends on the machine's speed. */
const comparable = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'wallSeconds' && k !== 'seconds'));

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
    const embeddedOut = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-embedded-'));
    const embedded = embeddedRun(embeddedOut);
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
    // A student pod deleted mid-training (a cell past its first steps and well before its last): the pod saves a
    // checkpoint on SIGTERM, the Job replaces it, and the replacement resumes from that step.
    const cells = planGrid(readManifestFile(path.join(repo, 'examples/quickstart.yaml')), { teacherLayers: 4 });
    const studentDir = (id: string) => path.join(LOCAL_VOLUMES, 'artifacts', NAME, 'students', id);
    type Pod = { metadata: { name: string; labels: Record<string, string> }; status: { phase: string } };
    const victim = await until('a student pod in mid-training', () => {
      const pods = json<{ items: Pod[] }>(['-n', NS, 'get', 'pods', '-l', `batch.kubernetes.io/job-name=${NAME}-students`]).items;
      for (const pod of pods.filter((p) => p.status.phase === 'Running')) {
        const index = Number(pod.metadata.labels['batch.kubernetes.io/job-completion-index']);
        const progress = path.join(studentDir(cells[index].id), 'progress.json');
        if (!fs.existsSync(progress)) continue;
        const p = JSON.parse(fs.readFileSync(progress, 'utf8')) as { step: number; totalSteps: number };
        if (p.step >= 5 && p.step < p.totalSteps - 40) return { pod: pod.metadata.name, index, cell: cells[index].id };
      }
      return undefined;
    }, 10 * 60_000, 500);
    kubectl(['-n', NS, 'delete', 'pod', victim.pod, '--wait=false']);
    stamp(`deleted student pod ${victim.pod} (cell ${victim.cell})`);
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
    const results = JSON.parse(fs.readFileSync(path.join(LOCAL_VOLUMES, 'artifacts', NAME, 'results.json'), 'utf8')) as Results;
    expect(results.experiment).toBe(NAME);
    expect(results.cells).toHaveLength(20);
    for (const cell of results.cells) expect(cell.metrics.accuracy).toBeGreaterThan(50);
    expect(fs.existsSync(path.join(LOCAL_VOLUMES, 'artifacts', NAME, 'report.md'))).toBe(true);
    // The replaced student resumed from the checkpoint its stopped pod saved, not from step 0.
    const replacementLog = kubectl(['-n', NS, 'logs', '-l', `batch.kubernetes.io/job-name=${NAME}-students,batch.kubernetes.io/job-completion-index=${victim.index}`, '--tail=-1']);
    expect(replacementLog).toMatch(/resuming from step [1-9]/);

    // Equal to embedded mode: the same teacher, cells, hashes, metrics, curves and maps, and byte-identical students
    // (the resumed one included).
    const run = await embedded;
    stamp('embedded run compared');
    if (run.code !== 0) throw new Error(`the embedded quickstart failed (exit ${run.code}):\n${run.tail}`);
    const local = JSON.parse(fs.readFileSync(path.join(embeddedOut, 'results.json'), 'utf8')) as Results;
    expect(results.teacher.hash).toBe(local.teacher.hash);
    expect(results.teacher.metrics).toEqual(local.teacher.metrics);
    expect(results.cells.map(comparable)).toEqual(local.cells.map(comparable));
    for (const cell of results.cells) expect(`${cell.id} ${sha256File(path.join(studentDir(cell.id), '..', `${cell.id}.onnx`))}`).toBe(`${cell.id} ${sha256File(path.join(embeddedOut, 'students', `${cell.id}.onnx`))}`);
    fs.rmSync(embeddedOut, { recursive: true, force: true });

    kubectl(['-n', NS, 'delete', 'experiment', NAME, '--wait=true', '--timeout=120s']);
    await until('the owned objects to go', () => owned().length === 0, 120_000);
    // The Jobs' pods go after their Jobs (the garbage collector works in the background).
    await until('the Jobs\' pods to go', () => json<{ items: unknown[] }>(['-n', NS, 'get', 'pods', '-l', `strata.dev/experiment=${NAME}`]).items.length === 0, 120_000);
  });
});
