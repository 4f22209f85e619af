import { DataError } from './errors';
import { mixSeeds, shuffleInPlace, splitmix32 } from './random';
import type { Tokenizer } from './tokenizer';
import type { ClassificationSplit, Seq2SeqSplit } from './types';

/** Sequence lengths a batch may have, so ONNX sessions see a few static shapes. */
export const DEFAULT_BUCKETS: readonly number[] = [16, 32, 64, 128];

/** One tokenized example to batch. */
export interface BatchRow {
  inputIds: readonly number[];
  /** Token types; all 0 when absent. */
  tokenTypeIds?: readonly number[];
  /** Class id (classification), or -1 for unlabeled rows. */
  label?: number;
  /** Seq2seq: target token ids (ending with EOS). When one row has them, every row must. */
  targetIds?: readonly number[];
}

export interface BucketBatchOptions {
  /** Rows per batch; every batch has exactly this many rows (the last of a bucket is padded). */
  batchSize: number;
  /** Allowed sequence lengths, ascending. Default `DEFAULT_BUCKETS` (16/32/64/128). */
  buckets?: readonly number[];
  /** Allowed target lengths for seq2seq rows. Default: the same as `buckets`. */
  targetBuckets?: readonly number[];
  /** Token id used for padding. Default 0 ([PAD] in Strata's tokenizers). */
  padId?: number;
  /** Shuffle rows within buckets and the order of batches. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Epoch number, mixed into the seed so each epoch has its own deterministic order. Default 0. */
  epoch?: number;
}

/**
 * One batch, row-major `[batchSize, length]` arrays in the dtypes ONNX BERT-style graphs take (int64).
 * Padding rows (after the real ones) have `rowMask` 0, `rowIndex` -1, label 0, and attend to a single [PAD]
 * token at position 0, so a softmax over their attention never divides by zero (a NaN there would survive a
 * zero loss weight).
 */
export interface Batch {
  /** Sequence length of this batch: its bucket. */
  length: number;
  batchSize: number;
  /** Number of real rows; rows `size..batchSize-1` are padding. */
  size: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** `[batchSize]` labels (0 on padding rows). */
  labels: BigInt64Array;
  /** `[batchSize]`: 1 for real rows, 0 for padding rows; multiply per-row losses by it. */
  rowMask: Float32Array;
  /** `[batchSize]`: index of each row in the input array, -1 for padding rows. */
  rowIndex: Int32Array;
  /** Seq2seq only: target length (its bucket), `[batchSize, targetLength]` target ids and mask. */
  targetLength?: number;
  targetIds?: BigInt64Array;
  targetMask?: BigInt64Array;
}

/** Smallest bucket that holds `length` tokens, or undefined if none does. */
export function bucketFor(length: number, buckets: readonly number[] = DEFAULT_BUCKETS): number | undefined {
  for (const b of buckets) if (length <= b) return b;
  return undefined;
}

/**
 * Groups rows into batches of one bucket length each (seq2seq: one source and one target bucket), shuffled
 * deterministically from `seed` and `epoch`. Every row appears in exactly one batch. A row longer than the
 * largest bucket is a `BATCHING` error: truncate when encoding (`maxLength` = largest bucket).
 */
export function makeBatches(rows: readonly BatchRow[], options: BucketBatchOptions): Batch[] {
  const { batchSize } = options;
  const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
  const targetBuckets = [...(options.targetBuckets ?? buckets)];
  const padId = options.padId ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError('BATCHING', `batchSize must be a positive integer, got ${batchSize}`);
  for (const list of [buckets, targetBuckets]) {
    if (list.length === 0 || list.some((b, i) => !Number.isInteger(b) || b < 1 || (i > 0 && b <= list[i - 1]))) {
      throw new DataError('BATCHING', `buckets must be ascending positive integers, got [${list.join(', ')}]`);
    }
  }
  const seq2seq = rows.length > 0 && rows[0].targetIds !== undefined;

  // Assign each row to its (source bucket, target bucket) group.
  const groups = new Map<string, { length: number; targetLength: number; members: number[] }>();
  rows.forEach((row, i) => {
    const length = bucketFor(row.inputIds.length, buckets);
    if (length === undefined) {
      throw new DataError('BATCHING', `row ${i} has ${row.inputIds.length} tokens, more than the largest bucket ${buckets[buckets.length - 1]}: truncate when encoding`);
    }
    if (row.tokenTypeIds && row.tokenTypeIds.length !== row.inputIds.length) {
      throw new DataError('BATCHING', `row ${i}: ${row.tokenTypeIds.length} token types for ${row.inputIds.length} tokens`);
    }
    if ((row.targetIds !== undefined) !== seq2seq) throw new DataError('BATCHING', `row ${i}: either every row has targetIds or none does`);
    let targetLength = 0;
    if (row.targetIds) {
      const t = bucketFor(row.targetIds.length, targetBuckets);
      if (t === undefined) {
        throw new DataError('BATCHING', `row ${i} has a ${row.targetIds.length}-token target, more than the largest target bucket ${targetBuckets[targetBuckets.length - 1]}`);
      }
      targetLength = t;
    }
    const key = `${length}/${targetLength}`;
    const group = groups.get(key) ?? { length, targetLength, members: [] };
    group.members.push(i);
    groups.set(key, group);
  });

  const shuffle = options.shuffle ?? true;
  const random = splitmix32(mixSeeds(options.seed ?? 0, options.epoch ?? 0));
  const ordered = [...groups.values()].sort((a, b) => a.length - b.length || a.targetLength - b.targetLength);
  const plans: { length: number; targetLength: number; members: number[] }[] = [];
  for (const group of ordered) {
    if (shuffle) shuffleInPlace(group.members, random);
    for (let start = 0; start < group.members.length; start += batchSize) {
      plans.push({ length: group.length, targetLength: group.targetLength, members: group.members.slice(start, start + batchSize) });
    }
  }
  if (shuffle) shuffleInPlace(plans, random);
  return plans.map((plan) => fillBatch(rows, plan, batchSize, padId, seq2seq));
}

function fillBatch(
  rows: readonly BatchRow[],
  plan: { length: number; targetLength: number; members: number[] },
  batchSize: number,
  padId: number,
  seq2seq: boolean,
): Batch {
  const { length, targetLength, members } = plan;
  const pad = BigInt(padId);
  const inputIds = new BigInt64Array(batchSize * length).fill(pad);
  const attentionMask = new BigInt64Array(batchSize * length);
  const tokenTypeIds = new BigInt64Array(batchSize * length);
  const labels = new BigInt64Array(batchSize);
  const rowMask = new Float32Array(batchSize);
  const rowIndex = new Int32Array(batchSize).fill(-1);
  const targetIds = seq2seq ? new BigInt64Array(batchSize * targetLength).fill(pad) : undefined;
  const targetMask = seq2seq ? new BigInt64Array(batchSize * targetLength) : undefined;
  for (let r = 0; r < batchSize; r++) {
    const offset = r * length;
    if (r >= members.length) {
      attentionMask[offset] = 1n; // padding row: one attended [PAD] token, see Batch
      if (targetMask) targetMask[r * targetLength] = 1n;
      continue;
    }
    const row = rows[members[r]];
    rowIndex[r] = members[r];
    rowMask[r] = 1;
    labels[r] = BigInt(row.label ?? -1);
    row.inputIds.forEach((id, t) => {
      inputIds[offset + t] = BigInt(id);
      attentionMask[offset + t] = 1n;
    });
    row.tokenTypeIds?.forEach((type, t) => (tokenTypeIds[offset + t] = BigInt(type)));
    if (targetIds && targetMask && row.targetIds) {
      const tOffset = r * targetLength;
      row.targetIds.forEach((id, t) => {
        targetIds[tOffset + t] = BigInt(id);
        targetMask[tOffset + t] = 1n;
      });
    }
  }
  const batch: Batch = { length, batchSize, size: members.length, inputIds, attentionMask, tokenTypeIds, labels, rowMask, rowIndex };
  if (seq2seq) Object.assign(batch, { targetLength, targetIds, targetMask });
  return batch;
}

/**
 * Tokenizes a classification or seq2seq split into batch rows, truncated to `maxLength` (default: the largest
 * default bucket, 128). Classification: `[CLS] A [SEP] (B [SEP])` with token types and the label. Seq2seq:
 * source with special tokens; target without them, then the tokenizer's EOS (`[SEP]` in Strata's tokenizers),
 * truncated to `maxTargetLength` (default `maxLength`).
 */
export async function encodeSplit(
  tokenizer: Tokenizer,
  split: ClassificationSplit | Seq2SeqSplit,
  options: { maxLength?: number; maxTargetLength?: number } = {},
): Promise<BatchRow[]> {
  const maxLength = options.maxLength ?? DEFAULT_BUCKETS[DEFAULT_BUCKETS.length - 1];
  if (split.kind === 'classification') {
    const encoded = await tokenizer.encodeBatch(
      split.examples.map((e) => (e.textB === undefined ? e.textA : ([e.textA, e.textB] as const))),
      { maxLength },
    );
    return encoded.map((e, i) => ({ inputIds: e.ids, tokenTypeIds: e.typeIds, label: split.examples[i].label }));
  }
  const eos = tokenizer.specialIds.eos;
  if (eos === undefined) throw new DataError('TOKENIZER', 'the tokenizer has no EOS token ([SEP] or </s>) to end targets with');
  const maxTargetLength = options.maxTargetLength ?? maxLength;
  const sources = await tokenizer.encodeBatch(split.examples.map((e) => e.source), { maxLength });
  const targets = await tokenizer.encodeBatch(split.examples.map((e) => e.target), { maxLength: maxTargetLength - 1, addSpecialTokens: false });
  return sources.map((s, i) => ({ inputIds: s.ids, tokenTypeIds: s.typeIds, targetIds: [...targets[i].ids, eos] }));
}
