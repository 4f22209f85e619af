// A local Kubernetes cluster for tests and development: etcd, kube-apiserver (static tokens, RBAC + Node
// authorization), kube-controller-manager and kube-scheduler on this machine, and, where the machine allows it
// (root, containerd, runc, CNI plugins, a non-loopback address), one node: containerd and the kubelet. Every process
// is started detached, logs into <dir>/logs and is recorded in <dir>/cluster.json, so `stop` ends exactly those.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { KUBERNETES_VERSION, etcdBinary, fetchKubernetes } from './fetch';
import { importImage, ociImageArchive } from './image';
import { PAUSE_IMAGE, cniBinDir, cniConfig, containerdConfig, defaultNodeIp, kubeletConfig, nodeBlockers, nodePaths } from './node';
import { ensurePki, ensureTokens, kubeconfig } from './pki';

export const NODE_NAME = 'strata-local';
const SERVICE_CIDR = '10.96.0.0/24';
const SERVICE_IP = '10.96.0.1';
const CNI_BRIDGE = 'strata0';
const POD_SUBNET = '10.244.0.0/24';
/** The bridge's own address: pods reach the host-network services (k8s/overlays/local) there. */
export const BRIDGE_IP = '10.244.0.1';
/** The local overlay's hostPath volumes (kept across clusters, like a PersistentVolume's data), owned by the pods' user 10001. */
export const LOCAL_VOLUMES = '/var/tmp/strata-local';

export type NodeMode = 'auto' | 'yes' | 'no';

export interface ClusterOptions {
  /** State directory: certificates, tokens, etcd data, logs, kubeconfig, cluster.json (default <tmp>/strata-k8s). */
  dir?: string;
  /** The API server's port (default 6443); etcd takes port+1 and port+2, the controller-manager port+3, the scheduler port+4. */
  port?: number;
  version?: string;
  /** Where the built binaries are cached (default $STRATA_K8S_HOME or ~/.cache/strata/k8s). */
  home?: string;
  /** 'auto' (default): a node where the machine allows one; 'yes': fail without one; 'no': control plane only. */
  node?: NodeMode;
  nodeIp?: string;
  /** Readiness wait for each step (default 120 s). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ProcessRecord {
  pid: number;
  bin: string;
}

export interface NodeInfo {
  name: string;
  ip?: string;
  /** Why there is no node (control plane only), when there is none. */
  skipped?: string;
  containerdSocket?: string;
  /** The containerd snapshotter images are unpacked for. */
  snapshotter?: string;
}

export interface ClusterInfo {
  dir: string;
  version: string;
  port: number;
  server: string;
  kubeconfig: string;
  node: NodeInfo;
  /** The node mode start was given (a later start without flags keeps it). */
  nodeMode: NodeMode;
  processes: Record<string, ProcessRecord>;
  startedAt: string;
}

interface Resolved {
  dir: string;
  port: number;
  version: string;
  home?: string;
  node: NodeMode;
  nodeIp?: string;
  readyTimeoutMs: number;
  log: (line: string) => void;
}

const infoFile = (dir: string) => path.join(dir, 'cluster.json');

function readInfo(dir: string): ClusterInfo | undefined {
  return fs.existsSync(infoFile(dir)) ? (JSON.parse(fs.readFileSync(infoFile(dir), 'utf8')) as ClusterInfo) : undefined;
}

function resolve(o: ClusterOptions): Resolved {
  const dir = path.resolve(o.dir ?? path.join(os.tmpdir(), 'strata-k8s'));
  const recorded = readInfo(dir);
  return {
    dir,
    port: o.port ?? recorded?.port ?? 6443,
    version: o.version ?? recorded?.version ?? KUBERNETES_VERSION,
    home: o.home,
    node: o.node ?? recorded?.nodeMode ?? 'auto',
    nodeIp: o.nodeIp ?? recorded?.node.ip ?? defaultNodeIp(),
    readyTimeoutMs: o.readyTimeoutMs ?? 120_000,
    log: o.log ?? ((l) => process.stderr.write(`${l}\n`)),
  };
}

/** Whether `pid` is alive and still runs `bin` (a recycled pid is never taken for ours). */
export function runs(p: ProcessRecord | undefined): boolean {
  if (!p) return false;
  try {
    const argv0 = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0];
    if (argv0 !== p.bin) return false;
    const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1];
    return state !== 'Z';
  } catch {
    return false;
  }
}

function tail(file: string, lines = 25): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET over HTTPS (or HTTP): status code and body, or the connection error's message. */
export function get(url: string, o: { ca?: string; token?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolveGet) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { ca: o.ca ? fs.readFileSync(o.ca) : undefined, rejectUnauthorized: !!o.ca, headers: o.token ? { authorization: `Bearer ${o.token}` } : {}, timeout: o.timeoutMs ?? 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolveGet({ error: e.message }));
  });
}

async function waitFor(what: string, check: () => Promise<string | true>, o: { timeoutMs: number; alive?: () => boolean; log?: string }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 'not checked';
  while (Date.now() < deadline) {
    if (o.alive && !o.alive()) throw new Error(`${what}: the process exited (${last})${o.log ? `\n--- ${o.log} (tail) ---\n${tail(o.log)}` : ''}`);
    const r = await check();
    if (r === true) return;
    last = r;
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${o.timeoutMs} ms: ${last}${o.log ? `\n--- ${o.log} (tail) ---\n${tail(o.log)}` : ''}`);
}

function launch(dir: string, name: string, bin: string, args: string[]): ProcessRecord {
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const out = fs.openSync(path.join(logs, `${name}.log`), 'a');
  fs.writeSync(out, `--- ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out], cwd: dir });
  child.unref();
  fs.closeSync(out);
  return { pid: child.pid!, bin };
}

/** The running cluster of a state directory (its API server alive), with which processes run. */
export function clusterStatus(options: ClusterOptions = {}): (ClusterInfo & { running: Record<string, boolean> }) | undefined {
  const o = resolve(options);
  const info = readInfo(o.dir);
  if (!info) return undefined;
  const running = Object.fromEntries(Object.entries(info.processes).map(([k, p]) => [k, runs(p)]));
  return running['kube-apiserver'] ? { ...info, running } : undefined;
}

/**
 * Starts the cluster, or returns the one already running from the same state directory (idempotent: a process that
 * died is started again, the others are left as they are). Returns once the API server is ready, the
 * controller-manager and scheduler answer their health checks and, with a node, the node is Ready.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<ClusterInfo> {
  const o = resolve(options);
  const started = Date.now();
  const bin = fetchKubernetes({ version: o.version, home: o.home, log: o.log });
  const etcd = etcdBinary();
  if (!etcd) throw new Error('etcd not found: apt-get install etcd-server (or set STRATA_ETCD)');
  fs.mkdirSync(o.dir, { recursive: true });
  const previous = readInfo(o.dir);
  if (previous && previous.port !== o.port && runs(previous.processes['kube-apiserver']))
    throw new Error(`${o.dir} holds a cluster on port ${previous.port}; stop it or use another --dir`);
  const processes: Record<string, ProcessRecord> = { ...(previous?.processes ?? {}) };
  const port = o.port;
  const ports = { etcd: port + 1, etcdPeer: port + 2, controllerManager: port + 3, scheduler: port + 4, kubelet: port + 5, kubeletHealthz: port + 6 };
  const pki = ensurePki(path.join(o.dir, 'pki'), { ips: o.nodeIp ? [o.nodeIp] : [], nodeName: NODE_NAME, serviceIp: SERVICE_IP });
  const { tokens, file: tokenFile } = ensureTokens(path.join(o.dir, 'pki'), NODE_NAME);
  const server = `https://127.0.0.1:${port}`;
  const configs = {
    admin: path.join(o.dir, 'kubeconfig'),
    controllerManager: path.join(o.dir, 'pki', 'controller-manager.kubeconfig'),
    scheduler: path.join(o.dir, 'pki', 'scheduler.kubeconfig'),
    kubelet: path.join(o.dir, 'pki', 'kubelet.kubeconfig'),
  };
  fs.writeFileSync(configs.admin, kubeconfig({ server, ca: pki.ca, user: 'strata-admin', token: tokens.admin }), { mode: 0o600 });
  fs.writeFileSync(configs.controllerManager, kubeconfig({ server, ca: pki.ca, user: 'system:kube-controller-manager', token: tokens.controllerManager }), { mode: 0o600 });
  fs.writeFileSync(configs.scheduler, kubeconfig({ server, ca: pki.ca, user: 'system:kube-scheduler', token: tokens.scheduler }), { mode: 0o600 });
  fs.writeFileSync(configs.kubelet, kubeconfig({ server, ca: pki.ca, user: `system:node:${NODE_NAME}`, token: tokens.node }), { mode: 0o600 });
  const log = (name: string) => path.join(o.dir, 'logs', `${name}.log`);
  const save = (node: NodeInfo): ClusterInfo => {
    const info: ClusterInfo = { dir: o.dir, version: o.version, port, server, kubeconfig: configs.admin, node, nodeMode: o.node, processes, startedAt: previous?.startedAt && runs(previous.processes['kube-apiserver']) ? previous.startedAt : new Date().toISOString() };
    fs.writeFileSync(infoFile(o.dir), `${JSON.stringify(info, null, 2)}\n`);
    return info;
  };
  const ensure = (name: string, binary: string, args: string[]): boolean => {
    if (runs(processes[name])) return false;
    processes[name] = launch(o.dir, name, binary, args);
    save(previous?.node ?? { name: NODE_NAME });
    return true;
  };
  const launched: string[] = [];

  // etcd (Debian's 3.4 serves what the API server needs on loopback, without TLS).
  if (ensure('etcd', etcd, [
    '--name', 'strata-local', '--data-dir', path.join(o.dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${ports.etcd}`, '--advertise-client-urls', `http://127.0.0.1:${ports.etcd}`,
    '--listen-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
    '--initial-cluster', `strata-local=http://127.0.0.1:${ports.etcdPeer}`, '--log-level', 'warn', '--quota-backend-bytes', String(2 << 30),
  ])) launched.push('etcd');
  await waitFor('etcd', async () => {
    const r = await get(`http://127.0.0.1:${ports.etcd}/health`);
    return 'status' in r && r.status === 200 ? true : 'error' in r ? r.error : `HTTP ${r.status}`;
  }, { timeoutMs: o.readyTimeoutMs, alive: () => runs(processes.etcd), log: log('etcd') });

  // With a node the API server also listens on the node's address (pods use hostNetwork and reach it there).
  const withNode = o.node !== 'no';
  if (ensure('kube-apiserver', path.join(bin, 'kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    `--secure-port=${port}`, `--bind-address=${withNode && o.nodeIp ? '0.0.0.0' : '127.0.0.1'}`, ...(o.nodeIp ? [`--advertise-address=${o.nodeIp}`] : []),
    `--tls-cert-file=${pki.apiserver.cert}`, `--tls-private-key-file=${pki.apiserver.key}`, `--client-ca-file=${pki.ca}`,
    `--token-auth-file=${tokenFile}`, '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--anonymous-auth=false',
    `--service-cluster-ip-range=${SERVICE_CIDR}`, '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccount.pub}`, `--service-account-signing-key-file=${pki.serviceAccount.key}`,
    `--kubelet-client-certificate=${pki.kubeletClient.cert}`, `--kubelet-client-key=${pki.kubeletClient.key}`, `--kubelet-certificate-authority=${pki.ca}`,
    '--kubelet-preferred-address-types=InternalIP', '--allow-privileged=true', '--profiling=false',
  ])) launched.push('kube-apiserver');
  await waitFor('kube-apiserver', async () => {
    const r = await get(`${server}/readyz`, { ca: pki.ca, token: tokens.admin });
    return 'status' in r && r.status === 200 ? true : 'error' in r ? r.error : `HTTP ${r.status}: ${r.body.split('\n').filter((l) => l.includes('[-]')).join('; ')}`;
  }, { timeoutMs: o.readyTimeoutMs, alive: () => runs(processes['kube-apiserver']), log: log('kube-apiserver') });

  const delegated = (cfg: string) => [`--kubeconfig=${cfg}`, `--authentication-kubeconfig=${cfg}`, `--authorization-kubeconfig=${cfg}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--profiling=false'];
  if (ensure('kube-controller-manager', path.join(bin, 'kube-controller-manager'), [
    ...delegated(configs.controllerManager), `--secure-port=${ports.controllerManager}`, '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccount.key}`, `--root-ca-file=${pki.ca}`,
    `--cluster-signing-cert-file=${pki.ca}`, `--cluster-signing-key-file=${pki.caKey}`, '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
  ])) launched.push('kube-controller-manager');
  if (ensure('kube-scheduler', path.join(bin, 'kube-scheduler'), [...delegated(configs.scheduler), `--secure-port=${ports.scheduler}`])) launched.push('kube-scheduler');
  for (const [name, p] of [['kube-controller-manager', ports.controllerManager], ['kube-scheduler', ports.scheduler]] as const)
    await waitFor(name, async () => {
      const r = await get(`https://127.0.0.1:${p}/healthz`);
      return 'status' in r && r.status === 200 ? true : 'error' in r ? r.error : `HTTP ${r.status}`;
    }, { timeoutMs: o.readyTimeoutMs, alive: () => runs(processes[name]), log: log(name) });
  o.log(`control plane v${o.version} ready on ${server} (${launched.length ? `started ${launched.join(', ')}` : 'already running'}; ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // The node, where the machine allows one.
  const kubelet = path.join(bin, 'kubelet');
  const pause = path.join(bin, 'pause');
  const blockers = o.node === 'no' ? ['not asked for (--no-node)'] : nodeBlockers({ kubelet, pause, nodeIp: o.nodeIp });
  if (blockers.length) {
    if (o.node === 'yes') throw new Error(`no node can run here: ${blockers.join('; ')}`);
    const info = save({ name: NODE_NAME, skipped: blockers.join('; ') });
    o.log(`no node: ${info.node.skipped}; control plane only (objects apply, pods stay Pending)`);
    return info;
  }
  const np = nodePaths(o.dir);
  const snapshotter = process.env.STRATA_K8S_SNAPSHOTTER ?? 'overlayfs';
  try {
    fs.mkdirSync(np.cniConf, { recursive: true });
    fs.writeFileSync(path.join(np.cniConf, '10-strata.conflist'), cniConfig({ bridge: CNI_BRIDGE, subnet: POD_SUBNET, ipamDir: path.join(np.root, 'ipam') }));
    // The bridge exists with its address before any pod, so host-network pods (Kafka) can listen on it.
    if (!fs.existsSync(`/sys/class/net/${CNI_BRIDGE}`)) {
      for (const args of [['link', 'add', CNI_BRIDGE, 'type', 'bridge'], ['addr', 'add', `${BRIDGE_IP}/24`, 'dev', CNI_BRIDGE], ['link', 'set', CNI_BRIDGE, 'up']]) {
        const r = spawnSync('ip', args, { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
      }
    }
    for (const v of ['artifacts', 'data', 'kafka']) {
      fs.mkdirSync(path.join(LOCAL_VOLUMES, v), { recursive: true });
      fs.chownSync(path.join(LOCAL_VOLUMES, v), 10001, 10001);
    }
    fs.writeFileSync(np.config, containerdConfig(np, { cniBin: cniBinDir()!, snapshotter }));
    if (ensure('containerd', '/usr/bin/containerd', ['--config', np.config])) launched.push('containerd');
    await waitFor('containerd', async () => {
      const r = spawnSync('ctr', ['--address', np.socket, 'version'], { encoding: 'utf8', timeout: 5000 });
      return r.status === 0 ? true : (r.stderr || r.stdout).trim();
    }, { timeoutMs: o.readyTimeoutMs, alive: () => runs(processes.containerd), log: log('containerd') });
    if (!imagePresent(np.socket, PAUSE_IMAGE)) {
      const archive = path.join(o.dir, 'pause.oci.tar');
      ociImageArchive({ files: [{ from: pause, to: 'pause', mode: 0o755 }], entrypoint: ['/pause'], name: PAUSE_IMAGE, out: archive });
      importImage(np.socket, archive, snapshotter);
    }
    const kubeletDir = path.join(o.dir, 'kubelet');
    fs.mkdirSync(path.join(kubeletDir, 'pod-logs'), { recursive: true });
    const kubeletCfg = path.join(kubeletDir, 'config.json');
    fs.writeFileSync(kubeletCfg, kubeletConfig({ ca: pki.ca, cert: pki.kubeletServing.cert, key: pki.kubeletServing.key, socket: np.socket, port: ports.kubelet, healthzPort: ports.kubeletHealthz, nodeIp: o.nodeIp!, podLogs: path.join(kubeletDir, 'pod-logs') }));
    if (ensure('kubelet', kubelet, [`--config=${kubeletCfg}`, `--kubeconfig=${configs.kubelet}`, `--root-dir=${path.join(kubeletDir, 'root')}`, `--node-ip=${o.nodeIp}`, `--hostname-override=${NODE_NAME}`, '--v=1'])) launched.push('kubelet');
    await waitFor(`node ${NODE_NAME}`, async () => {
      const r = await get(`${server}/api/v1/nodes/${NODE_NAME}`, { ca: pki.ca, token: tokens.admin });
      if ('error' in r) return r.error;
      if (r.status !== 200) return `HTTP ${r.status} (not registered yet)`;
      const ready = (JSON.parse(r.body) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? true : `Ready=${ready?.status ?? 'unknown'}: ${ready?.message ?? ''}`;
    }, { timeoutMs: o.readyTimeoutMs, alive: () => runs(processes.kubelet), log: log('kubelet') });
  } catch (e) {
    if (o.node === 'yes') throw e;
    const info = save({ name: NODE_NAME, ip: o.nodeIp, skipped: `the node did not start: ${(e as Error).message}` });
    o.log(`no node: ${info.node.skipped}\ncontrol plane only`);
    return info;
  }
  const info = save({ name: NODE_NAME, ip: o.nodeIp, containerdSocket: np.socket, snapshotter });
  o.log(`node ${NODE_NAME} (${o.nodeIp}) Ready; cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${path.join(o.dir, 'logs')}`);
  return info;
}

export function imagePresent(socket: string, name: string): boolean {
  const r = spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'ls', '-q'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.split('\n').includes(name);
}

async function terminate(p: ProcessRecord, graceMs: number): Promise<boolean> {
  if (!runs(p)) return false;
  process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && runs(p)) await sleep(100);
  if (runs(p)) {
    process.kill(p.pid, 'SIGKILL');
    const hard = Date.now() + 5000;
    while (Date.now() < hard && runs(p)) await sleep(100);
  }
  return true;
}

/** The network namespaces (/var/run/netns/cni-...) of the pod sandboxes our containerd made. */
function sandboxNetns(socket: string): string[] {
  const ids = spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'containers', 'ls', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const paths = new Set<string>();
  for (const id of ids) {
    const r = spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'containers', 'info', id], { encoding: 'utf8', maxBuffer: 16 << 20 });
    try {
      const spec = (JSON.parse(r.stdout) as { Spec?: { linux?: { namespaces?: Array<{ type: string; path?: string }> } } }).Spec;
      const p = spec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
      if (p && p.startsWith('/var/run/netns/')) paths.add(p);
    } catch {
      // not JSON: a container that went away meanwhile
    }
  }
  return [...paths];
}

/** Every mount point under `dir` (the kubelet's volumes, containerd's snapshots and sandbox shm), deepest first. */
function mountsUnder(dir: string): string[] {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m).map((m) => m.replace(/\\040/g, ' '));
  return mounts.filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/**
 * Stops what `start` started from this state directory, in reverse order: the kubelet, the pods' containers (through
 * our containerd's socket), containerd, the scheduler, the controller-manager, the API server, etcd. `keepData`
 * leaves the directory (certificates, etcd data, images) for the next start; otherwise it is removed.
 */
export async function stopCluster(options: ClusterOptions & { keepData?: boolean } = {}): Promise<string[]> {
  const o = resolve(options);
  const info = readInfo(o.dir);
  const stopped: string[] = [];
  if (info) {
    if (await terminate(info.processes.kubelet ?? { pid: -1, bin: '' }, 20_000)) stopped.push('kubelet');
    const socket = nodePaths(o.dir).socket;
    if (runs(info.processes.containerd)) {
      // The pods' processes live under containerd-shim, which outlives containerd: end them through it first, and
      // remove the sandboxes' network namespaces (containerd's CRI would on a pod's removal; nobody will now).
      const netns = sandboxNetns(socket);
      const tasks = spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'ls', '-q'], { encoding: 'utf8' });
      for (const id of tasks.stdout.split('\n').filter(Boolean)) {
        spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id], { stdio: 'ignore' });
      }
      await sleep(tasks.stdout.trim() ? 1000 : 0);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'delete', '-f', id], { stdio: 'ignore' });
      for (const ns of netns) {
        spawnSync('umount', [ns], { stdio: 'ignore' });
        fs.rmSync(ns, { force: true });
      }
      if (await terminate(info.processes.containerd, 20_000)) stopped.push(`containerd (${tasks.stdout.split('\n').filter(Boolean).length} containers ended)`);
    }
    for (const name of ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) if (await terminate(info.processes[name] ?? { pid: -1, bin: '' }, 20_000)) stopped.push(name);
    if (info.node.containerdSocket && fs.existsSync(`/sys/class/net/${CNI_BRIDGE}`)) spawnSync('ip', ['link', 'delete', CNI_BRIDGE], { stdio: 'ignore' });
  }
  for (const m of mountsUnder(o.dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  if (!options.keepData) fs.rmSync(o.dir, { recursive: true, force: true });
  else if (info) fs.writeFileSync(infoFile(o.dir), `${JSON.stringify({ ...info, processes: {} }, null, 2)}\n`);
  return stopped;
}
