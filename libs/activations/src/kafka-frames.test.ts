import { ActivationError } from './errors';
import { RecordAssembler, actsTopic, decodeAssembled, recordMessages, type ConsumedFrame } from './kafka-frames';
import { encodeRecord, type ActivationRecordInput } from './record';

function sample(id: string, n = 40, d = 16): ActivationRecordInput {
  const L = 2;
  return { exampleId: id, validTokens: n, hiddenSize: d, layers: [0, 3], dtype: 'float32', states: Float32Array.from({ length: L * n * d }, (_, i) => Math.cos(i * 0.1) + i / 1000), logits: { kind: 'full', values: Float32Array.from([0.5, -0.5]) } };
}

const TOPIC = actsTopic('k1');
let offset = 0n;
const frames = (id: string, bytes: Uint8Array, chunk: number): ConsumedFrame[] =>
  recordMessages(id, bytes, 'k1', chunk).map((m) => ({ topic: TOPIC, partition: 0, offset: offset++, key: m.key, value: Buffer.from(m.value), headers: m.headers }));

describe('recordMessages / RecordAssembler', () => {
  beforeEach(() => {
    offset = 0n;
  });

  it('keeps a small record in one message with schema and cache headers', () => {
    const bytes = encodeRecord(sample('a', 2, 4));
    const msgs = recordMessages('a', bytes, 'k1', 1 << 20);
    expect(msgs).toHaveLength(1);
    expect(msgs[0].headers).toEqual({ 'strata-schema': '1', 'strata-cache': 'k1' });
    expect(Buffer.compare(msgs[0].value, Buffer.from(bytes))).toBe(0);
  });

  it('splits a record over the chunk limit and reassembles it bit-exactly', () => {
    const bytes = encodeRecord(sample('big'));
    const chunk = 1000;
    const msgs = recordMessages('big', bytes, 'k1', chunk);
    expect(msgs).toHaveLength(Math.ceil(bytes.length / chunk));
    expect(msgs.map((m) => m.headers['strata-chunk'])).toEqual(msgs.map((_, i) => `${i}/${msgs.length}`));
    expect(Math.max(...msgs.map((m) => m.value.length))).toBe(chunk);
    const a = new RecordAssembler('k1');
    const out = frames('big', bytes, chunk).map((f) => a.push(f));
    expect(out.slice(0, -1).every((r) => r === undefined)).toBe(true);
    const whole = out[out.length - 1]!;
    expect(whole.offset).toBe(0n);
    expect(Buffer.compare(Buffer.from(whole.bytes), Buffer.from(bytes))).toBe(0);
    expect(decodeAssembled(whole, TOPIC).states).toEqual(Float32Array.from(sample('big').states));
  });

  it('drops a sequence torn by a restarted writer and serves the rewrite', () => {
    const bytes = encodeRecord(sample('x'));
    const a = new RecordAssembler('k1');
    const torn = frames('x', bytes, 1000).slice(0, 3);
    for (const f of torn) expect(a.push(f)).toBeUndefined();
    const rewrite = frames('x', bytes, 1000);
    const again = rewrite.map((f) => a.push(f)).filter(Boolean);
    expect(again).toHaveLength(1);
    expect(again[0]!.offset).toBe(rewrite[0].offset);
    expect(a.tornSequences).toBe(1);
  });

  it('ignores a continuation whose start it never saw', () => {
    const a = new RecordAssembler('k1');
    const f = frames('y', encodeRecord(sample('y')), 1000);
    expect(f.slice(2).map((x) => a.push(x)).filter(Boolean)).toHaveLength(0);
    expect(a.tornSequences).toBeGreaterThan(0);
  });

  it('names the example, topic, partition and offset of a record with a bad checksum', () => {
    const bytes = encodeRecord(sample('bad', 3, 4));
    bytes[60] ^= 0x40;
    const a = new RecordAssembler('k1');
    offset = 41n;
    const [f] = frames('bad', bytes, 1 << 20);
    let err: unknown;
    try {
      a.push(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActivationError);
    expect((err as ActivationError).code).toBe('CHECKSUM');
    expect((err as Error).message).toMatch(/^strata\.acts\.k1\/0@41: example 'bad': /);
  });

  it('refuses a record of another cache and a key that disagrees with the record', () => {
    const bytes = encodeRecord(sample('z', 2, 4));
    const [f] = frames('z', bytes, 1 << 20);
    expect(() => new RecordAssembler('other').push(f)).toThrow(/example 'z' belongs to cache k1, not other/);
    expect(() => new RecordAssembler('k1').push({ ...f, key: 'w' })).toThrow(/message key 'w' but the record holds example 'z'/);
  });
});
