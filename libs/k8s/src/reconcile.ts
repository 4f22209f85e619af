// The controller's reconcile as a pure function: an Experiment, the objects observed for it and the answers of the
// service calls asked for earlier -> the objects to create, the calls to make next, and the status. The watch loop
// (apps/controller) only lists, creates, calls and patches. Nothing here reads a clock or the network.
import { ManifestError, parseManifest, validateAgainstTeacher, type ExperimentManifest, type TeacherShape } from '@strata/experiment';
import { stringify } from 'yaml';
import { API_VERSION, KIND, MANIFEST_KEY, studentsJobName, teacherJobName } from './names';
import {
  cacheRequestBody,
  cellIds,
  clusterManifest,
  kubernetesProblems,
  manifestJson,
  manifestTeacherShape,
  renderManifestConfigMap,
  renderStudentsJob,
  renderTeacherJob,
  teacherArtifacts,
  type CacheRequest,
  type K8sObject,
} from './render';
import type { ClusterSettings } from './settings';
import type { CacheState, Condition, ConditionType, ExperimentStatus, Phase } from './status';

/** An Experiment as the apiserver returns it. */
export interface ExperimentResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; generation?: number; deletionTimestamp?: string };
  spec: unknown;
  status?: Partial<ExperimentStatus>;
}

/** The parts of a Job the reconcile reads. */
export interface ObservedJob {
  metadata: { name: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
  spec?: { suspend?: boolean };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    completedIndexes?: string;
    failedIndexes?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

export interface ObservedConfigMap {
  metadata: { name: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
  data?: Record<string, string>;
}

export interface Observed {
  configMap?: ObservedConfigMap;
  teacherJob?: ObservedJob;
  studentsJob?: ObservedJob;
}

/** A call the shell makes for the reconcile, then hands back as a `CallResult`. */
export type ServiceCall =
  | { kind: 'readTeacher'; path: string }
  | { kind: 'requestCache'; body: CacheRequest }
  | { kind: 'getCache'; cacheKey: string }
  | { kind: 'register'; manifest: ExperimentManifest }
  | { kind: 'getResults'; experiment: string };

export type Failure = { ok: false; error: string };
export interface CacheAnswer {
  ok: true;
  cacheKey: string;
  topic: string;
  state: CacheState;
  produced?: number;
  total?: number;
  error?: string;
}
export interface CallResults {
  teacher?: ({ ok: true } & TeacherShape) | Failure;
  cache?: CacheAnswer | Failure;
  register?: { ok: true } | Failure;
  results?: { ok: true; complete: boolean; cellsDone: number } | Failure;
}

export interface ReconcileInput {
  experiment: ExperimentResource;
  observed: Observed;
  settings: ClusterSettings;
  /** ISO 8601; stamps conditions that change. */
  now: string;
  results?: CallResults;
}

export interface ReconcileOutput {
  create: K8sObject[];
  /**
   * Jobs to suspend (spec.suspend: true, which ends their running pods): a Failed experiment's students Job, so its
   * cells stop training for a run that can no longer complete.
   */
  suspend: string[];
  calls: ServiceCall[];
  status: ExperimentStatus;
  /** Seconds until the shell should reconcile again without an event; null when only an event can change things. */
  requeueAfterSeconds: number | null;
}

/** While a service is producing (the cache, the evaluator), ask again this often. */
export const POLL_SECONDS = 20;
/** After a failed call or a missing teacher file. */
export const RETRY_SECONDS = 30;

const jobCondition = (job: ObservedJob | undefined, type: string) => job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');

/** `"0-2,5"` -> [0, 1, 2, 5] (the Job status' index ranges). */
export function parseIndexes(ranges: string | undefined): number[] {
  if (!ranges) return [];
  const out: number[] = [];
  for (const part of ranges.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** The manifest from the Experiment's spec, validated; problems as `path: message` lines. */
export function manifestFromResource(resource: ExperimentResource): { manifest?: ExperimentManifest; problems: string[] } {
  const where = `experiment ${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
  const doc = { apiVersion: API_VERSION, kind: KIND, metadata: { name: resource.metadata.name }, spec: resource.spec };
  try {
    const manifest = parseManifest(stringify(doc), where);
    const problems = kubernetesProblems(manifest);
    return problems.length ? { problems } : { manifest: clusterManifest(manifest), problems };
  } catch (e) {
    if (e instanceof ManifestError) return { problems: e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) };
    throw e;
  }
}

function ownedBy(obj: { metadata: { ownerReferences?: Array<{ uid: string; controller?: boolean }> } }, uid: string): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true);
}

class StatusBuilder {
  private readonly conditions = new Map<ConditionType, Condition>();

  constructor(private readonly previous: Partial<ExperimentStatus> | undefined, private readonly now: string, private readonly generation: number | undefined) {}

  set(type: ConditionType, status: 'True' | 'False', reason: string, message: string): void {
    const before = this.previous?.conditions?.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : this.now;
    const c: Condition = { type, status, reason, message, lastTransitionTime };
    if (this.generation !== undefined) c.observedGeneration = this.generation;
    this.conditions.set(type, c);
  }

  list(): Condition[] {
    const order: ConditionType[] = ['Accepted', 'TeacherReady', 'CacheReady', 'Registered', 'StudentsComplete', 'Ready', 'SpecChanged'];
    return order.filter((t) => this.conditions.has(t)).map((t) => this.conditions.get(t)!);
  }
}

/** One reconcile step of one Experiment. */
export function reconcile(input: ReconcileInput): ReconcileOutput {
  const { experiment, observed, settings, now } = input;
  const results = input.results ?? {};
  const uid = experiment.metadata.uid;
  const name = experiment.metadata.name;
  const prev = experiment.status;
  const generation = experiment.metadata.generation;
  const conditions = new StatusBuilder(prev, now, generation);
  const create: K8sObject[] = [];
  const calls: ServiceCall[] = [];
  const opts = { settings, owner: { name, uid }, managedBy: 'strata-controller' as const };

  const status: ExperimentStatus = {
    phase: 'Pending',
    message: '',
    cellsTotal: prev?.cellsTotal ?? 0,
    cellsDone: prev?.cellsDone ?? 0,
    cellsFailed: prev?.cellsFailed ?? 0,
    conditions: [],
  };
  if (generation !== undefined) status.observedGeneration = generation;
  if (prev?.teacher) status.teacher = { ...prev.teacher };
  if (prev?.cache) status.cache = { ...prev.cache };
  if (prev?.registered) status.registered = true;
  if (prev?.results) status.results = { ...prev.results };
  if (prev?.failedCells) status.failedCells = [...prev.failedCells];

  const finish = (phase: Phase, message: string, requeueAfterSeconds: number | null): ReconcileOutput => {
    status.phase = phase;
    status.message = message;
    status.conditions = conditions.list();
    const students = observed.studentsJob;
    const suspend = phase === 'Failed' && students && ownedBy(students, uid) && !students.spec?.suspend && !jobCondition(students, 'Complete') && !jobCondition(students, 'Failed') ? [students.metadata.name] : [];
    return { create, calls, status, requeueAfterSeconds, suspend };
  };

  // 1. The spec. Once the ConfigMap exists, it is what runs: a later edit of the spec is reported, not applied.
  const parsed = manifestFromResource(experiment);
  let manifest = parsed.manifest;
  if (observed.configMap && !ownedBy(observed.configMap, uid)) {
    return finish('Failed', `ConfigMap ${observed.configMap.metadata.name} exists and belongs to something else; delete it or rename the Experiment`, null);
  }
  const running = observed.configMap?.data?.[MANIFEST_KEY];
  if (running !== undefined) {
    const runningManifest = JSON.parse(running) as ExperimentManifest;
    if (!manifest || manifestJson(manifest) !== running) {
      conditions.set('SpecChanged', 'True', 'SpecChangedAfterStart', 'the spec changed after the run started; the original spec keeps running; delete and re-apply the Experiment to run the new one');
    }
    manifest = runningManifest;
  } else if (!manifest) {
    conditions.set('Accepted', 'False', 'InvalidSpec', parsed.problems.join('; '));
    return finish('Invalid', parsed.problems.join('; '), null);
  }
  conditions.set('Accepted', 'True', 'Valid', 'the spec is a valid experiment manifest');
  const ids = cellIds(manifest);
  status.cellsTotal = ids.length;
  const where = teacherArtifacts(manifest);

  if (!observed.configMap) create.push(renderManifestConfigMap(manifest, opts));

  // 2. The teacher: trained by our Job, or given (its shape read from the file once).
  let teacher: TeacherShape | undefined;
  if (where.trained) {
    const job = observed.teacherJob;
    if (job && !ownedBy(job, uid)) return finish('Failed', `Job ${job.metadata.name} exists and belongs to something else`, null);
    if (!job) {
      create.push(renderTeacherJob(manifest, opts));
      conditions.set('TeacherReady', 'False', 'Training', `Job ${teacherJobName(name)} trains the teacher`);
      return finish('TrainingTeacher', `training the teacher (Job ${teacherJobName(name)})`, null);
    }
    const failed = jobCondition(job, 'Failed');
    if (failed) {
      conditions.set('TeacherReady', 'False', 'TeacherFailed', failed.message ?? 'the teacher Job failed');
      return finish('Failed', `the teacher Job ${job.metadata.name} failed${failed.message ? `: ${failed.message}` : ''}; see kubectl logs job/${job.metadata.name}`, null);
    }
    if (!jobCondition(job, 'Complete')) {
      conditions.set('TeacherReady', 'False', 'Training', `Job ${job.metadata.name} trains the teacher`);
      return finish('TrainingTeacher', `training the teacher (Job ${job.metadata.name})`, null);
    }
    // A fine-tuned pretrained teacher's shape is in its checkpoint, not the manifest: read from the file below.
    teacher = manifestTeacherShape(manifest);
  }
  if (!teacher && status.teacher && status.teacher.path === where.onnx) teacher = { layers: status.teacher.layers, hidden: status.teacher.hidden };
  else if (!teacher && results.teacher?.ok) teacher = { layers: results.teacher.layers, hidden: results.teacher.hidden };
  else if (!teacher) {
    if (results.teacher && !results.teacher.ok) {
      conditions.set('TeacherReady', 'False', 'TeacherUnreadable', results.teacher.error);
      return finish('Pending', `cannot read the teacher ${where.onnx}: ${results.teacher.error}`, RETRY_SECONDS);
    }
    calls.push({ kind: 'readTeacher', path: where.onnx });
    conditions.set('TeacherReady', 'False', 'Reading', `reading the teacher's shape from ${where.onnx}`);
    return finish('Pending', `reading the teacher ${where.onnx}`, null);
  }
  if (!where.trained || !manifestTeacherShape(manifest)) {
    try {
      validateAgainstTeacher(manifest, teacher!);
    } catch (e) {
      const message = e instanceof ManifestError ? e.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : (e as Error).message;
      conditions.set('TeacherReady', 'False', 'TeacherMismatch', message);
      return finish('Invalid', message, null);
    }
  }
  status.teacher = { path: where.onnx, layers: teacher!.layers, hidden: teacher!.hidden };
  conditions.set('TeacherReady', 'True', where.trained ? 'Trained' : 'Given', `${where.onnx}: ${teacher!.layers} layers, hidden ${teacher!.hidden}`);

  // 3. The cache job on teacher-inference (idempotent by cache key), then 4. the evaluator registration.
  if (results.cache?.ok) {
    const c = results.cache;
    status.cache = { key: c.cacheKey, topic: c.topic, state: c.state };
    if (c.produced !== undefined) status.cache.produced = c.produced;
    if (c.total !== undefined) status.cache.total = c.total;
  }
  if (!status.cache) {
    if (results.cache && !results.cache.ok) {
      conditions.set('CacheReady', 'False', 'CacheRequestFailed', results.cache.error);
      return finish('Caching', `the cache request to teacher-inference failed: ${results.cache.error}`, RETRY_SECONDS);
    }
    calls.push({ kind: 'requestCache', body: cacheRequestBody(manifest, teacher!) });
    conditions.set('CacheReady', 'False', 'Requesting', 'asking teacher-inference for the cache');
    return finish('Caching', 'requesting the teacher cache', null);
  }
  const cache = status.cache;
  if (cache.state === 'failed') {
    const why = results.cache?.ok && results.cache.error ? `: ${results.cache.error}` : '';
    conditions.set('CacheReady', 'False', 'CacheFailed', `cache ${cache.key} failed${why}`);
    return finish('Failed', `the teacher cache ${cache.key} failed${why}; see kubectl logs deploy/strata-teacher-inference`, null);
  }
  const progress = cache.total ? ` (${cache.produced ?? 0}/${cache.total})` : '';
  if (cache.state === 'complete') conditions.set('CacheReady', 'True', 'Complete', `topic ${cache.topic} holds the cache`);
  else conditions.set('CacheReady', 'False', cache.state === 'queued' ? 'Queued' : 'Running', `teacher-inference is writing ${cache.topic}${progress}`);
  const pollCache = cache.state !== 'complete';
  if (pollCache && !results.cache) calls.push({ kind: 'getCache', cacheKey: cache.key });

  if (results.register?.ok) status.registered = true;
  if (!status.registered) {
    if (results.register && !results.register.ok) {
      conditions.set('Registered', 'False', 'RegistrationFailed', results.register.error);
      return finish('Caching', `registering with the evaluator failed: ${results.register.error}`, RETRY_SECONDS);
    }
    calls.push({ kind: 'register', manifest });
    conditions.set('Registered', 'False', 'Registering', 'registering the experiment with the evaluator');
    return finish('Caching', 'registering with the evaluator', null);
  }
  conditions.set('Registered', 'True', 'Registered', 'the evaluator collects the results');

  // 5. The students: one Indexed Job, created once the cache job exists (students may start before it completes).
  const job = observed.studentsJob;
  if (job && !ownedBy(job, uid)) return finish('Failed', `Job ${job.metadata.name} exists and belongs to something else`, null);
  if (!job) {
    create.push(renderStudentsJob(manifest, opts));
    status.cellsDone = 0;
    status.cellsFailed = 0;
    conditions.set('StudentsComplete', 'False', 'Created', `Job ${studentsJobName(name)} runs ${ids.length} cells`);
    return finish('Training', `training ${ids.length} student cells (Job ${studentsJobName(name)})`, pollCache ? POLL_SECONDS : null);
  }
  const done = parseIndexes(job.status?.completedIndexes);
  const failedIdx = parseIndexes(job.status?.failedIndexes);
  status.cellsDone = job.status?.completedIndexes !== undefined ? done.length : (job.status?.succeeded ?? 0);
  status.cellsFailed = failedIdx.length;
  if (failedIdx.length > 0) status.failedCells = failedIdx.map((i) => ids[i] ?? `index ${i}`);
  else delete status.failedCells;
  const jobFailed = jobCondition(job, 'Failed');
  if (jobFailed) {
    const which = status.failedCells?.length ? `: cells ${status.failedCells.join(', ')}` : jobFailed.message ? `: ${jobFailed.message}` : '';
    conditions.set('StudentsComplete', 'False', 'StudentsFailed', `the students Job failed${which}`);
    return finish('Failed', `${status.cellsDone}/${ids.length} cells finished, ${status.cellsFailed} failed${which}; see kubectl logs job/${job.metadata.name}`, null);
  }
  if (!jobCondition(job, 'Complete')) {
    conditions.set('StudentsComplete', 'False', 'Running', `${status.cellsDone}/${ids.length} cells finished`);
    return finish('Training', `${status.cellsDone}/${ids.length} student cells finished`, pollCache ? POLL_SECONDS : null);
  }
  conditions.set('StudentsComplete', 'True', 'Complete', `all ${ids.length} cells finished`);

  // 6. The evaluator writes results.json and report.md once every cell has finished.
  const report = {
    path: `${name}/results.json`,
    report: `${name}/report.md`,
    url: `${settings.evaluatorUrl.replace(/\/$/, '')}/v1/experiments/${name}/report`,
  };
  if (prev?.phase === 'Succeeded' && status.results) {
    conditions.set('Ready', 'True', 'ResultsWritten', `results in ${report.path}`);
    return finish('Succeeded', `done: ${report.report}`, null);
  }
  const r = results.results;
  if (r?.ok && r.complete) {
    status.results = report;
    conditions.set('Ready', 'True', 'ResultsWritten', `results in ${report.path}`);
    return finish('Succeeded', `done: ${report.report}`, null);
  }
  if (!r) calls.push({ kind: 'getResults', experiment: name });
  const why = r && !r.ok ? `; the evaluator did not answer: ${r.error}` : '';
  conditions.set('Ready', 'False', 'Evaluating', `waiting for the evaluator to write ${report.path}${why}`);
  return finish('Evaluating', `all cells finished; the evaluator is writing the report${why}`, r ? POLL_SECONDS : null);
}
