// The thin shell around libs/k8s' pure reconcile: observe an Experiment's objects, create what it asks for, make the
// service calls it asks for and feed their answers back, patch the status. Plus a work queue that runs one
// reconcile at a time per Experiment, with requeue timers.
import {
  manifestConfigMapName,
  reconcile,
  studentsJobName,
  teacherJobName,
  type CallResults,
  type ClusterSettings,
  type ExperimentResource,
  type ExperimentStatus,
  type K8sObject,
  type Observed,
  type ObservedConfigMap,
  type ObservedJob,
  type ReconcileOutput,
  type ServiceCall,
} from '@strata/k8s';
import type { ServiceClient } from './services';
import { teacherShape, underArtifacts } from './teacher';

/** What the controller needs from the Kubernetes API (apps/controller/src/kube.ts implements it). */
export interface KubeApi {
  getExperiment(name: string): Promise<ExperimentResource | undefined>;
  getConfigMap(name: string): Promise<ObservedConfigMap | undefined>;
  getJob(name: string): Promise<ObservedJob | undefined>;
  /** Creates the object; 'exists' when one of that name is already there (a create raced with ours). */
  create(obj: K8sObject): Promise<'created' | 'exists'>;
  /** JSON merge patch of the status subresource. */
  patchStatus(name: string, status: Record<string, unknown>): Promise<void>;
  /** Sets a Job's spec.suspend (Kubernetes then ends its running pods). */
  suspendJob(name: string): Promise<void>;
}

export interface ReconcileDeps {
  kube: KubeApi;
  services: ServiceClient;
  settings: ClusterSettings;
  artifacts: string;
  now?: () => string;
  log?: (line: string) => void;
}

/** At most this many observe-create-call rounds per reconcile (each call kind is made once). */
const MAX_ROUNDS = 6;

async function perform(call: ServiceCall, deps: ReconcileDeps): Promise<CallResults> {
  const fail = (e: unknown) => ({ ok: false as const, error: (e as Error).message });
  switch (call.kind) {
    case 'readTeacher':
      try {
        return { teacher: { ok: true, ...teacherShape(underArtifacts(deps.artifacts, call.path)) } };
      } catch (e) {
        return { teacher: fail(e) };
      }
    case 'requestCache':
      return deps.services.requestCache(call.body).then((cache) => ({ cache }), (e) => ({ cache: fail(e) }));
    case 'getCache':
      return deps.services.getCache(call.cacheKey).then((cache) => ({ cache }), (e) => ({ cache: fail(e) }));
    case 'register':
      return deps.services.register(call.manifest).then(() => ({ register: { ok: true as const } }), (e) => ({ register: fail(e) }));
    case 'getResults':
      return deps.services.getResults(call.experiment).then((r) => ({ results: { ok: true as const, ...r } }), (e) => ({ results: fail(e) }));
  }
}

/** A merge patch that turns `before` into `after` (removed keys become null). */
export function statusPatch(before: Partial<ExperimentStatus> | undefined, after: ExperimentStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...after };
  for (const key of Object.keys(before ?? {})) if (!(key in after)) patch[key] = null;
  return patch;
}

function record(observed: Observed, obj: K8sObject): void {
  if (obj.kind === 'ConfigMap') observed.configMap = obj as unknown as ObservedConfigMap;
  else if (obj.metadata.name.endsWith('-teacher')) observed.teacherJob = obj as unknown as ObservedJob;
  else observed.studentsJob = obj as unknown as ObservedJob;
}

/** One reconcile of one Experiment; undefined when it is gone or being deleted (owner references clean up). */
export async function reconcileExperiment(name: string, deps: ReconcileDeps): Promise<ReconcileOutput | undefined> {
  const log = deps.log ?? (() => undefined);
  const experiment = await deps.kube.getExperiment(name);
  if (!experiment || experiment.metadata.deletionTimestamp) return undefined;
  const [configMap, teacherJob, studentsJob] = await Promise.all([
    deps.kube.getConfigMap(manifestConfigMapName(name)),
    deps.kube.getJob(teacherJobName(name)),
    deps.kube.getJob(studentsJobName(name)),
  ]);
  const observed: Observed = {};
  if (configMap) observed.configMap = configMap;
  if (teacherJob) observed.teacherJob = teacherJob;
  if (studentsJob) observed.studentsJob = studentsJob;
  const before = experiment.status;
  let current = experiment;
  let results: CallResults = {};
  const made = new Set<string>();
  let out: ReconcileOutput | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    out = reconcile({ experiment: current, observed, settings: deps.settings, now: (deps.now ?? (() => new Date().toISOString()))(), results });
    for (const obj of out.create) {
      const r = await deps.kube.create(obj);
      log(`${name}: ${r === 'created' ? 'created' : 'found existing'} ${obj.kind} ${obj.metadata.name}`);
      record(observed, obj);
    }
    const pending = out.calls.filter((c) => !made.has(c.kind));
    if (pending.length === 0 && out.create.length === 0) break;
    for (const call of pending) {
      made.add(call.kind);
      results = { ...results, ...(await perform(call, deps)) };
    }
    current = { ...current, status: out.status };
  }
  for (const job of out!.suspend) {
    await deps.kube.suspendJob(job);
    log(`${name}: suspended Job ${job} (the experiment failed)`);
  }
  if (JSON.stringify(before) !== JSON.stringify(out!.status)) {
    await deps.kube.patchStatus(name, statusPatch(before, out!.status));
    log(`${name}: ${out!.status.phase}: ${out!.status.message}`);
  }
  return out;
}

/** Runs reconciles one at a time, at most one pending per Experiment, and requeues them when asked. */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly work: (name: string) => Promise<number | null>, private readonly log: (line: string) => void = () => undefined, private readonly errorRetrySeconds = 30) {}

  add(name: string): void {
    if (this.stopped) return;
    this.pending.add(name);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  addAfter(name: string, seconds: number): void {
    if (this.stopped || this.timers.has(name)) return;
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      this.add(name);
    }, seconds * 1000).unref());
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const name = this.pending.values().next().value as string;
      this.pending.delete(name);
      try {
        const again = await this.work(name);
        if (again !== null) this.addAfter(name, again);
      } catch (e) {
        this.log(`${name}: reconcile failed: ${(e as Error).message}; retrying in ${this.errorRetrySeconds}s`);
        this.addAfter(name, this.errorRetrySeconds);
      }
    }
  }

  /** Resolves once the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
