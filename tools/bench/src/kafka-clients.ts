// Kafka client comparison (issue: "choose the client by measurement"): kafkajs against @platformatic/kafka on the
// same broker, with the same activation records, through the same calling code (libs/kafka's adapters). Records
// come from a real teacher forward (random weights: the bytes are what matters, not their meaning), encoded and
// chunked exactly as the teacher-inference service does.
import { performance } from 'node:perf_hooks';
import { KafkaCacheWriter, KafkaEpoch, encodeRecord, recordMessages, recordsFromBatch, type RecordMessage } from '@strata/activations';
import { createKafkaClient, uniqueName, type KafkaClientName } from '@strata/kafka';
import { BERT_DEFAULTS, bertParamSpecs, initParams, type BertConfig } from '@strata/nn';
import { createSession, ort } from '@strata/onnx';
import { Rng, bertInferenceModel } from '@strata/train';

export interface RecordSet {
  name: string;
  description: string;
  records: number;
  bytes: number;
  /** Messages per record after chunking (1 when no record exceeds the chunk limit). */
  messagesPerRecord: number;
  /** [record][messages] */
  messages: RecordMessage[][];
  /** The encoded records themselves. */
  encoded: Uint8Array[];
}

export interface ClientFigures {
  client: KafkaClientName;
  set: string;
  produce_mb_s: number;
  produce_records_s: number;
  consume_mb_s: number;
  consume_records_s: number;
  /** From opening the reader (joining its group) to the first message. */
  first_message_ms: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  /** The Kafka store on top of the client: KafkaCacheWriter (encode, chunk, send in batches of 32 records). */
  store_write_mb_s: number;
  store_write_records_s: number;
  /** One student epoch: KafkaEpoch.get in shuffled batches of 32, reassembled, CRC-checked and decoded. */
  store_epoch_mb_s: number;
  store_epoch_records_s: number;
}

export interface KafkaClientsReport {
  brokers: string;
  /** Each figure is the median over this many rounds. */
  rounds: number;
  sets: Omit<RecordSet, 'messages' | 'encoded'>[];
  figures: ClientFigures[];
  /** platformatic / kafkajs for each figure and set (> 1: platformatic higher). */
  ratios: Record<string, Record<string, number>>;
  /** The client with the higher produce and consume throughput (geometric mean over the record sets). */
  throughputLeader: KafkaClientName;
}

/** Activation records of a BERT teacher: `count` examples, lengths spread over 25-100% of seqLen. */
async function teacherRecords(cfg: BertConfig, layers: number[], count: number, seqLen: number, seed: number): Promise<Uint8Array[]> {
  const rng = new Rng(seed);
  const values = initParams(bertParamSpecs(cfg), () => rng.next());
  const batch = 16;
  const session = await createSession(bertInferenceModel(cfg, batch, seqLen, { kind: 'initializers', values }));
  const out: Uint8Array[] = [];
  try {
    while (out.length < count) {
      const n = batch * seqLen;
      const ids = new BigInt64Array(n);
      const mask = new BigInt64Array(n);
      for (let r = 0; r < batch; r++) {
        const len = Math.max(2, Math.round(seqLen * (0.25 + 0.75 * rng.next())));
        for (let t = 0; t < seqLen; t++) {
          ids[r * seqLen + t] = t < len ? BigInt(1 + rng.nextInt(cfg.vocabSize - 1)) : 0n;
          mask[r * seqLen + t] = t < len ? 1n : 0n;
        }
      }
      const res = await session.run({
        input_ids: new ort.Tensor('int64', ids, [batch, seqLen]),
        attention_mask: new ort.Tensor('int64', mask, [batch, seqLen]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [batch, seqLen]),
      });
      const recs = recordsFromBatch({
        exampleIds: Array.from({ length: batch }, (_, r) => `ex-${out.length + r}`),
        layers,
        hiddenStates: layers.map((l) => res[`hidden_states.${l}`].data as Float32Array),
        attentionMask: mask,
        seqLen,
        hiddenSize: cfg.hidden,
        dtype: 'float16',
        logits: { kind: 'full', classes: cfg.numLabels, values: res.logits.data as Float32Array },
      });
      for (const r of recs) if (out.length < count) out.push(encodeRecord(r));
    }
  } finally {
    await session.release();
  }
  return out;
}

export async function recordSets(scale = 1): Promise<RecordSet[]> {
  const small: BertConfig = { ...BERT_DEFAULTS, vocabSize: 8000, numLabels: 2, layers: 12, hidden: 128, heads: 4, intermediate: 512, maxPositions: 64 };
  const base: BertConfig = { ...BERT_DEFAULTS, vocabSize: 8000, numLabels: 2, layers: 12, hidden: 768, heads: 12, intermediate: 3072, maxPositions: 128 };
  const sets: { name: string; description: string; encoded: Uint8Array[] }[] = [
    {
      name: 'sst2-like',
      description: '12-layer hidden-128 teacher, 5 cached states (0,3,6,9,12), float16, up to 64 tokens (the SST-2 reproduction\'s records)',
      encoded: await teacherRecords(small, [0, 3, 6, 9, 12], Math.max(16, Math.round(4000 * scale)), 64, 1),
    },
    {
      name: 'bert-base-like',
      description: '12-layer hidden-768 teacher, all 13 states, float16, up to 128 tokens: records of 0.6-2.6 MB, split into 900 KiB chunks',
      encoded: await teacherRecords(base, Array.from({ length: 13 }, (_, i) => i), Math.max(4, Math.round(64 * scale)), 128, 2),
    },
  ];
  return sets.map((s) => {
    const messages = s.encoded.map((b, i) => recordMessages(`ex-${i}`, b, 'bench'));
    return { name: s.name, description: s.description, records: s.encoded.length, bytes: s.encoded.reduce((a, b) => a + b.byteLength, 0), messagesPerRecord: messages.reduce((a, m) => a + m.length, 0) / messages.length, messages, encoded: s.encoded };
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function measure(clientName: KafkaClientName, brokers: string, set: RecordSet, latencySamples: number): Promise<ClientFigures> {
  const client = createKafkaClient({ brokers, client: clientName, clientId: `bench-${clientName}` });
  try {
    // Throughput: the teacher's pattern, one awaited send per batch of 32 records.
    const topic = uniqueName(`strata.bench.${clientName}.${set.name}`);
    await client.ensureTopics([{ name: topic }]);
    const producer = await client.producer();
    await producer.send(topic, set.messages[0]); // connection and producer id set up outside the timing
    const t0 = performance.now();
    for (let i = 1; i < set.messages.length; i += 32) await producer.send(topic, set.messages.slice(i, i + 32).flat());
    const produceS = (performance.now() - t0) / 1000;
    const total = set.messages.reduce((a, m) => a + m.length, 0);
    // A student's epoch: open a reader in a fresh group, replay to the last message. Joining the group is part of
    // what every epoch pays, so it is inside the timing (and reported on its own); leaving the group is not.
    const t1 = performance.now();
    const reader = await client.read(topic, { groupId: uniqueName('bench'), from: 'earliest' });
    let got = 0;
    let tFirst = 0;
    let t2 = 0;
    for await (const batch of reader) {
      if (!tFirst) tFirst = performance.now();
      got += batch.length;
      if (got >= total) {
        t2 = performance.now();
        break;
      }
    }
    const consumeS = (t2 - t1) / 1000;
    await reader.close();

    // Latency: one record per send at a steady pace, a reader tailing the topic; send start to receipt.
    const ltopic = uniqueName(`strata.bench.${clientName}.latency`);
    await client.ensureTopics([{ name: ltopic }]);
    const tail = await client.read(ltopic, { groupId: uniqueName('tail'), from: 'earliest' });
    await producer.send(ltopic, [{ key: 'warm', value: Buffer.alloc(1) }]);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const receiving = (async () => {
      for await (const batch of tail) {
        const now = performance.now();
        for (const m of batch) {
          const s = m.key !== null ? sentAt.get(m.key) : undefined;
          if (s !== undefined) latencies.push(now - s);
        }
        if (latencies.length >= latencySamples) break;
      }
    })();
    // Let the tail reader join its group before the clock starts.
    await new Promise((r) => setTimeout(r, 3000));
    const one = set.messages.find((m) => m.length === 1) ?? set.messages[0];
    for (let i = 0; i < latencySamples; i++) {
      const key = `lat-${i}`;
      sentAt.set(key, performance.now());
      await producer.send(ltopic, one.map((m) => ({ ...m, key })));
      await new Promise((r) => setTimeout(r, 5));
    }
    await receiving;
    await tail.close();
    await producer.close();

    // The store's own path: what teacher-inference writes and what a student's epoch reads.
    const key = uniqueName('bench');
    const writer = await KafkaCacheWriter.open(client, key);
    const t3 = performance.now();
    for (let i = 0; i < set.encoded.length; i += 32) await writer.appendBatch(set.encoded.slice(i, i + 32));
    const storeWriteS = (performance.now() - t3) / 1000;
    await writer.complete();
    await writer.close();
    const ids = set.encoded.map((_, i) => `ex-${i}`);
    const order = [...ids].sort((a, b) => ((a.length * 7919 + Number(a.slice(3)) * 104729) % 1009) - ((b.length * 7919 + Number(b.slice(3)) * 104729) % 1009));
    const t4 = performance.now();
    const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName('bench-epoch'), expectedIds: ids });
    for (let i = 0; i < order.length; i += 32) await epoch.get(order.slice(i, i + 32));
    const storeEpochS = (performance.now() - t4) / 1000;
    await epoch.close();
    await client.deleteTopics([topic, ltopic, `strata.acts.${key}`]);
    const mb = set.bytes / 1e6;
    return {
      client: clientName,
      set: set.name,
      produce_mb_s: mb / produceS,
      produce_records_s: set.records / produceS,
      consume_mb_s: mb / consumeS,
      consume_records_s: set.records / consumeS,
      first_message_ms: tFirst - t1,
      latency_p50_ms: quantile(latencies, 0.5),
      latency_p99_ms: quantile(latencies, 0.99),
      store_write_mb_s: mb / storeWriteS,
      store_write_records_s: set.records / storeWriteS,
      store_epoch_mb_s: mb / storeEpochS,
      store_epoch_records_s: set.records / storeEpochS,
    };
  } finally {
    await client.close();
  }
}

function medianFigures(runs: ClientFigures[]): ClientFigures {
  const out = { ...runs[0] };
  for (const k of Object.keys(out) as (keyof ClientFigures)[]) {
    if (typeof out[k] !== 'number') continue;
    const xs = runs.map((r) => r[k] as number).sort((a, b) => a - b);
    (out as unknown as Record<string, number>)[k] = xs[Math.floor(xs.length / 2)];
  }
  return out;
}

export async function benchKafkaClients(options: { brokers: string; scale?: number; latencySamples?: number; rounds?: number; log?: (line: string) => void }): Promise<KafkaClientsReport> {
  const log = options.log ?? (() => undefined);
  log('generating activation records from teacher forwards ...');
  const sets = await recordSets(options.scale ?? 1);
  const figures: ClientFigures[] = [];
  const rounds = options.rounds ?? 3;
  for (const set of sets) {
    log(`${set.name}: ${set.records} records, ${(set.bytes / 1e6).toFixed(1)} MB, ${set.messagesPerRecord.toFixed(2)} messages per record, ${rounds} rounds`);
    // Rounds alternate the clients' order, and each figure is the median over rounds: on a shared 2-core machine a
    // single pass moves by up to 2x.
    const byClient: Record<KafkaClientName, ClientFigures[]> = { kafkajs: [], platformatic: [] };
    for (let round = 0; round < rounds; round++) {
      const order: KafkaClientName[] = round % 2 ? ['platformatic', 'kafkajs'] : ['kafkajs', 'platformatic'];
      for (const name of order) byClient[name].push(await measure(name, options.brokers, set, options.latencySamples ?? 300));
    }
    for (const name of ['kafkajs', 'platformatic'] as const) {
      const f = medianFigures(byClient[name]);
      log(`  ${name.padEnd(12)} store write ${f.store_write_mb_s.toFixed(1)} MB/s, epoch ${f.store_epoch_mb_s.toFixed(1)} MB/s; raw produce ${f.produce_mb_s.toFixed(1)} MB/s, consume ${f.consume_mb_s.toFixed(1)} MB/s (first message after ${f.first_message_ms.toFixed(0)} ms), latency p50 ${f.latency_p50_ms.toFixed(2)} ms p99 ${f.latency_p99_ms.toFixed(2)} ms`);
      figures.push(f);
    }
  }
  const keys = ['produce_mb_s', 'consume_mb_s', 'latency_p50_ms', 'latency_p99_ms', 'store_write_mb_s', 'store_epoch_mb_s'] as const;
  const ratios: KafkaClientsReport['ratios'] = {};
  for (const set of sets) {
    const a = figures.find((f) => f.set === set.name && f.client === 'kafkajs')!;
    const b = figures.find((f) => f.set === set.name && f.client === 'platformatic')!;
    ratios[set.name] = Object.fromEntries(keys.map((k) => [k, b[k] / a[k]]));
  }
  const score = (c: KafkaClientName) =>
    sets.reduce((acc, s) => {
      const f = figures.find((x) => x.set === s.name && x.client === c)!;
      return acc + Math.log(f.produce_mb_s) + Math.log(f.consume_mb_s);
    }, 0);
  const throughputLeader: KafkaClientName = score('platformatic') > score('kafkajs') ? 'platformatic' : 'kafkajs';
  return { brokers: options.brokers, rounds, sets: sets.map(({ messages, encoded, ...rest }) => (void messages, void encoded, rest)), figures, ratios, throughputLeader };
}
