// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF. Slicing-by-8 tables.
const POLY = 0x82f63b78;

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
  const end8 = n - (n % 8);
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
