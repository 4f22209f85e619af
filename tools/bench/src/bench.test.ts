import { benchGatherGrad, measureMatMulPeak } from './index';

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
