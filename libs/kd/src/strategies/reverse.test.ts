import { layerMap } from '../registry';

describe('reverse', () => {
  it('12→3: student 1, 2, 3 ↔ teacher 12, 8, 4, embeddings still hs[0] ↔ hs[0]', () => {
    expect(layerMap('reverse', { teacherLayers: 12, studentLayers: 3 })).toEqual([[0, 0], [1, 12], [2, 8], [3, 4]]);
  });

  it('12→9 is the forward list reversed', () => {
    expect(layerMap('reverse', { teacherLayers: 12, studentLayers: 9 }).slice(1).map(([, t]) => t)).toEqual([12, 11, 10, 8, 7, 6, 4, 3, 2]);
  });
});
