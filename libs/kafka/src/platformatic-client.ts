// KafkaClient over @platformatic/kafka 1.22 (the newest release whose dependency tree supports Node 20; 1.27 and
// later pull in @platformatic/dynamic-buffer, which needs Node 22.19). The package is ESM; Node 20.19+ loads it
// through require().
import { Admin, Consumer, Producer as PProducer, type Message } from '@platformatic/kafka';
import { BatchQueue } from './queue';
import { brokerList, headerRecord, splitByBytes, type IncomingMessage, type KafkaClient, type KafkaClientOptions, type Producer, type ReadOptions, type TopicReader, type TopicSpec } from './client';

const RETRIES = 60;
const RETRY_DELAY_MS = 500;

export function platformaticClient(options: KafkaClientOptions): KafkaClient {
  const brokers = brokerList(options.brokers);
  const clientId = options.clientId ?? 'strata';
  const base = { clientId, bootstrapBrokers: brokers, retries: RETRIES, retryDelay: RETRY_DELAY_MS };
  let admin: Admin | undefined;
  const getAdmin = () => (admin ??= new Admin(base));
  let offsetsConsumer: Consumer | undefined;
  const open = new Set<{ close(): Promise<void> }>();

  return {
    name: 'platformatic',
    brokers,
    async ensureTopics(topics: TopicSpec[]) {
      const existing = new Set(await getAdmin().listTopics());
      for (const t of topics.filter((x) => !existing.has(x.name))) {
        try {
          await getAdmin().createTopics({ topics: [t.name], partitions: t.partitions ?? 1, replicas: -1, configs: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) });
        } catch (e) {
          if (!/already exists/i.test(`${(e as Error).message} ${JSON.stringify((e as { errors?: unknown }).errors ?? '')}`)) throw e;
        }
      }
      // Creation returns before every broker knows the topic; wait until metadata lists it.
      for (let i = 0; i < 100; i++) {
        const now = new Set(await getAdmin().listTopics());
        if (topics.every((t) => now.has(t.name))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async deleteTopics(names: string[]) {
      if (names.length) await getAdmin().deleteTopics({ topics: names });
    },
    async listTopics() {
      return getAdmin().listTopics();
    },
    async endOffsets(topic: string) {
      offsetsConsumer ??= new Consumer({ ...base, groupId: `${clientId}-offsets` });
      const offsets = await offsetsConsumer.listOffsets({ topics: [topic] });
      return new Map((offsets.get(topic) ?? []).map((o, partition) => [partition, o]));
    },
    async producer() {
      const p = new PProducer({ ...base, idempotent: true, acks: -1, autocreateTopics: false });
      const handle: Producer = {
        async send(topic, messages) {
          for (const group of splitByBytes(messages))
            await p.send({
            messages: group.map((m) => ({
              topic,
              key: Buffer.from(m.key, 'utf8'),
              value: m.value,
              headers: m.headers ? new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) : undefined,
            })),
          });
        },
        async close() {
          open.delete(handle);
          await p.close();
        },
      };
      open.add(handle);
      return handle;
    },
    async read(topic: string, o: ReadOptions) {
      const consumer = new Consumer({ ...base, groupId: o.groupId, autocommit: false, sessionTimeout: 30000, heartbeatInterval: 3000, maxBytes: 50 * 1024 * 1024, maxWaitTime: 500 });
      // maxWaitTime: a fetch waits this long for new data, and close() waits for the fetch in flight (default 5 s).
      const stream = await consumer.consume({ topics: [topic], mode: o.from === 'earliest' ? 'earliest' : 'committed', fallbackMode: 'earliest', autocommit: false });
      const queue = new BatchQueue<IncomingMessage>(4096);
      const lastByPartition = new Map<number, Message>();
      const pending = new Map<number, Message>();
      stream.on('data', (m: Message) => {
        pending.set(m.partition, m);
        queue.push([
          { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value: m.value ?? Buffer.alloc(0), headers: headerRecord(m.headers), timestamp: Number(m.timestamp) },
        ]);
        if (queue.size >= 4096) {
          stream.pause();
          void queue.belowHighWater().then(() => stream.resume());
        }
      });
      stream.on('error', (e: Error) => queue.fail(new Error(`Kafka consumer of ${topic} (group ${o.groupId}) stopped: ${e.message}`)));
      let closed = false;
      const reader: TopicReader = {
        [Symbol.asyncIterator]() {
          return {
            next: () => {
              for (const [p, m] of pending) lastByPartition.set(p, m);
              pending.clear();
              return queue.next();
            },
            return: async () => {
              await reader.close();
              return { value: undefined, done: true };
            },
          };
        },
        async commit() {
          for (const [p, m] of pending) lastByPartition.set(p, m);
          pending.clear();
          for (const m of lastByPartition.values()) await m.commit();
          lastByPartition.clear();
        },
        async close() {
          if (closed) return;
          closed = true;
          open.delete(reader);
          queue.end();
          await stream.close();
          await consumer.close(true);
        },
      };
      open.add(reader);
      return reader;
    },
    async close() {
      for (const h of [...open]) await h.close();
      await offsetsConsumer?.close(true);
      await admin?.close();
    },
  };
}
