import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationError } from './errors';
import { FileStore, segmentName } from './file-store';
import { encodeRecord, type ActivationRecordInput } from './record';

const KEY = 'c0ffee0123456789abcd';

function rec(i: number, overrides: Partial<ActivationRecordInput> = {}): ActivationRecordInput {
  const L = 2;
  const n = 3 + (i % 4);
  const d = 8;
  return {
    exampleId: `ex-${i}`,
    validTokens: n,
    hiddenSize: d,
    layers: [3, 7],
    dtype: 'float32',
    states: Float32Array.from({ length: L * n * d }, (_, x) => i + x / 1000),
    logits: { kind: 'full', values: Float32Array.from([i, -i]) },
    ...overrides,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ActivationError) return e.code;
    throw e;
  }
  return undefined;
}

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-acts-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const dirOf = () => path.join(root, KEY);
const seg = (i: number) => path.join(dirOf(), segmentName(i));

describe('FileStore', () => {
  it('appends, gets by id and iterates in append order (sync and for await)', async () => {
    const store = FileStore.open(root, KEY);
    for (const i of [5, 2, 9]) store.append(rec(i));
    expect(store.count).toBe(3);
    expect(store.get('ex-2')?.states).toEqual(rec(2).states);
    expect(store.get('ex-2')?.logits).toEqual({ kind: 'full', values: Float32Array.from([2, -2]) });
    expect(store.get('nope')).toBeUndefined();
    expect([...store].map((r) => r.exampleId)).toEqual(['ex-5', 'ex-2', 'ex-9']);
    const seen: string[] = [];
    for await (const r of store) seen.push(r.exampleId);
    expect(seen).toEqual(['ex-5', 'ex-2', 'ex-9']);
    store.close();

    const again = FileStore.open(root, KEY, { readOnly: true });
    expect(again.ids()).toEqual(['ex-5', 'ex-2', 'ex-9']);
    expect(again.openReport.rebuiltIndex).toBe(false);
    again.close();
  });

  it('accepts already-encoded records', () => {
    const store = FileStore.open(root, KEY);
    store.append(encodeRecord(rec(1)));
    expect(store.get('ex-1')?.validTokens).toBe(4);
    store.close();
  });

  it('truncates a torn tail on reopen: N-1 records served, file cut to the last full record, appends continue', () => {
    const N = 6;
    const store = FileStore.open(root, KEY);
    const entries = Array.from({ length: N }, (_, i) => store.append(rec(i)));
    store.close();
    const last = entries[N - 1];
    const fullSize = fs.statSync(seg(0)).size;
    expect(fullSize).toBe(last.offset + 4 + last.length);
    fs.truncateSync(seg(0), last.offset + 4 + Math.floor(last.length / 2)); // crash mid-record

    const reopened = FileStore.open(root, KEY);
    expect(reopened.count).toBe(N - 1);
    expect(reopened.has(`ex-${N - 1}`)).toBe(false);
    expect(reopened.openReport.truncatedBytes).toBe(4 + Math.floor(last.length / 2));
    expect(fs.statSync(seg(0)).size).toBe(last.offset);
    expect([...reopened].map((r) => r.exampleId)).toEqual(Array.from({ length: N - 1 }, (_, i) => `ex-${i}`));
    reopened.append(rec(N - 1));
    reopened.append(rec(N));
    reopened.close();

    const third = FileStore.open(root, KEY);
    expect(third.count).toBe(N + 1);
    expect(third.get(`ex-${N}`)?.states).toEqual(rec(N).states);
    third.close();
  });

  it('handles a crash without close (index written at open covers nothing) and a torn frame header', () => {
    const store = FileStore.open(root, KEY);
    for (let i = 0; i < 3; i++) store.append(rec(i));
    // no close(): simulate the process dying; then a half-written length prefix
    fs.appendFileSync(seg(0), Uint8Array.from([0x10, 0x02]));
    const reopened = FileStore.open(root, KEY);
    expect(reopened.count).toBe(3);
    expect(reopened.openReport).toEqual({ truncatedBytes: 2, rebuiltIndex: false });
    expect(fs.statSync(seg(0)).size).toBe(reopened.locate("ex-2")!.offset + 4 + reopened.locate("ex-2")!.length);
    reopened.close();
  });

  it('treats a zero-filled tail (size extended, data never written) as torn', () => {
    const store = FileStore.open(root, KEY);
    store.append(rec(0));
    store.append(rec(1));
    store.close();
    const size = fs.statSync(seg(0)).size;
    fs.appendFileSync(seg(0), new Uint8Array(300));
    const reopened = FileStore.open(root, KEY);
    expect(reopened.count).toBe(2);
    expect(reopened.openReport.truncatedBytes).toBe(300);
    expect(fs.statSync(seg(0)).size).toBe(size);
    reopened.close();
  });

  it('reports an incomplete record in a non-final segment as corruption, not a torn tail', () => {
    const store = FileStore.open(root, KEY, { segmentBytes: 64 });
    for (let i = 0; i < 3; i++) store.append(rec(i));
    store.close();
    fs.truncateSync(seg(1), 50);
    expect(() => FileStore.open(root, KEY)).toThrow(expect.objectContaining({ code: 'CORRUPT_STORE', message: `${seg(1)}@0 (record #1): incomplete record in a non-final segment` }));
  });

  it('a reader never serves or truncates a torn tail, and refresh() picks up records once whole', () => {
    const writer = FileStore.open(root, KEY);
    writer.append(rec(0));
    const bytes = encodeRecord(rec(1));
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setUint32(0, bytes.length, true);
    frame.set(bytes, 4);
    const size = fs.statSync(seg(0)).size;
    fs.appendFileSync(seg(0), frame.subarray(0, 20)); // another process mid-write

    const reader = FileStore.open(root, KEY, { readOnly: true });
    expect(reader.count).toBe(1);
    expect(fs.statSync(seg(0)).size).toBe(size + 20);
    fs.appendFileSync(seg(0), frame.subarray(20));
    expect(reader.refresh()).toBe(1);
    expect(reader.get('ex-1')?.states).toEqual(rec(1).states);
    expect(reader.isComplete()).toBe(false);
    reader.close();
    writer.close();
  });

  it('rejects a corrupted record in the middle of a segment (not a torn tail) with its position', () => {
    const store = FileStore.open(root, KEY);
    const entries = [0, 1, 2].map((i) => store.append(rec(i)));
    store.close();
    fs.rmSync(path.join(dirOf(), 'index.json'));
    const fd = fs.openSync(seg(0), 'r+');
    fs.writeSync(fd, Uint8Array.from([0xff]), 0, 1, entries[1].offset + 60);
    fs.closeSync(fd);
    let err: ActivationError | undefined;
    try {
      FileStore.open(root, KEY);
    } catch (e) {
      err = e as ActivationError;
    }
    expect(err?.code).toBe('CHECKSUM');
    expect(err?.position).toEqual({ segment: seg(0), offset: entries[1].offset, index: 1 });
    expect(err?.message.startsWith(`${seg(0)}@${entries[1].offset} (record #1): `)).toBe(true);
  });

  it('rebuilds the index from the segments when it is deleted or stale', () => {
    const store = FileStore.open(root, KEY, { segmentBytes: 1500 });
    for (let i = 0; i < 10; i++) store.append(rec(i));
    const where = store.locate('ex-7');
    store.close();
    fs.rmSync(path.join(dirOf(), 'index.json'));

    const rebuilt = FileStore.open(root, KEY);
    expect(rebuilt.openReport.rebuiltIndex).toBe(true);
    expect(rebuilt.count).toBe(10);
    expect(rebuilt.locate('ex-7')).toEqual(where);
    expect(rebuilt.get('ex-7')?.states).toEqual(rec(7).states);
    rebuilt.close();
    expect(fs.existsSync(path.join(dirOf(), 'index.json'))).toBe(true);

    // stale: the index claims more bytes than the segment holds
    const idxFile = path.join(dirOf(), 'index.json');
    const idx = JSON.parse(fs.readFileSync(idxFile, 'utf8'));
    idx.segments[idx.segments.length - 1].bytes += 100;
    fs.writeFileSync(idxFile, JSON.stringify(idx));
    const again = FileStore.open(root, KEY, { readOnly: true });
    expect(again.openReport.rebuiltIndex).toBe(true);
    expect(again.ids()).toEqual(Array.from({ length: 10 }, (_, i) => `ex-${i}`));
    again.close();
  });

  it('scans records appended after the index was written', () => {
    const a = FileStore.open(root, KEY);
    a.append(rec(0));
    a.close(); // index covers ex-0
    const b = FileStore.open(root, KEY);
    b.append(rec(1)); // no close: index still says one record
    const c = FileStore.open(root, KEY, { readOnly: true });
    expect(c.openReport.rebuiltIndex).toBe(false);
    expect(c.ids()).toEqual(['ex-0', 'ex-1']);
    c.close();
    b.close();
  });

  it('rotates segments at the configured size', () => {
    const frame = 4 + encodeRecord(rec(10)).length; // ids of equal length and i % 4 equal: equal frame sizes
    const store = FileStore.open(root, KEY, { segmentBytes: 2 * frame });
    for (const i of [10, 14, 18, 22, 26]) store.append(rec(i));
    expect(store.locate('ex-10')?.segment).toBe(0);
    expect(store.locate('ex-14')?.segment).toBe(0);
    expect(store.locate('ex-18')).toMatchObject({ segment: 1, offset: 0 });
    expect(store.locate('ex-26')?.segment).toBe(2);
    store.close();
    expect(fs.readdirSync(dirOf()).filter((f) => f.endsWith('.acts')).sort()).toEqual([segmentName(0), segmentName(1), segmentName(2)]);
    expect(fs.statSync(seg(0)).size).toBe(2 * frame);

    const reopened = FileStore.open(root, KEY, { segmentBytes: 2 * frame });
    expect([...reopened].map((r) => r.exampleId)).toEqual(['ex-10', 'ex-14', 'ex-18', 'ex-22', 'ex-26']);
    reopened.append(rec(30));
    expect(reopened.locate('ex-30')?.segment).toBe(2);
    reopened.append(rec(34));
    expect(reopened.locate('ex-34')?.segment).toBe(3);
    reopened.close();
  });

  it('gives a record larger than the segment size a segment of its own', () => {
    const store = FileStore.open(root, KEY, { segmentBytes: 64 });
    store.append(rec(0));
    store.append(rec(1));
    expect([store.locate('ex-0')?.segment, store.locate('ex-1')?.segment]).toEqual([0, 1]);
    store.close();
  });

  it('writes the manifest only on complete(), then refuses appends', () => {
    const store = FileStore.open(root, KEY);
    store.append(rec(0));
    store.append(rec(1));
    const manifestFile = path.join(dirOf(), 'manifest.json');
    expect(fs.existsSync(manifestFile)).toBe(false);
    expect(store.isComplete()).toBe(false);
    expect(store.readManifest()).toBeUndefined();

    const reader = FileStore.open(root, KEY, { readOnly: true });
    expect(reader.isComplete()).toBe(false);

    const m = store.complete({ layers: [3, 7], dtype: 'float32', meta: { teacher: 'bert-12' } });
    expect(m).toMatchObject({ version: 1, cacheKey: KEY, count: 2, layers: [3, 7], dtype: 'float32', hiddenSize: 8, meta: { teacher: 'bert-12' } });
    expect(m.recordsCrc32c).toMatch(/^[0-9a-f]{8}$/);
    expect(Number.isNaN(Date.parse(m.createdAt))).toBe(false);
    expect(JSON.parse(fs.readFileSync(manifestFile, 'utf8'))).toEqual(m);
    expect(fs.readdirSync(dirOf()).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(reader.isComplete()).toBe(true);
    expect(reader.readManifest()?.count).toBe(2);

    expect(codeOf(() => store.append(rec(2)))).toBe('CACHE_COMPLETE');
    expect(codeOf(() => store.complete())).toBe('CACHE_COMPLETE');
    store.close();
    reader.close();

    const reopened = FileStore.open(root, KEY);
    expect(reopened.isComplete()).toBe(true);
    expect(() => reopened.append(rec(3))).toThrow(/cache c0ffee0123456789abcd is complete \(manifest written\); appends are refused/);
    reopened.close();
  });

  it('refuses to open a complete cache whose segments disagree with the manifest', () => {
    const store = FileStore.open(root, KEY);
    store.append(rec(0));
    store.append(rec(1));
    const e = store.locate('ex-1')!;
    store.complete();
    store.close();
    fs.truncateSync(seg(0), e.offset);
    expect(() => FileStore.open(root, KEY, { readOnly: true })).toThrow(new RegExp(`^${path.join(dirOf(), 'manifest.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} says 2 records with CRC [0-9a-f]{8}; the segments hold 1 with CRC [0-9a-f]{8}\\. \`strata cache repair `));
  });

  it('refuses a duplicate example id, also after reopening', () => {
    const store = FileStore.open(root, KEY);
    store.append(rec(0));
    expect(() => store.append(rec(0))).toThrow(expect.objectContaining({ code: 'DUPLICATE_ID', message: expect.stringContaining('example id "ex-0" is already in cache') }));
    expect(store.count).toBe(1);
    store.close();
    const reopened = FileStore.open(root, KEY);
    expect(codeOf(() => reopened.append(rec(0)))).toBe('DUPLICATE_ID');
    reopened.append(rec(1));
    expect(reopened.count).toBe(2);
    reopened.close();
  });

  it('refuses records whose layers, dtype or hidden size differ from the cache', () => {
    const store = FileStore.open(root, KEY);
    store.append(rec(0));
    expect(() => store.append(rec(1, { layers: [3, 8] }))).toThrow(/record "ex-1": layers \[3,8\] differ from the cache's \[3,7\]/);
    expect(codeOf(() => store.append(rec(1, { dtype: 'float16' })))).toBe('MISMATCH');
    expect(codeOf(() => store.complete({ layers: [1, 2] }))).toBe('MISMATCH');
    store.close();
  });

  it('read-only stores refuse writes; a missing cache reads as empty', () => {
    const empty = FileStore.open(root, 'absent', { readOnly: true });
    expect(empty.count).toBe(0);
    expect(empty.isComplete()).toBe(false);
    expect(codeOf(() => empty.append(rec(0)))).toBe('CLOSED');
    expect(fs.existsSync(path.join(root, 'absent'))).toBe(false);
    empty.close();
    expect(codeOf(() => empty.get('x'))).toBe('CLOSED');
  });
});

// An index.json that disagrees with the segments (edited by hand, or copied) must never serve one example's states
// for another, nor be certified by a new manifest.
describe('FileStore: an index that lies about the segments', () => {
  function swapFirstTwo(): void {
    const file = path.join(dirOf(), 'index.json');
    const idx = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: [string, number, number, number, number][] };
    const [a, b] = [idx.entries[0][0], idx.entries[1][0]];
    idx.entries[0][0] = b;
    idx.entries[1][0] = a;
    fs.writeFileSync(file, JSON.stringify(idx));
  }

  it('serves each record for its own id, and certifies only the segments (manifest deleted, then completed again)', () => {
    const w = FileStore.open(root, KEY);
    for (let i = 0; i < 6; i++) w.append(rec(i));
    const original = w.complete();
    w.close();
    swapFirstTwo();
    fs.rmSync(path.join(dirOf(), 'manifest.json'));

    const again = FileStore.open(root, KEY);
    for (let i = 0; i < 6; i++) expect(again.get(`ex-${i}`)!.exampleId).toBe(`ex-${i}`);
    const m = again.complete();
    expect([m.count, m.recordsCrc32c]).toEqual([original.count, original.recordsCrc32c]);
    expect([...again].map((r) => r.exampleId)).toEqual(['ex-0', 'ex-1', 'ex-2', 'ex-3', 'ex-4', 'ex-5']);
    again.close();
    // the rewritten index is right again
    const idx = JSON.parse(fs.readFileSync(path.join(dirOf(), 'index.json'), 'utf8')) as { entries: [string][] };
    expect(idx.entries.map((e) => e[0])).toEqual(['ex-0', 'ex-1', 'ex-2', 'ex-3', 'ex-4', 'ex-5']);
  });

  it('completes from the segments, not the index, when the swapped index is all there was', () => {
    const w = FileStore.open(root, KEY);
    for (let i = 0; i < 4; i++) w.append(rec(i));
    w.close(); // no manifest yet: an interrupted cache
    swapFirstTwo();
    const again = FileStore.open(root, KEY);
    const m = again.complete();
    again.close();
    const r = FileStore.open(root, KEY, { readOnly: true });
    expect(r.readManifest()!.recordsCrc32c).toBe(m.recordsCrc32c);
    for (let i = 0; i < 4; i++) expect(r.get(`ex-${i}`)!.states[0]).toBe(i);
    r.close();
  });

  it('a reader of a complete cache with a swapped index still serves the right records', () => {
    const w = FileStore.open(root, KEY);
    for (let i = 0; i < 4; i++) w.append(rec(i));
    w.complete();
    w.close();
    swapFirstTwo();
    const r = FileStore.open(root, KEY, { readOnly: true });
    for (let i = 0; i < 4; i++) expect(r.get(`ex-${i}`)!.exampleId).toBe(`ex-${i}`);
    expect(r.openReport.rebuiltIndex).toBe(true);
    r.close();
  });
});
