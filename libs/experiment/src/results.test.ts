import { resultsProblems } from './results-schema';
import { isLegacyCell, resolvedMaps, resolvedStackMaps, trainCurves, upgradeCell } from './results';

// A cell as schemaVersion 1 wrote it (run.ts before #22): curve as [step, loss] pairs, curves.trainLoss, layerMaps.
const v1 = {
  id: 'forward-random-d2-s1', strategy: 'forward', init: 'random', seed: 1, depth: 2, layerMap: [[0, 0], [1, 2], [2, 4]],
  metrics: { accuracy: 93.5, f1: 90.1 }, curves: { trainLoss: [50.5, 20.25, 18.5] }, hash: 'abc',
  curve: [[1, 50.5], [10, 20.25], [20, 18.5]], layerMaps: [[[0, 0], [1, 2], [2, 4]], [[0, 0], [1, 2], [2, 4]]],
};

describe('upgradeCell', () => {
  it('turns a schemaVersion-1 cell into the current shape, with what the file cannot tell filled in', () => {
    expect(isLegacyCell(v1)).toBe(true);
    const cell = upgradeCell(v1, { wallSeconds: 9.5, student: { parameters: 123, onnxBytes: 4567 } });
    expect(cell).toEqual({
      id: 'forward-random-d2-s1', strategy: 'forward', init: 'random', seed: 1, depth: 2, layerMap: [[0, 0], [1, 2], [2, 4]],
      metrics: { accuracy: 93.5, f1: 90.1 }, curves: { step: [1, 10, 20], loss: [50.5, 20.25, 18.5] }, hash: 'abc',
      wallSeconds: 9.5, student: { parameters: 123, onnxBytes: 4567 },
    });
    expect(isLegacyCell(cell)).toBe(false);
    // No duplicates left behind: the pairs, trainLoss and the per-epoch maps of a fixed map are gone.
    expect(cell).not.toHaveProperty('curve');
    expect(cell).not.toHaveProperty('layerMaps');
    expect(cell).not.toHaveProperty('layerMapsPerEpoch');
    expect(resultsProblems({ ...minimalResults, cells: [cell] })).toEqual([]);
  });

  it('keeps the per-epoch maps only when the map was not fixed, and a generation cell\'s seconds as its wall time', () => {
    const perEpoch = upgradeCell({ ...v1, layerMap: null, layerMaps: [[[0, 0], [1, 1], [2, 4]], [[0, 0], [1, 3], [2, 4]]] });
    expect(perEpoch.layerMap).toBeNull();
    expect(perEpoch.layerMapsPerEpoch).toEqual([[[0, 0], [1, 1], [2, 4]], [[0, 0], [1, 3], [2, 4]]]);
    const generation = upgradeCell({
      ...v1, layerMap: null, stackMaps: { encoder: null, decoder: null }, seconds: { train: 30, eval: 4 }, steps: 40,
      layerMaps: [{ encoder: [[0, 0]], decoder: [[0, 1]] }, { encoder: [[0, 2]], decoder: [[0, 1]] }],
    });
    expect(generation.stackMapsPerEpoch).toEqual([{ encoder: [[0, 0]], decoder: [[0, 1]] }, { encoder: [[0, 2]], decoder: [[0, 1]] }]);
    expect(generation.wallSeconds).toBe(34);
    // Nothing to fill from: unknown stays visibly unknown rather than a made-up zero.
    expect(upgradeCell(v1).wallSeconds).toBeNaN();
    expect(upgradeCell(v1).student.parameters).toBeNaN();
  });

  it('returns a current cell as it is and names the file and field of a broken one', () => {
    const current = upgradeCell(v1, { wallSeconds: 1, student: { parameters: 1, onnxBytes: 1 } });
    expect(upgradeCell(current)).toBe(current);
    expect(() => upgradeCell({ ...v1, hash: 7 }, { file: 'students/x/result.json' })).toThrow("students/x/result.json: result cell field 'hash' must be a string");
    expect(() => upgradeCell([], { file: 'r.json' })).toThrow('r.json: a result cell must be a JSON object');
  });
});

describe('cell records', () => {
  it('lays logged steps out as columns, keeping a term only when every point has it', () => {
    expect(trainCurves([{ step: 1, loss: 3, ce: 1, kl: 2 }, { step: 10, loss: 2.5, ce: 1, kl: 1.5 }])).toEqual({ step: [1, 10], loss: [3, 2.5], ce: [1, 1], kl: [2, 1.5] });
    // Resumed from a checkpoint written before terms were logged: the early points lack them.
    expect(trainCurves([{ step: 1, loss: 3 }, { step: 10, loss: 2.5, ce: 1, kl: 1.5 }])).toEqual({ step: [1, 10], loss: [3, 2.5] });
    expect(trainCurves([])).toEqual({ step: [], loss: [] });
  });

  it('keeps per-epoch maps only when they differ', () => {
    expect(resolvedMaps([[[0, 0], [1, 2]], [[0, 0], [1, 2]]])).toEqual({ layerMap: [[0, 0], [1, 2]] });
    expect(resolvedMaps([[[0, 0], [1, 1]], [[0, 0], [1, 2]]])).toEqual({ layerMap: null, layerMapsPerEpoch: [[[0, 0], [1, 1]], [[0, 0], [1, 2]]] });
    expect(resolvedStackMaps([{ encoder: [[0, 0]], decoder: [[1, 2]] }, { encoder: [[0, 0]], decoder: [[1, 2]] }])).toEqual({ layerMap: [[1, 2]], stackMaps: { encoder: [[0, 0]], decoder: [[1, 2]] } });
  });
});

const minimalResults = {
  schemaVersion: 2, experiment: 'e', task: 'spam', teacher: { metrics: {}, parameters: 10, onnxBytes: 40 }, cells: [], createdAt: '2026-01-01T00:00:00.000Z', versions: {},
};

describe('resultsProblems', () => {
  it('names each field a results file gets wrong', () => {
    expect(resultsProblems(minimalResults)).toEqual([]);
    expect(resultsProblems({ ...minimalResults, schemaVersion: 1 })).toEqual(['schemaVersion: Invalid input: expected 2']);
    expect(resultsProblems({ ...minimalResults, cells: [{ ...v1 }] })).toEqual(expect.arrayContaining([
      'cells.0: Unrecognized keys: "curve", "layerMaps"',
      'cells.0.wallSeconds: Invalid input: expected number, received undefined',
    ]));
  });
});
