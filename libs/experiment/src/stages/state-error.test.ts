import { stateError } from './common';

describe('stateError', () => {
  it('compares valid tokens only, leaves padding rows out and counts agreeing predictions', () => {
    // Batch 2 x seq 2 x hidden 2; row 1 is padding (all-zero mask) and differs wildly, which must not count.
    const mask = BigInt64Array.from([1n, 0n, 0n, 0n]);
    const reference = Float32Array.of(3, 4, 100, 100, 7, 7, 7, 7);
    const other = Float32Array.of(3, 3, -100, 100, 0, 0, 0, 0);
    const logits = { reference: Float32Array.of(1, 2, 5, 0), other: Float32Array.of(1.5, 1.25, 0, 5) };
    const e = stateError([{ reference, other }], mask, 2, 2, logits);
    expect(e.examples).toBe(1);
    expect(e.relRms).toBeCloseTo(1 / 5, 12); // |(0, -1)| / |(3, 4)|
    expect(e.maxAbs).toBe(1);
    expect(e.logitsMaxAbs).toBe(0.75);
    expect(e.sameArgmax).toBe(0); // class 1 vs class 0
  });
});
