// k8s/ as kubectl renders it (`kubectl kustomize`, Debian's kubernetes-client 1.20 on CI or any newer kubectl):
// every object against the Kubernetes schemas, Strimzi's CRD schemas (testdata/strimzi) and the policy; the
// pieces that must agree with libs/k8s (CRD, settings) and with each other (labels, services, policies).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '@strata/experiment';
import { parseAllDocuments } from 'yaml';
import { experimentCrd } from './crd';
import { gpuConsumers, podTemplates, policyProblems } from './policy';
import { renderExperiment, type K8sObject } from './render';
import { OVERLAYS, defaultSettings, parseSettings } from './settings';
import { objectsProblems, type CustomSchemas } from './validate';

const repo = path.resolve(__dirname, '../../..');
const strimzi = JSON.parse(fs.readFileSync(path.join(__dirname, '../testdata/strimzi/schemas.json'), 'utf8')) as CustomSchemas;
const POLICY = { gpuComponents: ['teacher-inference', 'teacher-train'], apiClients: ['controller'] };
const kubectl = process.env.STRATA_KUBECTL ?? 'kubectl';
const probe = spawnSync(kubectl, ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = probe.status === 0;

if (!haveKubectl) {
  const reason = `${kubectl} not found (${probe.error?.message ?? probe.stderr}); install Debian's kubernetes-client (apt-get install kubernetes-client) to run the k8s/ rendering tests`;
  if (process.env.CI) {
    test('kubectl is installed on CI', () => {
      throw new Error(reason);
    });
  } else {
    // eslint-disable-next-line no-console
    console.log(`skipping k8s/ rendering tests: ${reason}`);
  }
}

function kustomize(overlay: string): { text: string; objects: K8sObject[] } {
  const r = spawnSync(kubectl, ['kustomize', path.join(repo, 'k8s/overlays', overlay)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize k8s/overlays/${overlay} failed: ${r.stderr}`);
  return { text: r.stdout, objects: parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject).filter((o) => o !== null) };
}

/** Unknown fields of built-in kinds, through the client-node field lists (a child process: that package is ESM). */
function unknownFields(objects: unknown[]): string[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'testing/unknown-fields.ts')], { input: JSON.stringify(objects), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unknown-fields helper failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

(haveKubectl ? describe.each(OVERLAYS) : describe.skip.each(OVERLAYS))('kubectl kustomize k8s/overlays/%s', (overlay) => {
  // describe.skip still runs this body to collect the tests: render only when kubectl is there.
  const { text, objects } = haveKubectl ? kustomize(overlay) : { text: '', objects: [] as K8sObject[] };
  const sst2 = renderExperiment(parseManifest(fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8')), { settings: defaultSettings(overlay), managedBy: 'strata-cli' });
  const all = [...objects, ...sst2];

  it('renders the namespace, CRD, Kafka, volumes, RBAC, services, controller and policies', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/strata-settings',
      'CustomResourceDefinition/experiments.strata.dev',
      'Deployment/strata-controller',
      'Deployment/strata-evaluator',
      'Deployment/strata-teacher-inference',
      'Kafka/strata-kafka',
      'KafkaNodePool/strata-kafka-pool',
      'KafkaTopic/strata-caches',
      'KafkaTopic/strata-runs',
      'Namespace/strata',
      'NetworkPolicy/strata-controller',
      'NetworkPolicy/strata-default-deny-ingress',
      'NetworkPolicy/strata-dns',
      'NetworkPolicy/strata-evaluator',
      'NetworkPolicy/strata-student-trainer',
      'NetworkPolicy/strata-teacher-inference',
      'NetworkPolicy/strata-teacher-train',
      'PersistentVolumeClaim/strata-artifacts',
      'PersistentVolumeClaim/strata-data',
      'Role/strata-controller',
      'RoleBinding/strata-controller',
      'Service/strata-evaluator',
      'Service/strata-teacher-inference',
      'ServiceAccount/strata-controller',
    ]);
    expect(objects.filter((o) => !['Namespace', 'CustomResourceDefinition'].includes(o.kind)).every((o) => o.metadata.namespace === 'strata')).toBe(true);
  });

  it('renders the same text every time', () => {
    expect(kustomize(overlay).text).toBe(text);
  });

  it('validates against the Kubernetes OpenAPI schemas and Strimzi’s CRD schemas', () => {
    expect(objectsProblems(all, strimzi)).toEqual([]);
  });

  it('uses no field the Kubernetes API does not know', () => {
    expect(unknownFields(all)).toEqual([]);
  });

  it('passes the policy: probes, limits, security context, GPUs only where meant', () => {
    expect(policyProblems(all, POLICY)).toEqual([]);
    expect(gpuConsumers(all)).toEqual(overlay === 'gpu' ? ['Deployment strata-teacher-inference/teacher-inference', 'Job sst2-layer-selection-teacher/teacher'] : []);
  });

  it('ships the CRD libs/k8s generates and the settings libs/k8s renders with', () => {
    expect(find(objects, 'CustomResourceDefinition', 'experiments.strata.dev')).toEqual(experimentCrd());
    expect(parseSettings(find(objects, 'ConfigMap', 'strata-settings').data['settings.json'])).toEqual(defaultSettings(overlay));
  });

  it('points the controller at the services the settings name', () => {
    const env = Object.fromEntries(find(objects, 'Deployment', 'strata-controller').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    const s = defaultSettings(overlay);
    expect([env.STRATA_TEACHER_INFERENCE_URL, env.STRATA_EVALUATOR_URL]).toEqual([s.teacherInferenceUrl, s.evaluatorUrl]);
    for (const svc of ['strata-teacher-inference', 'strata-evaluator']) {
      const service = find(objects, 'Service', svc);
      const deployment = find(objects, 'Deployment', svc);
      expect(matches(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(s.teacherInferenceUrl.includes(svc) || s.evaluatorUrl.includes(svc)).toBe(true);
    }
  });

  it('selects every Strata pod with some NetworkPolicy and every policy selects a pod', () => {
    const pods = podTemplates(all).map((p) => ({ object: p.object, labels: (all.find((o) => `${o.kind} ${o.metadata.name}` === p.object) as any).spec.template.metadata.labels }));
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as any[];
    for (const pod of pods) {
      const own = policies.filter((np) => Object.keys(np.spec.podSelector.matchLabels ?? {}).length > 1 && matches(np.spec.podSelector.matchLabels, pod.labels));
      expect(`${pod.object}: ${own.length}`).toBe(`${pod.object}: 1`);
    }
    for (const np of policies) expect(`${np.metadata.name}: ${pods.some((p) => matches(np.spec.podSelector.matchLabels ?? {}, p.labels))}`).toBe(`${np.metadata.name}: true`);
  });

  it('gives the controller only the verbs it uses, in its namespace', () => {
    const role = find(objects, 'Role', 'strata-controller');
    expect(role.rules.map((r: any) => `${r.apiGroups.join(',')}/${r.resources.join(',')}: ${r.verbs.join(',')}`)).toEqual([
      'strata.dev/experiments: get,list,watch',
      'strata.dev/experiments/status: get,patch,update',
      'strata.dev/experiments/finalizers: update',
      'batch/jobs: get,list,watch,create,patch',
      '/configmaps: get,list,watch,create',
    ]);
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
  });

  it('reads the bearer token from the strata-api-token Secret in every pod that calls a service', () => {
    for (const name of ['strata-teacher-inference', 'strata-evaluator', 'strata-controller']) {
      const spec = find(objects, 'Deployment', name).spec.template.spec;
      expect(spec.volumes.find((v: any) => v.name === 'token').secret).toEqual({ secretName: 'strata-api-token', items: [{ key: 'token', path: 'token' }] });
    }
  });

  if (overlay === 'gpu') {
    it('runs teacher-inference on the GPU node pool with the CUDA image', () => {
      const spec = find(objects, 'Deployment', 'strata-teacher-inference').spec.template.spec;
      expect(spec.nodeSelector).toEqual({ 'strata.dev/node-pool': 'gpu' });
      expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(spec.containers[0].image).toBe('strata/teacher-inference:0.1.0-cuda');
      expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
      expect(spec.containers[0].env).toContainEqual({ name: 'STRATA_DEVICE', value: 'cuda' });
      expect(find(objects, 'KafkaNodePool', 'strata-kafka-pool').spec.replicas).toBe(3);
      expect(find(objects, 'KafkaTopic', 'strata-runs').spec.replicas).toBe(3);
    });
  } else {
    it('runs everything on CPU nodes with one Kafka broker', () => {
      const spec = find(objects, 'Deployment', 'strata-teacher-inference').spec.template.spec;
      expect(spec.nodeSelector).toBeUndefined();
      expect(spec.containers[0].image).toBe('strata/teacher-inference:0.1.0');
      expect(find(objects, 'KafkaNodePool', 'strata-kafka-pool').spec.replicas).toBe(1);
    });
  }

  it('keeps the overlay settings.json equal to the libs/k8s defaults', () => {
    expect(fs.readFileSync(path.join(repo, 'k8s/overlays', overlay, 'settings.json'), 'utf8')).toBe(`${JSON.stringify(defaultSettings(overlay), null, 2)}\n`);
  });
});

describe('policy checks catch what they check', () => {
  it('flags a GPU on the students, a missing probe, a missing limit and a writable root filesystem', () => {
    const objs = renderExperiment(parseManifest(fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8')), { settings: defaultSettings('cpu'), managedBy: 'strata-cli' }) as any[];
    const c = objs[2].spec.template.spec.containers[0];
    c.resources.limits['nvidia.com/gpu'] = '1';
    delete c.livenessProbe;
    delete c.resources.limits.memory;
    c.securityContext = { ...c.securityContext, readOnlyRootFilesystem: false };
    expect(policyProblems(objs, POLICY)).toEqual([
      'Job sst2-layer-selection-students/student: securityContext.readOnlyRootFilesystem must be true',
      'Job sst2-layer-selection-students/student: resources.limits.memory is missing',
      "Job sst2-layer-selection-students/student: requests nvidia.com/gpu but component 'student-trainer' is not meant to",
      'Job sst2-layer-selection-students/student: livenessProbe is missing',
    ]);
  });
});

describe('the Strimzi test schemas catch what they check', () => {
  it('flags a listener port below 9092, an unknown field and an unkept subtree', () => {
    const kafka = {
      apiVersion: 'kafka.strimzi.io/v1',
      kind: 'Kafka',
      metadata: { name: 'k' },
      spec: { kafka: { listeners: [{ name: 'plain', port: 9000, type: 'internal', tls: false }], replicas: 3 }, entityOperator: { topicOperator: { watchedNamespace: 'x' } } },
    };
    expect(objectsProblems([kafka], strimzi)).toEqual([
      'Kafka k: spec.kafka.listeners[0].port: must be >= 9092, got 9000',
      'Kafka k: spec.kafka.replicas: unknown field',
      'Kafka k: spec.entityOperator.topicOperator: its schema was not kept in the test data (see the README beside it); extract it before using this field',
    ]);
  });
});
