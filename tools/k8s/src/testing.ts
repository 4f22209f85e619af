// Jest helper for tests against a real local API server (never a mock). The cluster is the one a caller started with
// tools/k8s (STRATA_K8S_STATE_DIR, as .ci/run does), else one the test file starts itself, control plane only, on
// a test port, from binaries already built (`node tools/k8s/bin/k8s.js fetch`; a test never builds them), and stops at
// the end. Without one the tests skip with a printed reason; with STRATA_REQUIRE_K8S=1 they fail instead.
// Tests create cluster-wide objects (CRDs, namespaces): never point this at a shared cluster.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runs, type ClusterInfo } from './cluster';
import { binDir, cachedBinaries, etcdBinary } from './fetch';

export const REQUIRE_K8S_ENV = 'STRATA_REQUIRE_K8S';
/** The state directory of a cluster tools/k8s started (its cluster.json and kubeconfig). */
export const K8S_STATE_DIR_ENV = 'STRATA_K8S_STATE_DIR';
/** The API server port of a cluster a test file starts for itself. */
export const K8S_TEST_PORT = Number(process.env.STRATA_K8S_TEST_PORT || 16443);

const CLI = path.join(__dirname, '..', 'bin', 'k8s.js');

export interface TestCluster {
  info: ClusterInfo;
  kubeconfig: string;
  /** kubectl of the cluster's own version when it was built (fetch builds it), else STRATA_KUBECTL or kubectl. */
  kubectl: string;
  /** Runs kubectl against the cluster; never throws. */
  run(args: string[], input?: string): { status: number; stdout: string; stderr: string };
}

function kubectlFor(kubeconfig: string): Pick<TestCluster, 'kubectl' | 'run'> {
  const built = path.join(binDir(), 'kubectl');
  const kubectl = process.env.STRATA_KUBECTL ?? (fs.existsSync(built) ? built : 'kubectl');
  return {
    kubectl,
    run(args, input) {
      const r = spawnSync(kubectl, [`--kubeconfig=${kubeconfig}`, ...args], { encoding: 'utf8', input, timeout: 120_000 });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
    },
  };
}

let cached: { cluster?: TestCluster; reason?: string; startedDir?: string } | undefined;

/** The cluster for this test file (started on first use), or why there is none. */
export function testCluster(): { cluster?: TestCluster; reason?: string; startedDir?: string } {
  if (cached) return cached;
  const dir = process.env[K8S_STATE_DIR_ENV];
  if (dir) {
    const file = path.join(dir, 'cluster.json');
    if (!fs.existsSync(file)) return (cached = { reason: `${K8S_STATE_DIR_ENV}=${dir} holds no cluster.json` });
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterInfo;
    if (!runs(info.processes['kube-apiserver'])) return (cached = { reason: `the cluster of ${dir} is not running (node tools/k8s/bin/k8s.js start --dir ${dir})` });
    return (cached = { cluster: { info, kubeconfig: info.kubeconfig, ...kubectlFor(info.kubeconfig) } });
  }
  if (!cachedBinaries()) return (cached = { reason: `the Kubernetes binaries are not built (node tools/k8s/bin/k8s.js fetch builds them into ${binDir()}, minutes)` });
  if (!etcdBinary()) return (cached = { reason: 'etcd not found (apt-get install etcd-server)' });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-k8s-test-'));
  const r = spawnSync(process.execPath, [CLI, 'start', '--dir', stateDir, '--port', String(K8S_TEST_PORT), '--no-node'], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) {
    spawnSync(process.execPath, [CLI, 'stop', '--dir', stateDir], { stdio: 'ignore', timeout: 60_000 });
    return (cached = { reason: `the local cluster did not start: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-15).join('\n')}` });
  }
  const info = JSON.parse(fs.readFileSync(path.join(stateDir, 'cluster.json'), 'utf8')) as ClusterInfo;
  return (cached = { cluster: { info, kubeconfig: info.kubeconfig, ...kubectlFor(info.kubeconfig) }, startedDir: stateDir });
}

/** Stops the cluster this test file started (none when it used a caller's). */
export function stopTestCluster(): void {
  if (cached?.startedDir) spawnSync(process.execPath, [CLI, 'stop', '--dir', cached.startedDir], { stdio: 'ignore', timeout: 120_000 });
  cached = undefined;
}

/** describe() against the local cluster; skips with the reason printed, or fails under STRATA_REQUIRE_K8S=1. */
export function describeK8s(name: string, fn: (cluster: () => TestCluster) => void): void {
  const { cluster, reason } = testCluster();
  if (cluster) {
    describe(name, () => {
      afterAll(() => stopTestCluster());
      fn(() => cluster);
    });
    return;
  }
  const message = `${name}: no local Kubernetes cluster: ${reason}`;
  if (process.env[REQUIRE_K8S_ENV] === '1') {
    describe(name, () => {
      it('needs a local Kubernetes cluster', () => {
        throw new Error(`${message}; ${REQUIRE_K8S_ENV}=1 requires one`);
      });
    });
    return;
  }
  process.stderr.write(`skipping ${message}\n`);
  describe.skip(name, () => fn(() => {
    throw new Error('no cluster');
  }));
}

/**
 * describeK8s for tests that need a node (pods that run): only the cluster a caller started with `start --node` and
 * named by STRATA_K8S_STATE_DIR has one, so without it this skips with the reason printed (or fails under
 * STRATA_REQUIRE_K8S=1) rather than starting a control-plane-only cluster.
 */
export function describeK8sNode(name: string, fn: (cluster: () => TestCluster) => void): void {
  if (process.env[K8S_STATE_DIR_ENV]) return describeK8s(name, fn);
  const reason = `${name}: needs a cluster with a node (node tools/k8s/bin/k8s.js start --node, then ${K8S_STATE_DIR_ENV}=<its state dir>)`;
  if (process.env[REQUIRE_K8S_ENV] === '1') {
    describe(name, () => it('needs a local cluster with a node', () => {
      throw new Error(`${reason}; ${REQUIRE_K8S_ENV}=1 requires it`);
    }));
    return;
  }
  process.stderr.write(`skipping ${reason}\n`);
  describe.skip(name, () => fn(() => {
    throw new Error('no cluster');
  }));
}
