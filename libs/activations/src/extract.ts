import { ActivationError } from './errors';
import type { ActivationDtype, ActivationRecordInput, TeacherLogits } from './record';

/** Teacher logits of a batch, before padding is dropped. */
export type BatchLogits =
  /** [B][classes] */
  | { kind: 'full'; classes: number; values: ArrayLike<number> }
  /** indices and logProbs [B][S][k], logSumExp [B][S]; kept at the same valid positions as the states. */
  | { kind: 'topk'; k: number; indices: ArrayLike<number> | BigInt64Array; logProbs: ArrayLike<number>; logSumExp: ArrayLike<number> };

/** Padded teacher outputs of one batch: what an ONNX teacher session returns. */
export interface TeacherBatch {
  /** B example ids, in batch order. */
  exampleIds: string[];
  /** Hidden-state indices of `hiddenStates`, in the same order. */
  layers: number[];
  /** One [B][S][D] row-major array per layer. */
  hiddenStates: ArrayLike<number>[];
  /** [B][S]; a position is valid where the mask is non-zero (left or right padding both work). int64 masks welcome. */
  attentionMask: ArrayLike<number> | BigInt64Array;
  /** S */
  seqLen: number;
  /** D */
  hiddenSize: number;
  dtype?: ActivationDtype;
  logits?: BatchLogits;
}

function fail(message: string): ActivationError {
  return new ActivationError('INVALID_RECORD', message);
}

/**
 * Splits a padded batch into one record per example holding only the valid tokens (mask != 0), in sequence order.
 * The result feeds `encodeRecord` / `FileStore.append`.
 */
export function recordsFromBatch(batch: TeacherBatch): ActivationRecordInput[] {
  const B = batch.exampleIds.length;
  const S = batch.seqLen;
  const D = batch.hiddenSize;
  const L = batch.layers.length;
  if (batch.hiddenStates.length !== L) throw fail(`${batch.hiddenStates.length} hidden-state arrays for ${L} layers`);
  if (batch.attentionMask.length !== B * S) throw fail(`attentionMask has ${batch.attentionMask.length} values; B x S = ${B}x${S} = ${B * S}`);
  batch.hiddenStates.forEach((h, l) => {
    if (h.length !== B * S * D) throw fail(`hiddenStates[${l}] (layer ${batch.layers[l]}) has ${h.length} values; B x S x D = ${B}x${S}x${D} = ${B * S * D}`);
  });
  const lg = batch.logits;
  if (lg?.kind === 'full' && lg.values.length !== B * lg.classes) throw fail(`full logits have ${lg.values.length} values; B x classes = ${B * lg.classes}`);
  if (lg?.kind === 'topk') {
    const want = B * S * lg.k;
    if (lg.indices.length !== want || lg.logProbs.length !== want) throw fail(`top-k indices/logProbs need B x S x k = ${want} values, got ${lg.indices.length}/${lg.logProbs.length}`);
    if (lg.logSumExp.length !== B * S) throw fail(`top-k logSumExp has ${lg.logSumExp.length} values; B x S = ${B * S}`);
  }

  const records: ActivationRecordInput[] = [];
  for (let b = 0; b < B; b++) {
    const valid: number[] = [];
    for (let s = 0; s < S; s++) if (Number(batch.attentionMask[b * S + s]) !== 0) valid.push(s);
    const n = valid.length;
    const states = new Float32Array(L * n * D);
    for (let l = 0; l < L; l++) {
      const h = batch.hiddenStates[l];
      for (let t = 0; t < n; t++) {
        const src = (b * S + valid[t]) * D;
        const dst = (l * n + t) * D;
        if (h instanceof Float32Array) states.set(h.subarray(src, src + D), dst);
        else for (let i = 0; i < D; i++) states[dst + i] = h[src + i];
      }
    }
    let logits: TeacherLogits | undefined;
    if (lg?.kind === 'full') {
      logits = { kind: 'full', values: Float32Array.from({ length: lg.classes }, (_, c) => lg.values[b * lg.classes + c]) };
    } else if (lg?.kind === 'topk') {
      const indices = new Uint32Array(n * lg.k);
      const logProbs = new Float32Array(n * lg.k);
      const logSumExp = new Float32Array(n);
      for (let t = 0; t < n; t++) {
        const pos = b * S + valid[t];
        logSumExp[t] = lg.logSumExp[pos];
        for (let j = 0; j < lg.k; j++) {
          indices[t * lg.k + j] = Number(lg.indices[pos * lg.k + j]);
          logProbs[t * lg.k + j] = lg.logProbs[pos * lg.k + j];
        }
      }
      logits = { kind: 'topk', k: lg.k, positions: n, indices, logProbs, logSumExp };
    }
    records.push({ exampleId: batch.exampleIds[b], validTokens: n, hiddenSize: D, layers: [...batch.layers], dtype: batch.dtype ?? 'float16', states, logits });
  }
  return records;
}
