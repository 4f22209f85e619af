import { KdError } from './errors';
import { layerMap, layerSelectionNames, layerSelectionStrategy, registerLayerSelection, teacherLayerSet } from './registry';

const input = { teacherLayers: 12, studentLayers: 3, seed: 1, epoch: 0 };

describe('registry', () => {
  it('knows the paper strategies and the extra ones', () => {
    expect(layerSelectionNames()).toEqual(['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random', 'rail-kd', 'last-k', 'explicit']);
  });

  it('rejects an unknown name, listing the known ones', () => {
    expect(() => layerMap('backward', input)).toThrow(
      "unknown strategy 'backward'; known strategies: none, forward, reverse, all-to-one, out-of-order-random, rail-kd, last-k, explicit",
    );
    expect(() => layerSelectionStrategy('x')).toThrow(KdError);
  });

  it('registers a new strategy once', () => {
    registerLayerSelection({ name: 'first-only', description: 'test', embeddingTeacher: () => 0, layerPairs: ({ studentLayers }) => Array.from({ length: studentLayers }, (_, i): [number, number] => [i + 1, 1]) });
    expect(layerMap('first-only', input)).toEqual([[0, 0], [1, 1], [2, 1], [3, 1]]);
    expect(() => registerLayerSelection({ name: 'forward', description: '', embeddingTeacher: () => 0, layerPairs: () => [] })).toThrow(
      "strategy 'forward' is already registered",
    );
  });
});

describe('depth validation', () => {
  it.each(['forward', 'reverse', 'all-to-one', 'out-of-order-random', 'rail-kd', 'last-k', 'none'])('%s rejects bad depths', (name) => {
    expect(() => layerMap(name, { ...input, studentLayers: 13 })).toThrow('studentLayers (13) is deeper than teacherLayers (12)');
    expect(() => layerMap(name, { ...input, teacherLayers: 0 })).toThrow('teacherLayers must be a positive integer, got 0');
    expect(() => layerMap(name, { ...input, studentLayers: -2 })).toThrow('studentLayers must be a positive integer, got -2');
    expect(() => layerMap(name, { ...input, studentLayers: 2.5 })).toThrow('studentLayers must be a positive integer, got 2.5');
  });
});

describe('embedding pair', () => {
  it.each(['forward', 'reverse', 'out-of-order-random', 'rail-kd', 'last-k'])('%s: encoder and encoder-decoder match hs[0] ↔ hs[0], decoder does not', (name) => {
    expect(layerMap(name, input)[0]).toEqual([0, 0]);
    expect(layerMap(name, { ...input, options: { architecture: 'encoder-decoder' } })[0]).toEqual([0, 0]);
    const dec = layerMap(name, { ...input, options: { architecture: 'decoder' } });
    expect(dec).toHaveLength(3);
    expect(dec.some(([s]) => s === 0)).toBe(false);
  });

  it('matchEmbeddings overrides the architecture default', () => {
    expect(layerMap('forward', { ...input, options: { architecture: 'decoder', matchEmbeddings: true } })).toEqual([[0, 0], [1, 4], [2, 8], [3, 12]]);
    expect(layerMap('forward', { ...input, options: { matchEmbeddings: false } })).toEqual([[1, 4], [2, 8], [3, 12]]);
    expect(layerMap('all-to-one', { ...input, options: { architecture: 'decoder', matchEmbeddings: true } })[0]).toEqual([0, 6]);
  });

  it('rejects an unknown architecture', () => {
    expect(() => layerMap('forward', { ...input, options: { architecture: 'rnn' as never } })).toThrow(
      "options.architecture must be one of encoder, encoder-decoder, decoder, got 'rnn'",
    );
  });
});

describe('teacherLayerSet', () => {
  it('unions the teacher side of resolved maps', () => {
    const fwd = layerMap('forward', input);
    const a2o = layerMap('all-to-one', input);
    expect(teacherLayerSet(fwd, a2o)).toEqual([0, 4, 6, 8, 12]);
    expect(teacherLayerSet()).toEqual([]);
  });

  it('covers every seed and epoch for a strategy request', () => {
    const req = { teacherLayers: 12, studentLayers: 3 };
    expect(teacherLayerSet({ strategy: 'out-of-order-random', ...req })).toEqual([0, 4, 8, 12]);
    expect(teacherLayerSet({ strategy: 'rail-kd', ...req, options: { architecture: 'decoder' } })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(
      teacherLayerSet(
        { strategy: 'none', ...req },
        { strategy: 'forward', ...req },
        { strategy: 'reverse', ...req },
        { strategy: 'all-to-one', ...req },
        { strategy: 'explicit', ...req, options: { explicit: [1, 7, 12] } },
      ),
    ).toEqual([0, 1, 4, 6, 7, 8, 12]);
  });
});
