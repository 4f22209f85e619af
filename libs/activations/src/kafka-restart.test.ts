// The broker goes away and comes back while a teacher is producing and three students are replaying the cache:
// every student's epoch must still hold each example exactly once.
import { restartBroker } from '@strata/kafka-broker';
import { KAFKA_STATE_DIR_ENV, REQUIRE_KAFKA_ENV, createKafkaClient, describeKafka, uniqueName, type KafkaClientName } from '@strata/kafka';
import { KafkaCacheWriter, KafkaEpoch } from './kafka-store';
import type { ActivationRecordInput } from './record';

jest.setTimeout(240_000);

const N = 400;
const ids = Array.from({ length: N }, (_, i) => `ex-${i}`);
function sample(id: string, i: number): ActivationRecordInput {
  const n = 4 + (i % 17);
  const d = 16;
  return { exampleId: id, validTokens: n, hiddenSize: d, layers: [0, 4], dtype: 'float16', states: Float32Array.from({ length: 2 * n * d }, (_, k) => ((k + i) % 11) / 4), logits: { kind: 'full', values: Float32Array.from([i, -i]) } };
}

/** A deterministic shuffle, as a student's batches are. */
function shuffled(seed: number): string[] {
  const a = [...ids];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describeKafka('Kafka activation store across a broker restart', (brokers) => {
  const stateDir = process.env[KAFKA_STATE_DIR_ENV];
  const clients: KafkaClientName[] = ['kafkajs', 'platformatic'];
  if (!stateDir) {
    const why = `${KAFKA_STATE_DIR_ENV} is not set: the broker was not started by tools/kafka, so this test cannot restart it`;
    if (process.env[REQUIRE_KAFKA_ENV] === '1') it('needs a broker it can restart', () => { throw new Error(why); });
    else {
      process.stderr.write(`skipping broker-restart tests: ${why}\n`);
      it.skip('broker restart', () => undefined);
    }
    return;
  }
  for (const name of clients) {
    it(`${name}: no record lost or duplicated in any student's epoch`, async () => {
      const client = createKafkaClient({ brokers, client: name, clientId: `restart-${name}` });
      try {
        const key = uniqueName(`restart-${name}`);
        const writer = await KafkaCacheWriter.open(client, key, { chunkBytes: 600 });
        const records = ids.map(sample);
        await writer.appendBatch(records.slice(0, 100));
        const delivered = new Map<number, string[]>();
        const students = [1, 2, 3].map(async (seed) => {
          const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName(`student-${seed}`), expectedIds: ids, pollMs: 500 });
          const order = shuffled(seed);
          const got: string[] = [];
          delivered.set(seed, got);
          for (let i = 0; i < order.length; i += 32) {
            for (const r of await epoch.get(order.slice(i, i + 32))) got.push(r.exampleId);
            await new Promise((r) => setTimeout(r, 20));
          }
          const stats = { ...epoch.stats };
          await epoch.close();
          return { got, stats };
        });
        const producing = (async () => {
          for (let i = 100; i < N; i += 25) {
            await writer.appendBatch(records.slice(i, i + 25));
            await new Promise((r) => setTimeout(r, 250));
          }
          await writer.complete();
          await writer.close();
        })();
        await new Promise((r) => setTimeout(r, 1000));
        // Mid-stream: the teacher has written part of the cache and no student has its whole epoch.
        const writtenAtRestart = writer.count;
        const deliveredAtRestart = [...delivered.values()].map((g) => g.length);
        expect(writtenAtRestart).toBeLessThan(N);
        expect(deliveredAtRestart.every((n) => n < N)).toBe(true);
        await restartBroker({ dir: stateDir, log: () => undefined });
        await producing;
        const results = await Promise.all(students);
        for (const { got, stats } of results) {
          expect(got).toHaveLength(N);
          expect(new Set(got).size).toBe(N);
          expect([...got].sort()).toEqual([...ids].sort());
          expect(stats.delivered).toBe(N);
        }
        process.stderr.write(`${name}: broker restarted with ${writtenAtRestart}/${N} records written and ${deliveredAtRestart.join(', ')} delivered; duplicates skipped per student afterwards: ${results.map((r) => r.stats.duplicatesSkipped).join(', ')}\n`);
      } finally {
        await client.close();
      }
    });
  }
});
