// `strata cache verify|repair` on a real file cache with a flipped byte (the real bin, as a user runs it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore, segmentName } from '@strata/activations';

const BIN = path.resolve(__dirname, '../../bin/strata.js');
const strata = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('strata cache verify / repair', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cache-cli-'));
  const key = '0123456789abcdef0123';
  const dir = path.join(root, key);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds a flipped byte, names the repair, and repair keeps the sound prefix', () => {
    const w = FileStore.open(root, key);
    for (let i = 0; i < 6; i++) w.append({ exampleId: `ex-${i}`, validTokens: 2, hiddenSize: 4, layers: [0], dtype: 'float32', states: new Float32Array(8).fill(i), logits: { kind: 'full', values: Float32Array.of(i, 0) } });
    const offset = w.locate('ex-4')!.offset;
    w.complete();
    w.close();
    expect(strata('cache', 'verify', dir).status).toBe(0);
    const seg = path.join(dir, segmentName(0));
    const bytes = fs.readFileSync(seg);
    bytes[offset + 40] ^= 0x01;
    fs.writeFileSync(seg, bytes);

    const bad = strata('cache', 'verify', dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${dir}: 4 sound records, complete (manifest.json)`);
    expect(bad.stdout).toContain(`damaged at record #4 (${seg}@${offset}): `);
    expect(bad.stdout).toContain(`repair: strata cache repair ${dir}`);

    const fixed = strata('cache', 'repair', dir);
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toContain('kept 4 records, dropped 2');
    const after = strata('cache', 'verify', dir, '--json');
    expect(after.status).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({ dir, records: 4, tornTailBytes: 0, complete: false });
  });

  it('names a folder that is not a cache', () => {
    const r = strata('cache', 'verify', path.join(root, 'nope'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`strata: ${path.join(root, 'nope')}: no such file or directory; expected a teacher cache folder (<cache root>/<cache key>)\n`);
  });
});
