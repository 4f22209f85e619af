/** xoshiro128** with a serializable state: seeds shuffling and dropout masks, and resumes exactly from a checkpoint. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number | number[]) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      if (seed.length !== 4) throw new Error('Rng state must have 4 words');
      this.s.set(seed);
    } else {
      // splitmix32 expands one seed into four non-zero words.
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
    }
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /**
   * `out[i] = nextU32() < rate·2³² ? 0 : 1/(1-rate)` for every i, drawing exactly the numbers `nextU32` would, with
   * the state held in locals: a student step draws about 30 million of these, and this loop takes a third of the
   * time of calling nextU32 per element (docs/BENCHMARKS.md, "KD step").
   */
  fillKeepMask(out: Float32Array | Float64Array, rate: number): void {
    const threshold = Math.floor(rate * 4294967296);
    const keep = 1 / (1 - rate);
    const s = this.s;
    let s0 = s[0];
    let s1 = s[1];
    let s2 = s[2];
    let s3 = s[3];
    for (let i = 0; i < out.length; i++) {
      const x = Math.imul(s1, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = r < threshold ? 0 : keep;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
  }

  state(): number[] {
    return Array.from(this.s);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fills a dropout keep-mask: 0 with probability `rate`, else 1/(1-rate). */
export function fillDropoutMask(out: Float32Array | Float64Array, rate: number, rng: Rng): void {
  rng.fillKeepMask(out, rate);
}
