import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromBfloat16, fromFloat16, toBfloat16, toFloat16 } from '@strata/onnx';
import { HubError } from './errors';

// Bytes per element of the whole-byte dtypes of the reference implementation (huggingface/safetensors). Its sub-byte
// types (F4, F6_*) are refused as unknown: no checkpoint Strata reads uses them.
const DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8, C64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

// The reference implementation's limit: a larger header is a corrupt length field, not a real header.
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
}

/** Tensors by name, from one file or from every shard of a checkpoint. */
export interface SafetensorsTensors {
  /** Tensor names in header order (a checkpoint: weight_map order). */
  names(): string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  /** A fresh Float32Array of an F64, F32, F16 or BF16 tensor; HubError for integer and bool dtypes. */
  float32(name: string): Float32Array;
}

export interface SafetensorsFile extends SafetensorsTensors {
  readonly file: string;
  readonly metadata: Record<string, string>;
}

export interface CheckpointTensors extends SafetensorsTensors {
  readonly files: string[];
}

export interface SafetensorsTensor {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: Float32Array;
}

interface Entry extends SafetensorsTensorInfo {
  name: string;
  begin: number;
  end: number;
}

type Fail = (message: string, tensor?: string) => HubError;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function parseEntry(name: string, v: unknown, bufferLength: number, fail: Fail): Entry {
  if (!isObject(v)) throw fail('header entry is not an object', name);
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string') throw fail(`"dtype" must be a string, got ${JSON.stringify(dtype)}`, name);
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) throw fail(`unknown dtype '${dtype}' (known: ${Object.keys(DTYPE_BYTES).join(' ')})`, name);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`"shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw fail(`"data_offsets" must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`, name);
  }
  const [begin, end] = offsets as [number, number];
  const bytes = numel(shape) * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== bytes) {
    throw fail(`${dtype} ${JSON.stringify(shape)} takes ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
  }
  // Checked after the size so that a corrupt offset is reported as such, not as truncation.
  if (end > bufferLength) {
    throw fail(`file is truncated: the tensor's data [${begin}, ${end}) runs past the end of the ${bufferLength}-byte data buffer`, name);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape, begin, end };
}

// Gaps are refused, as is anything but an exact tiling of the buffer: the reference reader rejects a tensor that does
// not start where the previous one ends (InvalidOffset) and data that stops short of the file's end
// (MetadataIncompleteBuffer), so a file with gaps would load here and fail everywhere else.
function checkLayout(entries: Entry[], bufferLength: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (prev && e.begin < prev.end) {
      throw fail(`data [${e.begin}, ${e.end}) overlaps that of tensor '${prev.name}' [${prev.begin}, ${prev.end})`, e.name);
    }
    if (e.begin !== at) {
      throw fail(`gap of ${e.begin - at} unused bytes before the tensor's data (at ${at}); safetensors data must be contiguous`, e.name);
    }
    at = e.end;
    prev = e;
  }
  if (at !== bufferLength) throw fail(`${bufferLength - at} bytes after the last tensor's data; the tensors must fill the data buffer`);
}

/** Reads and strictly validates a .safetensors file (whole file in memory). */
export function readSafetensors(file: string): SafetensorsFile {
  if (!existsSync(file)) throw new HubError('MISSING', 'file not found', { file });
  const bytes = readFileSync(file);
  const fail: Fail = (message, tensor) => new HubError('SAFETENSORS', message, { file, tensor });
  if (bytes.length < 8) throw fail(`${bytes.length} bytes is too short for the 8-byte header length (truncated or not safetensors)`);
  const n = bytes.readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not safetensors?)`);
  if (n > BigInt(bytes.length - 8)) throw fail(`header length ${n} exceeds the ${bytes.length - 8} bytes after the length field (truncated?)`);
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    throw fail(`header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(header)) throw fail('header is not a JSON object');
  const data = bytes.subarray(headerEnd);
  // Map order is JSON.parse's key order: the header's, except that integer-like names ("0", "12") come first.
  const entries = new Map<string, Entry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name !== '__metadata__') entries.set(name, parseEntry(name, value, data.length, fail));
    else if (value === null) continue; // the reference reader takes null as "no metadata"
    else if (isObject(value) && Object.values(value).every((s) => typeof s === 'string')) metadata = value as Record<string, string>;
    else throw fail(`"__metadata__" must map strings to strings, got ${JSON.stringify(value)}`);
  }
  checkLayout([...entries.values()], data.length, fail);

  const get = (name: string): Entry => {
    const e = entries.get(name);
    if (!e) throw new HubError('MISSING', 'no such tensor in the file', { file, tensor: name });
    return e;
  };
  return {
    file,
    metadata,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    info: (name) => ({ dtype: get(name).dtype, shape: [...get(name).shape] }),
    float32: (name) => {
      const e = get(name);
      // Copy into a fresh ArrayBuffer: the data may start at any byte offset (a header length need not be a multiple
      // of 8), and typed-array views need alignment. Typed arrays use the host's byte order, little-endian under Node.
      const raw = new Uint8Array(data.subarray(e.begin, e.end)).buffer;
      switch (e.dtype) {
        case 'F32': return new Float32Array(raw);
        case 'F64': return Float32Array.from(new Float64Array(raw));
        case 'F16': return fromFloat16(new Uint16Array(raw));
        case 'BF16': return fromBfloat16(new Uint16Array(raw));
        default: throw fail(`dtype ${e.dtype} is not a float type; float32() decodes F64, F32, F16 and BF16 only`, name);
      }
    },
  };
}

function tensorsOf(files: string[], owner: Map<string, SafetensorsFile>): CheckpointTensors {
  const get = (name: string): SafetensorsFile => {
    const f = owner.get(name);
    if (!f) throw new HubError('MISSING', `no such tensor in ${files.join(', ')}`, { tensor: name });
    return f;
  };
  return {
    files,
    names: () => [...owner.keys()],
    has: (name) => owner.has(name),
    info: (name) => get(name).info(name),
    float32: (name) => get(name).float32(name),
  };
}

function readIndexed(indexFile: string): CheckpointTensors {
  const fail: Fail = (message, tensor) => new HubError('SAFETENSORS', message, { file: indexFile, tensor });
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw fail(`not JSON: ${(e as Error).message}`);
  }
  const map = isObject(index) ? index.weight_map : undefined;
  if (!isObject(map) || !Object.values(map).every((s) => typeof s === 'string')) {
    throw fail('"weight_map" must map tensor names to shard file names');
  }
  const weightMap = new Map(Object.entries(map as Record<string, string>));
  const shards = new Map<string, SafetensorsFile>();
  for (const shard of new Set(weightMap.values())) {
    if (path.basename(shard) !== shard) throw fail(`shard '${shard}' is not a file name in the checkpoint folder`);
    const file = path.join(path.dirname(indexFile), shard);
    if (!existsSync(file)) throw new HubError('MISSING', `shard '${shard}' named by ${indexFile} not found`, { file });
    shards.set(shard, readSafetensors(file));
  }
  const owner = new Map<string, SafetensorsFile>();
  for (const [tensor, shard] of weightMap) {
    const f = shards.get(shard)!;
    if (!f.has(tensor)) throw fail(`weight_map puts it in shard '${shard}', which does not contain it`, tensor);
    owner.set(tensor, f);
  }
  for (const [shard, f] of shards) {
    for (const tensor of f.names()) {
      const listed = weightMap.get(tensor);
      if (listed === undefined) throw fail(`in shard '${shard}' but not in weight_map`, tensor);
      if (listed !== shard) throw fail(`in two shards, '${listed}' and '${shard}'`, tensor);
    }
  }
  return tensorsOf([...shards.values()].map((f) => f.file), owner);
}

/** The tensors of a Hugging Face checkpoint folder: `model.safetensors.index.json` and its shards, else `model.safetensors`. */
export function readSafetensorsCheckpoint(dir: string): CheckpointTensors {
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const single = path.join(dir, 'model.safetensors');
  if (existsSync(indexFile)) return readIndexed(indexFile);
  if (existsSync(single)) {
    const f = readSafetensors(single);
    return tensorsOf([single], new Map(f.names().map((name) => [name, f])));
  }
  const pickle = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find((name) => existsSync(path.join(dir, name)));
  const hint = pickle ? `; found ${pickle}, which is not supported: only safetensors checkpoints are read` : '';
  throw new HubError('MISSING', `no safetensors checkpoint: tried ${indexFile} and ${single}${hint}`, { file: dir });
}

/**
 * Writes tensors, in the order given and contiguous, to a .safetensors file, converting to F16/BF16 as asked. Atomic:
 * written to a temporary file in the same folder, then renamed, so readers never see half a file.
 */
export function writeSafetensors(file: string, tensors: SafetensorsTensor[], metadata?: Record<string, string>): void {
  // JSON.stringify puts integer-like names first in the header text; their offsets still give the layout written here.
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    const fail = (message: string) => new HubError('SAFETENSORS', message, { file, tensor: t.name });
    if (t.name === '__metadata__') throw fail('reserved name, not a tensor name');
    if (seen.has(t.name)) throw fail('duplicate tensor name');
    if (!['F32', 'F16', 'BF16'].includes(t.dtype)) throw fail(`cannot write dtype ${t.dtype}; only F32, F16 and BF16`);
    if (!t.shape.every(isCount) || numel(t.shape) !== t.data.length) {
      throw fail(`shape ${JSON.stringify(t.shape)} does not hold the ${t.data.length} values given`);
    }
    const encoded = t.dtype === 'F32' ? t.data : t.dtype === 'F16' ? toFloat16(t.data) : toBfloat16(t.data);
    const bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    seen.add(t.name);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  // Padded with spaces to a multiple of 8, as the reference writer does, so that the data starts 8-byte aligned.
  const headerBytes = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));

  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      for (const chunk of [length, headerBytes, ...chunks]) writeFileSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
