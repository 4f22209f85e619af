import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repairCache, verifyCache } from './cache-repair';
import { FileStore, segmentName } from './file-store';
import type { ActivationRecordInput } from './record';

const KEY = 'feedbeef0123456789ab';

function rec(i: number): ActivationRecordInput {
  return { exampleId: `ex-${i}`, validTokens: 4, hiddenSize: 8, layers: [0, 2], dtype: 'float32', states: Float32Array.from({ length: 2 * 4 * 8 }, (_, x) => i + x / 100), logits: { kind: 'full', values: Float32Array.of(i, -i) } };
}

let root: string;
let dir: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-repair-'));
  dir = path.join(root, KEY);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A complete cache of `n` records; returns each record's offset in segment 0. */
function writeCache(n: number): number[] {
  const w = FileStore.open(root, KEY);
  for (let i = 0; i < n; i++) w.append(rec(i));
  const offsets = w.ids().map((id) => w.locate(id)!.offset);
  w.complete();
  w.close();
  return offsets;
}

/** Appends what is missing of ex-0..ex-(n-1) and completes, as a resumed cache stage does. */
function refill(n: number): void {
  const w = FileStore.open(root, KEY);
  for (let i = 0; i < n; i++) if (!w.has(`ex-${i}`)) w.append(rec(i));
  w.complete();
  w.close();
}

describe('verifyCache and repairCache', () => {
  it('a sound cache verifies and is left alone', () => {
    writeCache(5);
    expect(verifyCache(dir)).toEqual({ dir, records: 5, tornTailBytes: 0, complete: true });
    expect(repairCache(dir)).toMatchObject({ records: 5, dropped: 0, changed: [] });
  });

  it('a flipped byte: named by folder, file and offset, and repaired to the sound prefix that the next run refills', () => {
    const offsets = writeCache(6);
    const seg = path.join(dir, segmentName(0));
    const bytes = fs.readFileSync(seg);
    bytes[offsets[3] + 60] ^= 0xff;
    fs.writeFileSync(seg, bytes);
    const r = FileStore.open(root, KEY, { readOnly: true });
    expect(() => r.get('ex-3')).toThrow(new RegExp(`^${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@${offsets[3]} \\(record #3\\): `));
    r.close();
    const check = verifyCache(dir);
    expect(check).toMatchObject({ records: 3, complete: true, damage: { segment: seg, offset: offsets[3], index: 3 } });
    const repaired = repairCache(dir);
    expect(repaired).toMatchObject({ records: 3, dropped: 3 });
    expect(repaired.changed).toEqual([seg, path.join(dir, 'index.json'), path.join(dir, 'manifest.json')]);
    expect(fs.statSync(seg).size).toBe(offsets[3]);
    refill(6);
    expect(verifyCache(dir)).toEqual({ dir, records: 6, tornTailBytes: 0, complete: true });
    const again = FileStore.open(root, KEY, { readOnly: true });
    for (let i = 0; i < 6; i++) expect(again.get(`ex-${i}`)!.states[0]).toBe(i);
    again.close();
  });

  it('a truncated segment under a manifest: the open error names the folder and the repair; repair drops the manifest', () => {
    const offsets = writeCache(6);
    const seg = path.join(dir, segmentName(0));
    fs.truncateSync(seg, offsets[4] + 10);
    expect(() => FileStore.open(root, KEY, { readOnly: true })).toThrow(`${path.join(dir, 'manifest.json')} says 6 records`);
    expect(() => FileStore.open(root, KEY, { readOnly: true })).toThrow(`strata cache repair ${dir}`);
    expect(verifyCache(dir)).toMatchObject({ records: 4, tornTailBytes: 10, damage: { index: 4, message: expect.stringMatching(/says 6 records .* the segments hold 4/) } });
    expect(repairCache(dir)).toMatchObject({ records: 4, dropped: 0, changed: [path.join(dir, 'index.json'), path.join(dir, 'manifest.json')] });
    refill(6);
    expect(verifyCache(dir)).toMatchObject({ records: 6, complete: true });
    expect(verifyCache(dir).damage).toBeUndefined();
  });

  it('refuses a folder that is not a cache', () => {
    expect(() => verifyCache(path.join(root, 'nope'))).toThrow(`${path.join(root, 'nope')} is not a cache directory`);
  });
});
