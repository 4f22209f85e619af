import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, type CacheAnswer, type ExperimentResource, type K8sObject, type ObservedJob } from '@strata/k8s';
import { parse } from 'yaml';
import { reconcileExperiment, statusPatch, WorkQueue, type KubeApi } from './loop';
import type { ServiceClient } from './services';

const repo = path.resolve(__dirname, '../../..');

/** An in-memory apiserver for one namespace: objects by kind/name, merge-patched status, a log of writes. */
class FakeKube implements KubeApi {
  readonly objects = new Map<string, any>();
  readonly writes: string[] = [];
  put(obj: any) {
    this.objects.set(`${obj.kind}/${obj.metadata.name}`, structuredClone(obj));
  }
  async getExperiment(name: string) {
    return structuredClone(this.objects.get(`Experiment/${name}`)) as ExperimentResource | undefined;
  }
  async getConfigMap(name: string) {
    return structuredClone(this.objects.get(`ConfigMap/${name}`));
  }
  async getJob(name: string) {
    return structuredClone(this.objects.get(`Job/${name}`));
  }
  async create(obj: K8sObject) {
    const key = `${obj.kind}/${obj.metadata.name}`;
    if (this.objects.has(key)) return 'exists' as const;
    this.writes.push(`create ${key}`);
    this.put(obj);
    return 'created' as const;
  }
  async patchStatus(name: string, status: Record<string, unknown>) {
    this.writes.push(`status ${name} ${String(status.phase)}`);
    const e = this.objects.get(`Experiment/${name}`);
    const merged = { ...(e.status ?? {}), ...status };
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    e.status = merged;
  }
  async suspendJob(name: string) {
    this.writes.push(`suspend Job/${name}`);
    const job = this.objects.get(`Job/${name}`);
    job.spec = { ...job.spec, suspend: true };
  }
  jobStatus(name: string, status: ObservedJob['status']) {
    this.objects.get(`Job/${name}`).status = status;
  }
}

class FakeServices implements ServiceClient {
  readonly calls: string[] = [];
  cacheState: CacheAnswer['state'] = 'queued';
  complete = false;
  down = false;
  async requestCache(body: { layers: number[] }) {
    this.calls.push(`requestCache ${body.layers.join(',')}`);
    if (this.down) throw new Error('teacher-inference POST /v1/caches: ECONNREFUSED');
    return { ok: true as const, cacheKey: 'k', topic: 'strata.acts.k', state: this.cacheState };
  }
  async getCache(key: string) {
    this.calls.push(`getCache ${key}`);
    return { ok: true as const, cacheKey: key, topic: 'strata.acts.k', state: this.cacheState };
  }
  async register() {
    this.calls.push('register');
  }
  async getResults(e: string) {
    this.calls.push(`getResults ${e}`);
    return { complete: this.complete, cellsDone: this.complete ? 30 : 0 };
  }
}

function setup() {
  const kube = new FakeKube();
  const services = new FakeServices();
  const doc = parse(fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8'));
  kube.put({ ...doc, metadata: { name: doc.metadata.name, namespace: 'strata', uid: 'uid-7', generation: 1 } });
  let t = 0;
  const deps = { kube, services: services as unknown as ServiceClient, settings: defaultSettings('cpu'), artifacts: '/artifacts', now: () => `2025-01-01T00:00:${String(t++).padStart(2, '0')}Z` };
  return { kube, services, deps, name: 'sst2-layer-selection' };
}

describe('reconcileExperiment', () => {
  it('drives an Experiment from apply to Succeeded, creating each object once and calling each service as needed', async () => {
    const { kube, services, deps, name } = setup();
    await reconcileExperiment(name, deps);
    expect(kube.writes).toEqual(['create ConfigMap/sst2-layer-selection-manifest', 'create Job/sst2-layer-selection-teacher', 'status sst2-layer-selection TrainingTeacher']);
    expect(kube.objects.get('Job/sst2-layer-selection-teacher').metadata.ownerReferences[0].uid).toBe('uid-7');

    // a watch event with nothing new: no write at all
    kube.writes.length = 0;
    await reconcileExperiment(name, deps);
    expect(kube.writes).toEqual([]);

    kube.jobStatus('sst2-layer-selection-teacher', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    const out = await reconcileExperiment(name, deps);
    expect(services.calls).toEqual(['requestCache 0,2,3,4,6', 'register']);
    expect(kube.writes).toEqual(['create Job/sst2-layer-selection-students', 'status sst2-layer-selection Training']);
    expect(kube.objects.get('Experiment/sst2-layer-selection').status).toEqual(expect.objectContaining({ phase: 'Training', registered: true, cache: { key: 'k', topic: 'strata.acts.k', state: 'queued' }, cellsTotal: 30 }));
    expect(out?.requeueAfterSeconds).toBe(20);

    // the requeue polls the cache; the students finish; the evaluator writes the report
    services.cacheState = 'complete';
    kube.jobStatus('sst2-layer-selection-students', { succeeded: 30, completedIndexes: '0-29', conditions: [{ type: 'Complete', status: 'True' }] });
    services.calls.length = 0;
    const evaluating = await reconcileExperiment(name, deps);
    expect(services.calls).toEqual(['getCache k', 'getResults sst2-layer-selection']);
    expect(evaluating?.status.phase).toBe('Evaluating');
    services.complete = true;
    const done = await reconcileExperiment(name, deps);
    expect(done?.status.phase).toBe('Succeeded');
    expect(kube.objects.get('Experiment/sst2-layer-selection').status.results.report).toBe('sst2-layer-selection/report.md');
    expect([...kube.objects.keys()].filter((k) => k.startsWith('Job/')).sort()).toEqual(['Job/sst2-layer-selection-students', 'Job/sst2-layer-selection-teacher']);
  });

  it('records a failed service call in the status and asks to be requeued', async () => {
    const { kube, services, deps, name } = setup();
    await reconcileExperiment(name, deps);
    kube.jobStatus('sst2-layer-selection-teacher', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    services.down = true;
    const out = await reconcileExperiment(name, deps);
    expect(out?.requeueAfterSeconds).toBe(30);
    expect(kube.objects.get('Experiment/sst2-layer-selection').status.message).toBe('the cache request to teacher-inference failed: teacher-inference POST /v1/caches: ECONNREFUSED');
  });

  it('suspends the students Job when the experiment fails while they train, once', async () => {
    const { kube, services, deps, name } = setup();
    await reconcileExperiment(name, deps);
    kube.jobStatus('sst2-layer-selection-teacher', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    await reconcileExperiment(name, deps);
    kube.jobStatus('sst2-layer-selection-students', { active: 4 });
    services.cacheState = 'failed';
    kube.writes.length = 0;
    const failed = await reconcileExperiment(name, deps);
    expect(failed?.status.phase).toBe('Failed');
    expect(kube.writes).toEqual(['suspend Job/sst2-layer-selection-students', 'status sst2-layer-selection Failed']);
    expect(kube.objects.get('Job/sst2-layer-selection-students').spec.suspend).toBe(true);
    kube.writes.length = 0;
    await reconcileExperiment(name, deps);
    expect(kube.writes).toEqual([]);
  });

  it('does nothing for an Experiment that is gone or being deleted', async () => {
    const { kube, deps, name } = setup();
    kube.objects.get(`Experiment/${name}`).metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
    expect(await reconcileExperiment(name, deps)).toBeUndefined();
    expect(await reconcileExperiment('nope', deps)).toBeUndefined();
    expect(kube.writes).toEqual([]);
  });
});

describe('statusPatch', () => {
  it('nulls the fields the new status drops', () => {
    expect(statusPatch({ phase: 'Training', failedCells: ['a'] }, { phase: 'Training' } as never)).toEqual({ phase: 'Training', failedCells: null });
  });
});

describe('WorkQueue', () => {
  it('runs reconciles one at a time, runs a name again when it changed during its reconcile, and retries failures', async () => {
    const seen: string[] = [];
    const lines: string[] = [];
    let fail = true;
    const q = new WorkQueue(async (n) => {
      seen.push(n);
      if (n === 'b' && fail) {
        fail = false;
        throw new Error('boom');
      }
      return null;
    }, (l) => lines.push(l), 0.01);
    q.add('a'); // starts at once
    q.add('a'); // changed while reconciling: once more
    q.add('b');
    q.add('a'); // already pending: coalesced
    await q.idle();
    expect(seen).toEqual(['a', 'a', 'b']);
    expect(lines).toEqual(['b: reconcile failed: boom; retrying in 0.01s']);
    await new Promise((r) => setTimeout(r, 50));
    await q.idle();
    expect(seen).toEqual(['a', 'a', 'b', 'b']);
    q.stop();
  });
});
