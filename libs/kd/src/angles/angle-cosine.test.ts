import { angleCosine } from './angle-cosine';

const origin = [0, 0];

describe('angleCosine (METHOD.md §5)', () => {
  it('is 0 for perpendicular directions', () => {
    expect(angleCosine(origin, [1, 0], [0, 1])).toBeCloseTo(0, 12);
  });
  it('is 1/√2 at 45 degrees', () => {
    expect(angleCosine(origin, [1, 0], [1, 1])).toBeCloseTo(1 / (Math.SQRT2 + 1e-6), 12);
  });
  it('is -1 (less the 1e-6 term) for opposite directions', () => {
    expect(angleCosine(origin, [1, 0], [-1, 0])).toBeCloseTo(-1 / (1 + 1e-6), 12);
  });
  it('measures directions from the student state, not from the origin', () => {
    // s = (1, 1): t_i − s = (1, 0), t_j − s = (0, −1).
    expect(angleCosine([1, 1], [2, 1], [1, 0])).toBeCloseTo(0, 12);
    expect(angleCosine([1, 1], [2, 1], [0, 1])).toBeCloseTo(-1 / (1 + 1e-6), 12);
  });
  it('divides by the norms plus 1e-6, so a teacher state equal to the student gives 0', () => {
    expect(angleCosine([3, 4], [3, 4], [0, 0])).toBe(0);
    expect(angleCosine(origin, [1e-3, 0], [1e-3, 0])).toBeCloseTo(1e-6 / (1e-6 + 1e-6), 9);
  });
  it('reads tokens at offsets inside a larger array', () => {
    const h = new Float32Array([9, 9, 0, 0, 1, 0, 1, 1]);
    expect(angleCosine(h, h, h, 2, { s: 2, ti: 4, tj: 6 })).toBeCloseTo(1 / (Math.SQRT2 + 1e-6), 12);
  });
});
