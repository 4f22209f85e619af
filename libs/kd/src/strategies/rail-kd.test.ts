import { layerMap } from '../registry';

const teachers = (seed: number, epoch: number, lt = 12, ls = 4) =>
  layerMap('rail-kd', { teacherLayers: lt, studentLayers: ls, seed, epoch }).slice(1).map(([, t]) => t);

describe('rail-kd', () => {
  it('draws L_s distinct teacher layers in increasing order', () => {
    for (let epoch = 0; epoch < 10; epoch++) {
      const t = teachers(3, epoch);
      expect(t).toHaveLength(4);
      expect(new Set(t).size).toBe(4);
      expect([...t].sort((a, b) => a - b)).toEqual(t);
      expect(t.every((x) => x >= 1 && x <= 12)).toBe(true);
    }
  });

  it('is deterministic for (seed, epoch) and changes with the epoch', () => {
    expect(teachers(3, 2)).toEqual(teachers(3, 2));
    const perEpoch = new Set(Array.from({ length: 10 }, (_, e) => teachers(3, e).join(',')));
    expect(perEpoch.size).toBeGreaterThan(5);
  });

  it('keeps the embedding pair first', () => {
    expect(layerMap('rail-kd', { teacherLayers: 12, studentLayers: 3, seed: 1, epoch: 0 })[0]).toEqual([0, 0]);
  });

  it('requires seed and epoch', () => {
    expect(() => layerMap('rail-kd', { teacherLayers: 12, studentLayers: 3, epoch: 0 })).toThrow("seed is required by strategy 'rail-kd'");
    expect(() => layerMap('rail-kd', { teacherLayers: 12, studentLayers: 3, seed: 1 })).toThrow("epoch is required by strategy 'rail-kd'");
    expect(() => layerMap('rail-kd', { teacherLayers: 12, studentLayers: 3, seed: 1, epoch: -1 })).toThrow('epoch must be a non-negative integer, got -1');
  });
});
