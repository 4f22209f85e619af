// A small deterministic PRNG for the seeded strategies: FNV-1a folds (seed, salts) into 32 bits,
// mulberry32 draws from it. Same inputs, same numbers, on every platform (integer math only).
import { seededRandom } from '@strata/autodiff';
import { KdError } from './errors';

/** A generator of floats in [0, 1). */
export type Rng = () => number;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32 (Tommy Ettinger's 32-bit generator): the same generator the gradient checker draws from. */
export const mulberry32: (seed32: number) => Rng = seededRandom;

/** A generator keyed by the run's seed and salts (strategy name, stack, epoch), so different uses draw independent streams. */
export function seededRng(seed: number, ...salts: ReadonlyArray<string | number>): Rng {
  if (!Number.isSafeInteger(seed)) throw new KdError(`seed must be an integer, got ${seed}`);
  return mulberry32(fnv1a([seed, ...salts].join('\u0000')));
}

/** A uniform random permutation of `items` (Fisher-Yates), leaving `items` untouched. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `k` distinct integers drawn uniformly from 1..n, in increasing order. */
export function sortedSubset(n: number, k: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i + 1);
  return shuffled(all, rng).slice(0, k).sort((a, b) => a - b);
}
