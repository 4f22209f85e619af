import { seededRandom } from '@strata/autodiff';
import { topKGap } from './topk-gap';

describe('topKGap', () => {
  const rand = seededRandom(3);
  const [rows, V] = [20, 12];
  const t = Array.from({ length: rows * V }, () => rand() * 6 - 3);
  const s = Array.from({ length: rows * V }, () => rand() * 6 - 3);
  it('keeps all of the full KL at k = V and less of it for smaller k, monotonically', () => {
    const gaps = topKGap(t, s, rows, V, [1, 3, 6, 12]);
    expect(gaps[3].relativeGap).toBeCloseTo(0, 12);
    expect(gaps[3].restMass).toBeCloseTo(0, 12);
    expect(gaps[0].fullKl).toBeGreaterThan(0.5);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i].topKKl).toBeGreaterThanOrEqual(gaps[i - 1].topKKl - 1e-12);
    expect(gaps[0].relativeGap).toBeGreaterThan(0.05);
    expect(gaps[0].restMass).toBeGreaterThan(gaps[2].restMass);
    expect(() => topKGap(t, s, rows + 1, V, [1])).toThrow('topKGap: logits must be [21, 12]');
  });
});
