// The Kafka store (docs/SERVICES.md, "Kafka topics"): a cache is the topic strata.acts.<cacheKey> (key = example id,
// value = record, chunked when large) plus its completion manifest in the compacted topic strata.caches. The writer
// resumes after a crash by scanning what is already in the topic; readers replay the topic from offset 0 for every
// epoch, deduplicate by example id, and may start while the teacher is still producing.
import * as crypto from 'node:crypto';
import type { KafkaClient, TopicReader, TopicSpec } from '@strata/kafka';
import { crcOfCrc, hex8 } from './crc32c';
import { ActivationError } from './errors';
import { CACHES_TOPIC, DEFAULT_CHUNK_BYTES, RecordAssembler, actsTopic, decodeAssembled, recordMessages, type AssembledRecord } from './kafka-frames';
import { encodeRecord, readRecordHeader, type ActivationDtype, type ActivationRecord, type ActivationRecordInput, type DecodeOptions } from './record';
import type { CacheWriter, CompletionInfoLike, EpochRecords } from './store';

export const ACTS_TOPIC_CONFIG: Record<string, string> = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };
export const CACHES_TOPIC_CONFIG: Record<string, string> = { 'cleanup.policy': 'compact' };

/** A cache's completion manifest as published on strata.caches. */
export interface KafkaCacheManifest {
  version: 1;
  cacheKey: string;
  topic: string;
  count: number;
  /** CRC32C over each distinct record's own CRC, in topic order (as the file store's). */
  recordsCrc32c: string;
  layers: number[];
  dtype: ActivationDtype;
  hiddenSize: number;
  /** partition -> next offset when the manifest was written: a reader that got there has seen every record. */
  endOffsets: Record<string, string>;
  createdAt: string;
  meta?: Record<string, unknown>;
}

export function cacheTopics(cacheKey: string): TopicSpec[] {
  return [
    { name: actsTopic(cacheKey), partitions: 1, config: ACTS_TOPIC_CONFIG },
    { name: CACHES_TOPIC, partitions: 1, config: CACHES_TOPIC_CONFIG },
  ];
}

const scanGroup = (what: string) => `strata-scan.${what}.${crypto.randomBytes(6).toString('hex')}`;

/** Reads a topic from offset 0 up to the end offsets it had when the scan began, then stops. */
async function scanToEnd(client: KafkaClient, topic: string, onBatch: (batch: import('@strata/kafka').IncomingMessage[]) => void): Promise<Map<number, bigint>> {
  const end = await client.endOffsets(topic);
  const remaining = new Map([...end].filter(([, o]) => o > 0n));
  if (!remaining.size) return end;
  const reader = await client.read(topic, { groupId: scanGroup(topic), from: 'earliest' });
  try {
    for await (const batch of reader) {
      const inRange = batch.filter((m) => m.offset < (end.get(m.partition) ?? 0n));
      if (inRange.length) onBatch(inRange);
      for (const m of batch) if (m.offset >= (end.get(m.partition) ?? 0n) - 1n) remaining.delete(m.partition);
      if (!remaining.size) break;
    }
  } finally {
    await reader.close();
  }
  return end;
}

/** The latest completion manifest of a cache, or undefined while it is not complete. */
export async function readCacheManifest(client: KafkaClient, cacheKey: string): Promise<KafkaCacheManifest | undefined> {
  await client.ensureTopics([{ name: CACHES_TOPIC, partitions: 1, config: CACHES_TOPIC_CONFIG }]);
  let latest: KafkaCacheManifest | undefined;
  await scanToEnd(client, CACHES_TOPIC, (batch) => {
    for (const m of batch) if (m.key === cacheKey) latest = m.value.length ? (JSON.parse(m.value.toString('utf8')) as KafkaCacheManifest) : undefined;
  });
  return latest;
}

interface Layout {
  layers: number[];
  dtype: ActivationDtype;
  hiddenSize: number;
}

export interface KafkaCacheWriterOptions {
  chunkBytes?: number;
}

/**
 * Writes one cache to Kafka. `open` scans the topic, so a writer restarted after a crash knows which examples are
 * already there (has()) and continues after them: the cache ends with exactly one whole record per example.
 */
export class KafkaCacheWriter implements CacheWriter {
  readonly topic: string;
  /** Whole records the scan found already in the topic (0 for a new cache). */
  resumedCount = 0;
  /** Chunk sequences of an earlier, interrupted writer that the scan skipped. */
  tornSequences = 0;
  /** Record bytes this writer has sent (not counting what the scan found). */
  bytesWritten = 0;
  private ids = new Set<string>();
  private crc = 0;
  private layout: Layout | undefined;
  private manifest: KafkaCacheManifest | undefined;
  private producer: import('@strata/kafka').Producer | undefined;

  private constructor(
    private readonly client: KafkaClient,
    readonly cacheKey: string,
    private readonly chunkBytes: number,
  ) {
    this.topic = actsTopic(cacheKey);
  }

  static async open(client: KafkaClient, cacheKey: string, options: KafkaCacheWriterOptions = {}): Promise<KafkaCacheWriter> {
    const w = new KafkaCacheWriter(client, cacheKey, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    await client.ensureTopics(cacheTopics(cacheKey));
    w.manifest = await readCacheManifest(client, cacheKey);
    const assembler = new RecordAssembler(cacheKey);
    await scanToEnd(client, w.topic, (batch) => {
      for (const m of batch) {
        const r = assembler.push(m);
        if (r && !w.ids.has(r.exampleId)) w.accept(r.exampleId, r.header);
      }
    });
    w.tornSequences = assembler.tornSequences + assembler.pending;
    w.resumedCount = w.ids.size;
    if (w.manifest && w.manifest.count !== w.ids.size)
      throw new ActivationError('CORRUPT_STORE', `cache ${cacheKey}: manifest on ${CACHES_TOPIC} says ${w.manifest.count} records, ${w.topic} holds ${w.ids.size}`);
    return w;
  }

  get count(): number {
    return this.ids.size;
  }

  has(exampleId: string): boolean {
    return this.ids.has(exampleId);
  }

  isComplete(): boolean {
    return this.manifest !== undefined;
  }

  readManifest(): KafkaCacheManifest | undefined {
    return this.manifest;
  }

  private accept(id: string, h: { layers: number[]; dtype: ActivationDtype; hiddenSize: number; crc: number }): void {
    if (!this.layout) this.layout = { layers: [...h.layers], dtype: h.dtype, hiddenSize: h.hiddenSize };
    else if (h.dtype !== this.layout.dtype || h.hiddenSize !== this.layout.hiddenSize || h.layers.join(',') !== this.layout.layers.join(','))
      throw new ActivationError('MISMATCH', `example '${id}' has layers [${h.layers}] ${h.dtype} d=${h.hiddenSize}; cache ${this.cacheKey} holds [${this.layout.layers}] ${this.layout.dtype} d=${this.layout.hiddenSize}`);
    this.ids.add(id);
    this.crc = crcOfCrc(this.crc, h.crc);
  }

  /** Appends records in one send (acked by all in-sync replicas before it returns). Ids already cached are refused. */
  async appendBatch(records: (ActivationRecordInput | Uint8Array)[]): Promise<void> {
    if (this.manifest) throw new ActivationError('CACHE_COMPLETE', `cache ${this.cacheKey} is complete; it takes no more records`);
    const encoded = records.map((r) => (r instanceof Uint8Array ? r : encodeRecord(r)));
    const headers = encoded.map((b) => readRecordHeader(b));
    const batchIds = new Set<string>();
    for (const h of headers) {
      if (this.ids.has(h.exampleId) || batchIds.has(h.exampleId)) throw new ActivationError('DUPLICATE_ID', `example '${h.exampleId}' is already in cache ${this.cacheKey}`);
      batchIds.add(h.exampleId);
    }
    if (!encoded.length) return;
    this.producer ??= await this.client.producer();
    await this.producer.send(this.topic, encoded.flatMap((b, i) => recordMessages(headers[i].exampleId, b, this.cacheKey, this.chunkBytes)));
    headers.forEach((h) => this.accept(h.exampleId, h));
    this.bytesWritten += encoded.reduce((a, b) => a + b.byteLength, 0);
  }

  /** Publishes the completion manifest; from then on readers know when they have seen everything. */
  async complete(info: CompletionInfoLike = {}): Promise<KafkaCacheManifest> {
    if (this.manifest) return this.manifest;
    const layout = this.layout ?? (info.layers && info.dtype ? { layers: info.layers, dtype: info.dtype, hiddenSize: 0 } : undefined);
    if (!layout) throw new ActivationError('INVALID_RECORD', `cache ${this.cacheKey} is empty: complete() needs layers and dtype`);
    if (info.layers && info.layers.join(',') !== layout.layers.join(',')) throw new ActivationError('MISMATCH', `complete(): layers [${info.layers}] but the records hold [${layout.layers}]`);
    const end = await this.client.endOffsets(this.topic);
    const manifest: KafkaCacheManifest = {
      version: 1,
      cacheKey: this.cacheKey,
      topic: this.topic,
      count: this.ids.size,
      recordsCrc32c: hex8(this.crc),
      layers: layout.layers,
      dtype: layout.dtype,
      hiddenSize: layout.hiddenSize,
      endOffsets: Object.fromEntries([...end].map(([p, o]) => [String(p), o.toString()])),
      createdAt: new Date().toISOString(),
      meta: info.meta,
    };
    this.producer ??= await this.client.producer();
    await this.producer.send(CACHES_TOPIC, [{ key: this.cacheKey, value: Buffer.from(JSON.stringify(manifest)) }]);
    this.manifest = manifest;
    return manifest;
  }

  async close(): Promise<void> {
    await this.producer?.close();
    this.producer = undefined;
  }
}

export interface KafkaEpochOptions {
  /** Consumer group of this read (each student run uses its own). */
  groupId: string;
  /** The examples the epoch will ask for; reading stops early once all of them have arrived. */
  expectedIds?: Iterable<string>;
  /** How often to look for the completion manifest while waiting for records (default 1000 ms). */
  pollMs?: number;
  /** Give up when no record arrives and the cache is not complete for this long (default: wait forever). */
  idleTimeoutMs?: number;
  /** Polled while waiting: a reason (a signal name) ends the wait at once instead of at the next record. */
  stopped?: () => string | undefined;
}

export interface EpochStats {
  /** Distinct whole records received. */
  received: number;
  /** Records handed out by get(). */
  delivered: number;
  /** Messages of records already received in this epoch (re-delivery after a broker restart, or a resumed writer). */
  duplicatesSkipped: number;
  tornSequences: number;
  bytes: number;
}

/**
 * One epoch's replay of a cache topic: get(ids) waits until those records have arrived (the teacher may still be
 * producing), returns them decoded, and forgets them, so each example is handed out at most once per epoch.
 */
export class KafkaEpoch implements EpochRecords {
  readonly stats: EpochStats = { received: 0, delivered: 0, duplicatesSkipped: 0, tornSequences: 0, bytes: 0 };
  private buffer = new Map<string, AssembledRecord>();
  private seen = new Set<string>();
  private handedOut = new Set<string>();
  private assembler: RecordAssembler;
  private iterator: AsyncIterator<import('@strata/kafka').IncomingMessage[]>;
  private consumed = new Map<number, bigint>();
  private finished = false;
  private pendingNext: Promise<IteratorResult<import('@strata/kafka').IncomingMessage[]>> | undefined;
  private expected: Set<string> | undefined;
  private manifestSeen: { end: bigint; manifest: KafkaCacheManifest | undefined } | undefined;

  constructor(
    private readonly client: KafkaClient,
    private readonly cacheKey: string,
    private readonly reader: TopicReader,
    private readonly options: KafkaEpochOptions,
  ) {
    this.assembler = new RecordAssembler(cacheKey);
    this.iterator = reader[Symbol.asyncIterator]();
    this.expected = options.expectedIds ? new Set(options.expectedIds) : undefined;
  }

  static async open(client: KafkaClient, cacheKey: string, options: KafkaEpochOptions): Promise<KafkaEpoch> {
    await client.ensureTopics(cacheTopics(cacheKey));
    const reader = await client.read(actsTopic(cacheKey), { groupId: options.groupId, from: 'earliest' });
    return new KafkaEpoch(client, cacheKey, reader, options);
  }

  private ingest(batch: import('@strata/kafka').IncomingMessage[]): void {
    for (const m of batch) {
      this.consumed.set(m.partition, m.offset + 1n);
      const r = this.assembler.push(m);
      if (!r) continue;
      if (this.seen.has(r.exampleId)) {
        this.stats.duplicatesSkipped++;
        continue;
      }
      this.seen.add(r.exampleId);
      this.stats.received++;
      this.stats.bytes += r.bytes.byteLength;
      if (!this.expected || this.expected.has(r.exampleId)) this.buffer.set(r.exampleId, r);
    }
    this.stats.tornSequences = this.assembler.tornSequences;
  }

  /** True once the manifest exists and this reader has consumed up to its end offsets. */
  private async exhausted(): Promise<KafkaCacheManifest | undefined> {
    // Scanning strata.caches joins a consumer group; do it only when that topic has grown since the last look.
    const end = (await this.client.endOffsets(CACHES_TOPIC)).get(0) ?? 0n;
    if (!this.manifestSeen || this.manifestSeen.end !== end) this.manifestSeen = { end, manifest: await readCacheManifest(this.client, this.cacheKey) };
    const m = this.manifestSeen.manifest;
    if (!m) return undefined;
    for (const [p, end] of Object.entries(m.endOffsets)) if ((this.consumed.get(Number(p)) ?? 0n) < BigInt(end)) return undefined;
    return m;
  }

  private async pull(): Promise<void> {
    const pollMs = this.options.pollMs ?? 1000;
    let idleSince = Date.now();
    for (;;) {
      if (this.finished) throw new ActivationError('NOT_FOUND', `cache ${this.cacheKey}: the reader is closed`);
      this.pendingNext ??= this.iterator.next();
      const next = this.pendingNext;
      // One timer per wait, cleared when the batch wins: a replay pulls thousands of batches.
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([next, new Promise<'tick'>((res) => (timer = setTimeout(() => res('tick'), pollMs)))]);
      clearTimeout(timer);
      if (r === 'tick') {
        // While the broker is away (a restart) the manifest cannot be read; the topic reader rides it out on its own.
        const m = await this.exhausted().catch(() => undefined);
        if (m) throw new ActivationError('NOT_FOUND', `cache ${this.cacheKey} is complete with ${m.count} records and none of them is the example asked for`);
        const reason = this.options.stopped?.();
        if (reason) throw new ActivationError('CLOSED', `cache ${this.cacheKey}: stopped by ${reason} while waiting for records`);
        if (this.options.idleTimeoutMs !== undefined && Date.now() - idleSince > this.options.idleTimeoutMs)
          throw new ActivationError(
            'NOT_FOUND',
            `cache ${this.cacheKey}: no record arrived for ${this.options.idleTimeoutMs / 1000} s on topic ${actsTopic(this.cacheKey)} (consumer group ${this.options.groupId}) and the cache is not complete: is teacher-inference producing it? (its job: GET /v1/caches/${this.cacheKey})`,
          );
        continue;
      }
      this.pendingNext = undefined;
      if (r.done) throw new ActivationError('CLOSED', `cache ${this.cacheKey}: the topic reader ended`);
      this.ingest(r.value);
      idleSince = Date.now();
      return;
    }
  }

  async get(ids: readonly string[], options?: DecodeOptions): Promise<ActivationRecord[]> {
    const out: ActivationRecord[] = [];
    for (const id of ids) {
      if (this.handedOut.has(id)) throw new ActivationError('DUPLICATE_ID', `example '${id}' was already handed out in this epoch`);
      while (!this.buffer.has(id)) {
        if (this.seen.has(id)) throw new ActivationError('DUPLICATE_ID', `example '${id}' was already handed out in this epoch`);
        try {
          await this.pull();
        } catch (e) {
          if (e instanceof ActivationError && e.code === 'NOT_FOUND' && /complete with/.test(e.message))
            throw new ActivationError('NOT_FOUND', `example '${id}' is missing from teacher cache ${this.cacheKey} (${e.message.replace(/^cache \S+ /, '')})`);
          throw e;
        }
      }
      const r = this.buffer.get(id)!;
      this.buffer.delete(id);
      this.handedOut.add(id);
      out.push(decodeAssembled(r, actsTopic(this.cacheKey), options));
      this.stats.delivered++;
    }
    return out;
  }

  /** Example ids handed out so far in this epoch. */
  delivered(): ReadonlySet<string> {
    return this.handedOut;
  }

  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.buffer.clear();
    await this.reader.close();
  }
}
