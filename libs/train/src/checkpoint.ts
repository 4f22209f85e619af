import * as fs from 'node:fs';
import * as path from 'node:path';

const MAGIC = 'STRATACK';
const VERSION = 1;

export interface CheckpointState {
  step: number;
  rng: number[];
  /** Where the data stream stands (epoch, batch, ...): opaque to the trainer, owned by the caller. */
  dataPosition: unknown;
  /** Anything else the caller needs to resume (config hash, best metric, ...). */
  meta?: Record<string, unknown>;
  params: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

interface Entry {
  name: string;
  kind: 'param' | 'm' | 'v';
  length: number;
}

/**
 * Writes a checkpoint atomically: a temp file fsynced and renamed over the old one, so a crash leaves either
 * the previous checkpoint or the new one, never a torn file.
 */
export function saveCheckpoint(file: string, state: CheckpointState): void {
  const entries: Entry[] = [];
  const arrays: Float32Array[] = [];
  for (const [kind, map] of [['param', state.params], ['m', state.m], ['v', state.v]] as const)
    for (const [name, a] of map) {
      entries.push({ name, kind, length: a.length });
      arrays.push(a);
    }
  const header = Buffer.from(JSON.stringify({ version: VERSION, step: state.step, rng: state.rng, dataPosition: state.dataPosition, meta: state.meta ?? {}, entries }));
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(VERSION, 8);
  prefix.writeUInt32LE(header.length, 12);
  // Pad the header so float data starts 4-byte aligned.
  const pad = Buffer.alloc((4 - ((16 + header.length) % 4)) % 4);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, prefix);
    fs.writeSync(fd, header);
    fs.writeSync(fd, pad);
    for (const a of arrays) fs.writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function loadCheckpoint(file: string): CheckpointState {
  const buf = fs.readFileSync(file);
  if (buf.length < 16 || buf.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${file} is not a Strata checkpoint`);
  const version = buf.readUInt32LE(8);
  if (version !== VERSION) throw new Error(`${file}: checkpoint version ${version} is not supported (expected ${VERSION})`);
  const headerLen = buf.readUInt32LE(12);
  if (16 + headerLen > buf.length) throw new Error(`${file}: truncated checkpoint (header needs ${headerLen} bytes, file has ${buf.length - 16})`);
  const header = JSON.parse(buf.toString('utf8', 16, 16 + headerLen));
  let offset = 16 + headerLen;
  offset += (4 - (offset % 4)) % 4;
  const state: CheckpointState = { step: header.step, rng: header.rng, dataPosition: header.dataPosition, meta: header.meta, params: new Map(), m: new Map(), v: new Map() };
  for (const e of header.entries as Entry[]) {
    const bytes = e.length * 4;
    if (offset + bytes > buf.length) throw new Error(`${file}: truncated at tensor '${e.name}' (${e.kind})`);
    const a = new Float32Array(e.length);
    new Uint8Array(a.buffer).set(buf.subarray(offset, offset + bytes));
    offset += bytes;
    (e.kind === 'param' ? state.params : e.kind === 'm' ? state.m : state.v).set(e.name, a);
  }
  if (offset !== buf.length) throw new Error(`${file}: ${buf.length - offset} unexpected trailing bytes`);
  return state;
}

/** The `meta` of a checkpoint, reading only its header (a checkpoint of a large model is hundreds of megabytes). */
export function readCheckpointMeta(file: string): Record<string, unknown> {
  const fd = fs.openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(16);
    if (fs.readSync(fd, prefix, 0, 16, 0) < 16 || prefix.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${file} is not a Strata checkpoint`);
    const header = Buffer.alloc(prefix.readUInt32LE(12));
    if (fs.readSync(fd, header, 0, header.length, 16) < header.length) throw new Error(`${file}: truncated checkpoint header`);
    return (JSON.parse(header.toString('utf8')).meta ?? {}) as Record<string, unknown>;
  } finally {
    fs.closeSync(fd);
  }
}
