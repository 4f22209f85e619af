// The one Kafka surface Strata uses: topics, an idempotent producer, and readers that replay a topic from offset 0
// (students, scans) or continue from committed offsets (the evaluator). Two adapters implement it (kafkajs and
// @platformatic/kafka) so the client comparison in tools/bench measures both through identical calling code; the
// default is the one that measurement chose (docs/BENCHMARKS.md).

export type KafkaClientName = 'kafkajs' | 'platformatic';

export interface OutgoingMessage {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Broker append time or producer create time, ms since the epoch. */
  timestamp: number;
}

export interface TopicSpec {
  name: string;
  partitions?: number;
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
}

export interface Producer {
  /** Sends in order with acks from all in-sync replicas; idempotent, so retries after a broker restart never duplicate. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReadOptions {
  /** Consumer group (each student run has its own). */
  groupId: string;
  /** `earliest`: replay from offset 0 and commit nothing; `committed`: continue after the group's last commit. */
  from: 'earliest' | 'committed';
}

/** Batches of messages in offset order per partition. Breaking out of the loop (or close()) leaves the group. */
export interface TopicReader extends AsyncIterable<IncomingMessage[]> {
  /** For `from: 'committed'`: marks everything yielded so far as processed. */
  commit(): Promise<void>;
  /** Leaves the group; in committed mode what was yielded since the last commit() stays for the group's next reader. */
  close(): Promise<void>;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  readonly brokers: string[];
  /** Creates the topics that do not exist yet (existing ones are left as they are). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** The next offset to be written (high watermark) of each partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  producer(options?: { clientId?: string }): Promise<Producer>;
  read(topic: string, options: ReadOptions): Promise<TopicReader>;
  close(): Promise<void>;
}

export interface KafkaClientOptions {
  brokers: string[] | string;
  clientId?: string;
  /** Default: $STRATA_KAFKA_CLIENT, else the measured choice. */
  client?: KafkaClientName;
  /** Client library warnings and errors (default: dropped; their retries are expected around restarts). */
  log?: (level: 'warn' | 'error', message: string) => void;
}

export function brokerList(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(',')).map((b) => b.trim()).filter(Boolean);
  if (!list.length) throw new Error('no Kafka brokers given (set STRATA_BROKERS, e.g. 127.0.0.1:9092)');
  for (const b of list) if (!/^[^\s:]+:\d+$/.test(b)) throw new Error(`Kafka broker '${b}' is not host:port`);
  return list;
}

export function headerRecord(entries: Iterable<[unknown, unknown]> | Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!entries) return out;
  const it = Symbol.iterator in (entries as object) ? (entries as Iterable<[unknown, unknown]>) : Object.entries(entries);
  for (const [k, v] of it) {
    if (v === undefined || v === null) continue;
    out[String(k)] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}

/**
 * The broker's message.max.bytes (default 1 MiB) limits a whole record batch, and a client sends each call's
 * messages for a partition as one batch; so sends are cut into groups of at most this many payload bytes.
 */
export const MAX_BATCH_BYTES = 900 * 1024;

export function messageBytes(m: OutgoingMessage): number {
  let n = Buffer.byteLength(m.key) + m.value.length + 64;
  for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/** Consecutive groups of messages, each within maxBytes (a single larger message gets a group of its own). */
export function splitByBytes(messages: OutgoingMessage[], maxBytes = MAX_BATCH_BYTES): OutgoingMessage[][] {
  const groups: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const b = messageBytes(m);
    if (current.length && size + b > maxBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += b;
  }
  if (current.length) groups.push(current);
  return groups;
}
