// Activation records as Kafka messages (pure: no client here). A record larger than the chunk limit is split into
// consecutive messages of one key; the reassembler yields only whole, checksum-verified records, so a teacher killed
// between the chunks of a record leaves a torn sequence that is skipped, never served.
import { ActivationError } from './errors';
import { RECORD_VERSION, decodeRecord, readRecordHeader, type ActivationRecord, type DecodeOptions, type RecordHeader } from './record';

export const ACTS_TOPIC_PREFIX = 'strata.acts.';
export const CACHES_TOPIC = 'strata.caches';

export const HEADER_SCHEMA = 'strata-schema';
export const HEADER_CACHE = 'strata-cache';
export const HEADER_CHUNK = 'strata-chunk';

/**
 * Default chunk size: under the broker's default message.max.bytes (1 MiB + 12 bytes) with room for the key,
 * headers and batch overhead.
 */
export const DEFAULT_CHUNK_BYTES = 900 * 1024;

export function actsTopic(cacheKey: string): string {
  return `${ACTS_TOPIC_PREFIX}${cacheKey}`;
}

export interface RecordMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One encoded record as one message, or as `ceil(bytes / chunkBytes)` messages with `strata-chunk: i/n` headers. */
export function recordMessages(exampleId: string, encoded: Uint8Array, cacheKey: string, chunkBytes = DEFAULT_CHUNK_BYTES): RecordMessage[] {
  if (!(chunkBytes > 0)) throw new ActivationError('INVALID_RECORD', `chunkBytes must be positive, got ${chunkBytes}`);
  const base = { [HEADER_SCHEMA]: String(RECORD_VERSION), [HEADER_CACHE]: cacheKey };
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (bytes.length <= chunkBytes) return [{ key: exampleId, value: bytes, headers: base }];
  const n = Math.ceil(bytes.length / chunkBytes);
  return Array.from({ length: n }, (_, i) => ({
    key: exampleId,
    value: bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes)),
    headers: { ...base, [HEADER_CHUNK]: `${i}/${n}` },
  }));
}

export interface ConsumedFrame {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** A whole record found in a topic: its bytes, its verified header, and where its first message sits. */
export interface AssembledRecord {
  exampleId: string;
  bytes: Uint8Array;
  header: RecordHeader;
  partition: number;
  offset: bigint;
}

function at(topic: string, partition: number, offset: bigint) {
  return { segment: `${topic}/${partition}`, offset: Number(offset) };
}

/**
 * Turns consumed messages back into records. Chunks of one record are consecutive in their partition; a sequence
 * broken by a new record (a teacher restarted mid-record) is dropped and counted in `tornSequences`. Every whole record
 * is checked (magic, version, CRC32C, layout) before it is returned; a bad one throws an ActivationError naming the
 * example id, topic, partition and offset.
 */
export class RecordAssembler {
  tornSequences = 0;
  private partial = new Map<number, { key: string; parts: Buffer[]; next: number; total: number; offset: bigint }>();

  constructor(private readonly cacheKey?: string) {}

  push(m: ConsumedFrame): AssembledRecord | undefined {
    const where = at(m.topic, m.partition, m.offset);
    const schema = m.headers[HEADER_SCHEMA];
    if (schema !== undefined && schema !== String(RECORD_VERSION))
      throw new ActivationError('UNKNOWN_VERSION', `example '${m.key}': record schema version ${schema} (this reader knows ${RECORD_VERSION})`, where);
    if (this.cacheKey && m.headers[HEADER_CACHE] !== undefined && m.headers[HEADER_CACHE] !== this.cacheKey)
      throw new ActivationError('MISMATCH', `example '${m.key}' belongs to cache ${m.headers[HEADER_CACHE]}, not ${this.cacheKey}`, where);
    if (m.key === null) throw new ActivationError('MALFORMED', 'message without a key (the example id)', where);
    const chunk = m.headers[HEADER_CHUNK];
    const open = this.partial.get(m.partition);
    if (chunk === undefined) {
      if (open) this.dropTorn(m.partition);
      return this.finish(m.key, m.value, m.topic, m.partition, m.offset);
    }
    const match = /^(\d+)\/(\d+)$/.exec(chunk);
    if (!match) throw new ActivationError('MALFORMED', `example '${m.key}': bad ${HEADER_CHUNK} header '${chunk}'`, where);
    const i = Number(match[1]);
    const n = Number(match[2]);
    if (i === 0) {
      if (open) this.dropTorn(m.partition);
      if (n === 1) return this.finish(m.key, m.value, m.topic, m.partition, m.offset);
      this.partial.set(m.partition, { key: m.key, parts: [m.value], next: 1, total: n, offset: m.offset });
      return undefined;
    }
    if (!open || open.key !== m.key || open.next !== i || open.total !== n) {
      // A continuation without its start: the rest of a sequence whose beginning was torn away, or noise.
      if (open) this.dropTorn(m.partition);
      else this.tornSequences++;
      return undefined;
    }
    open.parts.push(m.value);
    open.next++;
    if (open.next < open.total) return undefined;
    this.partial.delete(m.partition);
    return this.finish(open.key, Buffer.concat(open.parts), m.topic, m.partition, open.offset);
  }

  /** Records still waiting for chunks (a sequence in flight, or torn at the end of what was read). */
  get pending(): number {
    return this.partial.size;
  }

  private dropTorn(partition: number): void {
    this.partial.delete(partition);
    this.tornSequences++;
  }

  private finish(key: string, value: Buffer, topic: string, partition: number, offset: bigint): AssembledRecord {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    let header: RecordHeader;
    try {
      header = readRecordHeader(bytes);
    } catch (e) {
      if (e instanceof ActivationError) throw new ActivationError(e.code, `example '${key}': ${e.message}`, at(topic, partition, offset));
      throw e;
    }
    if (header.exampleId !== key) throw new ActivationError('MALFORMED', `message key '${key}' but the record holds example '${header.exampleId}'`, at(topic, partition, offset));
    return { exampleId: key, bytes, header, partition, offset };
  }
}

/** Decodes an assembled record, naming its example id and position if the bytes turn out bad. */
export function decodeAssembled(r: AssembledRecord, topic: string, options?: DecodeOptions): ActivationRecord {
  try {
    return decodeRecord(r.bytes, undefined, options);
  } catch (e) {
    if (e instanceof ActivationError) throw new ActivationError(e.code, `example '${r.exampleId}': ${e.message}`, at(topic, r.partition, r.offset));
    throw e;
  }
}
