import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { manifestFromResource, parseIndexes, reconcile, POLL_SECONDS, RETRY_SECONDS, type CallResults, type ExperimentResource, type Observed, type ObservedJob, type ReconcileOutput } from './reconcile';
import type { K8sObject } from './render';
import { defaultSettings } from './settings';

const repo = path.resolve(__dirname, '../../..');
const settings = defaultSettings('gpu');
const NOW = '2025-01-01T00:00:00Z';
const LATER = '2025-01-01T00:05:00Z';

function resource(file: string, edit?: (spec: any) => void): ExperimentResource {
  const doc = parse(fs.readFileSync(path.join(repo, file), 'utf8'));
  if (edit) edit(doc.spec);
  return { apiVersion: doc.apiVersion, kind: doc.kind, metadata: { name: doc.metadata.name, namespace: 'strata', uid: 'uid-1', generation: 1 }, spec: doc.spec };
}

const trained = () => resource('examples/sst2.yaml');
const given = () => resource('k8s/examples/quickstart-onnx-teacher.yaml');

/** The observed form of what a reconcile created (what the apiserver would return), with optional Job status. */
function observe(created: K8sObject[], prior: Observed = {}): Observed {
  const out: Observed = { ...prior };
  for (const o of created) {
    if (o.kind === 'ConfigMap') out.configMap = o as never;
    else if (o.metadata.name.endsWith('-teacher')) out.teacherJob = { metadata: o.metadata as ObservedJob['metadata'] };
    else out.studentsJob = { metadata: o.metadata as ObservedJob['metadata'] };
  }
  return out;
}

const withStatus = (job: ObservedJob | undefined, status: ObservedJob['status']): ObservedJob => ({ ...job!, status });
const complete = { conditions: [{ type: 'Complete', status: 'True' }] };
const step = (experiment: ExperimentResource, observed: Observed, results?: CallResults, now = NOW) => reconcile({ experiment, observed, settings, now, results });
const carry = (experiment: ExperimentResource, out: ReconcileOutput): ExperimentResource => ({ ...experiment, status: out.status });
const cond = (out: ReconcileOutput, type: string) => out.status.conditions.find((c) => c.type === type);
const kinds = (out: ReconcileOutput) => out.create.map((o) => `${o.kind}/${o.metadata.name}`);

describe('reconcile: invalid specs', () => {
  it('reports a spec zod rejects, naming the field, and creates nothing', () => {
    const out = step(resource('examples/sst2.yaml', (s) => (s.students.depths = [0])), {});
    expect(out.status.phase).toBe('Invalid');
    expect(out.status.message).toContain('spec.students.depths[0]');
    expect(cond(out, 'Accepted')).toEqual(expect.objectContaining({ status: 'False', reason: 'InvalidSpec' }));
    expect(out.create).toEqual([]);
    expect(out.calls).toEqual([]);
    expect(out.requeueAfterSeconds).toBeNull();
  });

  it('refuses a generation task, which the teacher Job and the cache request do not carry yet, naming the field', () => {
    for (const file of ['examples/quickstart-g2p.yaml', 'examples/commonsenseqa.yaml']) {
      const out = step(resource(file), {});
      expect(out.status.phase).toBe('Invalid');
      expect(out.status.message).toMatch(/^spec\.task: '[a-z0-9-]+' is a (seq2seq|multiple-choice) task; the Kubernetes controller runs classification tasks only so far/);
      expect(out.create).toEqual([]);
    }
  });

  it('reports fields that mean nothing on Kubernetes', () => {
    const out = step(resource('examples/sst2.yaml', (s) => (s.data = { root: '/glue' })), {});
    expect(out.status.phase).toBe('Invalid');
    expect(out.status.message).toContain('spec.data.root: not used on Kubernetes');
  });

  it('refuses to adopt objects of the same name owned by something else', () => {
    const foreign = { metadata: { name: 'sst2-layer-selection-manifest', ownerReferences: [{ uid: 'other', controller: true }] }, data: {} };
    const out = step(trained(), { configMap: foreign });
    expect(out.status.phase).toBe('Failed');
    expect(out.status.message).toContain('ConfigMap sst2-layer-selection-manifest exists and belongs to something else');
    expect(out.create).toEqual([]);
  });
});

describe('reconcile: a trained teacher, from apply to report', () => {
  const exp = trained();
  const first = step(exp, {});

  it('creates the ConfigMap and the teacher Job, owned by the Experiment', () => {
    expect(kinds(first)).toEqual(['ConfigMap/sst2-layer-selection-manifest', 'Job/sst2-layer-selection-teacher']);
    expect(first.create.every((o) => o.metadata.ownerReferences?.[0]?.uid === 'uid-1')).toBe(true);
    expect(first.status).toEqual(expect.objectContaining({ phase: 'TrainingTeacher', cellsTotal: 30, cellsDone: 0, observedGeneration: 1 }));
    expect(cond(first, 'Accepted')?.status).toBe('True');
    expect(first.calls).toEqual([]);
  });

  const observed1 = observe(first.create);

  it('creates nothing the second time (idempotent)', () => {
    const again = step(carry(exp, first), observed1, undefined, LATER);
    expect(again.create).toEqual([]);
    expect(again.calls).toEqual([]);
    expect(again.status.phase).toBe('TrainingTeacher');
    // unchanged conditions keep their transition time
    expect(cond(again, 'TeacherReady')?.lastTransitionTime).toBe(NOW);
  });

  it('fails when the teacher Job fails', () => {
    const out = step(carry(exp, first), { ...observed1, teacherJob: withStatus(observed1.teacherJob, { failed: 5, conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] }) });
    expect(out.status.phase).toBe('Failed');
    expect(out.status.message).toContain('kubectl logs job/sst2-layer-selection-teacher');
    expect(cond(out, 'TeacherReady')).toEqual(expect.objectContaining({ status: 'False', reason: 'TeacherFailed' }));
  });

  const teacherDone: Observed = { ...observed1, teacherJob: withStatus(observed1.teacherJob, { succeeded: 1, ...complete }) };
  const second = step(carry(exp, first), teacherDone, undefined, LATER);

  it('asks teacher-inference for the cache once the teacher is trained', () => {
    expect(second.create).toEqual([]);
    expect(second.calls).toEqual([
      {
        kind: 'requestCache',
        body: {
          experiment: 'sst2-layer-selection',
          teacher: 'sst2-layer-selection/teacher/teacher.onnx',
          tokenizer: 'sst2-layer-selection/teacher/tokenizer.json',
          task: 'sst2',
          split: 'train',
          layers: [0, 2, 3, 4, 6],
          dtype: 'float16',
        },
      },
    ]);
    expect(second.status.phase).toBe('Caching');
    expect(cond(second, 'TeacherReady')).toEqual(expect.objectContaining({ status: 'True', lastTransitionTime: LATER }));
    expect(second.status.teacher).toEqual({ path: 'sst2-layer-selection/teacher/teacher.onnx', layers: 6, hidden: 128 });
  });

  it('retries a failed cache request later', () => {
    const out = step(carry(exp, first), teacherDone, { cache: { ok: false, error: 'connect ECONNREFUSED' } });
    expect(out.status.phase).toBe('Caching');
    expect(out.requeueAfterSeconds).toBe(RETRY_SECONDS);
    expect(cond(out, 'CacheReady')).toEqual(expect.objectContaining({ reason: 'CacheRequestFailed', message: 'connect ECONNREFUSED' }));
  });

  const cacheAnswer: CallResults = { cache: { ok: true, cacheKey: 'abc', topic: 'strata.acts.abc', state: 'running', produced: 10, total: 100 } };
  const third = step(carry(exp, second), teacherDone, cacheAnswer);

  it('records the cache job and registers with the evaluator', () => {
    expect(third.status.cache).toEqual({ key: 'abc', topic: 'strata.acts.abc', state: 'running', produced: 10, total: 100 });
    expect(third.calls.map((c) => c.kind)).toEqual(['register']);
    expect(third.calls[0]).toEqual(expect.objectContaining({ manifest: expect.objectContaining({ metadata: { name: 'sst2-layer-selection' } }) }));
    expect(cond(third, 'CacheReady')).toEqual(expect.objectContaining({ status: 'False', reason: 'Running', message: 'teacher-inference is writing strata.acts.abc (10/100)' }));
  });

  const fourth = step(carry(exp, third), teacherDone, { register: { ok: true } });

  it('creates the students Indexed Job once the cache job exists and the evaluator knows the experiment', () => {
    expect(kinds(fourth)).toEqual(['Job/sst2-layer-selection-students']);
    expect(fourth.status).toEqual(expect.objectContaining({ phase: 'Training', registered: true, cellsDone: 0 }));
    // the cache is still running: poll it
    expect(fourth.requeueAfterSeconds).toBe(POLL_SECONDS);
    expect(fourth.calls).toEqual([{ kind: 'getCache', cacheKey: 'abc' }]);
  });

  const running: Observed = { ...observe(fourth.create, teacherDone) };

  it('counts finished and failed cells from the Job status', () => {
    const out = step(carry(exp, fourth), { ...running, studentsJob: withStatus(running.studentsJob, { active: 4, completedIndexes: '0-4,7', failedIndexes: '9' }) }, {
      cache: { ok: true, cacheKey: 'abc', topic: 'strata.acts.abc', state: 'complete', produced: 100, total: 100 },
    });
    expect(out.create).toEqual([]);
    expect(out.status).toEqual(expect.objectContaining({ phase: 'Training', cellsDone: 6, cellsFailed: 1, failedCells: ['all-to-one-random-d3-s1'] }));
    expect(cond(out, 'CacheReady')?.status).toBe('True');
    expect(out.calls).toEqual([]);
    expect(out.requeueAfterSeconds).toBeNull();
  });

  it('fails naming the failed cells when the students Job fails', () => {
    const out = step(carry(exp, fourth), { ...running, studentsJob: withStatus(running.studentsJob, { completedIndexes: '0-28', failedIndexes: '29', conditions: [{ type: 'Failed', status: 'True' }] }) });
    expect(out.status.phase).toBe('Failed');
    expect(out.status.message).toBe('29/30 cells finished, 1 failed: cells out-of-order-random-copy-d3-s3; see kubectl logs job/sst2-layer-selection-students');
  });

  const allDone: Observed = { ...running, studentsJob: withStatus(running.studentsJob, { succeeded: 30, completedIndexes: '0-29', ...complete }) };
  const fifth = step(carry(exp, fourth), allDone, { cache: { ok: true, cacheKey: 'abc', topic: 'strata.acts.abc', state: 'complete' } });

  it('waits for the evaluator once every cell has finished', () => {
    expect(fifth.status.phase).toBe('Evaluating');
    expect(fifth.calls).toEqual([{ kind: 'getResults', experiment: 'sst2-layer-selection' }]);
    const polled = step(carry(exp, fifth), allDone, { results: { ok: true, complete: false, cellsDone: 29 } });
    expect(polled.status.phase).toBe('Evaluating');
    expect(polled.requeueAfterSeconds).toBe(POLL_SECONDS);
    expect(polled.calls).toEqual([]);
  });

  const sixth = step(carry(exp, fifth), allDone, { results: { ok: true, complete: true, cellsDone: 30 } });

  it('succeeds with the results location once the evaluator has written them, and stays done', () => {
    expect(sixth.status.phase).toBe('Succeeded');
    expect(sixth.status.results).toEqual({
      path: 'sst2-layer-selection/results.json',
      report: 'sst2-layer-selection/report.md',
      url: 'http://strata-evaluator:8082/v1/experiments/sst2-layer-selection/report',
    });
    expect(sixth.status.cellsDone).toBe(30);
    expect(cond(sixth, 'Ready')?.status).toBe('True');
    const after = step(carry(exp, sixth), allDone, undefined, LATER);
    expect(after.status.phase).toBe('Succeeded');
    expect(after.calls).toEqual([]);
    expect(after.create).toEqual([]);
    expect(after.requeueAfterSeconds).toBeNull();
  });

  it('fails when the cache job fails', () => {
    const out = step(carry(exp, fourth), running, { cache: { ok: true, cacheKey: 'abc', topic: 'strata.acts.abc', state: 'failed', error: 'dataset missing' } });
    expect(out.status.phase).toBe('Failed');
    expect(out.status.message).toContain('the teacher cache abc failed: dataset missing');
  });

  it('suspends the students Job of a failed experiment once, so its cells stop training', () => {
    const failedCache: CallResults = { cache: { ok: true, cacheKey: 'abc', topic: 'strata.acts.abc', state: 'failed', error: 'dataset missing' } };
    const out = step(carry(exp, fourth), running, failedCache);
    expect(out.status.phase).toBe('Failed');
    expect(out.suspend).toEqual([running.studentsJob!.metadata.name]);
    // Already suspended, finished, or someone else's: nothing to do.
    const suspended = { ...running, studentsJob: { ...running.studentsJob!, spec: { suspend: true } } };
    expect(step(carry(exp, fourth), suspended, failedCache).suspend).toEqual([]);
    expect(step(carry(exp, fourth), { ...running, studentsJob: withStatus(running.studentsJob, complete) }, failedCache).suspend).toEqual([]);
    // A running experiment suspends nothing.
    expect(step(carry(exp, fourth), running).suspend).toEqual([]);
  });

  it('keeps running the started spec when the spec is edited, and says so', () => {
    const edited = { ...carry(exp, fourth), spec: { ...(exp.spec as object), students: { ...(exp.spec as any).students, seeds: [1] } }, metadata: { ...exp.metadata, generation: 2 } };
    const out = step(edited, running);
    expect(cond(out, 'SpecChanged')).toEqual(expect.objectContaining({ status: 'True', reason: 'SpecChangedAfterStart', observedGeneration: 2 }));
    expect(out.status.cellsTotal).toBe(30);
    expect(out.create).toEqual([]);
  });
});

describe('reconcile: a given teacher', () => {
  const exp = given();

  it('reads the teacher shape before anything else, then requests the cache with it', () => {
    const first = step(exp, {});
    expect(kinds(first)).toEqual(['ConfigMap/quickstart-spam-deeper-seeds-manifest']);
    expect(first.calls).toEqual([{ kind: 'readTeacher', path: 'quickstart-spam/teacher/teacher.onnx' }]);
    expect(first.status.phase).toBe('Pending');
    const second = step(carry(exp, first), observe(first.create), { teacher: { ok: true, layers: 4, hidden: 64 } });
    expect(second.status.teacher).toEqual({ path: 'quickstart-spam/teacher/teacher.onnx', layers: 4, hidden: 64 });
    expect(second.calls).toEqual([expect.objectContaining({ kind: 'requestCache', body: expect.objectContaining({ layers: [0, 2, 4], maxExamples: 2400 }) })]);
    // the shape is remembered in the status: no second read
    const third = step(carry(exp, second), observe(first.create));
    expect(third.calls.map((c) => c.kind)).toEqual(['requestCache']);
  });

  it('retries when the teacher file cannot be read', () => {
    const out = step(exp, {}, { teacher: { ok: false, error: 'ENOENT: no such file' } });
    expect(out.status.phase).toBe('Pending');
    expect(out.requeueAfterSeconds).toBe(RETRY_SECONDS);
    expect(cond(out, 'TeacherReady')).toEqual(expect.objectContaining({ reason: 'TeacherUnreadable', message: 'ENOENT: no such file' }));
  });

  it('rejects a grid the teacher cannot serve', () => {
    const out = step(exp, {}, { teacher: { ok: true, layers: 1, hidden: 64 } });
    expect(out.status.phase).toBe('Invalid');
    expect(out.status.message).toContain('spec.students.depths[0]: student depth 2 exceeds teacher layers 1');
  });
});

describe('helpers', () => {
  it('parses Job index ranges', () => {
    expect(parseIndexes('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(parseIndexes('')).toEqual([]);
    expect(parseIndexes(undefined)).toEqual([]);
  });

  it('reads the manifest of an Experiment, defaults filled', () => {
    const { manifest, problems } = manifestFromResource(trained());
    expect(problems).toEqual([]);
    expect(manifest?.spec.students.epochs).toBe(3);
    expect(manifest?.metadata).toEqual({ name: 'sst2-layer-selection' });
  });
});
