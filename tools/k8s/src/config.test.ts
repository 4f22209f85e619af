import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clusterStatus } from './cluster';
import { COMPONENTS, ldflags, scratchGoMod, stagingModules } from './fetch';
import { ociImageArchive } from './image';
import { APPS, LOCAL_KAFKA, imageNames, kafkaEntrypoint } from './images';
import { PAUSE_IMAGE, cniConfig, containerdConfig, kubeletConfig, nodePaths } from './node';
import { kubeconfig } from './pki';

const CLI = path.join(__dirname, '..', 'bin', 'k8s.js');

describe('the build module', () => {
  const kubernetesGoMod = ['module k8s.io/kubernetes', 'replace (', '\tk8s.io/api => ./staging/src/k8s.io/api', '\tk8s.io/apiserver => ./staging/src/k8s.io/apiserver', '\tgithub.com/x/y => github.com/x/y v1.0.0', ')', 'replace k8s.io/kubelet => ./staging/src/k8s.io/kubelet', ''].join('\n');
  it('finds the staging modules in k8s.io/kubernetes\' go.mod', () => {
    expect(stagingModules(kubernetesGoMod)).toEqual(['k8s.io/api', 'k8s.io/apiserver', 'k8s.io/kubelet']);
  });
  it('replaces each with its published v0 release and lists the programs as tools', () => {
    const mod = scratchGoMod('1.33.13', ['k8s.io/api', 'k8s.io/kubelet']);
    expect(mod).toContain('require k8s.io/kubernetes v1.33.13\n');
    expect(mod).toContain('\tk8s.io/api => k8s.io/api v0.33.13\n');
    expect(mod).toContain('\tk8s.io/kubelet => k8s.io/kubelet v0.33.13\n');
    for (const c of COMPONENTS) expect(mod).toContain(`\tk8s.io/kubernetes/cmd/${c}\n`);
    expect(() => scratchGoMod('0.33', [])).toThrow(/not a Kubernetes 1.x.y version/);
  });
  it('stamps the version the binaries report', () => {
    expect(ldflags('1.33.13')).toContain('-X k8s.io/component-base/version.gitVersion=v1.33.13');
    expect(ldflags('1.33.13')).toContain('-X k8s.io/component-base/version.gitMinor=33');
  });
});

describe('the node configuration', () => {
  const p = nodePaths('/tmp/state');
  it('runs containerd apart from any system one, with restrict_oom_score_adj and the local pause image', () => {
    const toml = containerdConfig(p, { cniBin: '/usr/lib/cni', snapshotter: 'overlayfs' });
    expect(toml).toContain('address = "/tmp/state/containerd/containerd.sock"');
    expect(toml).toContain('root = "/tmp/state/containerd/root"');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain(`sandbox_image = "${PAUSE_IMAGE}"`);
    expect(toml).toContain('SystemdCgroup = false');
  });
  it('gives the kubelet a node address, cgroupfs and webhook authorization', () => {
    const cfg = JSON.parse(kubeletConfig({ ca: 'ca', cert: 'c', key: 'k', socket: '/s', port: 16448, healthzPort: 16449, nodeIp: '192.0.2.2', podLogs: '/l' }));
    expect(cfg).toMatchObject({ kind: 'KubeletConfiguration', address: '192.0.2.2', port: 16448, cgroupDriver: 'cgroupfs', containerRuntimeEndpoint: 'unix:///s', authorization: { mode: 'Webhook' }, authentication: { anonymous: { enabled: false } } });
  });
  it('writes a CNI bridge network', () => {
    expect(JSON.parse(cniConfig({ bridge: 'b0', subnet: '10.244.0.0/24', ipamDir: '/s/ipam' })).plugins[0]).toMatchObject({ type: 'bridge', bridge: 'b0', ipam: { type: 'host-local' } });
  });
});

describe('kubeconfig', () => {
  it('names the server, the CA and a bearer token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-kc-'));
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'CA');
    const text = kubeconfig({ server: 'https://127.0.0.1:6443', ca: path.join(dir, 'ca.crt'), user: 'u', token: 't0k' });
    expect(text).toContain('    server: https://127.0.0.1:6443\n');
    expect(text).toContain(`    certificate-authority-data: ${Buffer.from('CA').toString('base64')}\n`);
    expect(text).toContain('    token: t0k\n');
    expect(text).toContain('current-context: strata-local\n');
  });
});

describe('OCI image archives', () => {
  it('are reproducible single-layer OCI layouts that name the image', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-oci-'));
    const program = path.join(dir, 'hello');
    fs.writeFileSync(program, '#!/bin/sh\necho hi\n');
    const build = (out: string) => ociImageArchive({ name: 'strata.local/hello:1', files: [{ from: program, to: 'bin/hello', mode: 0o755 }], entrypoint: ['/bin/hello'], out: path.join(dir, out) });
    const a = build('a.tar');
    fs.utimesSync(program, new Date(), new Date(Date.now() + 5000));
    expect(build('b.tar')).toBe(a);
    const list = spawnSync('tar', ['-tf', path.join(dir, 'a.tar')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, '')).filter((l) => l && !l.endsWith('/'));
    expect(list).toEqual(expect.arrayContaining(['index.json', 'oci-layout', `blobs/sha256/${a.slice('sha256:'.length)}`]));
    const index = JSON.parse(spawnSync('tar', ['-xOf', path.join(dir, 'a.tar'), './index.json'], { encoding: 'utf8' }).stdout);
    expect(index.manifests[0]).toMatchObject({ digest: a, annotations: { 'io.containerd.image.name': 'strata.local/hello:1' } });
    const manifest = spawnSync('tar', ['-xOf', path.join(dir, 'a.tar'), `./blobs/sha256/${a.slice(7)}`]).stdout as Buffer;
    expect(`sha256:${crypto.createHash('sha256').update(manifest).digest('hex')}`).toBe(a);
  });
});

describe('the command line', () => {
  it('reports no cluster for an empty state directory (exit 3), and refuses a bad port', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-state-'));
    expect(clusterStatus({ dir })).toBeUndefined();
    const r = spawnSync(process.execPath, [CLI, 'status', '--dir', dir], { encoding: 'utf8' });
    expect([r.status, r.stdout]).toEqual([3, 'not running\n']);
    const bad = spawnSync(process.execPath, [CLI, 'start', '--port', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--port: 'x' is not a port number");
    const stop = spawnSync(process.execPath, [CLI, 'stop', '--dir', dir], { encoding: 'utf8' });
    expect([stop.status, stop.stdout]).toEqual([0, 'not running\n']);
  });
});

describe('Strata\'s images', () => {
  it('are named as the cpu overlay names them, each with its Dockerfile\'s entrypoint', () => {
    const names = imageNames('0.1.0');
    expect(names.map((n) => n.name)).toEqual(APPS.map((a) => `docker.io/strata/${a}:0.1.0`));
    for (const n of names) {
      const app = n.name.split('/')[2].split(':')[0];
      const dockerfile = fs.readFileSync(path.join(__dirname, '../../../apps', app, 'Dockerfile'), 'utf8');
      expect(dockerfile).toContain(`ENTRYPOINT ${JSON.stringify(n.entrypoint)}`.replace(/","/g, '", "'));
    }
  });
  it('start Kafka by formatting its storage once, then exec the broker', () => {
    const script = kafkaEntrypoint();
    expect(script).toMatch(/if \[ ! -f \/var\/lib\/kafka\/data\/meta.properties \]; then\n.*kafka.tools.StorageTool format/);
    expect(script).toMatch(/\nexec java .* kafka.Kafka \/opt\/kafka\/server.properties\n/);
    expect(LOCAL_KAFKA).toEqual(expect.objectContaining({ host: '10.244.0.1', port: 29092 }));
  });
});
