// Runs the real `strata` bin (TypeScript through tsx) on temporary files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '../../bin/strata.js');
let dir: string;

function strata(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: resolve(__dirname, '../../../..') });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-metrics-'));
  // the sacreBLEU README example
  writeFileSync(join(dir, 'hyp.txt'), "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n");
  writeFileSync(join(dir, 'ref1.txt'), 'The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n');
  writeFileSync(join(dir, 'ref2.txt'), 'The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.'); // no final newline
  writeFileSync(join(dir, 'short.txt'), 'one line\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('strata metrics', () => {
  it('bleu prints the sacreBLEU line and signature', () => {
    const r = strata('metrics', 'bleu', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'ref1.txt'), '--ref', join(dir, 'ref2.txt'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)\n' +
        'nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2\n',
    );
  });

  it('bleu --json prints the statistics', () => {
    const r = strata('metrics', 'bleu', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'ref1.txt'), join(dir, 'ref2.txt'), '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['score', 'counts', 'totals', 'precisions', 'bp', 'sys_len', 'ref_len', 'signature']);
    expect(Math.abs(out.score - 48.530827)).toBeLessThan(1e-8);
    expect(out.counts).toEqual([14, 7, 5, 3]);
    expect(out.totals).toEqual([17, 14, 11, 8]);
  });

  it('chrf prints chrF2 and its signature', () => {
    const r = strata('metrics', 'chrf', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'ref1.txt'), join(dir, 'ref2.txt'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('chrF2 = 59.73\nnrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2\n');
  });

  it('names both files and their line counts when they differ', () => {
    const r = strata('metrics', 'bleu', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'short.txt'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `line counts differ: hypothesis file '${join(dir, 'hyp.txt')}' has 3 lines, reference file '${join(dir, 'short.txt')}' has 1`,
    );
  });

  it('names a missing file', () => {
    const r = strata('metrics', 'chrf', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'missing.txt'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot read reference file '${join(dir, 'missing.txt')}': no such file`);
  });
});
