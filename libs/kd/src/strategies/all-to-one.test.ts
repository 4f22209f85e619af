import { layerMap } from '../registry';
import { middleTeacherLayer } from './all-to-one';

describe('all-to-one', () => {
  it('uses the middle teacher layer: hs[6] of 12, hs[18] of 36, hs[20] of 40', () => {
    expect(middleTeacherLayer(12)).toBe(6);
    expect(middleTeacherLayer(36)).toBe(18);
    expect(middleTeacherLayer(40)).toBe(20);
    expect(middleTeacherLayer(1)).toBe(1);
  });

  it('sends every student state, hs[0] included, to the middle layer', () => {
    expect(layerMap('all-to-one', { teacherLayers: 12, studentLayers: 3 })).toEqual([[0, 6], [1, 6], [2, 6], [3, 6]]);
    expect(layerMap('all-to-one', { teacherLayers: 36, studentLayers: 9 }).every(([, t]) => t === 18)).toBe(true);
  });

  it('drops the embedding pair for decoder-only models', () => {
    expect(layerMap('all-to-one', { teacherLayers: 40, studentLayers: 2, options: { architecture: 'decoder' } })).toEqual([[1, 20], [2, 20]]);
  });
});
