// float16 / bfloat16 <-> float32 conversions, round-to-nearest-even, with NaN and infinities preserved.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export function bfloat16BitsToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

function toBits(values: ArrayLike<number>, convert: (v: number) => number): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return out;
}

export const toFloat16 = (values: ArrayLike<number>): Uint16Array => toBits(values, float32ToFloat16Bits);
// Every float16 value, once: decoding cached activations is then one table lookup per value (students decode every
// record every epoch; the arithmetic conversion ran at about 27 MB/s, the lookup at several hundred).
let FLOAT16_TABLE: Float32Array | undefined;
function float16Table(): Float32Array {
  if (!FLOAT16_TABLE) {
    FLOAT16_TABLE = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) FLOAT16_TABLE[b] = float16BitsToFloat32(b);
  }
  return FLOAT16_TABLE;
}

export function fromFloat16(bits: Uint16Array): Float32Array {
  return fromFloat16Into(bits, new Float32Array(bits.length));
}
/** Widens float16 bits into `out` from `offset` (no allocation: cached activations are decoded straight into a batch). */
export function fromFloat16Into(bits: Uint16Array, out: Float32Array, offset = 0): Float32Array {
  const table = float16Table();
  for (let i = 0; i < bits.length; i++) out[offset + i] = table[bits[i]];
  return out;
}
export const toBfloat16 = (values: ArrayLike<number>): Uint16Array => toBits(values, float32ToBfloat16Bits);
export function fromBfloat16(bits: Uint16Array): Float32Array {
  return fromBfloat16Into(bits, new Float32Array(bits.length));
}
export function fromBfloat16Into(bits: Uint16Array, out: Float32Array, offset = 0): Float32Array {
  // bfloat16 is the top half of a float32: widen the bits in place of converting values.
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) words[offset + i] = bits[i] << 16;
  return out;
}
