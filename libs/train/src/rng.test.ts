import { Rng, fillDropoutMask } from './rng';

describe('dropout masks', () => {
  it('draw exactly the numbers nextU32 gives, in order, and leave the generator where nextU32 would', () => {
    for (const rate of [0.1, 0.5, 0.01]) {
      const fast = new Rng(42);
      const slow = new Rng(42);
      const mask = new Float32Array(10007);
      fillDropoutMask(mask, rate, fast);
      const threshold = Math.floor(rate * 4294967296);
      const expected = Float32Array.from({ length: mask.length }, () => (slow.nextU32() < threshold ? 0 : 1 / (1 - rate)));
      expect(mask).toEqual(expected);
      expect(fast.state()).toEqual(slow.state());
      const dropped = mask.filter((v) => v === 0).length / mask.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.02);
    }
  });
});
