// GPU node pool scheduling on the local node, without a GPU: the node is made to look like the gpu overlay's pool
// (label strata.dev/node-pool=gpu, taint nvidia.com/gpu=present:NoSchedule, one nvidia.com/gpu in its capacity by a
// status patch, as a device plugin would advertise it). The gpu overlay's teacher Job (as the controller renders it,
// run with the CPU image under STRATA_DEVICE=cpu) must land there and run to completion; a pod without the
// toleration must not be scheduled. The node is restored afterwards. Needs a node (STRATA_K8S_STATE_DIR of a
// `start --node` cluster, as for e2e.test.ts); about 2 minutes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '@strata/experiment';
import { defaultSettings, renderExperiment, type K8sObject } from '@strata/k8s';
import { NODE_NAME } from './cluster';
import { buildImages, loadImages } from './images';
import { K8S_STATE_DIR_ENV, describeK8sNode, type TestCluster } from './testing';

jest.setTimeout(15 * 60_000);

const repo = path.resolve(__dirname, '../../..');
const ns = `strata-gpu-${crypto.randomBytes(3).toString('hex')}`;
const TAINT = 'nvidia.com/gpu=present:NoSchedule';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TITLE = 'GPU node pool scheduling (the gpu overlay\'s teacher Job on a node advertising nvidia.com/gpu)';
describeK8sNode(TITLE, (cluster: () => TestCluster) => {
  const kubectl = (args: string[], input?: string) => {
    const r = cluster().run(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  type Pod = { metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } };
  const pods = (selector: string) => (JSON.parse(kubectl(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])) as { items: Pod[] }).items;
  async function until<T>(what: string, f: () => T | undefined | false, ms: number): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = f();
      if (v) return v;
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}:\n${cluster().run(['-n', ns, 'get', 'pods,jobs', '-o', 'wide']).stdout}`);
      await sleep(1000);
    }
  }
  let prepared = false;

  afterAll(() => {
    if (!prepared) return;
    cluster().run(['delete', 'namespace', ns, '--wait=false']);
    cluster().run(['taint', 'node', NODE_NAME, `${TAINT}-`]);
    cluster().run(['label', 'node', NODE_NAME, 'strata.dev/node-pool-']);
    cluster().run(['patch', 'node', NODE_NAME, '--subresource=status', '--type=json', '-p', '[{"op":"remove","path":"/status/capacity/nvidia.com~1gpu"}]']);
  });

  it('puts the teacher on the GPU pool, where it runs with the CPU image, and nothing untolerated', async () => {
    if (!cluster().info.node.containerdSocket) throw new Error(`no node in the cluster of ${K8S_STATE_DIR_ENV}: ${cluster().info.node.skipped}`);
    loadImages(buildImages({ repo }), cluster().info.node);
    prepared = true;
    kubectl(['create', 'namespace', ns]);
    kubectl(['label', 'node', NODE_NAME, 'strata.dev/node-pool=gpu', '--overwrite']);
    kubectl(['taint', 'node', NODE_NAME, TAINT, '--overwrite']);
    kubectl(['patch', 'node', NODE_NAME, '--subresource=status', '--type=json', '-p', '[{"op":"add","path":"/status/capacity/nvidia.com~1gpu","value":"1"}]']);
    const node = JSON.parse(kubectl(['get', 'node', NODE_NAME, '-o', 'json'])) as { status: { allocatable: Record<string, string> } };
    await until('nvidia.com/gpu in the node\'s allocatable', () => (JSON.parse(kubectl(['get', 'node', NODE_NAME, '-o', 'json'])) as typeof node).status.allocatable['nvidia.com/gpu'] === '1', 30_000);

    // The gpu overlay's settings, with the CPU image (no CUDA here) and no pull; the volumes become emptyDirs (this
    // namespace has no claims). Everything else (GPU limit, node selector, toleration) is the controller's rendering.
    const base = defaultSettings('gpu');
    const settings = { ...base, namespace: ns, imagePullPolicy: 'Never' as const, images: { ...base.images, cli: 'strata/cli:0.1.0' } };
    const manifest = parseManifest(fs.readFileSync(path.join(repo, 'examples/quickstart.yaml'), 'utf8'));
    // Where the teacher runs is the point, not how well it learns: one epoch on a few hundred examples keeps it short.
    manifest.spec.teacher.train!.epochs = 1;
    manifest.spec.data.maxTrainExamples = 400;
    const objects = renderExperiment(manifest, { settings, managedBy: 'strata-cli' }) as Array<K8sObject & { spec?: any }>;
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const teacher = objects.find((o) => o.kind === 'Job' && o.metadata.name.endsWith('-teacher'))!;
    const podSpec = teacher.spec.template.spec;
    expect(podSpec.nodeSelector).toEqual({ 'strata.dev/node-pool': 'gpu' });
    expect(podSpec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    podSpec.containers[0].env = podSpec.containers[0].env.map((e: { name: string; value?: string }) => (e.name === 'STRATA_DEVICE' ? { name: 'STRATA_DEVICE', value: 'cpu' } : e));
    podSpec.volumes = podSpec.volumes.map((v: { name: string; configMap?: unknown }) => (v.configMap ? v : { name: v.name, emptyDir: {} }));
    kubectl(['apply', '-f', '-'], [configMap, teacher].map((o) => JSON.stringify(o)).join('\n'));
    // A CPU pod with no toleration: the only node is the tainted GPU pool, so it must stay unscheduled.
    kubectl(['-n', ns, 'run', 'cpu-only', '--image=strata.local/pause:3.10', '--image-pull-policy=Never', '--labels=test=cpu-only']);

    const scheduled = await until('the teacher pod to be scheduled', () => pods(`job-name=${teacher.metadata.name}`).find((p) => p.spec.nodeName), 120_000);
    expect(scheduled.spec.nodeName).toBe(NODE_NAME);
    const cpuOnly = await until('the untolerated pod to be refused', () => pods('test=cpu-only').find((p) => p.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')), 60_000);
    expect(cpuOnly.spec.nodeName).toBeUndefined();
    expect(cpuOnly.status.conditions!.find((c) => c.type === 'PodScheduled')!.message).toMatch(/untolerated taint.*nvidia\.com\/gpu/);
    // It trains on the CPU (STRATA_DEVICE=cpu) to completion.
    const jobState = () => (JSON.parse(kubectl(['-n', ns, 'get', 'job', teacher.metadata.name, '-o', 'json'])) as { status: { succeeded?: number; failed?: number } }).status;
    const end = await until('the teacher Job to finish', () => {
      const s = jobState();
      return (s.succeeded ?? 0) > 0 || (s.failed ?? 0) > 0 ? s : undefined;
    }, 10 * 60_000);
    if (!end.succeeded) throw new Error(`the teacher Job failed:\n${cluster().run(['-n', ns, 'logs', `job/${teacher.metadata.name}`, '--tail=30']).stdout}`);
    expect(kubectl(['-n', ns, 'logs', `job/${teacher.metadata.name}`])).toMatch(/dev accuracy/);
  });
});
