import { createKafkaClient, describeKafka, uniqueName, type KafkaClient } from '@strata/kafka';
import { ActivationError } from './errors';
import { actsTopic, recordMessages } from './kafka-frames';
import { KafkaCacheWriter, KafkaEpoch, readCacheManifest } from './kafka-store';
import { encodeRecord, type ActivationRecordInput } from './record';

function sample(id: string, n: number): ActivationRecordInput {
  const d = 8;
  return { exampleId: id, validTokens: n, hiddenSize: d, layers: [0, 2], dtype: 'float16', states: Float32Array.from({ length: 2 * n * d }, (_, i) => ((i * 7 + id.length) % 13) / 8), logits: { kind: 'full', values: Float32Array.from([n, -n]) } };
}

const ids = Array.from({ length: 30 }, (_, i) => `ex-${i}`);
const records = ids.map((id, i) => sample(id, 3 + (i % 5) * 20));
// Small chunks, so most records span several messages.
const CHUNK = 700;

describeKafka('Kafka activation store', (brokers) => {
  let client: KafkaClient;
  beforeAll(() => {
    client = createKafkaClient({ brokers, clientId: 'acts-test' });
  });
  afterAll(async () => client.close());

  it('a reader waiting for a cache nobody produces gives up after its idle timeout, naming cache, topic and group, or at once when stopped', async () => {
    const key = uniqueName('idle');
    await KafkaCacheWriter.open(client, key).then((w) => w.close()); // the topic exists, no record ever comes
    const groupId = uniqueName('waiting');
    const epoch = await KafkaEpoch.open(client, key, { groupId, pollMs: 200, idleTimeoutMs: 1500 });
    const t0 = Date.now();
    await expect(epoch.get(['ex-0'])).rejects.toThrow(`cache ${key}: no record arrived for 1.5 s on topic ${actsTopic(key)} (consumer group ${groupId}) and the cache is not complete`);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await epoch.close();
    let reason: string | undefined;
    const stoppable = await KafkaEpoch.open(client, key, { groupId: uniqueName('stoppable'), pollMs: 200, stopped: () => reason });
    setTimeout(() => (reason = 'SIGTERM'), 300);
    await expect(stoppable.get(['ex-0'])).rejects.toThrow(`cache ${key}: stopped by SIGTERM while waiting for records`);
    await stoppable.close();
  });

  it('writes a chunked cache, publishes its manifest, and an epoch replays every record once in any order', async () => {
    const key = uniqueName('c1');
    const w = await KafkaCacheWriter.open(client, key, { chunkBytes: CHUNK });
    expect(w.count).toBe(0);
    await w.appendBatch(records.slice(0, 16));
    await w.appendBatch(records.slice(16));
    await expect(w.appendBatch([records[3]])).rejects.toThrow(/example 'ex-3' is already in cache/);
    const manifest = await w.complete({ meta: { task: 'test' } });
    await w.close();
    expect(manifest).toMatchObject({ cacheKey: key, topic: actsTopic(key), count: 30, layers: [0, 2], dtype: 'float16', hiddenSize: 8 });
    expect(Number(manifest.endOffsets['0'])).toBeGreaterThan(30);
    expect(await readCacheManifest(client, key)).toEqual(manifest);

    const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName('student') });
    const order = [...ids].reverse();
    const got = [...(await epoch.get(order.slice(0, 7))), ...(await epoch.get(order.slice(7)))];
    expect(got.map((r) => r.exampleId)).toEqual(order);
    expect(got[0].validTokens).toBe(records[29].validTokens);
    expect(Array.from(got[29].logits!.kind === 'full' ? got[29].logits!.values : [])).toEqual([3, -3]);
    await expect(epoch.get(['ex-0'])).rejects.toThrow(/example 'ex-0' was already handed out in this epoch/);
    expect(epoch.stats).toMatchObject({ received: 30, delivered: 30, duplicatesSkipped: 0 });
    await epoch.close();

    const missing = await KafkaEpoch.open(client, key, { groupId: uniqueName('student'), pollMs: 200 });
    await expect(missing.get(['ex-1', 'no-such-example'])).rejects.toThrow(/example 'no-such-example' is missing from teacher cache .* complete with 30 records/);
    await missing.close();
  });

  it('lets a student start before the teacher has finished', async () => {
    const key = uniqueName('c2');
    const w = await KafkaCacheWriter.open(client, key, { chunkBytes: CHUNK });
    const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName('early'), expectedIds: ids });
    const wanted = epoch.get(['ex-29', 'ex-0']);
    await w.appendBatch(records.slice(0, 10));
    await new Promise((r) => setTimeout(r, 300));
    await w.appendBatch(records.slice(10));
    expect((await wanted).map((r) => r.exampleId)).toEqual(['ex-29', 'ex-0']);
    await w.complete();
    await w.close();
    await epoch.close();
  });

  it('a writer reopened after a crash mid-record resumes with exactly one whole record per example', async () => {
    const key = uniqueName('c3');
    const w1 = await KafkaCacheWriter.open(client, key, { chunkBytes: CHUNK });
    await w1.appendBatch(records.slice(0, 12));
    await w1.close();
    // The crash: half of ex-12's chunks reached the topic, the rest never did.
    const torn = recordMessages('ex-12', encodeRecord(records[12]), key, CHUNK);
    expect(torn.length).toBeGreaterThan(2);
    const p = await client.producer();
    await p.send(actsTopic(key), torn.slice(0, 2));
    await p.close();

    const w2 = await KafkaCacheWriter.open(client, key, { chunkBytes: CHUNK });
    expect(w2.resumedCount).toBe(12);
    expect(w2.tornSequences).toBe(1);
    expect(w2.has('ex-11')).toBe(true);
    expect(w2.has('ex-12')).toBe(false);
    await w2.appendBatch(records.filter((r) => !w2.has(r.exampleId)));
    const m = await w2.complete();
    await w2.close();
    expect(m.count).toBe(30);

    const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName('after-crash') });
    const got = await epoch.get(ids);
    expect(got.map((r) => r.exampleId)).toEqual(ids);
    expect(epoch.stats.tornSequences).toBe(1);
    await epoch.close();
  });

  it('stops with an error naming the example id and offset of a corrupted record', async () => {
    const key = uniqueName('c4');
    const w = await KafkaCacheWriter.open(client, key, { chunkBytes: 1 << 20 });
    await w.appendBatch(records.slice(0, 5));
    const bad = encodeRecord(records[5]);
    bad[100] ^= 0x01;
    const p = await client.producer();
    await p.send(actsTopic(key), recordMessages('ex-5', bad, key, 1 << 20));
    await p.close();
    await w.close();
    const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName('corrupt') });
    const err = await epoch.get(['ex-5']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActivationError);
    expect((err as ActivationError).code).toBe('CHECKSUM');
    expect((err as Error).message).toContain(`${actsTopic(key)}/0@5: example 'ex-5': `);
    await epoch.close();
  });
});
