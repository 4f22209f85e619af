import { cellHash, cellHashPayload, parseManifest, planGrid, type GridCell } from './index';

const manifest = (students: string, teacher = '{ train: { layers: 12 } }', task = 'sst2') =>
  parseManifest(`apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata: { name: grid }
spec:
  task: ${task}
  teacher: ${teacher}
  students:
${students}`);

const GRID = `    depths: [3]
    inits: [copy, random]
    strategies: [rail-kd, out-of-order-random, none, forward, reverse, all-to-one, { name: explicit, label: mid, explicit: [5, 6, 7] }]
    seeds: [1, 2]
`;

describe('planGrid', () => {
  const cells = planGrid(manifest(GRID));

  it('has one cell per strategy x init x seed x depth, in Table 1 order', () => {
    expect(cells).toHaveLength(7 * 2 * 2);
    const order = ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random', 'rail-kd', 'mid'];
    const expected = ['random', 'copy'].flatMap((init) => order.flatMap((s) => [1, 2].map((seed) => `${s}-${init}-d3-s${seed}`)));
    expect(cells.map((c) => c.id)).toEqual(expected);
    expect(cells[0].id).toBe('none-random-d3-s1');
    expect(cells[16].id).toBe('forward-copy-d3-s1');
  });

  it('resolves layer maps for a 12-layer teacher (METHOD.md §2)', () => {
    const map = (id: string) => cells.find((c) => c.id === id)!.layerMap;
    expect(map('none-copy-d3-s1')).toEqual([]);
    expect(map('forward-copy-d3-s1')).toEqual([[0, 0], [1, 4], [2, 8], [3, 12]]);
    expect(map('reverse-copy-d3-s1')).toEqual([[0, 0], [1, 12], [2, 8], [3, 4]]);
    expect(map('all-to-one-copy-d3-s1')).toEqual([[0, 6], [1, 6], [2, 6], [3, 6]]);
    expect(map('mid-copy-d3-s1')).toEqual([[0, 0], [1, 5], [2, 6], [3, 7]]);
    expect(map('rail-kd-copy-d3-s1')).toBeNull();
    const shuffled = map('out-of-order-random-copy-d3-s1')!;
    expect(shuffled[0]).toEqual([0, 0]);
    expect(shuffled.slice(1).map(([, t]) => t).sort((a, b) => a - b)).toEqual([4, 8, 12]);
    const explicit = cells.find((c) => c.id === 'mid-random-d3-s2')!;
    expect(explicit.strategy).toBe('explicit');
    expect(explicit.options).toEqual({ explicit: [5, 6, 7] });
  });

  it('orders depths as listed, and includes none once per (init, seed, depth)', () => {
    const grid = planGrid(manifest(`    depths: [6, 3]\n    inits: [random]\n    strategies: [forward, none, { name: none, label: baseline }]\n    seeds: [7]\n`));
    expect(grid.map((c) => c.id)).toEqual(['none-random-d6-s7', 'forward-random-d6-s7', 'none-random-d3-s7', 'forward-random-d3-s7']);
  });

  it('leaves layer maps unresolved while an ONNX teacher depth is unknown', () => {
    const m = manifest('    depths: [3]\n    inits: [copy]\n    strategies: [forward]\n    seeds: [1]\n', '{ onnx: t.onnx }');
    expect(planGrid(m)[0].layerMap).toBeNull();
    expect(planGrid(m, { teacherLayers: 6 })[0].layerMap).toEqual([[0, 0], [1, 2], [2, 4], [3, 6]]);
  });
});

describe('cellHash', () => {
  const cells = planGrid(manifest(GRID));
  const forward = cells.find((c) => c.id === 'forward-copy-d3-s1')!;
  const none = cells.find((c) => c.id === 'none-copy-d3-s1')!;
  const inputs = { teacherHash: 'teacher-abc', cacheKey: 'cache-123' };
  const h = (c: GridCell, i = inputs) => cellHash(c, i);

  it('is a stable sha256 of the canonical payload', () => {
    expect(h(forward)).toMatch(/^[0-9a-f]{64}$/);
    expect(h(planGrid(manifest(GRID)).find((c) => c.id === forward.id)!)).toBe(h(forward));
    expect(cellHashPayload(forward, inputs)).toBe(
      '{"cacheKey":"cache-123","data":{},"depth":3,"eval":{"split":"dev"},"init":"copy",' +
        '"loss":{"ce":1,"hidden":3,"hiddenLoss":"mse","kl":1,"normalize":"token","temperature":1},"seed":1,' +
        '"strategy":{"name":"forward","options":{}},"task":"sst2","teacherHash":"teacher-abc",' +
        '"training":{"batchSize":32,"epochs":5,"lr":0.0005,"projection":"auto"},"version":1}',
    );
  });

  it('changes with every field that affects the result', () => {
    const variants: GridCell[] = [
      { ...forward, task: 'qnli' },
      { ...forward, strategy: 'reverse' },
      { ...forward, options: { matchEmbeddings: false } },
      { ...forward, init: 'random' },
      { ...forward, seed: 2 },
      { ...forward, depth: 4 },
      ...(['ce', 'kl', 'hidden', 'temperature'] as const).map((k) => ({ ...forward, loss: { ...forward.loss, [k]: 2 } })),
      { ...forward, loss: { ...forward.loss, normalize: 'cosine' } },
      ...(['epochs', 'batchSize', 'lr'] as const).map((k) => ({ ...forward, training: { ...forward.training, [k]: 7 } })),
      { ...forward, training: { ...forward.training, projection: 'none' } },
      { ...forward, training: { ...forward.training, hidden: 64 } },
      { ...forward, training: { ...forward.training, heads: 4 } },
      { ...forward, training: { ...forward.training, intermediate: 96 } },
      { ...forward, training: { ...forward.training, projection: 'shared' } },
      ...(['reverse-kl', 'js', 'tvd', 'skew-kl'] as const).map((kd) => ({ ...forward, loss: { ...forward.loss, kd } })),
      { ...forward, loss: { ...forward.loss, kd: 'skew-kl', skewAlpha: 0.3 } },
      { ...forward, data: { maxTrainExamples: 100 } },
      { ...forward, data: { maxEvalExamples: 100 } },
      { ...forward, eval: { split: 'test' } },
    ];
    const hashes = new Set([h(forward), ...variants.map((v) => h(v))]);
    expect(hashes.size).toBe(variants.length + 1);
    expect(h(forward, { ...inputs, teacherHash: 'teacher-def' })).not.toBe(h(forward));
    expect(h(forward, { ...inputs, cacheKey: 'cache-456' })).not.toBe(h(forward));
  });

  it('ignores names, and a none cell ignores the hidden-loss settings it cannot use', () => {
    expect(h({ ...forward, id: 'other', label: 'fwd' })).toBe(h(forward));
    expect(h({ ...none, loss: { ...none.loss, hidden: 10, normalize: 'element' } })).toBe(h(none));
    expect(h({ ...none, training: { ...none.training, projection: 'none' } })).toBe(h(none));
    expect(h({ ...none, loss: { ...none.loss, kl: 0 } })).not.toBe(h(none));
    expect(h({ ...none, loss: { ...none.loss, kd: 'js' } })).not.toBe(h(none));
  });

  it('sweeps students.divergences as an axis: forward-kl keeps the plain ids (and hashes), others add their name', () => {
    const sweep = planGrid(manifest(`    depths: [3]
    inits: [random]
    strategies: [none, forward]
    divergences: [forward-kl, js, skew-kl]
    seeds: [1]
    loss: { skewAlpha: 0.2 }
`));
    expect(sweep.map((c) => c.id)).toEqual(['none-random-d3-s1', 'none-js-random-d3-s1', 'none-skew-kl-random-d3-s1', 'forward-random-d3-s1', 'forward-js-random-d3-s1', 'forward-skew-kl-random-d3-s1']);
    expect(sweep.map((c) => c.loss.kd)).toEqual(['forward-kl', 'js', 'skew-kl', 'forward-kl', 'js', 'skew-kl']);
    // skewAlpha only reaches the skew-kl cells (the loss builders refuse it elsewhere).
    expect(sweep.map((c) => c.loss.skewAlpha)).toEqual([undefined, undefined, 0.2, undefined, undefined, 0.2]);
    const plain = planGrid(manifest(`    depths: [3]
    inits: [random]
    strategies: [forward]
    seeds: [1]
`))[0];
    expect(h(sweep[3])).toBe(h(plain));
    // A single divergence, given as loss.kd, names no cell differently.
    expect(planGrid(manifest(`    depths: [3]
    inits: [random]
    strategies: [forward]
    seeds: [1]
    loss: { kd: tvd }
`)).map((c) => [c.id, c.loss.kd])).toEqual([['forward-random-d3-s1', 'tvd']]);
  });
});
