import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HubError, HubErrorCode } from './errors';
import { readSafetensors, readSafetensorsCheckpoint, writeSafetensors } from './safetensors';
import { describeSharedModel, sharedModelDir } from '@strata/data';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'strata-safetensors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Length field + header (its true length, unless `headerLength` says otherwise) + data bytes. */
function craft(name: string, header: unknown, data: number | Uint8Array = 0, headerLength?: number): string {
  const json = header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerLength ?? json.length));
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([length, json, typeof data === 'number' ? Buffer.alloc(data) : data]));
  return file;
}

function hubError(fn: () => unknown, code: HubErrorCode, ...parts: string[]): HubError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).code).toBe(code);
    for (const part of parts) expect((e as HubError).message).toContain(part);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

/** The header as JSON.parse sees it, and where the data starts, read without the code under test. */
function rawHeader(file: string): { header: Record<string, { dtype: string; data_offsets: [number, number] }>; dataStart: number } {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), dataStart: 8 + n };
}

const f32 = (tensor: string, shape: number[], begin: number) => ({ [tensor]: { dtype: 'F32', shape, data_offsets: [begin, begin + 4 * shape.reduce((a, b) => a * b, 1)] } });

describe('writeSafetensors -> readSafetensors', () => {
  const exact = [1.5, -2, 0.25, 0, -0.5, 8];

  it('round-trips F32, F16 and BF16 with metadata, tensors in the given order, contiguous, header padded to 8', () => {
    const file = path.join(dir, 'roundtrip.safetensors');
    const data = Float32Array.from(exact);
    writeSafetensors(file, [
      { name: 'z.f32', dtype: 'F32', shape: [2, 3], data },
      { name: 'a.f16', dtype: 'F16', shape: [6], data },
      { name: 'm.bf16', dtype: 'BF16', shape: [3, 2], data },
    ], { format: 'pt', note: 'ünïcode' });
    const st = readSafetensors(file);
    expect(st.names()).toEqual(['z.f32', 'a.f16', 'm.bf16']);
    expect(st.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(st.info('a.f16')).toEqual({ dtype: 'F16', shape: [6] });
    expect(st.info('m.bf16')).toEqual({ dtype: 'BF16', shape: [3, 2] });
    for (const name of st.names()) expect(Array.from(st.float32(name))).toEqual(exact);

    const { header, dataStart } = rawHeader(file);
    expect((dataStart - 8) % 8).toBe(0);
    expect(header['z.f32'].data_offsets).toEqual([0, 24]);
    expect(header['a.f16'].data_offsets).toEqual([24, 36]);
    expect(header['m.bf16'].data_offsets).toEqual([36, 48]);
    expect(readFileSync(file).length).toBe(dataStart + 48);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rounds values F16 / BF16 cannot hold to nearest, ties to even', () => {
    const file = path.join(dir, 'rounding.safetensors');
    const data = Float32Array.from([0.1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    writeSafetensors(file, [
      { name: 'h', dtype: 'F16', shape: [6], data },
      { name: 'b', dtype: 'BF16', shape: [6], data },
    ]);
    const st = readSafetensors(file);
    expect(Array.from(st.float32('h'))).toEqual([0.0999755859375, 1, 1 + 2 ** -9, Infinity, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    expect(Array.from(st.float32('b'))).toEqual([0.10009765625, 1, 1, 70144, 1, 1 + 2 ** -6]);
  });

  it('refuses duplicate names and shapes that do not match the data, writing nothing', () => {
    const file = path.join(dir, 'refused.safetensors');
    const data = new Float32Array(4);
    hubError(() => writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [4], data }, { name: 'w', dtype: 'F16', shape: [2, 2], data }]), 'SAFETENSORS', "'w'", 'duplicate');
    hubError(() => writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [2, 3], data }]), 'SAFETENSORS', "'w'", '[2,3]', '4 values');
    expect(readdirSync(dir).filter((f) => f.startsWith('refused') || f.startsWith('.refused'))).toEqual([]);
  });
});

describe('readSafetensors validation', () => {
  it('refuses a file shorter than the length field, a header length past the file or absurd, a header that is not a JSON object', () => {
    const short = path.join(dir, 'short.safetensors');
    writeFileSync(short, Buffer.from([1, 2, 3, 4, 5]));
    hubError(() => readSafetensors(short), 'SAFETENSORS', short, '5 bytes');
    hubError(() => readSafetensors(craft('long.safetensors', '{}      ', 0, 1000)), 'SAFETENSORS', 'long.safetensors', 'header length 1000', '8 bytes');
    hubError(() => readSafetensors(craft('huge.safetensors', '{}', 0, 2 ** 40)), 'SAFETENSORS', 'huge.safetensors', 'limit');
    hubError(() => readSafetensors(craft('notjson.safetensors', '{"a": [1, 2')), 'SAFETENSORS', 'notjson.safetensors', 'not UTF-8 JSON');
    hubError(() => readSafetensors(craft('array.safetensors', '[1, 2]  ')), 'SAFETENSORS', 'not a JSON object');
    hubError(() => readSafetensors(craft('utf8.safetensors', Buffer.from([0x7b, 0xff, 0x7d]))), 'SAFETENSORS', 'not UTF-8 JSON');
    hubError(() => readSafetensors(path.join(dir, 'absent.safetensors')), 'MISSING', 'absent.safetensors');
  });

  it('refuses entries with missing or ill-typed fields, naming the tensor', () => {
    const cases: [unknown, string][] = [
      [{ dtype: 'F32', shape: [1] }, 'data_offsets'],
      [{ shape: [1], data_offsets: [0, 4] }, '"dtype"'],
      [{ dtype: 'F32', data_offsets: [0, 4] }, '"shape"'],
      [{ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }, '"shape"'],
      [{ dtype: 'F32', shape: [1.5], data_offsets: [0, 4] }, '"shape"'],
      [{ dtype: 'F32', shape: '[1]', data_offsets: [0, 4] }, '"shape"'],
      [{ dtype: 'F32', shape: [1], data_offsets: [4, 0] }, 'data_offsets'],
      [{ dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] }, 'data_offsets'],
      [{ dtype: 'F32', shape: [1], data_offsets: ['0', 4] }, 'data_offsets'],
      [{ dtype: 'F33', shape: [1], data_offsets: [0, 4] }, "unknown dtype 'F33'"],
      ['F32', 'not an object'],
    ];
    for (const [entry, says] of cases) {
      const e = hubError(() => readSafetensors(craft('entry.safetensors', { 'enc.w': entry }, 4)), 'SAFETENSORS', 'entry.safetensors', "tensor 'enc.w'", says);
      expect(e.tensor).toBe('enc.w');
    }
  });

  it('refuses a byte count that does not fit dtype and shape, naming tensor, dtype, shape and both counts', () => {
    const file = craft('size.safetensors', { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12);
    hubError(() => readSafetensors(file), 'SAFETENSORS', "tensor 'w'", 'F32 [2,2] takes 16 bytes', 'hold 12');
  });

  it('says a truncated file is truncated and names the tensor whose data runs past the end', () => {
    const file = craft('trunc.safetensors', { ...f32('a', [4], 0), ...f32('b', [4], 16) }, 20);
    const e = hubError(() => readSafetensors(file), 'SAFETENSORS', 'trunc.safetensors', "tensor 'b'", 'truncated');
    expect(e.tensor).toBe('b');
  });

  it('refuses overlapping data, naming both tensors; refuses gaps and trailing bytes', () => {
    hubError(() => readSafetensors(craft('overlap.safetensors', { ...f32('a', [4], 0), ...f32('b', [4], 8) }, 24)), 'SAFETENSORS', "'a'", "'b'", 'overlaps');
    hubError(() => readSafetensors(craft('gap.safetensors', { ...f32('a', [4], 0), ...f32('b', [4], 20) }, 36)), 'SAFETENSORS', "tensor 'b'", 'gap of 4');
    hubError(() => readSafetensors(craft('lead.safetensors', f32('a', [1], 4), 8)), 'SAFETENSORS', "tensor 'a'", 'gap of 4');
    hubError(() => readSafetensors(craft('tail.safetensors', f32('a', [1], 0), 8)), 'SAFETENSORS', '4 bytes after');
  });

  it('refuses __metadata__ that is not a string-to-string map', () => {
    hubError(() => readSafetensors(craft('meta.safetensors', { __metadata__: { epochs: 3 } })), 'SAFETENSORS', '__metadata__');
    hubError(() => readSafetensors(craft('meta2.safetensors', { __metadata__: ['pt'] })), 'SAFETENSORS', '__metadata__');
  });

  it('accepts an empty file and zero-size tensors', () => {
    expect(readSafetensors(craft('empty.safetensors', {})).names()).toEqual([]);
    const st = readSafetensors(craft('zero.safetensors', { ...f32('none', [0, 3], 0), ...f32('one', [1], 0) }, 4));
    expect(st.float32('none').length).toBe(0);
    expect(st.info('one').shape).toEqual([1]);
  });

  it('decodes data that starts at an odd offset (a header length that is not a multiple of 8)', () => {
    const header = JSON.stringify({
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      h: { dtype: 'F16', shape: [2], data_offsets: [12, 16] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [16, 18] },
      d: { dtype: 'F64', shape: [1], data_offsets: [18, 26] },
    });
    const padded = header + ' '.repeat((9 - (header.length % 8)) % 8); // 8 + length is odd
    expect((8 + padded.length) % 2).toBe(1);
    const data = Buffer.alloc(26);
    [1.5, -2, 0.25].forEach((v, i) => data.writeFloatLE(v, 4 * i));
    data.writeUInt16LE(0x3e00, 12); // F16 1.5
    data.writeUInt16LE(0xc000, 14); // F16 -2
    data.writeUInt16LE(0x3e80, 16); // BF16 0.25
    data.writeDoubleLE(0.1, 18);
    const st = readSafetensors(craft('odd.safetensors', padded, data));
    expect(Array.from(st.float32('a'))).toEqual([1.5, -2, 0.25]);
    expect(Array.from(st.float32('h'))).toEqual([1.5, -2]);
    expect(Array.from(st.float32('b'))).toEqual([0.25]);
    expect(st.float32('d')[0]).toBe(Math.fround(0.1));
  });

  it('float32() throws a named HubError for integer dtypes and unknown names', () => {
    const data = Buffer.alloc(9);
    const st = readSafetensors(craft('ints.safetensors', { ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] }, m: { dtype: 'BOOL', shape: [1], data_offsets: [8, 9] } }, data));
    hubError(() => st.float32('ids'), 'SAFETENSORS', "tensor 'ids'", 'I64');
    hubError(() => st.float32('m'), 'SAFETENSORS', "tensor 'm'", 'BOOL');
    hubError(() => st.float32('nope'), 'MISSING', "tensor 'nope'");
    expect(st.has('ids')).toBe(true);
    expect(st.has('nope')).toBe(false);
  });
});

describe('readSafetensorsCheckpoint', () => {
  const v = (...xs: number[]) => Float32Array.from(xs);
  function makeCheckpoint(name: string, shard1Names: string[], shard2Names: string[], weightMap: Record<string, string>): string {
    const d = mkdtempSync(path.join(dir, `${name}-`));
    const tensor = (n: string) => ({ name: n, dtype: 'F32' as const, shape: [2], data: v(n.charCodeAt(0), -1) });
    writeSafetensors(path.join(d, 'model-00001-of-00002.safetensors'), shard1Names.map(tensor));
    writeSafetensors(path.join(d, 'model-00002-of-00002.safetensors'), shard2Names.map(tensor));
    writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    return d;
  }
  const S1 = 'model-00001-of-00002.safetensors';
  const S2 = 'model-00002-of-00002.safetensors';

  it('reads two shards through the index', () => {
    const d = makeCheckpoint('sharded', ['a', 'b'], ['c'], { a: S1, c: S2, b: S1 });
    const ck = readSafetensorsCheckpoint(d);
    expect(ck.files).toEqual([path.join(d, S1), path.join(d, S2)]);
    expect(ck.names()).toEqual(['a', 'c', 'b']);
    expect(Array.from(ck.float32('c'))).toEqual([99, -1]);
    expect(Array.from(ck.float32('a'))).toEqual([97, -1]);
    expect(ck.info('b')).toEqual({ dtype: 'F32', shape: [2] });
    expect(ck.has('d')).toBe(false);
    hubError(() => ck.float32('d'), 'MISSING', "tensor 'd'");
  });

  it('refuses an index naming a tensor its shard lacks, one in two shards, one in no weight_map entry', () => {
    const missing = makeCheckpoint('missing', ['a'], ['c'], { a: S1, c: S1 });
    const e = hubError(() => readSafetensorsCheckpoint(missing), 'SAFETENSORS', path.join(missing, 'model.safetensors.index.json'), "tensor 'c'", S1);
    expect(e.tensor).toBe('c');
    hubError(() => readSafetensorsCheckpoint(makeCheckpoint('twice', ['a', 'b'], ['b'], { a: S1, b: S2 })), 'SAFETENSORS', "tensor 'b'", S1, S2, 'two shards');
    hubError(() => readSafetensorsCheckpoint(makeCheckpoint('extra', ['a', 'x'], ['c'], { a: S1, c: S2 })), 'SAFETENSORS', "tensor 'x'", 'not in weight_map');
  });

  it('falls back to model.safetensors, and names both paths tried when neither exists (mentioning pytorch_model.bin)', () => {
    const d = mkdtempSync(path.join(dir, 'single-'));
    writeSafetensors(path.join(d, 'model.safetensors'), [{ name: 'w', dtype: 'BF16', shape: [1], data: v(2) }]);
    const ck = readSafetensorsCheckpoint(d);
    expect(ck.files).toEqual([path.join(d, 'model.safetensors')]);
    expect(Array.from(ck.float32('w'))).toEqual([2]);

    const empty = mkdtempSync(path.join(dir, 'empty-'));
    const e = hubError(() => readSafetensorsCheckpoint(empty), 'MISSING', path.join(empty, 'model.safetensors.index.json'), path.join(empty, 'model.safetensors'));
    expect(e.message).not.toContain('pytorch_model.bin');
    writeFileSync(path.join(empty, 'pytorch_model.bin'), 'pickle');
    hubError(() => readSafetensorsCheckpoint(empty), 'MISSING', 'pytorch_model.bin', 'not supported');
  });
});

describeSharedModel('all-MiniLM-L6-v2', 'all-MiniLM-L6-v2 model.safetensors', () => {
  const file = path.join(sharedModelDir('all-MiniLM-L6-v2'), 'model.safetensors');

  it('lists 105 header entries (104 tensors and __metadata__) with their dtypes and shapes', () => {
    const st = readSafetensors(file);
    expect(Object.keys(rawHeader(file).header)).toHaveLength(105);
    expect(st.names()).toHaveLength(104);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.info('embeddings.word_embeddings.weight')).toEqual({ dtype: 'F32', shape: [30522, 384] });
    expect(st.info('embeddings.position_ids').dtype).toBe('I64');
    hubError(() => st.float32('embeddings.position_ids'), 'SAFETENSORS', file, "tensor 'embeddings.position_ids'", 'I64');

    const name = 'encoder.layer.0.attention.self.query.weight';
    const q = st.float32(name);
    expect(q).toHaveLength(147456);
    expect(q.every(Number.isFinite)).toBe(true);
    const { header, dataStart } = rawHeader(file);
    const bytes = readFileSync(file);
    const begin = dataStart + header[name].data_offsets[0];
    for (const i of [0, 1, 383, 147455]) expect(q[i]).toBe(bytes.readFloatLE(begin + 4 * i));
  });

  it('names the file and the last tensor when a copy is truncated by 1000 bytes', () => {
    const { header } = rawHeader(file);
    const last = Object.entries(header).filter(([k]) => k !== '__metadata__').sort((a, b) => b[1].data_offsets[1] - a[1].data_offsets[1])[0][0];
    expect(last).toBe('pooler.dense.weight');
    const copy = path.join(dir, 'minilm-truncated.safetensors');
    copyFileSync(file, copy);
    truncateSync(copy, readFileSync(file).length - 1000);
    const e = hubError(() => readSafetensors(copy), 'SAFETENSORS', copy, `tensor '${last}'`, 'truncated');
    expect(e.file).toBe(copy);
  });
});

describeSharedModel('tiny-bert-classifier', 'tiny-bert-classifier model.safetensors', () => {
  it('lists 58 header entries (57 tensors and __metadata__), classifier.weight F32 [2, 64]', () => {
    const file = path.join(sharedModelDir('tiny-bert-classifier'), 'model.safetensors');
    const st = readSafetensors(file);
    expect(Object.keys(rawHeader(file).header)).toHaveLength(58);
    expect(st.names()).toHaveLength(57);
    expect(st.info('classifier.weight')).toEqual({ dtype: 'F32', shape: [2, 64] });
    expect(st.float32('classifier.weight')).toHaveLength(128);
    expect(readSafetensorsCheckpoint(path.dirname(file)).names()).toEqual(st.names());
  });
});
