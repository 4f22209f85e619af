// The Kubernetes objects of one Experiment (docs/SERVICES.md, "Kubernetes mapping"): the manifest ConfigMap, the
// teacher Job when spec.teacher.train, and the Indexed Job of student cells. The controller creates exactly these
// (with owner references); `strata k8s render` prints them for clusters without the controller. Pure.
import * as nodePath from 'node:path';
import { canonicalJson, getTask } from '@strata/data';
import { experimentGrid, planGrid, type ExperimentManifest, type TeacherShape } from '@strata/experiment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPodFailurePolicy } from 'kubernetes-models/batch/v1/PodFailurePolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import {
  API_VERSION,
  COMPONENTS,
  KIND,
  LABELS,
  MANIFEST_KEY,
  MAX_EXPERIMENT_NAME,
  MOUNTS,
  manifestConfigMapName,
  studentsJobName,
  teacherJobName,
} from './names';
import type { ClusterSettings } from './settings';

/** Any Kubernetes object as plain data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    uid?: string;
    generation?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export interface RenderOptions {
  settings: ClusterSettings;
  /** The Experiment object that owns what is rendered (the controller); absent for `strata k8s render`. */
  owner?: { name: string; uid: string };
  managedBy: 'strata-controller' | 'strata-cli';
}

/** Fields that mean something else, or nothing, on Kubernetes; each problem names the field. */
export function kubernetesProblems(manifest: ExperimentManifest): string[] {
  const problems: string[] = [];
  const name = manifest.metadata.name;
  if (name.length > MAX_EXPERIMENT_NAME) {
    problems.push(`metadata.name: '${name}' has ${name.length} characters; on Kubernetes at most ${MAX_EXPERIMENT_NAME}, so that the student pods' hostnames <name>-students-<index> stay DNS labels`);
  }
  // The teacher Job trains classification teachers and the cache request carries no generation settings (top-k,
  // lengths, carve): a generation Experiment would fail in its teacher Job or cache a different stream than the
  // students expect, so it is refused here, where the user sees it, instead.
  const kind = getTask(manifest.spec.task).kind;
  if (kind !== 'classification') {
    problems.push(`spec.task: '${manifest.spec.task}' is a ${kind} task; the Kubernetes controller runs classification tasks only so far (run it with strata experiment run --transport kafka, or embedded)`);
  }
  if (manifest.spec.data.root !== undefined) {
    problems.push('spec.data.root: not used on Kubernetes; datasets come from the strata-data volume (STRATA_DATA_ROOT=/data); remove the field');
  }
  for (const field of ['onnx', 'pretrained', 'tokenizer'] as const) {
    const p = manifest.spec.teacher[field];
    if (p !== undefined && (nodePath.posix.isAbsolute(p) || nodePath.posix.normalize(p).split('/').includes('..'))) {
      problems.push(`spec.teacher.${field}: '${p}' must be a relative path inside the artifacts volume (STRATA_ARTIFACTS=/artifacts)`);
    }
  }
  return problems;
}

/** The manifest as the services read it: metadata reduced to the name, every default filled in. */
export function clusterManifest(manifest: ExperimentManifest): ExperimentManifest {
  return { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: { name: manifest.metadata.name }, spec: manifest.spec };
}

/** The ConfigMap text: canonical JSON (sorted keys), so equal manifests give equal ConfigMaps. */
export function manifestJson(manifest: ExperimentManifest): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(clusterManifest(manifest))), null, 2)}\n`;
}

/** Where the teacher is, relative to the artifacts volume (docs/SERVICES.md, artifact layout). */
export function teacherArtifacts(manifest: ExperimentManifest): { onnx: string; tokenizer?: string; trained: boolean } {
  const t = manifest.spec.teacher;
  // A fine-tuned pretrained teacher lands where a trained one does: the teacher stage writes both.
  if (t.train || t.pretrained) return { onnx: `${manifest.metadata.name}/teacher/teacher.onnx`, tokenizer: `${manifest.metadata.name}/teacher/tokenizer.json`, trained: true };
  return { onnx: nodePath.posix.normalize(t.onnx!), ...(t.tokenizer ? { tokenizer: nodePath.posix.normalize(t.tokenizer) } : {}), trained: false };
}

/** The teacher's depth and width when the manifest alone fixes them (a trained teacher). */
export function manifestTeacherShape(manifest: ExperimentManifest): TeacherShape | undefined {
  const train = manifest.spec.teacher.train;
  return train ? { layers: train.layers, hidden: train.hidden } : undefined;
}

/**
 * Teacher layers the one cache must hold: every state any cell can match (the same set `strata experiment run`
 * caches), or just the last layer when no cell matches hidden states (logits only).
 */
export function cacheLayers(manifest: ExperimentManifest, teacherLayers: number): number[] {
  // The very function the embedded run and the student-trainer use, so the cache keys agree.
  return experimentGrid(manifest, teacherLayers).cacheLayers;
}

/** POST /v1/caches body (docs/SERVICES.md, teacher-inference HTTP API). */
export interface CacheRequest {
  experiment: string;
  teacher: string;
  tokenizer?: string;
  task: string;
  split: string;
  layers: number[];
  dtype: string;
  maxExamples?: number;
  hiddenStates?: string[];
  teacherPrecision?: 'float32' | 'int8';
}

export function cacheRequestBody(manifest: ExperimentManifest, teacher: TeacherShape): CacheRequest {
  const where = teacherArtifacts(manifest);
  const body: CacheRequest = {
    experiment: manifest.metadata.name,
    teacher: where.onnx,
    task: manifest.spec.task,
    split: manifest.spec.data.trainSplit,
    layers: cacheLayers(manifest, teacher.layers),
    dtype: manifest.spec.cache.dtype,
  };
  if (where.tokenizer !== undefined) body.tokenizer = where.tokenizer;
  if (manifest.spec.data.maxTrainExamples !== undefined) body.maxExamples = manifest.spec.data.maxTrainExamples;
  if (manifest.spec.teacher.hiddenStates !== undefined) body.hiddenStates = manifest.spec.teacher.hiddenStates;
  if (manifest.spec.cache.teacherPrecision !== 'float32') body.teacherPrecision = manifest.spec.cache.teacherPrecision;
  return body;
}

/** Number of student cells: the Indexed Job's completions. */
export function cellCount(manifest: ExperimentManifest): number {
  return planGrid(manifest, { teacherLayers: manifestTeacherShape(manifest)?.layers }).length;
}

/** Cell ids in Indexed-Job order (index i runs cell i; docs/SERVICES.md, student-trainer). */
export function cellIds(manifest: ExperimentManifest): string[] {
  return planGrid(manifest, { teacherLayers: manifestTeacherShape(manifest)?.layers }).map((c) => c.id);
}

export const POD_SECURITY_CONTEXT: IPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const CONTAINER_SECURITY_CONTEXT: ISecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * Batch containers serve no HTTP, so their liveness probe checks what a restart can fix: that the artifacts volume
 * still answers (a hung network mount blocks every write and the checkpoint with it).
 */
const VOLUME_LIVENESS = {
  exec: { command: ['sh', '-c', `test -d ${MOUNTS.artifacts} && test -w ${MOUNTS.artifacts}`] },
  initialDelaySeconds: 30,
  periodSeconds: 60,
  timeoutSeconds: 10,
  failureThreshold: 3,
};

/**
 * A pod that is evicted, preempted or drained (condition DisruptionTarget) does not use up the Job's retries: it was
 * sent SIGTERM, saved its checkpoint, and its replacement resumes from there.
 */
const EVICTION_IS_NOT_A_FAILURE: IPodFailurePolicy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] };

function labels(manifest: ExperimentManifest, component: string, managedBy: string): Record<string, string> {
  return {
    [LABELS.name]: 'strata',
    [LABELS.component]: component,
    [LABELS.partOf]: 'strata',
    [LABELS.managedBy]: managedBy,
    [LABELS.experiment]: manifest.metadata.name,
  };
}

function metadata(name: string, manifest: ExperimentManifest, component: string, opts: RenderOptions): K8sObject['metadata'] {
  const meta: K8sObject['metadata'] = { name, namespace: opts.settings.namespace, labels: labels(manifest, component, opts.managedBy) };
  if (opts.owner) {
    meta.ownerReferences = [{ apiVersion: API_VERSION, kind: KIND, name: opts.owner.name, uid: opts.owner.uid, controller: true, blockOwnerDeletion: true }];
  }
  return meta;
}

const env = (name: string, value: string | number) => ({ name, value: String(value) });

function commonEnv(s: ClusterSettings, threads: number) {
  return [
    env('STRATA_ARTIFACTS', MOUNTS.artifacts),
    env('STRATA_DATA_ROOT', MOUNTS.data),
    env('STRATA_THREADS', threads),
    env('STRATA_LOG_LEVEL', 'info'),
    // tsx keeps its compile cache under the home directory; the root filesystem is read-only.
    env('HOME', MOUNTS.tmp),
  ];
}

function volumes(manifest: ExperimentManifest, s: ClusterSettings, withToken: boolean): IVolume[] {
  const v: IVolume[] = [
    { name: 'manifest', configMap: { name: manifestConfigMapName(manifest.metadata.name), items: [{ key: MANIFEST_KEY, path: MANIFEST_KEY }] } },
    { name: 'artifacts', persistentVolumeClaim: { claimName: s.artifactsClaim } },
    { name: 'data', persistentVolumeClaim: { claimName: s.dataClaim, readOnly: true } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
  ];
  if (withToken) v.push({ name: 'token', secret: { secretName: s.tokenSecret, items: [{ key: 'token', path: 'token' }] } });
  return v;
}

const MOUNT_MANIFEST: IVolumeMount = { name: 'manifest', mountPath: MOUNTS.manifestDir, readOnly: true };
const MOUNT_ARTIFACTS: IVolumeMount = { name: 'artifacts', mountPath: MOUNTS.artifacts };
const MOUNT_ARTIFACTS_RO: IVolumeMount = { name: 'artifacts', mountPath: MOUNTS.artifacts, readOnly: true };
const MOUNT_DATA: IVolumeMount = { name: 'data', mountPath: MOUNTS.data, readOnly: true };
const MOUNT_TMP: IVolumeMount = { name: 'tmp', mountPath: MOUNTS.tmp };
const MOUNT_TOKEN: IVolumeMount = { name: 'token', mountPath: MOUNTS.tokenDir, readOnly: true };

export function renderManifestConfigMap(manifest: ExperimentManifest, opts: RenderOptions): IConfigMap & K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(manifestConfigMapName(manifest.metadata.name), manifest, 'manifest', opts),
    data: { [MANIFEST_KEY]: manifestJson(manifest) },
  };
}

/** `strata teacher train --manifest` into <artifacts>/<experiment>/teacher/ (resumable; a re-run only re-exports). */
export function renderTeacherJob(manifest: ExperimentManifest, opts: RenderOptions): IJob & K8sObject {
  const s = opts.settings;
  const name = manifest.metadata.name;
  const t = s.teacher;
  const limits: Record<string, string> = { ...t.resources.limits };
  if (t.placement.gpu) limits['nvidia.com/gpu'] = '1';
  const container: IContainer = {
    name: 'teacher',
    image: s.images.cli,
    imagePullPolicy: s.imagePullPolicy,
    command: ['node', '/app/apps/cli/bin/strata.js'],
    // --base: the manifest's paths (a pretrained checkpoint, a tokenizer) are relative to the artifacts volume here.
    args: ['teacher', 'train', '--manifest', MOUNTS.manifest, '--base', MOUNTS.artifacts, '--out', `${MOUNTS.artifacts}/${name}/teacher`],
    env: [...commonEnv(s, t.threads), ...(t.placement.gpu ? [env('STRATA_DEVICE', 'cuda')] : [])],
    resources: { requests: { ...t.resources.requests }, limits },
    volumeMounts: [MOUNT_MANIFEST, MOUNT_ARTIFACTS, MOUNT_DATA, MOUNT_TMP],
    livenessProbe: VOLUME_LIVENESS,
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
  const pod: IPodSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: POD_SECURITY_CONTEXT,
    containers: [container],
    volumes: volumes(manifest, s, false),
  };
  if (Object.keys(t.placement.nodeSelector).length > 0) pod.nodeSelector = { ...t.placement.nodeSelector };
  if (t.placement.tolerations.length > 0) pod.tolerations = t.placement.tolerations.map((x) => ({ ...x }));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(teacherJobName(name), manifest, COMPONENTS.teacherTrain, opts),
    spec: {
      backoffLimit: 4,
      podFailurePolicy: EVICTION_IS_NOT_A_FAILURE,
      template: { metadata: { labels: labels(manifest, COMPONENTS.teacherTrain, opts.managedBy) }, spec: pod },
    },
  };
}

/**
 * One index per grid cell. Rendered by `strata k8s render` (no controller), each pod gets an init container
 * (`controller submit`) that waits for the teacher, then makes the controller's two idempotent calls (the cache
 * request and the evaluator registration), so the Job runs where no controller does. The controller creates the Job
 * only after it made those calls itself, so its pods go without: a container start (about 9 s of a student's 37 s on
 * the local node) saved per cell.
 */
export function renderStudentsJob(manifest: ExperimentManifest, opts: RenderOptions): IJob & K8sObject {
  const s = opts.settings;
  const name = manifest.metadata.name;
  const completions = cellCount(manifest);
  const parallelism = Math.min(manifest.spec.resources?.parallelism ?? s.defaultParallelism, completions);
  const services = [
    env('STRATA_TEACHER_INFERENCE_URL', s.teacherInferenceUrl),
    env('STRATA_EVALUATOR_URL', s.evaluatorUrl),
    env('STRATA_TOKEN_FILE', MOUNTS.token),
  ];
  const submit: IContainer = {
    name: 'submit',
    image: s.images.controller,
    imagePullPolicy: s.imagePullPolicy,
    command: ['node', '/app/apps/controller/bin/controller.js'],
    args: ['submit', '--manifest', MOUNTS.manifest],
    env: [env('STRATA_ARTIFACTS', MOUNTS.artifacts), ...services, env('STRATA_LOG_LEVEL', 'info'), env('HOME', MOUNTS.tmp)],
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    volumeMounts: [MOUNT_MANIFEST, MOUNT_ARTIFACTS_RO, MOUNT_TMP, MOUNT_TOKEN],
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
  const student: IContainer = {
    name: 'student',
    image: s.images.studentTrainer,
    imagePullPolicy: s.imagePullPolicy,
    command: ['node', '/app/apps/student-trainer/bin/student-trainer.js'],
    // JOB_COMPLETION_INDEX is set by the Job controller in every pod of an Indexed Job.
    env: [env('STRATA_MANIFEST', MOUNTS.manifest), ...commonEnv(s, s.student.threads), env('STRATA_BROKERS', s.brokers), ...services],
    resources: { requests: { ...s.student.resources.requests }, limits: { ...s.student.resources.limits } },
    volumeMounts: [MOUNT_MANIFEST, MOUNT_ARTIFACTS, MOUNT_DATA, MOUNT_TMP, MOUNT_TOKEN],
    livenessProbe: VOLUME_LIVENESS,
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(studentsJobName(name), manifest, COMPONENTS.studentTrainer, opts),
    spec: {
      completionMode: 'Indexed',
      completions,
      parallelism,
      // A failed cell is retried alone and does not stop the others (Kubernetes >= 1.29).
      backoffLimitPerIndex: s.backoffLimitPerIndex,
      podFailurePolicy: EVICTION_IS_NOT_A_FAILURE,
      template: {
        metadata: { labels: labels(manifest, COMPONENTS.studentTrainer, opts.managedBy) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: POD_SECURITY_CONTEXT,
          ...(opts.managedBy === 'strata-cli' ? { initContainers: [submit] } : {}),
          containers: [student],
          volumes: volumes(manifest, s, true),
        },
      },
    },
  };
}

/** Every object of an Experiment, in apply order. Throws when the manifest cannot run on Kubernetes. */
export function renderExperiment(manifest: ExperimentManifest, opts: RenderOptions): K8sObject[] {
  const problems = kubernetesProblems(manifest);
  if (problems.length > 0) throw new Error(`experiment ${manifest.metadata.name} cannot run on Kubernetes:\n  ${problems.join('\n  ')}`);
  const objects: K8sObject[] = [renderManifestConfigMap(manifest, opts)];
  if (manifest.spec.teacher.train || manifest.spec.teacher.pretrained) objects.push(renderTeacherJob(manifest, opts));
  objects.push(renderStudentsJob(manifest, opts));
  return objects;
}
