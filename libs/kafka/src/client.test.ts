import { createKafkaClient, type KafkaClient, type KafkaClientName } from './index';
import { describeKafka, uniqueName } from './testing';

const CLIENTS: KafkaClientName[] = ['kafkajs', 'platformatic'];

async function readAll(client: KafkaClient, topic: string, groupId: string, count: number, from: 'earliest' | 'committed' = 'earliest') {
  const reader = await client.read(topic, { groupId, from });
  const got: { key: string | null; value: string; headers: Record<string, string>; offset: bigint }[] = [];
  try {
    for await (const batch of reader) {
      for (const m of batch) got.push({ key: m.key, value: m.value.toString(), headers: m.headers, offset: m.offset });
      if (got.length >= count) {
        if (from === 'committed') await reader.commit();
        break;
      }
    }
  } finally {
    await reader.close();
  }
  return got;
}

describeKafka('Kafka clients against the broker', (brokers) => {
  for (const name of CLIENTS) {
    describe(name, () => {
      let client: KafkaClient;
      beforeAll(() => {
        client = createKafkaClient({ brokers, client: name, clientId: `test-${name}` });
      });
      afterAll(async () => client.close());

      it('creates a topic idempotently with its config, produces in order and replays from offset 0 each time', async () => {
        const topic = uniqueName(`strata.test.${name}`);
        await client.ensureTopics([{ name: topic, config: { 'retention.ms': '-1' } }]);
        await client.ensureTopics([{ name: topic }]);
        expect(await client.listTopics()).toContain(topic);
        const producer = await client.producer();
        await producer.send(topic, Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`v${i}`), headers: { 'strata-n': String(i) } })));
        await producer.close();
        expect((await client.endOffsets(topic)).get(0)).toBe(50n);
        for (const pass of [1, 2]) {
          const got = await readAll(client, topic, uniqueName(`g${pass}`), 50);
          expect(got.map((m) => m.value)).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
          expect(got[7]).toEqual({ key: 'k7', value: 'v7', headers: { 'strata-n': '7' }, offset: 7n });
        }
        await client.deleteTopics([topic]);
      });

      it('continues after the committed offset in committed mode', async () => {
        const topic = uniqueName(`strata.test.${name}.c`);
        await client.ensureTopics([{ name: topic }]);
        const producer = await client.producer();
        await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`a${i}`) })));
        const group = uniqueName('committed');
        const first = await readAll(client, topic, group, 10, 'committed');
        expect(first.map((m) => m.value)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
        await producer.send(topic, [{ key: 'x', value: Buffer.from('after') }]);
        await producer.close();
        const second = await readAll(client, topic, group, 1, 'committed');
        expect(second.map((m) => [m.value, m.offset])).toEqual([['after', 10n]]);
        await client.deleteTopics([topic]);
      });

      it('leaves what a reader closed without committing to the group\'s next reader (a trainer stopped mid-cell)', async () => {
        const topic = uniqueName(`strata.test.${name}.u`);
        await client.ensureTopics([{ name: topic }]);
        const producer = await client.producer();
        await producer.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`r${i}`) })));
        await producer.close();
        const group = uniqueName('uncommitted');
        const reader = await client.read(topic, { groupId: group, from: 'committed' });
        const seen: string[] = [];
        for await (const batch of reader) {
          seen.push(...batch.map((m) => m.value.toString()));
          if (seen.length >= 5) break; // no commit(): breaking closes the reader
        }
        expect(seen).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
        const again = await readAll(client, topic, group, 5, 'committed');
        expect(again.map((m) => [m.value, m.offset])).toEqual(Array.from({ length: 5 }, (_, i) => [`r${i}`, BigInt(i)]));
        await client.deleteTopics([topic]);
      });
    });
  }
});
