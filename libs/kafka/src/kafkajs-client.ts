// KafkaClient over kafkajs 2.2 (pure JavaScript; its last release is from 2023).
import { Kafka, Partitioners, logLevel, type Consumer, type LogEntry } from 'kafkajs';
import { BatchQueue } from './queue';
import { brokerList, headerRecord, splitByBytes, type IncomingMessage, type KafkaClient, type KafkaClientOptions, type Producer, type ReadOptions, type TopicReader, type TopicSpec } from './client';

// Enough retries to ride out a broker restart (about 10-30 s on this machine) instead of failing the run.
const RETRY = { retries: 30, initialRetryTime: 300, maxRetryTime: 5000 };

// A single broker that has just created a topic (or just restarted) can answer metadata and ListOffsets for a few
// hundred milliseconds with these codes before the partition's leader is settled; kafkajs' admin retries only some of
// them (fetchTopicOffsets gives up on NOT_LEADER_OR_FOLLOWER at once), so admin reads wait them out here.
const LEADER_SETTLING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION']);
const SETTLE_LIMIT_MS = 30_000;

/** Runs an admin read again while the broker answers that a partition's leader is still being settled (at most 30 s). */
export async function whileLeaderSettles<T>(read: () => Promise<T>, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let waited = 0; ; waited += 200) {
    try {
      return await read();
    } catch (e) {
      if (!LEADER_SETTLING.has((e as { type?: string }).type ?? '') || waited >= SETTLE_LIMIT_MS) throw e;
    }
    await sleep(200);
  }
}

export function kafkajsClient(options: KafkaClientOptions): KafkaClient {
  const brokers = brokerList(options.brokers);
  const log = options.log;
  const kafka = new Kafka({
    clientId: options.clientId ?? 'strata',
    brokers,
    retry: RETRY,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => log?.(entry.level === logLevel.ERROR ? 'error' : 'warn', `${entry.log.message}${entry.log.error ? `: ${entry.log.error}` : ''}`),
  });
  const admin = kafka.admin({ retry: RETRY });
  let adminConnected: Promise<void> | undefined;
  const connectedAdmin = async () => {
    adminConnected ??= admin.connect();
    await adminConnected;
    return admin;
  };
  const open = new Set<{ close(): Promise<void> }>();

  return {
    name: 'kafkajs',
    brokers,
    async ensureTopics(topics: TopicSpec[]) {
      const a = await connectedAdmin();
      const existing = new Set(await a.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (!missing.length) return;
      try {
        await a.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions ?? 1, replicationFactor: -1, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
        });
      } catch (e) {
        // Another process may have created it between listTopics and createTopics.
        if (/already exists/i.test(String((e as Error).message))) return;
        // kafkajs waits for leaders but retries only LEADER_NOT_AVAILABLE; a loaded single broker can briefly answer
        // UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created (seen once in CI), so wait that out here.
        if ((e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e;
        await whileLeaderSettles(() => a.fetchTopicMetadata({ topics: missing.map((t) => t.name) }));
      }
    },
    async deleteTopics(names: string[]) {
      if (names.length) await (await connectedAdmin()).deleteTopics({ topics: names });
    },
    async listTopics() {
      return (await connectedAdmin()).listTopics();
    },
    async endOffsets(topic: string) {
      const a = await connectedAdmin();
      const offsets = await whileLeaderSettles(() => a.fetchTopicOffsets(topic));
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    },
    async producer(o = {}) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: RETRY, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      await p.connect();
      const handle: Producer = {
        async send(topic, messages) {
          for (const group of splitByBytes(messages)) await p.send({ topic, acks: -1, messages: group.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
        },
        async close() {
          open.delete(handle);
          await p.disconnect();
        },
      };
      void o;
      open.add(handle);
      return handle;
    },
    async read(topic: string, o: ReadOptions) {
      // maxWaitTimeInMs: a fetch waits this long for new data, and disconnect() waits for the fetch in flight (default 5 s).
      const consumer: Consumer = kafka.consumer({ groupId: o.groupId, retry: RETRY, sessionTimeout: 30000, heartbeatInterval: 3000, maxBytes: 50 * 1024 * 1024, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
      const queue = new BatchQueue<IncomingMessage>(4096);
      // Settles the batch the reader holds: true once processed (commit it), false when the reader left without
      // processing it (leave it to the group's next consumer: at-least-once).
      let settle: ((processed: boolean) => void) | undefined;
      const ack = () => {
        settle?.(true);
        settle = undefined;
      };
      // Settles once eachBatch has committed what the reader acknowledged, so commit() means committed.
      let committedBatch: Promise<void> = Promise.resolve();
      let markCommitted: (() => void) | undefined;
      const committed = o.from === 'committed';
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) queue.fail(new Error(`Kafka consumer of ${topic} (group ${o.groupId}) stopped: ${e.payload.error.message}`));
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          const msgs: IncomingMessage[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: BigInt(m.offset),
            key: m.key ? m.key.toString('utf8') : null,
            value: m.value ?? Buffer.alloc(0),
            headers: headerRecord(m.headers as Record<string, unknown>),
            timestamp: Number(m.timestamp),
          }));
          if (committed) {
            // Hold the batch until the reader has processed it, then commit: at-least-once across restarts.
            const done = new Promise<boolean>((r) => (settle = r));
            committedBatch = new Promise<void>((r) => (markCommitted = r));
            queue.push(msgs);
            let processed = false;
            while (isRunning() && !isStale()) {
              const t = setTimeout(() => void heartbeat().catch(() => undefined), 2500);
              const outcome = await Promise.race([done, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 2000))]);
              clearTimeout(t);
              if (outcome !== 'waiting') {
                processed = outcome;
                break;
              }
              await heartbeat();
            }
            if (!processed) {
              markCommitted?.();
              return;
            }
            if (batch.messages.length) resolveOffset(batch.lastOffset());
            try {
              await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }] }] });
            } finally {
              markCommitted?.();
            }
          } else {
            queue.push(msgs);
            if (batch.messages.length) resolveOffset(batch.lastOffset());
            await queue.belowHighWater();
            await heartbeat();
          }
        },
      });
      if (!committed) {
        // With no committed offsets kafkajs starts at the beginning; seek anyway, in case the group committed once.
        const a = await connectedAdmin();
        const partitions = (await whileLeaderSettles(() => a.fetchTopicOffsets(topic))).map((p) => p.partition);
        for (const partition of partitions) consumer.seek({ topic, partition, offset: '0' });
      }
      let closed = false;
      const reader: TopicReader = {
        [Symbol.asyncIterator]() {
          return {
            next: () => {
              ack();
              return queue.next();
            },
            return: async () => {
              await reader.close();
              return { value: undefined, done: true };
            },
          };
        },
        async commit() {
          if (!settle) return;
          ack();
          await committedBatch;
        },
        async close() {
          if (closed) return;
          closed = true;
          open.delete(reader);
          // What was yielded but not committed stays uncommitted (as in the platformatic adapter).
          settle?.(false);
          settle = undefined;
          queue.end();
          await consumer.disconnect();
        },
      };
      open.add(reader);
      return reader;
    },
    async close() {
      for (const h of [...open]) await h.close();
      if (adminConnected) await admin.disconnect();
    },
  };
}
