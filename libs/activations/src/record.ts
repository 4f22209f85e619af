import { endianness } from 'node:os';
import { toFloat16, fromFloat16Into, toBfloat16, fromBfloat16Into } from '@strata/onnx';
import { crc32c } from './crc32c';
import { ActivationError, RecordPosition } from './errors';

/** Storage dtype of the hidden states. Logits are always stored as float32. */
export type ActivationDtype = 'float16' | 'bfloat16' | 'float32';

/** All C class logits of a classifier teacher (one vector per example). */
export interface FullLogits {
  kind: 'full';
  values: Float32Array;
}

/** Top-k of a vocabulary teacher, per position: k token ids, their log-probs and the position's log-sum-exp. */
export interface TopKLogits {
  kind: 'topk';
  k: number;
  /** Number of positions (usually the valid token count n; decoder positions for seq2seq). */
  positions: number;
  /** [positions][k] token ids, most probable first. */
  indices: Uint32Array;
  /** [positions][k] log-probabilities (log-softmax of the logits) matching `indices`. */
  logProbs: Float32Array;
  /** [positions] log-sum-exp of the full logit vector, so `logit = logProb + logSumExp`. */
  logSumExp: Float32Array;
}

export type TeacherLogits = FullLogits | TopKLogits;

/** One example's cached teacher outputs, as returned by `decodeRecord`. */
export interface ActivationRecord {
  exampleId: string;
  /** n: valid (unpadded) tokens stored. */
  validTokens: number;
  /** d: hidden size. */
  hiddenSize: number;
  /** Teacher hidden-state indices held, in storage order (0 = embeddings output). */
  layers: number[];
  /** Storage dtype; `states` are float32 regardless. */
  dtype: ActivationDtype;
  /** [layers.length][validTokens][hiddenSize], row-major. */
  states: Float32Array;
  logits?: TeacherLogits;
}

/** What `encodeRecord` accepts: `dtype` defaults to float16 and states may be any numeric array. */
export interface ActivationRecordInput extends Omit<ActivationRecord, 'dtype' | 'states'> {
  dtype?: ActivationDtype;
  states: ArrayLike<number>;
}

/** Header fields of a record whose checksum has been verified; no state conversion done. */
export interface RecordHeader {
  version: number;
  exampleId: string;
  validTokens: number;
  hiddenSize: number;
  layers: number[];
  dtype: ActivationDtype;
  logitsKind: 'none' | TeacherLogits['kind'];
  /** C for full logits, k for top-k, 0 for none. */
  logitsWidth: number;
  /** Top-k positions; 0 otherwise. */
  logitsPositions: number;
  /** Total record bytes, checksum included. */
  byteLength: number;
  /** The record's CRC32C (its last four bytes). */
  crc: number;
}

export const RECORD_MAGIC = 0x54434153; // "SACT" read as little-endian u32
export const RECORD_VERSION = 1;
export const HEADER_BYTES = 32;
const CRC_BYTES = 4;

const DTYPE_CODES: Record<ActivationDtype, number> = { float16: 1, bfloat16: 2, float32: 3 };
const DTYPE_BY_CODE: Record<number, ActivationDtype | undefined> = { 1: 'float16', 2: 'bfloat16', 3: 'float32' };
const KIND_CODES = { none: 0, full: 1, topk: 2 } as const;
const KIND_BY_CODE: Record<number, RecordHeader['logitsKind'] | undefined> = { 0: 'none', 1: 'full', 2: 'topk' };
const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function bytesPerState(dtype: ActivationDtype): number {
  return dtype === 'float32' ? 4 : 2;
}

function align4(x: number): number {
  return (x + 3) & ~3;
}

function isCount(x: number, max = 0xffffffff): boolean {
  return Number.isInteger(x) && x >= 0 && x <= max;
}

function invalid(message: string): ActivationError {
  return new ActivationError('INVALID_RECORD', message);
}

/** Copies a typed array's bytes into `out` at `offset` as little-endian. */
function putLE(out: Uint8Array, offset: number, a: Uint16Array | Uint32Array | Float32Array): void {
  out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
  if (!LITTLE_ENDIAN_HOST) swapInPlace(out.subarray(offset, offset + a.byteLength), a.BYTES_PER_ELEMENT);
}

/** A fresh, aligned copy of little-endian bytes, ready to view as a typed array. */
function takeLE(bytes: Uint8Array, offset: number, length: number, width: number): ArrayBuffer {
  const copy = bytes.slice(offset, offset + length);
  if (!LITTLE_ENDIAN_HOST) swapInPlace(copy, width);
  return copy.buffer;
}

function swapInPlace(b: Uint8Array, width: number): void {
  for (let i = 0; i < b.length; i += width) b.subarray(i, i + width).reverse();
}

function validate(rec: ActivationRecordInput, dtype: ActivationDtype): Uint8Array {
  if (typeof rec.exampleId !== 'string' || rec.exampleId.length === 0) throw invalid('exampleId must be a non-empty string');
  const id = utf8.encode(rec.exampleId);
  if (id.length > 0xffff) throw invalid(`exampleId is ${id.length} UTF-8 bytes; at most 65535`);
  if (!(dtype in DTYPE_CODES)) throw invalid(`dtype "${dtype}" is not float16, bfloat16 or float32`);
  if (!isCount(rec.validTokens)) throw invalid(`validTokens must be a non-negative integer, got ${rec.validTokens}`);
  if (!isCount(rec.hiddenSize)) throw invalid(`hiddenSize must be a non-negative integer, got ${rec.hiddenSize}`);
  if (rec.layers.length > 0xffff) throw invalid(`${rec.layers.length} layers; at most 65535`);
  for (const l of rec.layers) if (!isCount(l, 0xffff)) throw invalid(`layer id ${l} is not an integer in 0..65535`);
  const expected = rec.layers.length * rec.validTokens * rec.hiddenSize;
  if (rec.states.length !== expected) {
    throw invalid(`states has ${rec.states.length} values; layers x validTokens x hiddenSize = ${rec.layers.length}x${rec.validTokens}x${rec.hiddenSize} = ${expected}`);
  }
  const lg = rec.logits;
  if (lg?.kind === 'full') {
    if (lg.values.length < 1) throw invalid('full logits need at least one class');
  } else if (lg?.kind === 'topk') {
    if (!isCount(lg.k) || lg.k < 1) throw invalid(`top-k logits need k >= 1, got ${lg.k}`);
    if (!isCount(lg.positions)) throw invalid(`top-k positions must be a non-negative integer, got ${lg.positions}`);
    const pk = lg.positions * lg.k;
    if (lg.indices.length !== pk) throw invalid(`top-k indices has ${lg.indices.length} values; positions x k = ${pk}`);
    if (lg.logProbs.length !== pk) throw invalid(`top-k logProbs has ${lg.logProbs.length} values; positions x k = ${pk}`);
    if (lg.logSumExp.length !== lg.positions) throw invalid(`top-k logSumExp has ${lg.logSumExp.length} values; positions = ${lg.positions}`);
  } else if (lg !== undefined) {
    throw invalid(`logits kind "${(lg as { kind: unknown }).kind}" is not "full" or "topk"`);
  }
  return id;
}

function logitsBytes(kind: RecordHeader['logitsKind'], width: number, positions: number): number {
  if (kind === 'full') return 4 * width;
  if (kind === 'topk') return positions * (8 * width + 4);
  return 0;
}

/** Serializes one record (layout: README.md, "Record layout"). Throws `INVALID_RECORD` on inconsistent fields. */
export function encodeRecord(rec: ActivationRecordInput): Uint8Array {
  const dtype = rec.dtype ?? 'float16';
  const id = validate(rec, dtype);
  const L = rec.layers.length;
  const lg = rec.logits;
  const kind = lg?.kind ?? 'none';
  const width = lg?.kind === 'full' ? lg.values.length : lg?.kind === 'topk' ? lg.k : 0;
  const positions = lg?.kind === 'topk' ? lg.positions : 0;
  const statesOffset = align4(HEADER_BYTES + id.length + 2 * L);
  const statesBytes = rec.states.length * bytesPerState(dtype);
  const total = statesOffset + statesBytes + logitsBytes(kind, width, positions) + CRC_BYTES;
  if (total > 0xffffffff) throw invalid(`record would be ${total} bytes; at most 4 GiB`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, RECORD_MAGIC, true);
  view.setUint16(4, RECORD_VERSION, true);
  view.setUint8(6, DTYPE_CODES[dtype]);
  view.setUint8(7, KIND_CODES[kind]);
  view.setUint32(8, total, true);
  view.setUint32(12, rec.validTokens, true);
  view.setUint32(16, rec.hiddenSize, true);
  view.setUint16(20, L, true);
  view.setUint16(22, id.length, true);
  view.setUint32(24, width, true);
  view.setUint32(28, positions, true);
  out.set(id, HEADER_BYTES);
  for (let i = 0; i < L; i++) view.setUint16(HEADER_BYTES + id.length + 2 * i, rec.layers[i], true);

  let at = statesOffset;
  const states =
    dtype === 'float32'
      ? rec.states instanceof Float32Array
        ? rec.states
        : Float32Array.from(rec.states)
      : dtype === 'float16'
        ? toFloat16(rec.states)
        : toBfloat16(rec.states);
  putLE(out, at, states);
  at += statesBytes;
  if (lg?.kind === 'full') {
    putLE(out, at, Float32Array.from(lg.values));
    at += 4 * width;
  } else if (lg?.kind === 'topk') {
    putLE(out, at, Uint32Array.from(lg.indices));
    at += 4 * positions * width;
    putLE(out, at, Float32Array.from(lg.logProbs));
    at += 4 * positions * width;
    putLE(out, at, Float32Array.from(lg.logSumExp));
    at += 4 * positions;
  }
  view.setUint32(at, crc32c(out.subarray(0, at)), true);
  return out;
}

/**
 * Checks size, magic, version and checksum, then parses the header without converting the states. `position`
 * (segment, offset, index) is only used to say where a bad record sits.
 */
export function readRecordHeader(bytes: Uint8Array, position?: RecordPosition): RecordHeader {
  const fail = (code: 'BAD_MAGIC' | 'UNKNOWN_VERSION' | 'CHECKSUM' | 'TRUNCATED' | 'MALFORMED', message: string) =>
    new ActivationError(code, message, position);
  if (bytes.length < HEADER_BYTES + CRC_BYTES) {
    throw fail('TRUNCATED', `activation record has ${bytes.length} bytes; the header and checksum alone take ${HEADER_BYTES + CRC_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== RECORD_MAGIC) {
    throw fail('BAD_MAGIC', `not an activation record: magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x${RECORD_MAGIC.toString(16)} ("SACT")`);
  }
  const version = view.getUint16(4, true);
  if (version !== RECORD_VERSION) {
    throw fail('UNKNOWN_VERSION', `activation record schema version ${version} is unknown; this reader knows version ${RECORD_VERSION}`);
  }
  const crcAt = bytes.length - CRC_BYTES;
  const stored = view.getUint32(crcAt, true);
  const actual = crc32c(bytes.subarray(0, crcAt));
  if (stored !== actual) {
    throw fail('CHECKSUM', `activation record checksum mismatch: stored CRC32C 0x${hex8(stored)}, computed 0x${hex8(actual)} over ${crcAt} bytes (the record is corrupted)`);
  }
  const dtype = DTYPE_BY_CODE[view.getUint8(6)];
  if (!dtype) throw fail('MALFORMED', `unknown dtype code ${view.getUint8(6)}`);
  const logitsKind = KIND_BY_CODE[view.getUint8(7)];
  if (!logitsKind) throw fail('MALFORMED', `unknown logits kind code ${view.getUint8(7)}`);
  const byteLength = view.getUint32(8, true);
  const validTokens = view.getUint32(12, true);
  const hiddenSize = view.getUint32(16, true);
  const L = view.getUint16(20, true);
  const idLen = view.getUint16(22, true);
  const logitsWidth = view.getUint32(24, true);
  const logitsPositions = view.getUint32(28, true);
  const statesOffset = align4(HEADER_BYTES + idLen + 2 * L);
  const expected = statesOffset + L * validTokens * hiddenSize * bytesPerState(dtype) + logitsBytes(logitsKind, logitsWidth, logitsPositions) + CRC_BYTES;
  if (byteLength !== bytes.length || expected !== bytes.length) {
    throw fail('MALFORMED', `activation record is ${bytes.length} bytes; its header says ${byteLength} and its fields imply ${expected}`);
  }
  let exampleId: string;
  try {
    exampleId = utf8Decoder.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + idLen));
  } catch {
    throw fail('MALFORMED', 'example id is not valid UTF-8');
  }
  const layers: number[] = [];
  for (let i = 0; i < L; i++) layers.push(view.getUint16(HEADER_BYTES + idLen + 2 * i, true));
  return { version, exampleId, validTokens, hiddenSize, layers, dtype, logitsKind, logitsWidth, logitsPositions, byteLength, crc: stored };
}

/** Parses and verifies one record; states come back as float32 whatever the storage dtype. */
export interface DecodeOptions {
  /**
   * Decode only these hidden states (a subset of the record's, in this order); the record's `layers` and `states` then
   * hold just them. The checksum still covers the whole record. A student decodes the states its layer map matches,
   * not every one the cache holds (docs/BENCHMARKS.md, "KD step").
   */
  layers?: readonly number[];
}

export function decodeRecord(bytes: Uint8Array, position?: RecordPosition, options: DecodeOptions = {}): ActivationRecord {
  const h = readRecordHeader(bytes, position);
  const L = h.layers.length;
  let at = align4(HEADER_BYTES + utf8.encode(h.exampleId).length + 2 * L);
  const perLayer = h.validTokens * h.hiddenSize;
  const width = h.dtype === 'float32' ? 4 : 2;
  const wanted = options.layers ?? h.layers;
  const states = new Float32Array(wanted.length * perLayer);
  wanted.forEach((layer, k) => {
    const li = h.layers.indexOf(layer);
    if (li < 0) throw new ActivationError('NOT_FOUND', `example '${h.exampleId}' holds hidden states ${h.layers.join(', ')}, not ${layer}`, position);
    const from = at + li * width * perLayer;
    if (h.dtype === 'float32') states.set(new Float32Array(takeLE(bytes, from, 4 * perLayer, 4)), k * perLayer);
    else {
      // A view where the bytes allow one (little-endian host, even address), else an aligned copy.
      const start = bytes.byteOffset + from;
      const bits = LITTLE_ENDIAN_HOST && start % 2 === 0 ? new Uint16Array(bytes.buffer, start, perLayer) : new Uint16Array(takeLE(bytes, from, 2 * perLayer, 2));
      (h.dtype === 'float16' ? fromFloat16Into : fromBfloat16Into)(bits, states, k * perLayer);
    }
  });
  at += width * L * perLayer;
  const rec: ActivationRecord = { exampleId: h.exampleId, validTokens: h.validTokens, hiddenSize: h.hiddenSize, layers: [...wanted], dtype: h.dtype, states };
  if (h.logitsKind === 'full') {
    rec.logits = { kind: 'full', values: new Float32Array(takeLE(bytes, at, 4 * h.logitsWidth, 4)) };
  } else if (h.logitsKind === 'topk') {
    const pk = h.logitsPositions * h.logitsWidth;
    const indices = new Uint32Array(takeLE(bytes, at, 4 * pk, 4));
    at += 4 * pk;
    const logProbs = new Float32Array(takeLE(bytes, at, 4 * pk, 4));
    at += 4 * pk;
    const logSumExp = new Float32Array(takeLE(bytes, at, 4 * h.logitsPositions, 4));
    rec.logits = { kind: 'topk', k: h.logitsWidth, positions: h.logitsPositions, indices, logProbs, logSumExp };
  }
  return rec;
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, '0');
}
