import { STATE_RMS_WARNING, hiddenScaleWarning, stateRms } from './state-scale';

describe('teacher state scale', () => {
  it('computes the RMS per stored layer over valid tokens of every record', () => {
    // Two layers, two tokens, two units; layer 4 holds ±3 everywhere, layer 0 holds 1, 0, 1, 0 (RMS √0.5).
    const a = { layers: [0, 4], validTokens: 2, hiddenSize: 2, states: [1, 0, 1, 0, 3, -3, 3, -3] };
    const b = { layers: [0, 4], validTokens: 1, hiddenSize: 2, states: [0, 1, -3, 3] };
    const rms = stateRms([a, b]);
    expect([...rms.keys()]).toEqual([0, 4]);
    expect(rms.get(0)).toBeCloseTo(Math.sqrt(3 / 6), 12);
    expect(rms.get(4)).toBeCloseTo(3, 12);
  });

  it('warns only for a scale-dependent normalization of large matched states', () => {
    const rms = new Map([[0, 1], [4, 15.2], [8, 19.6], [12, 0.9]]);
    const w = hiddenScaleWarning(rms, [0, 4, 8, 12], 'element', 3);
    expect(w).toBe(
      "teacher hidden states 4, 8 have an RMS of up to 19.6 per unit (un-normalized, as a pre-norm model's residual stream is); with normalize 'element' the hidden MSE starts near 384 per unit and can swamp CE and KL. normalize 'cosine' is scale-free",
    );
    expect(hiddenScaleWarning(rms, [0, 4, 8, 12], 'cosine', 3)).toBeUndefined();
    expect(hiddenScaleWarning(rms, [0, 4, 8, 12], 'token', 0)).toBeUndefined();
    // Post-LayerNorm states (BERT, post-LN BART) and unmatched large layers pass.
    expect(hiddenScaleWarning(rms, [0, 12], 'token', 3)).toBeUndefined();
    expect(hiddenScaleWarning(new Map([[4, STATE_RMS_WARNING]]), [4], 'element', 3)).toBeUndefined();
  });
});
