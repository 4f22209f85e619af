import type { ActivationRecord } from '@strata/activations';
import { kdLossConfig } from '@strata/kd';
import { warnOfStateScale } from './generation-student';

// Records shaped like the DART teacher's: a large residual stream in the encoder's middle layers, normalized states
// elsewhere and in the decoder.
const record = (id: string, scale: number): ActivationRecord => ({
  exampleId: id, validTokens: 2, hiddenSize: 2, layers: [0, 4], dtype: 'float32', states: Float32Array.from([1, -1, 1, -1, scale, -scale, scale, -scale]),
});
const store = { get: (id: string) => (id.startsWith('enc:') ? record(id, 15) : record(id, 1)) };
const ids = [{ encoder: 'enc:a', decoder: 'dec:a' }, { encoder: 'enc:b', decoder: 'dec:b' }];
const maps = [{ encoder: [[0, 0], [1, 4]] as [number, number][], decoder: [[0, 0], [1, 4]] as [number, number][] }];

describe('generation student: teacher state scale', () => {
  it('warns for the stack whose matched states are large under a scale-dependent normalization', () => {
    const lines: string[] = [];
    warnOfStateScale(store, ids, maps, kdLossConfig({ normalize: 'element' }), (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning \(encoder\): teacher hidden states 4 have an RMS of up to 15\.0 per unit .* normalize 'element' the hidden MSE starts near 225 per unit/);
  });

  it('stays quiet under cosine, without a hidden loss, or when the large layer is not matched', () => {
    const lines: string[] = [];
    warnOfStateScale(store, ids, maps, kdLossConfig({ normalize: 'cosine' }), (l) => lines.push(l));
    warnOfStateScale(store, ids, maps, kdLossConfig({ normalize: 'element', hidden: 0 }), (l) => lines.push(l));
    warnOfStateScale(store, ids, [{ encoder: [[0, 0]], decoder: [[1, 4]] }], kdLossConfig({ normalize: 'element' }), (l) => lines.push(l));
    expect(lines).toEqual([]);
  });
});
