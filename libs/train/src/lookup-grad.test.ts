import { BERT_DEFAULTS, BertConfig, bertParamSpecs, initParams } from '@strata/nn';
import { sumRowsById } from './adamw';
import { ClassifierBatch, batchFeeds, bertTrainGraph } from './bert-classifier';
import { Rng } from './rng';
import { Trainer } from './trainer';

const cfg: BertConfig = { ...BERT_DEFAULTS, vocabSize: 50, numLabels: 2, layers: 1, hidden: 16, heads: 2, intermediate: 32, maxPositions: 16 };

function batch(rng: Rng, firstRow: number): ClassifierBatch {
  const [B, S] = [4, 8];
  const ids = BigInt64Array.from({ length: B * S }, () => BigInt(firstRow + rng.nextInt(12))); // 12 of 50 rows: many repeats
  return { batchSize: B, length: S, size: B, inputIds: ids, attentionMask: new BigInt64Array(B * S).fill(1n), tokenTypeIds: new BigInt64Array(B * S), labels: BigInt64Array.from({ length: B }, () => BigInt(rng.nextInt(2))) };
}

describe('embedding gradients as looked-up rows', () => {
  it('sum rows by id in index order and sort the touched rows', () => {
    const ids = BigInt64Array.from([3n, 1n, 3n, -1n]);
    const updates = Float32Array.of(1, 2, 10, 20, 100, 200, 5, 6);
    const { rows, sums } = sumRowsById(ids, updates, 2, 5);
    expect(Array.from(rows)).toEqual([1, 3, 4]);
    expect(Array.from(sums)).toEqual([10, 20, 101, 202, 5, 6]);
  });

  it.each([[0.05, 'every step clipped'], [0, 'no clipping']])('train exactly as the dense gradient does (clip %s: %s)', async (clipNorm) => {
    const params = bertParamSpecs(cfg);
    const init = new Rng(3);
    const initial = initParams(params, () => init.next());
    const make = (lookups: boolean) =>
      new Trainer({
        params,
        initial,
        buildGraph: (key) => ({ ...bertTrainGraph(cfg, key), ...(lookups ? {} : { lookups: undefined }) }),
        schedule: { peakLr: 1e-2, warmupSteps: 0, totalSteps: 10, decay: 'linear' },
        clipNorm: clipNorm as number,
        seed: 7,
      });
    const [rows, dense] = [make(true), make(false)];
    const data = new Rng(11);
    const table = 'bert.embeddings.word_embeddings.weight';
    let first: Float32Array | undefined;
    let row = 0;
    for (let step = 0; step < 5; step++) {
      // Step 0 reads rows 30..41, later steps rows 0..11 only.
      const b0 = batch(data, step === 0 ? 30 : 0);
      const feeds = batchFeeds(b0, true);
      const [a, b] = [await rows.trainStep('4x8', feeds), await dense.trainStep('4x8', feeds)];
      expect(a.loss).toBe(b.loss);
      expect(a.gradNorm).toBe(b.gradNorm);
      if (step === 0) {
        row = Number(b0.inputIds[0]);
        first = rows.params.get(table)!.slice(row * 16, (row + 1) * 16);
      }
    }
    for (const p of params) expect(Buffer.from(rows.params.get(p.name)!.buffer).equals(Buffer.from(dense.params.get(p.name)!.buffer))).toBe(true);
    // A row only step 0 read kept moving afterwards on its moments, as in the dense update.
    expect(rows.params.get(table)!.subarray(row * 16, (row + 1) * 16)).not.toEqual(first);
    await Promise.all([rows.release(), dense.release()]);
  });
});
