// Cache jobs: one per cache key, run one at a time (the teacher owns the device), state kept in
// <artifacts>/teacher-inference/jobs/<cacheKey>.json so a restarted service resumes what it had not finished.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaCacheWriter, actsTopic, readCacheManifest } from '@strata/activations';
import {
  CACHE_DTYPES, TEACHER_PRECISIONS, classificationCacheWork, generationCacheWork, loadGenerationModel, loadTeacher, prepareCache, prepareGenerationCache, writeJsonAtomic,
  type CacheWork, type LoadedGenerationModel, type LoadedTeacher, type PreparedCache, type PreparedGenerationCache, type SplitRef,
} from '@strata/experiment';
import { DataError, TASK_IDS, getTask, isTaskId } from '@strata/data';
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
  // --- generation tasks (seq2seq, multiple choice): a Strata-exported encoder-decoder or decoder-only teacher ---
  /** Vocabulary entries kept per target position (the manifest's cache.topK). */
  topK: z.int().positive().optional(),
  /** Source length (seq2seq) or whole sequence (decoder-only), and the seq2seq target length (default: the teacher's positions). */
  maxLength: z.int().positive().optional(),
  maxTargetLength: z.int().positive().optional(),
  /** The manifest's data.carve: train on one part of a split (replaces split). */
  carve: z.strictObject({ from: z.string().min(1), evalFraction: z.number().gt(0).lt(1), seed: z.int() }).optional(),
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
  work?: CacheWork;
}

/** STRATA_KAFKA_CHUNK_BYTES: records larger than this are split into several messages (default: under the broker's 1 MiB message limit). */
function chunkBytes(): { chunkBytes?: number } {
  const raw = process.env.STRATA_KAFKA_CHUNK_BYTES;
  if (raw === undefined || raw === '') return {};
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`STRATA_KAFKA_CHUNK_BYTES='${raw}' is not a positive number of bytes`);
  return { chunkBytes: Number(raw) };
}

const GENERATION_ONLY = ['topK', 'maxLength', 'maxTargetLength', 'carve'] as const;

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
    writeJsonAtomic(path.join(this.dir, `${s.cacheKey}.json`), s);
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
    const work = getTask(request.task).kind === 'classification' ? await this.classificationWork(request, onnx, tokenizer) : await this.generationWork(request, onnx, tokenizer);
    const key = work.cacheKey;
    const existing = this.jobs.get(key);
    // "complete" is what the broker holds (the cache's manifest on strata.caches), never only a local note: a fresh
    // broker, or one that lost the topic, gets the cache made again.
    const stale = existing?.status.state === 'complete' && !(await readCacheManifest(this.client, key));
    if (stale) this.log.warn({ cacheKey: key }, 'a cache saved as complete is not on the broker; making it again');
    if (existing && existing.status.state !== 'failed' && !stale) return { status: existing.status, created: false };
    const status: JobStatus = { cacheKey: key, topic: actsTopic(key), state: 'queued', produced: 0, total: work.total, request, updatedAt: '' };
    this.jobs.set(key, { status, work });
    this.save(status);
    this.enqueue(key);
    return { status, created: true };
  }

  private async classificationWork(request: CacheRequest, onnx: string, tokenizer: string | undefined): Promise<CacheWork> {
    const extra = GENERATION_ONLY.filter((f) => request[f] !== undefined);
    if (extra.length) throw badRequest(`${extra.join(', ')}: for generation tasks only; task '${request.task}' is a classification task`);
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
    return classificationCacheWork(teacher, prepared);
  }

  /**
   * A generation cache (docs/SERVICES.md): the teacher's states of both stacks and its top-k next-token distribution
   * per target token, the same records and cache key as embedded mode's cacheGenerationTeacher.
   */
  private async generationWork(request: CacheRequest, onnx: string, tokenizer: string | undefined): Promise<CacheWork> {
    if (request.hiddenStates) throw badRequest(`hiddenStates: for an exported classification teacher only; task '${request.task}' takes a Strata-exported generation teacher`);
    let teacher: LoadedGenerationModel;
    try {
      teacher = loadGenerationModel(onnx, tokenizer);
    } catch (err) {
      throw badRequest(`teacher: '${request.teacher}' is not a usable generation teacher: ${(err as Error).message}`);
    }
    const train: SplitRef = request.carve ? { split: request.carve.from, part: 'train', carve: request.carve } : { split: request.split };
    const maxLength = request.maxLength ?? teacher.model.config.maxPositions;
    let prepared: PreparedGenerationCache;
    try {
      prepared = await prepareGenerationCache({
        teacher, task: request.task, train, data: { dataRoot: this.dataRoot, maxExamples: request.maxExamples }, layers: request.layers, topK: request.topK, dtype: request.dtype,
        teacherPrecision: request.teacherPrecision, maxLength, maxTargetLength: request.maxTargetLength ?? maxLength,
      });
    } catch (err) {
      if (err instanceof DataError && err.code === 'MISSING_DATA') throw Object.assign(err, { status: 503 });
      throw badRequest((err as Error).message);
    }
    return generationCacheWork(teacher, prepared);
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
    const work = job.work!;
    s.state = 'running';
    this.save(s);
    const started = Date.now();
    let writer: KafkaCacheWriter | undefined;
    try {
      writer = await KafkaCacheWriter.open(this.client, s.cacheKey, chunkBytes());
      if (writer.resumedCount) this.log.info({ cacheKey: s.cacheKey, resumed: writer.resumedCount, torn: writer.tornSequences }, 'resuming a cache');
      const w = writer;
      // produced counts examples (a seq2seq example is two records: its encoder's and its decoder's).
      s.produced = work.produced(writer);
      let bytes = writer.bytesWritten;
      let records = writer.count;
      const fill = {
        batchSize: s.request.batchSize,
        shouldStop: () => this.stopping,
        onProgress: (examples: number) => {
          this.events.onRecords?.(w.count - records, w.bytesWritten - bytes);
          s.produced = examples;
          records = w.count;
          bytes = w.bytesWritten;
          this.save(s);
        },
      };
      const finished = await work.fill(writer, fill);
      s.produced = work.produced(writer);
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
