import { benchGatherGrad, benchGenerationMemory, benchKdStep, benchTrainMemory, measureMatMulPeak } from './index';

describe('MatMul peak', () => {
  it('measures a positive throughput from timed runs', async () => {
    const peak = await measureMatMulPeak(64, 3);
    expect(peak.size).toBe(64);
    expect(peak.ms).toBeGreaterThan(0);
    expect(peak.gflops).toBeCloseTo((2 * 64 ** 3) / (peak.ms * 1e6), 6);
  });
});

describe('Gather gradient bench', () => {
  it('times the rule against the scatter and finds the rule exact on every run', async () => {
    const [c] = await benchGatherGrad({ runs: 3, cases: [[64, 512]] });
    expect(c).toMatchObject({ rows: 64, ids: 512, width: 128, rule_wrong_runs: 0, runs: 6 });
    expect(c.rule_ms).toBeGreaterThan(0);
    expect(c.rule_over_scatter).toBeCloseTo(c.rule_ms / c.scatter_ms, 9);
  });
});

describe('generation memory bench', () => {
  it('runs both variants in their own processes and finds they generate the same', () => {
    const shapes: [number, number][] = [[3, 8], [2, 8], [3, 16], [3, 8]];
    const r = benchGenerationMemory({ layers: 1, maxLength: 4, shapes });
    expect(r.identical).toBe(true);
    expect(r.unbounded.session_opens).toBe(3);
    expect(r.pooled.session_opens).toBe(4); // two kept open: [3, 16] closed [3, 8], which is then opened again
    expect(r.pooled.peak_rss_mb).toBeGreaterThan(0);
    expect(r.rss_ratio).toBeCloseTo(r.unbounded.peak_rss_mb / r.pooled.peak_rss_mb, 9);
  });
});

describe('train memory bench', () => {
  it('trains the same steps with and without the arena, to the same loss', () => {
    const r = benchTrainMemory({ layers: 1, shapes: [[2, 8, 8], [2, 16, 8]], rounds: 2 });
    expect(r.variants.map((v) => v.name)).toEqual(['arena', 'malloc', 'malloc-tuned']);
    for (const v of r.variants) {
      expect(v.step_ms).toHaveLength(2);
      expect(v.peak_rss_mb).toBeGreaterThan(0);
    }
    // The allocator must not change the arithmetic.
    expect(new Set(r.variants.map((v) => v.final_loss)).size).toBe(1);
    expect(r.ratios[0].time).toBeCloseTo(r.variants[1].round_ms / r.variants[0].round_ms, 9);
  });
});

describe('KD step bench', () => {
  it('times the students\' KD step from a float16 cache, phase by phase', async () => {
    const r = await benchKdStep({ config: 'd256', steps: 2, batch: 4, seqLen: 16, teacher: false });
    expect(r.layer_map).toEqual([[0, 0], [1, 4], [2, 8], [3, 12]]);
    expect(r.cache).toMatchObject({ dtype: 'float16', records: 16, cached_layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    expect(Number.isFinite(r.final_loss)).toBe(true);
    const phases = Object.values(r.phases_ms);
    expect(phases.every((p) => p >= 0)).toBe(true);
    // Medians of parts need not add up to the median of the whole, but no single part can exceed the slowest step.
    expect(Math.max(...phases)).toBeLessThanOrEqual(Math.max(...r.step_ms_all));
    expect(r.ratio).toBeCloseTo(r.achieved_gflops / r.peak_gflops, 9);
    expect(r.teacher_forward_ms).toBeUndefined();
  });
});
