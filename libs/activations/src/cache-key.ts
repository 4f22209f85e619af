import { createHash } from 'node:crypto';
import { ActivationError } from './errors';
import { RECORD_VERSION, type ActivationDtype } from './record';

/** Everything that determines a teacher's cached activations. */
export interface CacheKeyInput {
  /** sha256 (hex) of the teacher .onnx bytes; or pass `teacherBytes` and it is hashed here. */
  teacherBytesSha256?: string;
  teacherBytes?: Uint8Array;
  tokenizerFingerprint: string;
  datasetFingerprint: string;
  split: string;
  /** Hidden-state indices, in storage order (order matters: it is the record layout). */
  layers: number[];
  dtype: ActivationDtype;
  logits: { kind: 'none' } | { kind: 'full' } | { kind: 'topk'; k: number };
  /** The teacher's weights quantized to int8 for the pass (absent or float32: as stored; keys made before stay valid). */
  teacherPrecision?: 'float32' | 'int8';
}

/** Hex characters of the key. */
export const CACHE_KEY_LENGTH = 20;

/** sha256 of a canonical JSON (sorted keys, record schema version included), cut to 20 hex characters. */
export function cacheKey(input: CacheKeyInput): string {
  let teacher = input.teacherBytesSha256?.toLowerCase();
  if (input.teacherBytes) {
    const fromBytes = createHash('sha256').update(input.teacherBytes).digest('hex');
    if (teacher !== undefined && teacher !== fromBytes) throw new ActivationError('INVALID_RECORD', `teacherBytesSha256 ${teacher} does not match the sha256 of teacherBytes (${fromBytes})`);
    teacher = fromBytes;
  }
  if (!teacher || !/^[0-9a-f]{64}$/.test(teacher)) throw new ActivationError('INVALID_RECORD', 'cacheKey needs teacherBytesSha256 (64 hex characters) or teacherBytes');
  const canonical = canonicalJson({
    schema: RECORD_VERSION,
    teacher,
    tokenizer: input.tokenizerFingerprint,
    dataset: input.datasetFingerprint,
    split: input.split,
    layers: input.layers,
    dtype: input.dtype,
    logits: input.logits.kind === 'topk' ? { kind: 'topk', k: input.logits.k } : { kind: input.logits.kind },
    teacherPrecision: input.teacherPrecision === 'int8' ? 'int8' : undefined,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, CACHE_KEY_LENGTH);
}

/** JSON with object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
