import { type BatchRow, bucketFor, encodeSplit, makeBatches } from './batching';
import { DataError } from './errors';
import { loadSplit } from './registry';
import { Tokenizer } from './tokenizer';

/** Rows of lengths 3..40 with ids = 100 + row index, labels = row index % 2. */
const rows: BatchRow[] = Array.from({ length: 38 }, (_, i) => ({
  inputIds: Array.from({ length: i + 3 }, () => 100 + i),
  tokenTypeIds: Array.from({ length: i + 3 }, (_, t) => (t > 1 ? 1 : 0)),
  label: i % 2,
}));

describe('bucketFor', () => {
  it('picks the smallest bucket that holds the length', () => {
    expect([1, 16, 17, 64, 65, 128, 129].map((n) => bucketFor(n))).toEqual([16, 16, 32, 64, 128, 128, undefined]);
  });
});

describe('makeBatches', () => {
  const batches = makeBatches(rows, { batchSize: 4, buckets: [16, 32, 64], seed: 42 });

  it('puts every row in exactly one batch of its bucket, padding only the last batch of each bucket', () => {
    const seen = batches.flatMap((b) => Array.from(b.rowIndex).filter((i) => i >= 0));
    expect(seen.sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
    // Lengths 3..16 -> 14 rows in bucket 16 (4 batches, last has 2); 17..32 -> 16 rows (4 full); 33..40 -> 8 rows (2 full).
    const byLength = (len: number) => batches.filter((b) => b.length === len).map((b) => b.size).sort();
    expect(byLength(16)).toEqual([2, 4, 4, 4]);
    expect(byLength(32)).toEqual([4, 4, 4, 4]);
    expect(byLength(64)).toEqual([4, 4]);
    for (const b of batches) for (let r = 0; r < b.batchSize; r++) if (b.rowIndex[r] >= 0) expect(rows[b.rowIndex[r]].inputIds.length).toBeLessThanOrEqual(b.length);
  });

  it('fills int64 ids, attention mask, token types and labels, and masks padding rows', () => {
    const partial = batches.find((b) => b.size === 2);
    if (!partial) throw new Error('expected a partial batch');
    expect(partial.inputIds).toBeInstanceOf(BigInt64Array);
    expect(partial.inputIds).toHaveLength(4 * 16);
    expect(Array.from(partial.rowMask)).toEqual([1, 1, 0, 0]);
    expect(Array.from(partial.rowIndex.slice(2))).toEqual([-1, -1]);
    const r = partial.rowIndex[0];
    const n = rows[r].inputIds.length;
    const row0 = Array.from(partial.inputIds.slice(0, 16), Number);
    expect(row0).toEqual([...Array(n).fill(100 + r), ...Array(16 - n).fill(0)]);
    expect(Array.from(partial.attentionMask.slice(0, 16), Number)).toEqual([...Array(n).fill(1), ...Array(16 - n).fill(0)]);
    expect(Array.from(partial.tokenTypeIds.slice(0, 4), Number)).toEqual([0, 0, 1, 1]);
    expect(partial.labels[0]).toBe(BigInt(r % 2));
    // A padding row attends to exactly one [PAD] token, so attention softmax stays finite.
    expect(Array.from(partial.attentionMask.slice(2 * 16, 3 * 16), Number)).toEqual([1, ...Array(15).fill(0)]);
    expect(partial.labels[3]).toBe(0n);
  });

  it('is deterministic for a seed and epoch, and reshuffles for another epoch', () => {
    const order = (bs: typeof batches) => bs.map((b) => Array.from(b.rowIndex).join(',')).join(' | ');
    expect(order(makeBatches(rows, { batchSize: 4, buckets: [16, 32, 64], seed: 42 }))).toBe(order(batches));
    expect(order(makeBatches(rows, { batchSize: 4, buckets: [16, 32, 64], seed: 42, epoch: 1 }))).not.toBe(order(batches));
    const unshuffled = makeBatches(rows, { batchSize: 4, buckets: [16, 32, 64], shuffle: false });
    expect(Array.from(unshuffled[0].rowIndex)).toEqual([0, 1, 2, 3]);
    expect(unshuffled.map((b) => b.length)).toEqual([16, 16, 16, 16, 32, 32, 32, 32, 64, 64]);
  });

  it('rejects rows longer than the largest bucket and bad options', () => {
    expect(() => makeBatches(rows, { batchSize: 4, buckets: [16, 32] })).toThrow(new DataError('BATCHING', 'row 30 has 33 tokens, more than the largest bucket 32: truncate when encoding'));
    expect(() => makeBatches(rows, { batchSize: 0 })).toThrow('batchSize must be a positive integer, got 0');
    expect(() => makeBatches(rows, { batchSize: 2, buckets: [32, 16] })).toThrow('buckets must be ascending');
  });

  it('buckets seq2seq rows by source and target length', () => {
    const pairs: BatchRow[] = [
      { inputIds: [5, 6, 7], targetIds: [8, 3] },
      { inputIds: [5, 6], targetIds: Array(20).fill(9) },
      { inputIds: [5], targetIds: [3] },
    ];
    const out = makeBatches(pairs, { batchSize: 2, buckets: [4, 8], targetBuckets: [4, 32], shuffle: false });
    expect(out.map((b) => [b.length, b.targetLength, b.size])).toEqual([
      [4, 4, 2],
      [4, 32, 1],
    ]);
    expect(Array.from(out[0].targetIds ?? [], Number)).toEqual([8, 3, 0, 0, 3, 0, 0, 0]);
    expect(Array.from(out[0].targetMask ?? [], Number)).toEqual([1, 1, 0, 0, 1, 0, 0, 0]);
  });
});

describe('encodeSplit', () => {
  it('tokenizes a classification split into rows that batch into static shapes', async () => {
    const dev = loadSplit('spam', 'dev');
    const tokenizer = Tokenizer.train(dev.examples.map((e) => e.textA), { kind: 'wordpiece', vocabSize: 3000 });
    const encoded = await encodeSplit(tokenizer, dev, { maxLength: 64 });
    expect(encoded).toHaveLength(604);
    expect(Math.max(...encoded.map((r) => r.inputIds.length))).toBe(64);
    expect(encoded.map((r) => r.label)).toEqual(dev.examples.map((e) => e.label));
    const batches = makeBatches(encoded, { batchSize: 32, buckets: [16, 32, 64], seed: 1 });
    expect(batches.reduce((n, b) => n + b.size, 0)).toBe(604);
    expect(new Set(batches.map((b) => b.inputIds.length / 32))).toEqual(new Set([16, 32, 64].filter((l) => batches.some((b) => b.length === l))));
  });

  it('ends seq2seq targets with EOS ([SEP])', async () => {
    const dev = loadSplit('cmudict-g2p', 'dev');
    const small = { ...dev, examples: dev.examples.slice(0, 50) };
    const tokenizer = Tokenizer.train(small.examples.flatMap((e) => [e.source, e.target]), { kind: 'wordpiece', vocabSize: 500 });
    const encoded = await encodeSplit(tokenizer, small, { maxLength: 16, maxTargetLength: 8 });
    expect(encoded.every((r) => r.targetIds?.[r.targetIds.length - 1] === 3 && r.targetIds.length <= 8)).toBe(true);
    expect(encoded.every((r) => r.inputIds[0] === 2)).toBe(true);
  });
});
