/**
 * Small seeded randomness: a splitmix32 generator and a seeded 32-bit string hash. Deterministic across
 * platforms and Node versions (only 32-bit integer arithmetic).
 */

/** splitmix32: returns a function giving uniform floats in [0, 1). */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

/** Seeded 32-bit hash of a string (FNV-1a over UTF-16 code units, then a murmur3 finalizer mixed with the seed). */
export function hashString32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes several integers (e.g. a seed and an epoch) into one 32-bit seed. */
export function mixSeeds(...values: number[]): number {
  let h = 0x2545f491;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Fisher-Yates shuffle in place with the given generator. */
export function shuffleInPlace<T>(items: T[] | Int32Array, random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}

/**
 * Deterministic split of items into named parts by a seeded hash of each item's key: items are ordered by
 * (hash, key) and cut at the cumulative fractions. The same key always lands in the same part for a given seed
 * and item set; call once per class for a stratified split.
 */
export function hashPartition<T>(
  items: readonly T[],
  key: (item: T) => string,
  parts: readonly { name: string; fraction: number }[],
  seed: number,
): Map<string, T[]> {
  const keyed = items.map((item) => ({ item, key: key(item), hash: 0 }));
  for (const k of keyed) k.hash = hashString32(k.key, seed);
  keyed.sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const total = parts.reduce((s, p) => s + p.fraction, 0);
  const out = new Map<string, T[]>();
  let start = 0;
  let cumulative = 0;
  parts.forEach((part, i) => {
    cumulative += part.fraction;
    const end = i === parts.length - 1 ? keyed.length : Math.round((cumulative / total) * keyed.length);
    out.set(part.name, keyed.slice(start, end).map((k) => k.item));
    start = end;
  });
  return out;
}
