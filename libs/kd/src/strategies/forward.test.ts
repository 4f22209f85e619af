import { layerMap } from '../registry';

const teacherOf = (lt: number, ls: number) => layerMap('forward', { teacherLayers: lt, studentLayers: ls }).slice(1).map(([, t]) => t);

describe('forward', () => {
  it('reproduces the reference tables (METHOD.md §2)', () => {
    expect(teacherOf(12, 3)).toEqual([4, 8, 12]);
    expect(teacherOf(12, 4)).toEqual([3, 6, 9, 12]);
    expect(teacherOf(12, 6)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(teacherOf(12, 9)).toEqual([2, 3, 4, 6, 7, 8, 10, 11, 12]);
    expect(teacherOf(36, 9)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(teacherOf(40, 10)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
  });

  it('pairs student layers in order after the embedding pair', () => {
    expect(layerMap('forward', { teacherLayers: 12, studentLayers: 3 })).toEqual([[0, 0], [1, 4], [2, 8], [3, 12]]);
  });

  it('is the identity when the student is as deep as the teacher', () => {
    expect(teacherOf(5, 5)).toEqual([1, 2, 3, 4, 5]);
  });
});
