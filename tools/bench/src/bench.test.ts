import { measureMatMulPeak } from './index';

describe('MatMul peak', () => {
  it('measures a positive throughput from timed runs', async () => {
    const peak = await measureMatMulPeak(64, 3);
    expect(peak.size).toBe(64);
    expect(peak.ms).toBeGreaterThan(0);
    expect(peak.gflops).toBeCloseTo((2 * 64 ** 3) / (peak.ms * 1e6), 6);
  });
});
