import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest, type ExperimentManifest } from '@strata/experiment';
import { gpuConsumers, policyProblems } from './policy';
import { cacheLayers, cacheRequestBody, cellIds, renderExperiment, type K8sObject } from './render';
import { defaultSettings } from './settings';
import { objectsProblems } from './validate';
import { toYamlDocuments } from './yaml';

const repo = path.resolve(__dirname, '../../..');
const load = (file: string) => parseManifest(fs.readFileSync(path.join(repo, file), 'utf8'), file);
const sst2 = load('examples/sst2.yaml');
const onnxTeacher = load('k8s/examples/quickstart-onnx-teacher.yaml');
const cpu = { settings: defaultSettings('cpu'), managedBy: 'strata-cli' as const };
const gpu = { settings: defaultSettings('gpu'), managedBy: 'strata-cli' as const };
const POLICY = { gpuComponents: ['teacher-inference', 'teacher-train'], apiClients: ['controller'] };

const byName = (objects: K8sObject[], name: string) => objects.find((o) => o.metadata.name === name) as any;
const withSpec = (m: ExperimentManifest, edit: (s: any) => void): ExperimentManifest => {
  const copy = structuredClone(m);
  edit(copy.spec);
  return copy;
};

describe('renderExperiment', () => {
  const objects = renderExperiment(sst2, gpu);

  it('renders the manifest ConfigMap, the teacher Job and the students Indexed Job, in that order', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/sst2-layer-selection-manifest',
      'Job/sst2-layer-selection-teacher',
      'Job/sst2-layer-selection-students',
    ]);
    expect(objects.every((o) => o.metadata.namespace === 'strata' && o.metadata.labels?.['strata.dev/experiment'] === 'sst2-layer-selection')).toBe(true);
  });

  it('stores the validated manifest, defaults filled, in the ConfigMap', () => {
    const stored = JSON.parse(byName(objects, 'sst2-layer-selection-manifest').data['manifest.json']);
    expect(stored.metadata).toEqual({ name: 'sst2-layer-selection' });
    expect(stored.spec.students.loss).toEqual({ ce: 1, kl: 1, hidden: 3, temperature: 1, hiddenLoss: 'mse', normalize: 'token', kd: 'forward-kl' });
    expect(parseManifest(JSON.stringify(stored)).spec).toEqual(sst2.spec);
  });

  it('sizes the Indexed Job from planGrid and spec.resources.parallelism', () => {
    const job = byName(objects, 'sst2-layer-selection-students');
    // 1 depth x 2 inits x 5 strategies x 3 seeds
    expect(job.spec).toEqual(expect.objectContaining({ completionMode: 'Indexed', completions: 30, parallelism: 4, backoffLimitPerIndex: 2 }));
    const wide = renderExperiment(withSpec(sst2, (s) => (s.resources = { parallelism: 8 })), gpu);
    expect(byName(wide, 'sst2-layer-selection-students').spec.parallelism).toBe(8);
    const capped = renderExperiment(withSpec(sst2, (s) => (s.resources = { parallelism: 100 })), gpu);
    expect(byName(capped, 'sst2-layer-selection-students').spec.parallelism).toBe(30);
    expect(cellIds(sst2).slice(0, 3)).toEqual(['none-random-d3-s1', 'none-random-d3-s2', 'none-random-d3-s3']);
  });

  it('does not count an evicted or preempted pod against either Job\'s retries (it resumes from its checkpoint)', () => {
    for (const name of ['sst2-layer-selection-teacher', 'sst2-layer-selection-students']) {
      const job = byName(objects, name);
      expect(job.spec.podFailurePolicy).toEqual({ rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
      // Kubernetes accepts a pod failure policy only with restartPolicy Never.
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
    }
  });

  it('runs the students with the contract environment and volumes', () => {
    const pod = byName(objects, 'sst2-layer-selection-students').spec.template.spec;
    const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toEqual(expect.objectContaining({
      STRATA_MANIFEST: '/etc/strata/manifest/manifest.json',
      STRATA_ARTIFACTS: '/artifacts',
      STRATA_DATA_ROOT: '/data',
      STRATA_BROKERS: 'strata-kafka-kafka-bootstrap:9092',
      STRATA_TOKEN_FILE: '/var/run/secrets/strata/token',
      STRATA_TEACHER_INFERENCE_URL: 'http://strata-teacher-inference:8081',
    }));
    expect(pod.containers[0].command).toEqual(['node', '/app/apps/student-trainer/bin/student-trainer.js']);
    expect(pod.initContainers[0].args).toEqual(['submit', '--manifest', '/etc/strata/manifest/manifest.json']);
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(['manifest', 'artifacts', 'data', 'tmp', 'token']);
    expect(pod.restartPolicy).toBe('Never');
  });

  it('puts the teacher Job, and only it, on the GPU pool in the gpu overlay', () => {
    const teacher = byName(objects, 'sst2-layer-selection-teacher').spec.template.spec;
    expect(teacher.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(teacher.containers[0].image).toBe('strata/cli:0.1.0-cuda');
    expect(teacher.containers[0].env).toContainEqual({ name: 'STRATA_DEVICE', value: 'cuda' });
    expect(teacher.nodeSelector).toEqual({ 'strata.dev/node-pool': 'gpu' });
    expect(teacher.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(teacher.containers[0].args).toEqual(['teacher', 'train', '--manifest', '/etc/strata/manifest/manifest.json', '--base', '/artifacts', '--out', '/artifacts/sst2-layer-selection/teacher']);
    expect(gpuConsumers(objects)).toEqual(['Job sst2-layer-selection-teacher/teacher']);
    const onCpu = renderExperiment(sst2, cpu);
    expect(gpuConsumers(onCpu)).toEqual([]);
    expect(byName(onCpu, 'sst2-layer-selection-teacher').spec.template.spec.nodeSelector).toBeUndefined();
  });

  it.each(['cpu', 'gpu'] as const)('renders objects valid against the Kubernetes schemas and the policy (%s)', (overlay) => {
    for (const m of [sst2, onnxTeacher, load('examples/quickstart.yaml')]) {
      const out = renderExperiment(m, { settings: defaultSettings(overlay), managedBy: 'strata-cli' });
      expect(objectsProblems(out)).toEqual([]);
      expect(policyProblems(out, POLICY)).toEqual([]);
    }
  });

  it('renders no teacher Job for a given teacher', () => {
    expect(renderExperiment(onnxTeacher, cpu).map((o) => o.metadata.name)).toEqual(['quickstart-spam-deeper-seeds-manifest', 'quickstart-spam-deeper-seeds-students']);
  });

  it('sets owner references only when an owner is given', () => {
    expect(objects.every((o) => o.metadata.ownerReferences === undefined)).toBe(true);
    const owned = renderExperiment(sst2, { ...gpu, owner: { name: 'sst2-layer-selection', uid: 'u-1' }, managedBy: 'strata-controller' });
    for (const o of owned) {
      expect(o.metadata.ownerReferences).toEqual([{ apiVersion: 'strata.dev/v1alpha1', kind: 'Experiment', name: 'sst2-layer-selection', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
    }
  });

  it('gives the students the submit init container only without a controller (which made the calls before)', () => {
    const students = (managedBy: 'strata-cli' | 'strata-controller') =>
      byName(renderExperiment(sst2, { ...gpu, owner: { name: 'sst2-layer-selection', uid: 'u-1' }, managedBy }), 'sst2-layer-selection-students').spec.template.spec;
    expect(students('strata-cli').initContainers.map((c: { name: string }) => c.name)).toEqual(['submit']);
    expect(students('strata-controller').initContainers).toBeUndefined();
    expect(students('strata-controller').containers.map((c: { name: string }) => c.name)).toEqual(['student']);
  });

  it('is deterministic', () => {
    expect(toYamlDocuments(renderExperiment(sst2, gpu))).toBe(toYamlDocuments(renderExperiment(load('examples/sst2.yaml'), gpu)));
  });

  it('refuses what cannot run on Kubernetes, naming the field', () => {
    expect(() => renderExperiment(withSpec(sst2, (s) => (s.data.root = '/data/glue')), cpu)).toThrow('spec.data.root: not used on Kubernetes');
    expect(() => renderExperiment(withSpec(onnxTeacher, (s) => (s.teacher.onnx = '../etc/passwd')), cpu)).toThrow(
      "spec.teacher.onnx: '../etc/passwd' must be a relative path inside the artifacts volume",
    );
    const pretrained = withSpec(sst2, (s) => {
      s.teacher = { pretrained: '/models/all-MiniLM-L6-v2' };
    });
    expect(() => renderExperiment(pretrained, cpu)).toThrow("spec.teacher.pretrained: '/models/all-MiniLM-L6-v2' must be a relative path inside the artifacts volume");
    // A relative checkpoint folder is fine: the teacher Job fine-tunes it (its paths resolved against the artifacts volume).
    const relative = withSpec(sst2, (s) => {
      s.teacher = { pretrained: 'models/all-MiniLM-L6-v2' };
    });
    const jobs = renderExperiment(relative, cpu).filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
    expect(jobs).toContain('sst2-layer-selection-teacher');
    const long = structuredClone(sst2);
    long.metadata.name = 'x'.repeat(50);
    expect(() => renderExperiment(long, cpu)).toThrow(`metadata.name: '${'x'.repeat(50)}' has 50 characters; on Kubernetes at most 48`);
  });
});

describe('cache request', () => {
  it('asks for every teacher state any cell can match, as the embedded run caches', () => {
    // 6-layer teacher, 3-layer students: forward/reverse/out-of-order use hs 2, 4, 6, all-to-one hs 3, all match hs 0.
    expect(cacheLayers(sst2, 6)).toEqual([0, 2, 3, 4, 6]);
    expect(cacheLayers(withSpec(sst2, (s) => (s.students.strategies = ['none'])), 6)).toEqual([6]);
  });

  it('names the teacher under the artifacts volume and the training split', () => {
    expect(cacheRequestBody(sst2, { layers: 6, hidden: 128 })).toEqual({
      experiment: 'sst2-layer-selection',
      teacher: 'sst2-layer-selection/teacher/teacher.onnx',
      tokenizer: 'sst2-layer-selection/teacher/tokenizer.json',
      task: 'sst2',
      split: 'train',
      layers: [0, 2, 3, 4, 6],
      dtype: 'float16',
    });
    expect(cacheRequestBody(onnxTeacher, { layers: 4, hidden: 64 })).toEqual({
      experiment: 'quickstart-spam-deeper-seeds',
      teacher: 'quickstart-spam/teacher/teacher.onnx',
      tokenizer: 'quickstart-spam/teacher/tokenizer.json',
      task: 'spam',
      split: 'train',
      layers: [0, 2, 4],
      dtype: 'float16',
      maxExamples: 2400,
    });
  });
});
