// The CLI's manners, as a user meets them: the real bin in a child process (tsx, as `npx strata` runs it).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { trainTinyTeacher, writeTinyManifest, type ExperimentResults } from '@strata/experiment';
import { buildProgram } from './main';
import { logRecord } from '@strata/service/src/log-format';
import { globRegExp, selectCells } from './cells';
import { usageMessage } from './cli-errors';

jest.setTimeout(300_000);
const CLI = path.resolve(__dirname, '../bin/strata.js');
const REPO = path.resolve(__dirname, '../../..');
const QUICKSTART = path.join(REPO, 'examples/quickstart.yaml');

function strata(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every line of an error's stderr is in the CLI's one style: `strata: `, then the usage lines of a usage error. */
function expectOneStyle(stderr: string) {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^strata: /);
  expect(stderr).not.toMatch(/^error: /m);
  expect(stderr).not.toContain('Usage:'); // commander's whole help is not printed after an error
  expect(stderr.match(/^strata: /gm)).toHaveLength(1);
}

describe('usage errors', () => {
  it.each([
    [['experiment', 'run', 'examples/quickstart.yaml', '--bogus'], "strata: unknown option '--bogus'", 'usage: strata experiment run <manifest.yaml> [options]', "try 'strata experiment run --help'"],
    [['experiment', 'run'], "strata: missing required argument 'manifest.yaml'", 'usage: strata experiment run <manifest.yaml> [options]', "try 'strata experiment run --help'"],
    [['experiment', 'bogus'], "strata: unknown command 'bogus'", 'usage: strata experiment <command> [options]', "try 'strata experiment --help'"],
    [['bogus'], "strata: unknown command 'bogus'", 'usage: strata <command> [options]', "try 'strata --help'"],
    [['experiment'], 'strata: missing command', 'usage: strata experiment <command> [options]', "try 'strata experiment --help'"],
    [['kd', 'map', '--strategy', 'forward', '--teacher-layers', '12'], "strata: required option '--student-layers <n>' not specified", 'usage: strata kd map --strategy <name> --teacher-layers <n> --student-layers <n> [options]', "try 'strata kd map --help'"],
    [['experiment', 'run', 'x.yaml', '--transport', 'carrier-pigeon'], "strata: --transport must be embedded or kafka, got 'carrier-pigeon'", 'usage: strata experiment run <manifest.yaml> [options]', "try 'strata experiment run --help'"],
  ])('strata %j exits 2 with its message and a short usage', (args, message, usage, hint) => {
    const r = strata(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).toContain(`\n${usage}\n`);
    expect(r.stderr).toContain(`\n${hint}\n`);
    expectOneStyle(r.stderr);
  });

  it('names an invalid option value once (commander prefixed the parser\'s message, which already named it)', () => {
    const r = strata(['kd', 'map', '--strategy', 'forward', '--teacher-layers', 'abc', '--student-layers', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("strata: --teacher-layers must be a positive integer, got 'abc'");
    expect(r.stderr.match(/abc/g)).toHaveLength(1);
    // A parser whose message names neither flag nor value gets both, once.
    expect(usageMessage("error: option '--max-ngram-order <n>' argument 'x' is invalid. Expected a non-negative integer.", 'commander.invalidArgument')).toBe("--max-ngram-order 'x': Expected a non-negative integer.");
    expect(usageMessage("error: option '--layers <n>' argument 'x' is invalid. expected a positive integer, got 'x'", 'commander.invalidArgument')).toBe("--layers: expected a positive integer, got 'x'");
  });

  it('a check an action makes on its flags is a usage error too', () => {
    const r = strata(['teacher', 'train', '--out', os.tmpdir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: required option '--task <id>' not specified \(or give --manifest\)\nusage: strata teacher train --out <dir> \[options\]\n/);
  });

  it('--help and --version exit 0 on stdout', () => {
    const help = strata(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('experiment');
    expect(help.stdout).toContain('status');
    expect(help.stderr).toBe('');
    expect(strata(['--version']).stdout.trim()).toBe('0.1.0');
  });
});

describe('file errors name the path and what was expected', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-files-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['experiment', 'run', 'nonexist.yaml'], 'strata: nonexist.yaml: no such file or directory; expected an experiment manifest (.yaml or .json, apiVersion strata.dev/v1alpha1)'],
    [['experiment', 'validate', 'examples'], 'strata: examples: is a directory; expected an experiment manifest (.yaml or .json, apiVersion strata.dev/v1alpha1)'],
    [['onnx', 'check', 'nope.onnx'], 'strata: nope.onnx: no such file or directory; expected an ONNX model file (.onnx)'],
    [['status', 'runs/does-not-exist'], 'strata: runs/does-not-exist: no such file or directory; expected a run folder (runs/<metadata.name>, or the --out of experiment run)'],
  ])('strata %j', (args, message) => {
    const r = strata(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.stderr).not.toContain('ENOENT');
  });

  it('a directory given as a run folder\'s file, and a manifest that cannot be read', () => {
    const file = path.join(dir, 'plain.txt');
    fs.writeFileSync(file, 'x');
    expect(strata(['status', file]).stderr).toBe(`strata: ${file}: is a file; expected a run folder (runs/<metadata.name>, or the --out of experiment run)\n`);
    if (process.getuid?.() === 0) return; // root reads files whatever their mode
    const locked = path.join(dir, 'locked.yaml');
    fs.writeFileSync(locked, 'apiVersion: strata.dev/v1alpha1\n');
    fs.chmodSync(locked, 0o000);
    expect(strata(['experiment', 'validate', locked]).stderr).toContain(`strata: ${locked}: cannot be read (permission denied)`);
  });
});

describe('help', () => {
  /** Every command that runs something (no subcommands), with its help text as --help prints it. */
  function leaves(cmd: Command): Command[] {
    return cmd.commands.length ? cmd.commands.filter((c) => c.name() !== 'help').flatMap(leaves) : [cmd];
  }
  function helpOf(cmd: Command): string {
    let text = '';
    cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    cmd.outputHelp();
    return text;
  }

  it('every command shows an example, and its required options say so', () => {
    const program = buildProgram();
    const all = leaves(program);
    expect(all.length).toBeGreaterThan(20);
    for (const cmd of all) {
      const text = helpOf(cmd);
      expect({ command: cmd.name(), example: /\nExamples?:\n {2}strata /.test(text) }).toEqual({ command: cmd.name(), example: true });
      for (const o of cmd.options.filter((x) => x.mandatory)) expect(cmd.createHelp().optionDescription(o)).toMatch(/ \(required\)$/);
    }
  });

  it('strata --help loads no pipeline, ONNX Runtime or Kafka module (they load with the command that runs)', () => {
    const script = `require('tsx/cjs'); require(${JSON.stringify(path.join(__dirname, 'main.ts'))}).buildProgram(null).helpInformation();
      const heavy = Object.keys(require.cache).filter((f) => /onnxruntime|kafkajs|@platformatic|libs\\/(experiment|onnx|kafka|data|kd)\\//.test(f));
      process.stdout.write(JSON.stringify(heavy));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(REPO, 'apps/cli'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('experiment validate and run --dry-run', () => {
  it('a valid manifest: data found, the grid and an estimate; exit 0 and nothing trained', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dry-'));
    fs.rmSync(out, { recursive: true });
    const r = strata(['experiment', 'run', QUICKSTART, '--dry-run', '--out', out, '--cells', 'forward-*']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${QUICKSTART}: valid`);
    expect(r.stdout).toMatch(/train split train: found, 2400 examples used/);
    expect(r.stdout).toContain('grid: 20 cells = 1 depth x 2 inits x 5 strategies x 2 seeds');
    expect(r.stdout).toMatch(/estimated time: about \d+ (s|min|h)/);
    expect(r.stdout).toContain('--cells: 4 of 20 cells: forward-random-d2-s1, forward-random-d2-s2, forward-copy-d2-s1, forward-copy-d2-s2');
    expect(fs.existsSync(out)).toBe(false);
    const json = JSON.parse(strata(['experiment', 'validate', QUICKSTART, '--json']).stdout);
    expect(json).toMatchObject({ valid: true, problems: [], grid: { cells: 20 }, data: { source: 'embedded' } });
    expect(json.estimate.seconds).toBeGreaterThan(0);
  });

  it('a shared task whose data is missing: invalid, naming where it looked; exit 1', () => {
    const r = strata(['experiment', 'validate', 'examples/sst2.yaml'], { STRATA_DATA_ROOT: '/nonexistent/data' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("problem: data for task 'sst2' not found: /nonexistent/data/sst2 does not exist (data root from $STRATA_DATA_ROOT");
    expect(r.stdout).toContain('data: /nonexistent/data/sst2 (data root from $STRATA_DATA_ROOT)');
  });

  it('an invalid manifest lists its problems by field; exit 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-invalid-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, fs.readFileSync(QUICKSTART, 'utf8').replace('depths: [2]', 'depths: [9]').replace('seeds: [1, 2]', 'seeds: [1, 1]'));
    const r = strata(['experiment', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid \(2 problems\)/);
    expect(r.stdout).toMatch(/bad\.yaml:\d+:\d+ spec\.students\.seeds\[1\]: duplicate seed 1/);
    expect(r.stdout).toMatch(/bad\.yaml:\d+:\d+ spec\.students\.depths\[0\]: student depth 9 exceeds teacher layers 4/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('--cells, status and --log-format json on a real run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cells-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let manifest: string;
  beforeAll(async () => {
    await trainTinyTeacher(path.join(dir, 'T'), 300);
    manifest = writeTinyManifest(path.join(dir, 'exp.yaml'), 'subset', path.join(dir, 'T', 'teacher.onnx'), { store: 'file', strategies: ['none', 'forward', 'reverse'], seeds: [1, 2], epochs: 1, examples: 160 });
  });

  it('globs pick cells; nothing matched names the ids there are', () => {
    const ids = ['none-random-d1-s1', 'forward-random-d1-s1', 'forward-random-d1-s2'];
    expect(selectCells(ids, ['forward-*-s1', 'none-*'])).toEqual(['none-random-d1-s1', 'forward-random-d1-s1']);
    expect(globRegExp('a.b?').test('a.bc')).toBe(true);
    expect(globRegExp('a.b?').test('axbc')).toBe(false);
    expect(() => selectCells(ids, ['forward-*', 'revrse-*'])).toThrow("--cells: 'revrse-*' matches no cell; the grid's cells are: none-random-d1-s1, forward-random-d1-s1, forward-random-d1-s2");
    const r = strata(['experiment', 'run', manifest, '--cells', 'bogus-*', '--out', path.join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("strata: --cells bogus-* matches no cell; the grid's cells are: none-random-d1-s1, none-random-d1-s2, forward-random-d1-s1");
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('trains only the matching cells, in JSON log lines; results, report and status cover what finished and name the rest', async () => {
    const out = path.join(dir, 'run');
    const first = strata(['--log-format', 'json', 'experiment', 'run', manifest, '--out', out, '--cells', 'forward-*']);
    expect(first.code).toBe(0);
    const records = first.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { time: string; level: string; msg: string; cell?: string; progress?: unknown });
    expect(records.length).toBeGreaterThan(5);
    for (const r of records) {
      expect(Number.isNaN(Date.parse(r.time))).toBe(false);
      expect(['info', 'warn', 'error']).toContain(r.level);
      expect(typeof r.msg).toBe('string');
    }
    expect(records.some((r) => r.cell === 'forward-random-d1-s1')).toBe(true);
    expect(records.some((r) => r.progress !== undefined)).toBe(true);
    expect(records.find((r) => r.cell === 'none-random-d1-s1')?.msg).toContain('not selected (--cells)');
    let results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.cells.map((c) => c.id)).toEqual(['forward-random-d1-s1', 'forward-random-d1-s2']);
    expect(results.missingCells).toEqual(['none-random-d1-s1', 'none-random-d1-s2', 'reverse-random-d1-s1', 'reverse-random-d1-s2']);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('**Partial results:** 2 of 6 cells of the grid have finished; missing: none-random-d1-s1, none-random-d1-s2, reverse-random-d1-s1, reverse-random-d1-s2.');

    const status = strata(['status', out]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('cells: 2/6 done, 0 training, 4 waiting');
    expect(status.stdout).toMatch(/ {2}forward-random-d1-s1 +accuracy \d+\.\d\d/);
    const json = JSON.parse(strata(['status', out, '--json']).stdout);
    expect(json).toMatchObject({ cellsDone: 2, cellsTotal: 6, name: 'subset' });

    // A second subset: the results cover both runs' cells; a third run without --cells completes the grid.
    expect(strata(['experiment', 'run', manifest, '--out', out, '--cells', 'none-*-s1']).code).toBe(0);
    results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.cells.map((c) => c.id)).toEqual(['none-random-d1-s1', 'forward-random-d1-s1', 'forward-random-d1-s2']);
    expect(results.missingCells).toEqual(['none-random-d1-s2', 'reverse-random-d1-s1', 'reverse-random-d1-s2']);
    const text = strata(['experiment', 'run', manifest, '--out', out]);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('forward-random-d1-s1: finished earlier, skipped');
    expect(text.stderr.split('\n').every((l) => !l.startsWith('{'))).toBe(true); // text is the default
    results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.cells).toHaveLength(6);
    expect(results.missingCells).toBeUndefined();
    expect(strata(['status', out]).stdout).toContain('phase: complete');
  });

  it('status of a run in progress shows the training cell\'s step', async () => {
    // Long enough a student (8 epochs) that a status taken while it trains sees its progress.json.
    const slow = writeTinyManifest(path.join(dir, 'slow.yaml'), 'live', path.join(dir, 'T', 'teacher.onnx'), { store: 'file', strategies: ['forward'], epochs: 8, examples: 300 });
    const out = path.join(dir, 'live');
    const child = spawn(process.execPath, [CLI, 'experiment', 'run', slow, '--out', out], { env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    let seen = '';
    for (let alive = true; alive && !/step \d+\/\d+ \(\d+%\)/.test(seen); ) {
      alive = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 300))]);
      if (fs.existsSync(path.join(out, 'students', 'forward-random-d1-s1', 'progress.json'))) seen = strata(['status', out]).stdout;
    }
    // The status taken mid-training is what this checks: stop the run (SIGTERM, it checkpoints) rather than wait out
    // its remaining epochs.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    expect(seen).toMatch(/cells: 0\/1 done, 1 training, 0 waiting\ntraining:\n {2}forward-random-d1-s1 {2}step \d+\/\d+ \(\d+%\), epoch \d+\/8, loss \d/);
  });
});

describe('log records', () => {
  it('parse progress and grid lines into fields and mark warnings', () => {
    const t = new Date('2026-12-06T00:00:00Z');
    expect(logRecord('student forward: 40/100 (40%) 3s loss 0.5', t)).toEqual({ time: '2026-12-06T00:00:00.000Z', level: 'info', msg: 'student forward: 40/100 (40%) 3s loss 0.5', progress: { label: 'student forward', done: 40, total: 100 } });
    expect(logRecord('[3/20] forward-copy-d2-s1: finished earlier, skipped', t)).toMatchObject({ cell: 'forward-copy-d2-s1', index: 3, cells: 20 });
    expect(logRecord('warning: the teacher is near chance', t).level).toBe('warn');
    expect(logRecord('\x1b[Kplain', t).msg).toBe('plain');
  });
});
