import { layerMap } from '../registry';

describe('none', () => {
  it('is empty, even when embeddings are asked for', () => {
    expect(layerMap('none', { teacherLayers: 12, studentLayers: 3 })).toEqual([]);
    expect(layerMap('none', { teacherLayers: 12, studentLayers: 3, options: { matchEmbeddings: true } })).toEqual([]);
  });
});
