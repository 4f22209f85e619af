import { layerMap } from '../registry';

describe('explicit', () => {
  it('pairs student layer k with explicit[k-1]', () => {
    expect(layerMap('explicit', { teacherLayers: 12, studentLayers: 3, options: { explicit: [1, 7, 12] } })).toEqual([[0, 0], [1, 1], [2, 7], [3, 12]]);
  });

  it('rejects a missing list, a wrong length and out-of-range layers, naming the field', () => {
    const input = (explicit?: number[]) => ({ teacherLayers: 12, studentLayers: 3, options: { explicit } });
    expect(() => layerMap('explicit', input())).toThrow('options.explicit is required: one teacher layer (1..12) per student layer');
    expect(() => layerMap('explicit', input([4, 8]))).toThrow('options.explicit has 2 entries but studentLayers is 3');
    expect(() => layerMap('explicit', input([4, 8, 13]))).toThrow('options.explicit[2] = 13 is not a teacher layer: must be an integer in 1..12');
    expect(() => layerMap('explicit', input([0, 8, 12]))).toThrow('options.explicit[0] = 0 is not a teacher layer');
    expect(() => layerMap('explicit', input([4, 8.5, 12]))).toThrow('options.explicit[1] = 8.5 is not a teacher layer');
  });
});
