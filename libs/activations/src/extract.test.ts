import { recordsFromBatch } from './extract';
import { decodeRecord, encodeRecord } from './record';

describe('recordsFromBatch', () => {
  // B=2, S=4, D=2, layers [2, 5]; example a: right padding (3 valid), example b: left padding (2 valid)
  const B = 2;
  const S = 4;
  const D = 2;
  const value = (l: number, b: number, s: number, i: number) => 1000 * l + 100 * b + 10 * s + i;
  const layerArray = (l: number) => Float32Array.from({ length: B * S * D }, (_, x) => value(l, Math.floor(x / (S * D)), Math.floor(x / D) % S, x % D));
  const mask = BigInt64Array.from([1n, 1n, 1n, 0n, 0n, 0n, 1n, 1n]);

  it('keeps only masked-in tokens, per layer, in sequence order', () => {
    const [a, b] = recordsFromBatch({ exampleIds: ['a', 'b'], layers: [2, 5], hiddenStates: [layerArray(0), layerArray(1)], attentionMask: mask, seqLen: S, hiddenSize: D, dtype: 'float32' });
    expect(a.validTokens).toBe(3);
    expect(Array.from(a.states)).toEqual([0, 1, 10, 11, 20, 21, 1000, 1001, 1010, 1011, 1020, 1021]);
    expect(b.validTokens).toBe(2);
    expect(Array.from(b.states)).toEqual([120, 121, 130, 131, 1120, 1121, 1130, 1131]);
    expect(b.layers).toEqual([2, 5]);
    expect(decodeRecord(encodeRecord(b)).states).toEqual(b.states);
  });

  it('slices full logits per example and top-k logits at the valid positions', () => {
    const full = recordsFromBatch({
      exampleIds: ['a', 'b'], layers: [2], hiddenStates: [layerArray(0)], attentionMask: [1, 1, 1, 0, 0, 0, 1, 1], seqLen: S, hiddenSize: D,
      logits: { kind: 'full', classes: 3, values: [1, 2, 3, 4, 5, 6] },
    });
    expect(full.map((r) => Array.from((r.logits as { values: Float32Array }).values))).toEqual([[1, 2, 3], [4, 5, 6]]);

    const k = 2;
    const indices = Array.from({ length: B * S * k }, (_, x) => x);
    const logProbs = indices.map((x) => -x / 10);
    const logSumExp = Array.from({ length: B * S }, (_, x) => 100 + x);
    const [, b] = recordsFromBatch({ exampleIds: ['a', 'b'], layers: [2], hiddenStates: [layerArray(0)], attentionMask: mask, seqLen: S, hiddenSize: D, logits: { kind: 'topk', k, indices, logProbs, logSumExp } });
    expect(b.logits).toEqual({
      kind: 'topk', k: 2, positions: 2,
      indices: Uint32Array.from([12, 13, 14, 15]),
      logProbs: Float32Array.from([-1.2, -1.3, -1.4, -1.5]),
      logSumExp: Float32Array.from([106, 107]),
    });
  });

  it('names the array whose shape is wrong', () => {
    expect(() => recordsFromBatch({ exampleIds: ['a', 'b'], layers: [2, 5], hiddenStates: [layerArray(0), new Float32Array(3)], attentionMask: mask, seqLen: S, hiddenSize: D })).toThrow(
      /hiddenStates\[1\] \(layer 5\) has 3 values; B x S x D = 2x4x2 = 16/,
    );
  });
});
