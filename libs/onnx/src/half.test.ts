import { bfloat16BitsToFloat32, float16BitsToFloat32, fromBfloat16, fromFloat16, toFloat16 } from './half';

describe('bulk float16 / bfloat16 decoding', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

  it('fromFloat16 gives, for every one of the 65,536 patterns, the scalar conversion bit for bit', () => {
    const got = fromFloat16(all);
    const want = Float32Array.from(all, float16BitsToFloat32);
    expect(Buffer.compare(Buffer.from(bitsOf(got).buffer), Buffer.from(bitsOf(want).buffer))).toBe(0);
    expect([got[0x3c00], got[0xc000], got[0x7c00], got[0x0001]]).toEqual([1, -2, Infinity, 2 ** -24]);
    expect(Number.isNaN(got[0x7e00])).toBe(true);
  });

  it('fromBfloat16 widens every pattern to the float32 with the same top half (NaN payloads kept)', () => {
    const got = fromBfloat16(all);
    const bits = bitsOf(got);
    for (let b = 0; b < 65536; b++) {
      expect(bits[b]).toBe((b << 16) >>> 0);
      if (!Number.isNaN(got[b])) expect(got[b]).toBe(bfloat16BitsToFloat32(b));
    }
    expect(got[0x3f80]).toBe(1);
  });

  it('round-trips float16 values through toFloat16', () => {
    const v = Float32Array.from([0, -0.5, 1.5, 65504, 6.103515625e-5]);
    expect(Array.from(fromFloat16(toFloat16(v)))).toEqual(Array.from(v));
  });
});
