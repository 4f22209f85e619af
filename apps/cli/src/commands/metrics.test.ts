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

  // Expected values from sacreBLEU 2.4.2's command line on the same files (`sacrebleu r.txt [r2.txt] -i h.txt -m ... -w 4`).
  describe('reads files as sacreBLEU does', () => {
    let h: string, r: string, r2: string;
    beforeAll(() => {
      h = join(dir, 'ws-hyp.txt');
      r = join(dir, 'ws-ref.txt');
      r2 = join(dir, 'ws-ref2.txt');
      writeFileSync(h, 'the cat  \nsat on the mat\t\n'); // trailing spaces and a tab
      writeFileSync(r, 'the cat\r\nsat on a mat \r\n'); // CRLF and a trailing space
      writeFileSync(r2, '\nthe mat\n'); // an empty line: a reference of length 0
    });

    it('right-strips every line (CRLF, trailing spaces and tabs)', () => {
      const chrf = strata('metrics', 'chrf', '--hyp', h, '--ref', r, '--whitespace', '--json');
      expect(chrf.status).toBe(0);
      expect(JSON.parse(chrf.stdout).score.toFixed(4)).toBe('69.8887');
      const bleu = strata('metrics', 'bleu', '--hyp', h, '--ref', r);
      expect(bleu.stdout).toBe('BLEU = 40.17 83.3/50.0/25.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)\nnrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2\n');
    });

    it('keeps an empty reference line as a reference (nrefs:2, not var)', () => {
      const bleu = strata('metrics', 'bleu', '--hyp', h, '--ref', r, r2, '--json');
      const out = JSON.parse(bleu.stdout);
      expect(out.score.toFixed(4)).toBe('46.5302');
      expect(out.signature).toBe('nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2');
      const chrf = strata('metrics', 'chrf', '--hyp', h, '--ref', r, r2, '--json');
      expect(JSON.parse(chrf.stdout).score.toFixed(4)).toBe('85.6386');
    });

    it('fails on bytes that are not UTF-8, naming the file, line and byte offset', () => {
      const bad = join(dir, 'latin1.txt');
      writeFileSync(bad, Buffer.from([0x6f, 0x6b, 0x0a, 0x61, 0x62, 0xff, 0x63, 0x0a]));
      const res = strata('metrics', 'bleu', '--hyp', bad, '--ref', r);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`cannot read hypothesis file ${bad}:2: not UTF-8 at byte offset 5 (bytes 0xff 0x63 0x0a)`);
    });

    it('names the score chrF2.0 for --beta 2.0, as CHRF(beta=2.0) does', () => {
      expect(strata('metrics', 'chrf', '--hyp', h, '--ref', r, '--beta', '2.0').stdout.startsWith('chrF2.0 = ')).toBe(true);
      expect(strata('metrics', 'chrf', '--hyp', h, '--ref', r, '--beta', '3').stdout).toBe('chrF3 = 60.37\nnrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2\n');
    });

    it('offers the zh tokenizer', () => {
      const zh = join(dir, 'zh.txt');
      writeFileSync(zh, '我爱北京天安门。\n他说今天下雨了\n');
      const zr = join(dir, 'zh-ref.txt');
      writeFileSync(zr, '我爱北京的天安门。\n他说今天会下雨\n');
      expect(strata('metrics', 'bleu', '--hyp', zh, '--ref', zr, '--tokenize', 'zh').stdout).toBe(
        'BLEU = 56.23 93.3/76.9/54.5/33.3 (BP = 0.936 ratio = 0.938 hyp_len = 15 ref_len = 16)\nnrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:2.4.2\n',
      );
    });
  });
});
