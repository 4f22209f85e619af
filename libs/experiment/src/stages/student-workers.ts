// Several students at once in one embedded run. ONNX Runtime's Node binding runs a session on the calling thread, so
// concurrency needs threads: each student trains in a worker thread with its own sessions and an equal share of the
// cores. On small models two one-thread students outrun one two-thread student, because a step's kernels are too
// small to keep two intra-op threads busy (docs/BENCHMARKS.md, "Students in parallel").
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GenerationStudentOptions, GenerationStudentResult } from './generation-student';
import type { StudentResult, StudentTrainOptions } from './student';
import { Interrupted, onStopRequest } from '../stop';

type ByPath<T> = Omit<T, 'teacher' | 'log' | 'source' | 'onStep' | 'onStart'> & { teacherOnnx: string; tokenizerPath: string };

/** What a worker thread trains: only data, since functions and loaded models do not cross threads. */
export type StudentJob =
  | { kind: 'generation'; options: ByPath<GenerationStudentOptions> }
  | { kind: 'classification'; options: ByPath<StudentTrainOptions> };

export type ThreadMessage =
  | { type: 'log'; line: string }
  | { type: 'result'; result: GenerationStudentResult | StudentResult }
  | { type: 'error'; message: string; stack?: string; /** The stop reason, when the student stopped on request. */ interrupted?: string };

/** What the parent sends a worker thread: a stop request to honour as its own (module state is per thread). */
export type ParentMessage = { type: 'stop'; reason: string };

/** ONNX Runtime threads for each of `parallel` students: STRATA_THREADS when set, else an equal share of the cores. */
export function threadsPerStudent(parallel: number, env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  const given = Number(env.STRATA_THREADS);
  return given > 0 ? given : Math.max(1, Math.floor(cores / parallel));
}

/** How many of `pending` cells to train at once (`requested`, else 1) and the threads of each; logs it when more than one. */
export function studentLanes(requested: number | undefined, pending: number, log: (line: string) => void): { parallel: number; threads: number } {
  const parallel = Math.max(1, Math.min(requested ?? 1, pending));
  const threads = threadsPerStudent(parallel);
  if (parallel > 1) log(`training ${pending} students, ${parallel} at a time in worker threads (${threads} ONNX Runtime thread${threads === 1 ? '' : 's'} each)`);
  return { parallel, threads };
}

/**
 * Runs `run` over `items`, at most `limit` at a time, and returns the results in item order. After a failure no new
 * item starts; the running ones finish (their work is saved), then the first failure is thrown.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await run(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.err;
  return out;
}

// Worker threads start without the parent's TypeScript loader, so the thread registers tsx before loading the body.
// Resolved on first use, so that importing this module never needs tsx.
const bootstrap = () => `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(path.join(__dirname, 'student-thread.ts'))});\n`;

/** Trains one student in a worker thread with `threads` ONNX Runtime threads; its log lines come back through `log`. */
export function trainInWorker(job: { kind: 'generation'; options: ByPath<GenerationStudentOptions> }, o: { threads: number; log: (line: string) => void }): Promise<GenerationStudentResult>;
export function trainInWorker(job: { kind: 'classification'; options: ByPath<StudentTrainOptions> }, o: { threads: number; log: (line: string) => void }): Promise<StudentResult>;
export function trainInWorker(job: StudentJob, o: { threads: number; log: (line: string) => void }): Promise<GenerationStudentResult | StudentResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(bootstrap(), { eval: true, workerData: job, env: { ...process.env, STRATA_THREADS: String(o.threads) } });
    let settled = false;
    const unsubscribe = onStopRequest((reason) => worker.postMessage({ type: 'stop', reason } satisfies ParentMessage));
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      f();
    };
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'log') o.log(m.line);
      else if (m.type === 'result') settle(() => resolve(m.result));
      else settle(() => reject(Object.assign(m.interrupted !== undefined ? new Interrupted(m.message, m.interrupted) : new Error(m.message), { stack: m.stack ?? m.message })));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the student worker thread for ${job.options.outDir} exited with code ${code} before reporting a result`))));
  });
}
