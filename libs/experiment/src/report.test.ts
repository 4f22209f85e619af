import { renderReport, seedStats, type ExperimentResults, type ResultCell } from './index';

const cell = (strategy: string, init: 'random' | 'copy', seed: number, depth: number, metrics: Record<string, number>, layerMap: ResultCell['layerMap'] = []): ResultCell => ({
  id: `${strategy}-${init}-d${depth}-s${seed}`,
  strategy,
  init,
  seed,
  depth,
  layerMap,
  metrics,
  curves: { step: [1, 10], loss: [2, 1] },
  hash: `h-${strategy}-${init}-${depth}-${seed}`,
  wallSeconds: 12.5,
  student: { parameters: depth * 100_000 + 250_000, onnxBytes: (depth * 100_000 + 250_000) * 4 + 9_000 },
});
const FWD: ResultCell['layerMap'] = [[0, 0], [1, 4], [2, 8], [3, 12]];

const results: ExperimentResults = {
  schemaVersion: 2,
  experiment: 'sst2-layer-selection',
  task: 'sst2',
  teacher: { metrics: { accuracy: 93.1, f1: 92.5 }, layers: 12, hidden: 128, parameters: 1_450_000, onnxBytes: 5_809_000 },
  cells: [
    // Deliberately out of order: the report orders rows as Table 1 does.
    cell('forward', 'random', 1, 3, { accuracy: 85, f1: 84 }, FWD),
    cell('forward', 'random', 2, 3, { accuracy: 86, f1: 84 }, FWD),
    cell('forward', 'random', 3, 3, { accuracy: 84, f1: 84 }, FWD),
    cell('none', 'random', 1, 3, { accuracy: 80, f1: 78 }),
    cell('none', 'random', 2, 3, { accuracy: 81, f1: 80 }),
    cell('none', 'random', 3, 3, { accuracy: 82, f1: 82 }),
    cell('last-k', 'copy', 1, 3, { accuracy: 90 }, [[0, 0], [1, 10], [2, 11], [3, 12]]),
    cell('forward', 'copy', 1, 3, { accuracy: 92.5, f1: 91 }, FWD),
    cell('none', 'copy', 1, 3, { accuracy: 88, f1: 87 }),
    cell('none', 'copy', 2, 3, { accuracy: 90, f1: 88 }),
    cell('rail-kd', 'copy', 1, 6, { accuracy: 91, f1: 90 }, null),
  ],
  angles: [{ cellId: 'forward-copy-d3-s1', layers: [{ studentLayer: 1, acuteFraction: 0.875 }, { studentLayer: 2, acuteFraction: 0.5 }] }],
  createdAt: '2026-01-02T03:04:05.000Z',
  versions: { '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
};

describe('seedStats', () => {
  it('uses the sample standard deviation (n - 1)', () => {
    expect(seedStats([80, 81, 82])).toEqual({ n: 3, mean: 81, std: 1 });
    expect(seedStats([88, 90]).std).toBeCloseTo(Math.SQRT2, 12);
    expect(seedStats([92.5])).toEqual({ n: 1, mean: 92.5, std: undefined });
  });
});

describe('renderReport', () => {
  const md = renderReport(results);
  const lines = md.split('\n');

  it("puts the teacher's warnings under the header, and nothing when it has none", () => {
    const warned = renderReport({ ...results, teacher: { ...results.teacher, warnings: ['the teacher is at chance'] } }).split('\n');
    const at = warned.indexOf('> **Warning:** the teacher is at chance');
    expect(at).toBeGreaterThan(0);
    expect(warned[at - 1]).toBe('');
    expect(warned[at - 2]).toMatch(/^Versions: /);
    expect(md).not.toContain('Warning');
  });

  it('says when the states came from an int8 teacher, with the error measured against float32', () => {
    const int8 = renderReport({ ...results, teacherCache: { teacherPrecision: 'int8', int8Error: { examples: 32, relRms: 0.0123, maxAbs: 0.5, logitsMaxAbs: 0.02, sameArgmax: 31 / 32 } } });
    expect(int8).toContain('Teacher states cached from the teacher quantized to int8 (cache.teacherPrecision). Against the float32 teacher on the first 32 examples: ' +
      "hidden states' relative RMS error 1.23e-2 (max abs 5.00e-1), logits max abs 2.00e-2, same predicted class for 96.9%.");
    expect(md).not.toContain('int8');
  });

  it('renders Table 1 rows: teacher, then per init None / Forward / ... / extras with mean ± std and Δ vs None', () => {
    const start = lines.indexOf('### Student depth 3');
    expect(lines.slice(start, start + 13)).toEqual([
      '### Student depth 3',
      '',
      '| Model | n | accuracy | Δ accuracy vs None | f1 | Δ f1 vs None |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      '| Teacher | 1 | 93.10 | — | 92.50 | — |',
      '| *Random init* |  |  |  |  |  |',
      '| None | 3 | 81.00 ± 1.00 | — | 80.00 ± 2.00 | — |',
      '| Forward | 3 | 85.00 ± 1.00 | +4.00 | 84.00 ± 0.00 | +4.00 |',
      '| *Weight copy* |  |  |  |  |  |',
      '| None | 2 | 89.00 ± 1.41 | — | 87.50 ± 0.71 | — |',
      '| Forward | 1 | 92.50 ± n/a | +3.50 | 91.00 ± n/a | +3.50 |',
      '| last-k | 1 | 90.00 ± n/a | +1.00 | n/a | n/a |',
      '',
    ]);
  });

  it('marks Δ n/a where an init has no None row, and says which standard deviation it uses', () => {
    expect(lines).toContain('| rail-kd | 1 | 91.00 ± n/a | n/a | 90.00 ± n/a | n/a |');
    expect(md).toContain('Mean ± sample standard deviation (n − 1 denominator) over n seeds; "± n/a" when there is one seed.');
  });

  it('lists every resolved layer map', () => {
    expect(lines).toContain('| forward-random-d3-s1 | 0→0, 1→4, 2→8, 3→12 |');
    expect(lines).toContain('| none-copy-d3-s2 | none (no hidden loss) |');
    expect(lines).toContain('| last-k-copy-d3-s1 | 0→0, 1→10, 2→11, 3→12 |');
    expect(lines).toContain('| rail-kd-copy-d6-s1 | not fixed (drawn per epoch; see the training log) |');
  });

  it('embeds plot placeholders and the angle summary', () => {
    expect(lines).toContain('![training curves](plots/curves.svg)');
    expect(lines).toContain('![angles](plots/angles.svg)');
    expect(lines).toContain('| Cell | Layer 1 | Layer 2 |');
    expect(lines).toContain('| forward-copy-d3-s1 | 87.5% | 50.0% |');
  });

  it('says which metrics are lower-is-better, and only for metrics the results have', () => {
    expect(md).not.toContain('lower is better');
    const mc = renderReport({ ...results, teacher: { metrics: { accuracy: 20.4, gold_nll: 2.9 }, parameters: 1, onnxBytes: 1 }, cells: [cell('none', 'copy', 1, 2, { accuracy: 21.3, gold_nll: 3.1 })] });
    expect(mc).toContain('gold_nll: nats per token of the gold answer under the model, lower is better.');
    expect(mc).not.toContain('phoneme error rate');
  });

  it('leaves out the angle section when there is no angle analysis', () => {
    const plain = renderReport({ ...results, angles: undefined });
    expect(plain).not.toContain('Angle analysis');
    expect(plain).not.toContain('plots/angles.svg');
    expect(plain.startsWith('# Experiment sst2-layer-selection\n\nTask: sst2. Teacher: 12 layers, hidden 128. Created 2026-01-02T03:04:05.000Z.\n')).toBe(true);
  });

  it('flags a strategy whose layer maps equal an earlier one for every seed, next to its rows', () => {
    // 2-layer students of a 4-layer teacher: out-of-order random can only draw hs 2 then 4, which is forward.
    const twoLayer: ResultCell['layerMap'] = [[0, 0], [1, 2], [2, 4]];
    const cells = [1, 2].flatMap((seed) => (['random', 'copy'] as const).flatMap((init) => [
      cell('forward', init, seed, 2, { accuracy: 90 + seed }, twoLayer),
      cell('reverse', init, seed, 2, { accuracy: 89 }, [[0, 0], [1, 4], [2, 2]]),
      cell('out-of-order-random', init, seed, 2, { accuracy: 90 + seed }, twoLayer),
    ]));
    const md2 = renderReport({ ...results, teacher: { ...results.teacher, layers: 4 }, cells, angles: undefined });
    expect(md2).toContain('| Out-of-order random (= Forward: same layer maps) | 2 | 91.50 ± 0.71 | n/a |');
    expect(md2).toContain("Out-of-order random resolved to the same layer maps as Forward for every seed at depth 2: its students are Forward's students trained again (same seeds, same maps), not an independent measurement.");
    expect(md2).toContain('| Reverse | 2 |');
    expect(md2).not.toContain('Reverse (=');
    // One seed drawing another map is enough to keep the rows apart.
    const drawn = cells.map((c) => (c.strategy === 'out-of-order-random' && c.seed === 2 ? { ...c, layerMap: [[0, 0], [1, 1], [2, 4]] as ResultCell['layerMap'] } : c));
    expect(renderReport({ ...results, cells: drawn, angles: undefined })).not.toContain('same layer maps');
    expect(md).not.toContain('same layer maps');
  });

  it('names the divergence of a sweep\'s rows and never calls them repeats of the forward-KL students', () => {
    const twoLayer: ResultCell['layerMap'] = [[0, 0], [1, 2], [2, 4]];
    const cells = [1, 2].flatMap((seed) => [
      cell('none', 'random', seed, 2, { accuracy: 80 }),
      cell('forward', 'random', seed, 2, { accuracy: 84 + seed }, twoLayer),
      { ...cell('forward-js', 'random', seed, 2, { accuracy: 85 }, twoLayer), kd: 'js' as const },
      { ...cell('forward-skew-kl', 'random', seed, 2, { accuracy: 83 }, twoLayer), kd: 'skew-kl' as const, skewAlpha: 0.1 },
    ]);
    const md2 = renderReport({ ...results, teacher: { ...results.teacher, layers: 4 }, cells, angles: undefined });
    expect(md2).toContain('| Forward, JS | 2 | 85.00 ± 0.00 | +5.00 |');
    expect(md2).toContain('| Forward, skew KL | 2 | 83.00 ± 0.00 | +3.00 |');
    expect(md2).not.toContain('same layer maps');
  });

  it('states compression: parameters, .onnx size and latency of the teacher and of each student depth', () => {
    const latency = { seqLen: 64, runs: 5, threads: 2, teacher: { batch1Ms: 4.25, batch32Ms: 61.5 }, students: [{ depth: 3, cellId: 'forward-random-d3-s1', batch1Ms: 1.5, batch32Ms: 17.25 }] };
    const measured = renderReport({ ...results, latency }).split('\n');
    const at = measured.indexOf('## Compression');
    expect(measured.slice(at, at + 9)).toEqual([
      '## Compression',
      '',
      '| Model | Layers | Parameters | vs teacher | .onnx | CPU latency, batch 1 | CPU latency, batch 32 |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| Teacher | 12 | 1,450,000 | 1.00× | 5.54 MiB | 4.25 ms | 61.5 ms |',
      '| Student d3 | 3 | 550,000 | 0.38× | 2.11 MiB | 1.50 ms | 17.3 ms |',
      '| Student d6 | 6 | 850,000 | 0.59× | 3.25 MiB | n/a | n/a |',
      '',
      'Latency: median of 5 runs after a warm-up, one forward pass to the logits with onnxruntime-node on CPU (2 threads), 64 tokens per example, measured at the end of the run on this machine. Parameters count embeddings and the classifier.',
    ]);
    expect(md).toContain('Latency was not measured for this run');
  });
});
