import { layerMap } from './index';

// Every strategy's map pinned for the depth pairs of METHOD.md §2 (hidden-state indices, hs[0] = embeddings).
// Forward lists are METHOD.md's; the seeded strategies are pinned for seed 1 (epoch 0 for rail-kd), so any change
// to the draw shows up here.
const FORWARD: Record<string, number[]> = {
  '12->3': [4, 8, 12],
  '12->4': [3, 6, 9, 12],
  '12->6': [2, 4, 6, 8, 10, 12],
  '12->9': [2, 3, 4, 6, 7, 8, 10, 11, 12],
  '36->9': [4, 8, 12, 16, 20, 24, 28, 32, 36],
  '40->10': [4, 8, 12, 16, 20, 24, 28, 32, 36, 40],
};
const OUT_OF_ORDER_SEED1: Record<string, number[]> = {
  '12->3': [12, 4, 8],
  '12->4': [6, 12, 3, 9],
  '12->6': [6, 2, 12, 10, 4, 8],
  '12->9': [11, 12, 2, 7, 3, 10, 6, 4, 8],
  '36->9': [32, 36, 4, 20, 8, 28, 16, 12, 24],
  '40->10': [32, 8, 40, 4, 24, 36, 20, 16, 12, 28],
};
const RAIL_SEED1_EPOCH0: Record<string, number[]> = {
  '12->3': [8, 9, 11],
  '12->4': [8, 9, 10, 11],
  '12->6': [3, 6, 8, 9, 10, 11],
  '12->9': [1, 3, 4, 6, 7, 8, 9, 10, 11],
  '36->9': [7, 12, 18, 19, 24, 27, 28, 33, 34],
  '40->10': [4, 8, 10, 11, 26, 31, 32, 34, 36, 40],
};
const MIDDLE: Record<number, number> = { 12: 6, 36: 18, 40: 20 };

/** [[0, e], [1, t1], [2, t2], ...] */
const withEmbeddings = (teachers: number[], embeddingTeacher = 0) => [[0, embeddingTeacher], ...teachers.map((t, i) => [i + 1, t])];

describe.each(Object.keys(FORWARD))('%s', (pair) => {
  const [teacherLayers, studentLayers] = pair.split('->').map(Number);
  const input = { teacherLayers, studentLayers, seed: 1, epoch: 0 };
  it('none', () => expect(layerMap('none', input)).toEqual([]));
  it('forward', () => expect(layerMap('forward', input)).toEqual(withEmbeddings(FORWARD[pair])));
  it('reverse', () => expect(layerMap('reverse', input)).toEqual(withEmbeddings([...FORWARD[pair]].reverse())));
  it('all-to-one', () => expect(layerMap('all-to-one', input)).toEqual(withEmbeddings(FORWARD[pair].map(() => MIDDLE[teacherLayers]), MIDDLE[teacherLayers])));
  it('out-of-order-random (seed 1): a permutation of forward', () => {
    expect(layerMap('out-of-order-random', input)).toEqual(withEmbeddings(OUT_OF_ORDER_SEED1[pair]));
    expect([...OUT_OF_ORDER_SEED1[pair]].sort((a, b) => a - b)).toEqual(FORWARD[pair]);
  });
  it('rail-kd (seed 1, epoch 0): an in-order subset', () => {
    expect(layerMap('rail-kd', input)).toEqual(withEmbeddings(RAIL_SEED1_EPOCH0[pair]));
    expect(RAIL_SEED1_EPOCH0[pair]).toEqual([...RAIL_SEED1_EPOCH0[pair]].sort((a, b) => a - b));
  });
  it('last-k', () => expect(layerMap('last-k', input)).toEqual(withEmbeddings(FORWARD[pair].map((_, k) => teacherLayers - studentLayers + k + 1))));
  it('explicit', () => expect(layerMap('explicit', { ...input, options: { explicit: FORWARD[pair] } })).toEqual(withEmbeddings(FORWARD[pair])));
});
