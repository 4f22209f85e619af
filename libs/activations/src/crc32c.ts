// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF. Slicing-by-8 tables.
const POLY = 0x82f63b78;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[0][i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >>> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
})();

/**
 * Continue a CRC32C over `bytes`: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`. Start value 0 for a fresh CRC.
 * Returns an unsigned 32-bit value.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = ~previous >>> 0;
  let i = 0;
  const n = bytes.length;
  if (LITTLE_ENDIAN) {
    // Whole 32-bit words where the address allows: two loads per 8 bytes instead of eight, a third faster on the
    // records a student reads every step (docs/BENCHMARKS.md, "KD step"). Same tables, same result.
    for (; i < n && (bytes.byteOffset + i) % 4 !== 0; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    const pairs = (n - i) >>> 3;
    const words = pairs > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + i, pairs * 2) : new Uint32Array(0);
    for (let w = 0; w < words.length; w += 2) {
      const a = crc ^ words[w];
      const b = words[w + 1];
      crc = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^ t3[b & 0xff] ^ t2[(b >>> 8) & 0xff] ^ t1[(b >>> 16) & 0xff] ^ t0[b >>> 24];
    }
    i += pairs * 8;
  }
  const end8 = i + ((n - i) & ~7);
  for (; i < end8; i += 8) {
    const a = (crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < n; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Folds one record's CRC (as 4 little-endian bytes) into a running CRC: the caches' `recordsCrc32c`. */
export function crcOfCrc(running: number, crc: number): number {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, crc, true);
  return crc32c(b, running);
}

export function hex8(x: number): string {
  return x.toString(16).padStart(8, '0');
}
