import { layerMap } from '../registry';

describe('last-k', () => {
  it('matches the last L_s teacher layers in order', () => {
    expect(layerMap('last-k', { teacherLayers: 12, studentLayers: 3 })).toEqual([[0, 0], [1, 10], [2, 11], [3, 12]]);
    expect(layerMap('last-k', { teacherLayers: 36, studentLayers: 1, options: { architecture: 'decoder' } })).toEqual([[1, 36]]);
  });
});
