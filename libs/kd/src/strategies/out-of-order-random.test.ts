import { layerMap } from '../registry';

const teachers = (seed: number, stack?: string, lt = 12, ls = 6) =>
  layerMap('out-of-order-random', { teacherLayers: lt, studentLayers: ls, seed, options: { stack } }).slice(1).map(([, t]) => t);

describe('out-of-order-random', () => {
  it('is a permutation of the forward list, students in order 1..L_s, embeddings hs[0] ↔ hs[0]', () => {
    const map = layerMap('out-of-order-random', { teacherLayers: 12, studentLayers: 6, seed: 7 });
    expect(map[0]).toEqual([0, 0]);
    expect(map.slice(1).map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...teachers(7)].sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('is deterministic per seed', () => {
    expect(teachers(42)).toEqual(teachers(42));
    expect(teachers(42, 'decoder')).toEqual(teachers(42, 'decoder'));
  });

  it('differs across seeds and is not always the forward order', () => {
    const draws = new Set(Array.from({ length: 20 }, (_, s) => teachers(s).join(',')));
    expect(draws.size).toBeGreaterThan(10);
    expect([...draws].some((d) => d !== '2,4,6,8,10,12')).toBe(true);
  });

  it('draws independent permutations for the encoder and decoder stacks', () => {
    const differing = Array.from({ length: 20 }, (_, s) => teachers(s, 'encoder').join(',') !== teachers(s, 'decoder').join(','));
    expect(differing.filter(Boolean).length).toBeGreaterThan(10);
  });

  it('requires a seed', () => {
    expect(() => layerMap('out-of-order-random', { teacherLayers: 12, studentLayers: 3 })).toThrow("seed is required by strategy 'out-of-order-random'");
    expect(() => layerMap('out-of-order-random', { teacherLayers: 12, studentLayers: 3, seed: 1.5 })).toThrow('seed must be an integer, got 1.5');
  });
});
