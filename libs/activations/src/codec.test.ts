import { crc32c } from './crc32c';
import { ActivationError } from './errors';
import { decodeRecord, encodeRecord, readRecordHeader, RECORD_VERSION, type ActivationDtype, type ActivationRecordInput } from './record';

function sample(dtype: ActivationDtype, logits: ActivationRecordInput['logits'], id = 'ex-1'): ActivationRecordInput {
  const L = 3;
  const n = 5;
  const d = 4;
  const states = Float32Array.from({ length: L * n * d }, (_, i) => Math.sin(i * 0.37) * (1 + i / 7));
  return { exampleId: id, validTokens: n, hiddenSize: d, layers: [0, 4, 12], dtype, states, logits };
}

const full = { kind: 'full' as const, values: Float32Array.from([0.25, -1.5, 3.125]) };
const topk = {
  kind: 'topk' as const,
  k: 2,
  positions: 5,
  indices: Uint32Array.from([7, 1, 30000, 2, 5, 6, 0, 9, 4_000_000, 3]),
  logProbs: Float32Array.from([-0.1, -2.3, -0.5, -1.1, -0.01, -4.5, -0.7, -0.9, -0.2, -1.9]),
  logSumExp: Float32Array.from([10.5, 11.25, 9.75, 12, 8.5]),
};

function maxRelError(a: Float32Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  return m;
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });
  it('is 0 for no bytes and chains across calls', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const all = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    expect(crc32c(all.subarray(13), crc32c(all.subarray(0, 13)))).toBe(crc32c(all));
  });
  it('matches RFC 3720 vectors (32 zero bytes, 32 0xff bytes)', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });
  it('gives the bit-at-a-time result at every start address and length (word and byte paths alike)', () => {
    const bitwise = (b: Uint8Array) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    const all = Uint8Array.from({ length: 200 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) for (const len of [0, 1, 7, 8, 9, 31, 64, 150]) expect(crc32c(all.subarray(start, start + len))).toBe(bitwise(all.subarray(start, start + len)));
  });
});

describe('encodeRecord / decodeRecord', () => {
  it.each([
    ['float32', 0],
    ['float16', 2 ** -11],
    ['bfloat16', 2 ** -8],
  ] as const)('round-trips %s states within its precision, full logits', (dtype, tol) => {
    const rec = sample(dtype, full);
    const bytes = encodeRecord(rec);
    const back = decodeRecord(bytes);
    expect(back.exampleId).toBe('ex-1');
    expect([back.validTokens, back.hiddenSize, back.layers, back.dtype]).toEqual([5, 4, [0, 4, 12], dtype]);
    expect(back.states).toBeInstanceOf(Float32Array);
    expect(back.states.length).toBe(60);
    if (tol === 0) expect(back.states).toEqual(rec.states);
    else expect(maxRelError(back.states, rec.states)).toBeLessThanOrEqual(tol);
    expect(back.logits).toEqual(full);
  });

  it('sizes the record by dtype: 2 bytes per state for float16/bfloat16, 4 for float32', () => {
    const f32 = encodeRecord(sample('float32', undefined)).length;
    const f16 = encodeRecord(sample('float16', undefined)).length;
    expect(f32 - f16).toBe(60 * 2);
    // header 32 + id 4 + layers 6 -> 42, padded to 44; 60 float16 states; CRC 4
    expect(f16).toBe(44 + 120 + 4);
  });

  it('defaults to float16', () => {
    const { dtype, ...rest } = sample('float16', undefined);
    void dtype;
    expect(decodeRecord(encodeRecord(rest)).dtype).toBe('float16');
  });

  it('round-trips top-k logits exactly (indices, log-probs, log-sum-exp)', () => {
    const back = decodeRecord(encodeRecord(sample('bfloat16', topk)));
    expect(back.logits).toEqual(topk);
  });

  it('round-trips a record with no logits, a unicode id and zero valid tokens', () => {
    const rec: ActivationRecordInput = { exampleId: 'dev/ç-語-1', validTokens: 0, hiddenSize: 8, layers: [1, 2], states: new Float32Array(0) };
    const back = decodeRecord(encodeRecord(rec));
    expect(back).toEqual({ exampleId: 'dev/ç-語-1', validTokens: 0, hiddenSize: 8, layers: [1, 2], dtype: 'float16', states: new Float32Array(0) });
  });

  it('decodes from an unaligned view inside a larger buffer', () => {
    const bytes = encodeRecord(sample('float32', topk));
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(decodeRecord(big.subarray(3)).states).toEqual(sample('float32', topk).states);
  });

  it('rejects a corrupted byte with a CHECKSUM error naming the position', () => {
    const bytes = encodeRecord(sample('float16', full));
    bytes[100] ^= 0x01;
    let err: unknown;
    try {
      decodeRecord(bytes, { segment: 'segment-000000.acts', offset: 4096, index: 7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActivationError);
    expect((err as ActivationError).code).toBe('CHECKSUM');
    expect((err as ActivationError).message).toMatch(/^segment-000000\.acts@4096 \(record #7\): activation record checksum mismatch/);
    expect((err as ActivationError).position).toEqual({ segment: 'segment-000000.acts', offset: 4096, index: 7 });
  });

  it('rejects a flipped bit in the stored CRC itself', () => {
    const bytes = encodeRecord(sample('float32', undefined));
    bytes[bytes.length - 1] ^= 0x80;
    expect(() => decodeRecord(bytes)).toThrow(/checksum mismatch/);
  });

  it('rejects an unknown version with UNKNOWN_VERSION', () => {
    const bytes = encodeRecord(sample('float16', full));
    new DataView(bytes.buffer).setUint16(4, RECORD_VERSION + 1, true);
    expect(() => decodeRecord(bytes)).toThrow(expect.objectContaining({ code: 'UNKNOWN_VERSION', message: expect.stringContaining('schema version 2 is unknown') }));
  });

  it('rejects bytes that are not a record, and truncated bytes', () => {
    expect(() => decodeRecord(new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'BAD_MAGIC' }));
    expect(() => decodeRecord(encodeRecord(sample('float16', full)).subarray(0, 20))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('reads the header without decoding the states', () => {
    const h = readRecordHeader(encodeRecord(sample('bfloat16', topk, 'abc')));
    expect(h).toMatchObject({ exampleId: 'abc', layers: [0, 4, 12], dtype: 'bfloat16', logitsKind: 'topk', logitsWidth: 2, logitsPositions: 5, validTokens: 5, hiddenSize: 4 });
  });

  it('refuses to encode inconsistent records', () => {
    expect(() => encodeRecord({ ...sample('float16', undefined), validTokens: 6 })).toThrow(/states has 60 values; layers x validTokens x hiddenSize = 3x6x4 = 72/);
    expect(() => encodeRecord({ ...sample('float16', undefined), exampleId: '' })).toThrow(/exampleId must be a non-empty string/);
    expect(() => encodeRecord(sample('float16', { ...topk, logSumExp: new Float32Array(4) }))).toThrow(/logSumExp has 4 values; positions = 5/);
    expect(() => encodeRecord({ ...sample('float16', undefined), layers: [0, 70000, 1] })).toThrow(/layer id 70000/);
  });
});

describe('decodeRecord with a layer subset', () => {
  const states = Float32Array.from({ length: 4 * 3 * 8 }, (_, i) => (i % 29) / 8 - 1.5); // exact in every dtype
  const input = { exampleId: 'ex-1', validTokens: 3, hiddenSize: 8, layers: [0, 2, 4, 6], states };
  for (const dtype of ['float16', 'bfloat16', 'float32'] as ActivationDtype[]) {
    it(`decodes just the asked-for states, in the asked-for order (${dtype})`, () => {
      const bytes = encodeRecord({ ...input, dtype });
      const full = decodeRecord(bytes);
      const some = decodeRecord(bytes, undefined, { layers: [6, 2] });
      expect(some.layers).toEqual([6, 2]);
      expect(Array.from(some.states)).toEqual([...full.states.subarray(3 * 24, 4 * 24), ...full.states.subarray(24, 48)]);
      expect(decodeRecord(bytes, undefined, { layers: [] }).states).toHaveLength(0);
      // At an odd address (a Kafka message inside a pooled buffer) it decodes the same.
      const odd = new Uint8Array(bytes.length + 1);
      odd.set(bytes, 1);
      expect(decodeRecord(odd.subarray(1), undefined, { layers: [6, 2] })).toEqual(some);
    });
  }

  it('names the example and the states it holds when asked for one it lacks', () => {
    const bytes = encodeRecord(input);
    expect(() => decodeRecord(bytes, undefined, { layers: [3] })).toThrow(new ActivationError('NOT_FOUND', "example 'ex-1' holds hidden states 0, 2, 4, 6, not 3"));
  });
});
