// Cache jobs: one per cache key, run one at a time (the teacher owns the device), state kept in
// <artifacts>/teacher-inference/jobs/<cacheKey>.json so a restarted service resumes what it had not finished.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaCacheWriter, actsTopic, readCacheManifest } from '@strata/activations';
import { CACHE_DTYPES, TEACHER_PRECISIONS, fillCache, loadTeacher, prepareCache, writeAtomic, type LoadedTeacher, type PreparedCache } from '@strata/experiment';
import { DataError, TASK_IDS, isTaskId } from '@strata/data';
import type { KafkaClient } from '@strata/kafka';
import { confinePath } from '@strata/service';
import type { Logger } from 'pino';
import { z } from 'zod';

export const cacheRequestSchema = z.strictObject({
  experiment: z.string().min(1).max(63).optional(),
  teacher: z.string().min(1),
  tokenizer: z.string().min(1).optional(),
  task: z.string().refine(isTaskId, { message: `unknown task; known tasks: ${TASK_IDS.join(', ')}` }),
  split: z.string().min(1).default('train'),
  layers: z.array(z.int().nonnegative()).min(1),
  dtype: z.enum(CACHE_DTYPES).default('float16'),
  /** The manifest's cache.teacherPrecision. */
  teacherPrecision: z.enum(TEACHER_PRECISIONS).default('float32'),
  maxExamples: z.int().positive().optional(),
  /** An exported teacher's hidden-state tensors, embeddings first (the manifest's teacher.hiddenStates). */
  hiddenStates: z.array(z.string().min(1)).min(2).optional(),
  batchSize: z.int().positive().max(1024).default(32),
});
export type CacheRequest = z.output<typeof cacheRequestSchema>;

export type JobState = 'queued' | 'running' | 'complete' | 'failed';

export interface JobStatus {
  cacheKey: string;
  topic: string;
  state: JobState;
  produced: number;
  total: number;
  error?: string;
  request: CacheRequest;
  updatedAt: string;
}

export interface JobEvents {
  onRecords?: (records: number, bytes: number) => void;
  onState?: (counts: Record<JobState, number>) => void;
}

interface Job {
  status: JobStatus;
  /** Loaded for jobs that still have work; a job restored as complete has none. */
  work?: { teacher: LoadedTeacher; prepared: PreparedCache };
}

/** A request that cannot be served as sent: 400 with the reason, not a 500 with a stack trace. */
function badRequest(message: string): Error {
  return Object.assign(new Error(message), { status: 400 });
}

export class CacheJobs {
  private jobs = new Map<string, Job>();
  private queue: string[] = [];
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly dir: string;

  constructor(
    private readonly client: KafkaClient,
    private readonly artifacts: string,
    private readonly dataRoot: string | undefined,
    private readonly log: Logger,
    private readonly events: JobEvents = {},
  ) {
    this.dir = path.join(artifacts, 'teacher-inference', 'jobs');
    fs.mkdirSync(this.dir, { recursive: true });
  }

  private save(s: JobStatus): void {
    s.updatedAt = new Date().toISOString();
    writeAtomic(path.join(this.dir, `${s.cacheKey}.json`), `${JSON.stringify(s, null, 2)}\n`);
    this.events.onState?.(this.counts());
  }

  counts(): Record<JobState, number> {
    const c: Record<JobState, number> = { queued: 0, running: 0, complete: 0, failed: 0 };
    for (const j of this.jobs.values()) c[j.status.state]++;
    return c;
  }

  get(key: string): JobStatus | undefined {
    return this.jobs.get(key)?.status;
  }

  /** Loads the teacher and the split, computes the cache key, and starts the job unless it exists (idempotent). */
  async submit(request: CacheRequest): Promise<{ status: JobStatus; created: boolean }> {
    const onnx = confinePath(this.artifacts, request.teacher, 'teacher');
    if (!fs.existsSync(onnx)) throw Object.assign(new Error(`teacher: '${request.teacher}' not found under the artifacts root`), { status: 400 });
    const tokenizer = request.tokenizer ? confinePath(this.artifacts, request.tokenizer, 'tokenizer') : undefined;
    if (fs.statSync(onnx).isDirectory()) throw badRequest(`teacher: '${request.teacher}' is a directory; expected an .onnx file`);
    let teacher: LoadedTeacher;
    try {
      teacher = loadTeacher(onnx, tokenizer, { hiddenStates: request.hiddenStates });
    } catch (err) {
      throw badRequest(`teacher: '${request.teacher}' is not a usable ONNX teacher: ${(err as Error).message}`);
    }
    let prepared: PreparedCache;
    try {
      prepared = await prepareCache({ teacher, task: request.task, split: request.split, layers: request.layers, dtype: request.dtype, teacherPrecision: request.teacherPrecision, dataRoot: this.dataRoot, maxExamples: request.maxExamples });
    } catch (err) {
      // Layers outside the teacher, an unknown task or split: the request's fault. Data this server lacks is not.
      if (err instanceof DataError && err.code === 'MISSING_DATA') throw Object.assign(err, { status: 503 });
      throw badRequest((err as Error).message);
    }
    const existing = this.jobs.get(prepared.cacheKey);
    // "complete" is what the broker holds (the cache's manifest on strata.caches), never only a local note: a fresh
    // broker, or one that lost the topic, gets the cache made again.
    const stale = existing?.status.state === 'complete' && !(await readCacheManifest(this.client, prepared.cacheKey));
    if (stale) this.log.warn({ cacheKey: prepared.cacheKey }, 'a cache saved as complete is not on the broker; making it again');
    if (existing && existing.status.state !== 'failed' && !stale) return { status: existing.status, created: false };
    const status: JobStatus = { cacheKey: prepared.cacheKey, topic: actsTopic(prepared.cacheKey), state: 'queued', produced: 0, total: prepared.data.rows.length, request, updatedAt: '' };
    this.jobs.set(prepared.cacheKey, { status, work: { teacher, prepared } });
    this.save(status);
    this.enqueue(prepared.cacheKey);
    return { status, created: true };
  }

  /** Re-submits every saved job that had not completed (after a crash or a SIGTERM). */
  async resumeSaved(): Promise<number> {
    let n = 0;
    for (const f of fs.readdirSync(this.dir).filter((x) => x.endsWith('.json')).sort()) {
      const saved = JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as JobStatus;
      if (saved.state === 'complete') {
        if (await readCacheManifest(this.client, saved.cacheKey).catch(() => undefined)) {
          this.jobs.set(saved.cacheKey, { status: saved });
          continue;
        }
        this.log.warn({ cacheKey: saved.cacheKey }, 'a cache saved as complete is not on the broker; making it again');
      }
      try {
        const { status } = await this.submit(saved.request);
        if (status.cacheKey !== saved.cacheKey) this.log.warn({ saved: saved.cacheKey, now: status.cacheKey }, 'a saved job now hashes to another cache key (teacher or data changed)');
        n++;
      } catch (e) {
        this.log.error({ err: e, cacheKey: saved.cacheKey }, 'could not resume a saved job');
      }
    }
    return n;
  }

  private enqueue(key: string): void {
    this.queue.push(key);
    if (!this.running) this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopping) {
      const key = this.queue.shift()!;
      const job = this.jobs.get(key)!;
      await this.run(job);
    }
  }

  private async run(job: Job): Promise<void> {
    const s = job.status;
    const { teacher, prepared } = job.work!;
    s.state = 'running';
    this.save(s);
    const started = Date.now();
    let writer: KafkaCacheWriter | undefined;
    try {
      writer = await KafkaCacheWriter.open(this.client, s.cacheKey);
      if (writer.resumedCount) this.log.info({ cacheKey: s.cacheKey, resumed: writer.resumedCount, torn: writer.tornSequences }, 'resuming a cache');
      s.produced = writer.count;
      let bytes = writer.bytesWritten;
      const w = writer;
      const finished = await fillCache(teacher, prepared, writer, {
        batchSize: s.request.batchSize,
        shouldStop: () => this.stopping,
        onProgress: (written) => {
          this.events.onRecords?.(written - s.produced, w.bytesWritten - bytes);
          s.produced = written;
          bytes = w.bytesWritten;
          this.save(s);
        },
      });
      s.produced = writer.count;
      s.state = finished ? 'complete' : 'queued';
      this.log.info({ cacheKey: s.cacheKey, state: s.state, produced: s.produced, total: s.total, seconds: (Date.now() - started) / 1000 }, finished ? 'cache complete' : 'cache job stopped; it resumes on restart');
    } catch (e) {
      s.state = 'failed';
      s.error = (e as Error).message;
      this.log.error({ err: e, cacheKey: s.cacheKey }, 'cache job failed');
    } finally {
      await writer?.close();
      this.save(s);
    }
  }

  /** Stops after the batch in flight (already sent and acknowledged), leaving unfinished jobs to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}
