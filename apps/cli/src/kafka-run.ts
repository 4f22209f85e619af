// `strata experiment run --transport kafka`: the same experiment as embedded mode, through the three services run as
// local processes: the teacher is trained here, teacher-inference streams its states into Kafka, student-trainers
// (several at once) train from the stream, the evaluator scores them and writes results.json and the report.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Interrupted, experimentContext, familyOf, finishRun, onStopRequest, stopRequested, threadsPerStudent, writeJsonAtomic, writeRunPlan, type ExperimentResults,
} from '@strata/experiment';
import { probeBrokers } from '@strata/kafka';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from '@strata/service';

export interface KafkaRunOptions {
  outDir?: string;
  brokers: string;
  /** Student-trainers at once (default spec.resources.parallelism, else min(cells, 5)). */
  parallelism?: number;
  log?: (line: string) => void;
  /** Once every student has exited, give up when the evaluator scores no further cell for this long (default 10 minutes). */
  evaluatorTimeoutMs?: number;
  /**
   * Ids of the cells to train now (--cells); default every cell. When the grid is not complete afterwards, the
   * evaluator (which aggregates complete grids) scores them and this process writes the partial results.json.
   */
  cells?: readonly string[];
}

const bin = (pkg: string, file: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', file);

async function call(url: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new Error(`${body === undefined ? 'GET' : 'POST'} ${url}: ${res.status} ${json.error ?? ''}`);
  return json;
}

function runStudent(script: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, running: Set<import('node:child_process').ChildProcess>): Promise<number> {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    running.add(child);
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

export async function runExperimentOverKafka(manifestPath: string, o: KafkaRunOptions): Promise<{ outDir: string; results: ExperimentResults }> {
  // Before the teacher trains: an unreachable broker is a mistake to report in seconds, not after the teacher.
  await probeBrokers(o.brokers);
  const ctx = experimentContext(manifestPath, { outDir: o.outDir, log: o.log });
  const { manifest, outDir, log } = ctx;
  const { spec } = manifest;
  const family = familyOf(spec.task);
  if (family.kind === 'generation') {
    // teacher-inference loads the task's data itself: training files of the manifest would not reach it.
    const files = (['trainFile', 'trainSourceFile', 'trainTargetFile'] as const).filter((k) => spec.data[k] !== undefined);
    if (files.length) throw new Error(`${manifestPath}: spec.data.${files.join(', spec.data.')}: user training files are not read by the services (--transport kafka) yet; run it embedded`);
  }
  const artifacts = path.dirname(outDir);
  const dir = path.basename(outDir);
  const logs = path.join(outDir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  writeRunPlan(outDir, { transport: 'kafka', manifest });

  // 1. The teacher, trained (or copied) where every service looks for it.
  const run = await family.obtainTeacher(ctx);
  const { cells, cacheLayers } = run;
  writeRunPlan(outDir, { transport: 'kafka', manifest, cells });
  const manifestFile = path.join(outDir, 'manifest.json');
  writeJsonAtomic(manifestFile, manifest);

  // 2. The services, on free loopback ports, with a token of this run.
  const token = crypto.randomBytes(24).toString('hex');
  // The evaluator of this run reads the run events in a consumer group of its own: in the shared group another
  // evaluator on the same broker would receive some of this run's events and drop them.
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_ARTIFACTS: artifacts, STRATA_BROKERS: o.brokers, STRATA_HOST: '127.0.0.1', STRATA_PORT: '0', STRATA_TOKEN: token, STRATA_EVALUATOR_GROUP: `strata-evaluator.${dir}.${token.slice(0, 8)}`, ...(ctx.dataRoot ? { STRATA_DATA_ROOT: ctx.dataRoot } : {}) };
  const services: ServiceProcess[] = [];
  const running = new Set<import('node:child_process').ChildProcess>();
  // Whatever way this process ends (a second signal exits at once), no service or student outlives it.
  const killAll = () => {
    for (const c of [...services.map((s) => s.child), ...running]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  let queue: typeof cells = [];
  let cacheKey = '';
  let cacheTotal = 0;
  let partial = false;
  // A stop request (SIGINT/SIGTERM through withStopOnSignals): no new students; running ones save a checkpoint and
  // exit on SIGTERM; the services are stopped and waited for in the finally below.
  const unsubscribe = onStopRequest((reason) => {
    log(`${reason}: stopping ${running.size} student${running.size === 1 ? '' : 's'} (each saves a checkpoint) and the services`);
    queue.length = 0;
    for (const c of running) c.kill('SIGTERM');
  });
  const throwIfStopped = () => {
    const reason = stopRequested();
    if (reason) throw new Interrupted(`experiment ${manifest.metadata.name} over Kafka: stopped by ${reason}; run the same command again to resume (finished students are kept)`, reason);
  };
  try {
    throwIfStopped();
    log(`starting teacher-inference and the evaluator (logs in ${logs})`);
    // Both start at once; whichever comes up is stopped again in the finally even if the other fails to.
    const starting = [
      startServiceProcess('teacher-inference', bin('@strata/teacher-inference', 'teacher-inference.js'), env, path.join(logs, 'teacher-inference.log')),
      startServiceProcess('evaluator', bin('@strata/evaluator', 'evaluator.js'), env, path.join(logs, 'evaluator.log')),
    ].map((p) => p.then((svc) => (services.push(svc), svc)));
    const settled = await Promise.allSettled(starting);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const [teacherInference, evaluator] = settled.map((r) => (r as PromiseFulfilledResult<ServiceProcess>).value);
    throwIfStopped();
    await call(`${evaluator.url}/v1/experiments`, token, { manifest, dir });
    const cache = await call(`${teacherInference.url}/v1/caches`, token, {
      experiment: manifest.metadata.name, teacher: path.join(dir, 'teacher', 'teacher.onnx'), task: spec.task, split: spec.data.trainSplit, layers: cacheLayers, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision, ...(spec.data.maxTrainExamples ? { maxExamples: spec.data.maxTrainExamples } : {}),
      ...family.cacheRequestFields(run, dir),
    });
    cacheKey = cache.cacheKey;
    cacheTotal = cache.total;
    log(`teacher cache ${cache.cacheKey} (${cache.state}): ${cache.total} examples, layers ${cacheLayers.join(', ')} -> Kafka topic ${cache.topic}`);
    log(`dashboard: ${evaluator.url}/experiments/${encodeURIComponent(dir)}`);

    // 3. Students, several at once, each from the stream (they start while the teacher is still producing).
    const parallel = Math.max(1, o.parallelism ?? spec.resources?.parallelism ?? Math.min(cells.length, 5));
    const studentEnv = { ...env, STRATA_THREADS: String(threadsPerStudent(parallel)) };
    const selected = o.cells ? new Set(o.cells) : undefined;
    queue = cells.filter((c) => !selected || selected.has(c.id));
    const toTrain = queue.length;
    const failures: string[] = [];
    let finished = 0;
    // Students wait for records as long as the cache job lives; if it fails, nothing more will come.
    let cacheFailure: string | undefined;
    const watching = setInterval(() => {
      void call(`${teacherInference.url}/v1/caches/${cache.cacheKey}`, token).then((st) => {
        if (st.state !== 'failed' || cacheFailure) return;
        cacheFailure = st.error ?? 'unknown error';
        queue.length = 0;
        for (const c of running) c.kill('SIGTERM');
      }, () => undefined);
    }, 2000);
    const worker = async () => {
      for (let cell = queue.shift(); cell; cell = queue.shift()) {
        const code = await runStudent(bin('@strata/student-trainer', 'student-trainer.js'), ['--manifest', manifestFile, '--dir', dir, '--cell', cell.id], studentEnv, path.join(logs, `student-${cell.id}.log`), running);
        finished++;
        if (code !== 0) failures.push(`${cell.id} (exit ${code}; see ${path.join(logs, `student-${cell.id}.log`)})`);
        log(`[${finished}/${toTrain}] ${cell.id}: ${code === 0 ? 'trained' : `failed with exit ${code}`}`);
      }
    };
    log(`training ${toTrain}${toTrain < cells.length ? ` of ${cells.length}` : ''} students, ${parallel} at a time (${studentEnv.STRATA_THREADS} ONNX Runtime thread${studentEnv.STRATA_THREADS === '1' ? '' : 's'} each)`);
    try {
      await Promise.all(Array.from({ length: parallel }, worker));
    } finally {
      clearInterval(watching);
    }
    throwIfStopped();
    if (cacheFailure) throw new Error(`the teacher cache job failed: ${cacheFailure}; see ${path.join(logs, 'teacher-inference.log')}`);
    if (failures.length) throw new Error(`${failures.length} of ${toTrain} students failed: ${failures.join(', ')}`);

    // 4. The evaluator scores the last students and aggregates.
    // Bounded by progress, not by total time: the wait ends once no cell has been scored for stallMs.
    const stallMs = o.evaluatorTimeoutMs ?? 600_000;
    let scored = -1;
    let lastProgress = Date.now();
    for (;;) {
      const r = await call(`${evaluator.url}/v1/experiments/${encodeURIComponent(dir)}/results`, token);
      if (r.complete) break;
      // A subset of the grid: once its cells are scored and some grid cell never will be, the results are partial.
      const scoredIds = new Set((r.cells as { id: string }[]).map((c) => c.id));
      if (selected && scoredIds.size < r.cellsTotal && [...selected].every((id) => scoredIds.has(id))) {
        partial = true;
        break;
      }
      throwIfStopped();
      if (r.phase === 'failed') throw new Error(`the evaluator could not aggregate ${manifest.metadata.name}: ${r.error}`);
      if (r.cells.length !== scored) {
        scored = r.cells.length;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > stallMs) {
        const done = new Set((r.cells as { id: string }[]).map((c) => c.id));
        const missing = cells.filter((c) => !done.has(c.id)).map((c) => c.id);
        throw new Error(`the evaluator has scored ${scored} of ${r.cellsTotal} cells and none for ${stallMs / 1000} s; still missing: ${missing.join(', ')}; see ${path.join(logs, 'evaluator.log')}`);
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    // Students stop reading once they hold every example, which can be just before the teacher publishes the
    // cache's manifest: give it a moment.
    for (let i = 0; ; i++) {
      const state = (await call(`${teacherInference.url}/v1/caches/${cache.cacheKey}`, token)).state;
      if (state === 'complete') break;
      if (state === 'failed' || i >= 120) throw new Error(`teacher cache ${cache.cacheKey} is ${state} after every student finished; see ${path.join(logs, 'teacher-inference.log')}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    unsubscribe();
    await Promise.all([...running].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r)))));
    await Promise.all(services.map((x) => stopServiceProcess(x)));
    process.off('exit', killAll);
  }
  if (partial) {
    // The cells scored so far (this run's and any earlier run's), with the grid's missing ones named.
    const cache = family.servedCache(run, cacheKey, cacheTotal);
    const resultCells = cells.map((c) => family.finishedCell(run, c, family.cellHash(run, c, cache)));
    const results = await finishRun(family, run, resultCells);
    return { outDir, results };
  }
  const results = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8')) as ExperimentResults;
  return { outDir, results };
}
