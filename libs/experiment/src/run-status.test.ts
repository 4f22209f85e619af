import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findRunDirs, parseCellId, readRunStatus, writeRunPlan } from './run-status';
import { parseManifest } from './validate';
import { tinyManifestYaml } from './testing';

const manifest = parseManifest(tinyManifestYaml('status-demo', 'teacher.onnx', { store: 'file', strategies: ['none', 'forward'], seeds: [1, 2] }), 'status-demo.yaml');
const cells = [
  { id: 'none-random-d1-s1', label: 'none', init: 'random' as const, depth: 1, seed: 1 },
  { id: 'forward-random-d1-s1', label: 'forward', init: 'random' as const, depth: 1, seed: 1 },
  { id: 'forward-random-d1-s2', label: 'forward', init: 'random' as const, depth: 1, seed: 2 },
];

function write(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
}

describe('readRunStatus', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-status-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('knows every cell of a running run from run.json: done, training with its progress, waiting', () => {
    const dir = path.join(root, 'status-demo');
    writeRunPlan(dir, { transport: 'embedded', manifest, cells: cells.map((c) => ({ ...c, strategy: c.label, options: {}, layerMap: null })) as never });
    fs.writeFileSync(path.join(dir, 'teacher.onnx'), 'x');
    write(path.join(dir, 'students', 'none-random-d1-s1', 'result.json'), { id: 'none-random-d1-s1', metrics: { accuracy: 81.5 } });
    write(path.join(dir, 'students', 'forward-random-d1-s1', 'progress.json'), { step: 12, totalSteps: 40, epoch: 1, epochs: 2, loss: 0.7 });
    const s = readRunStatus(dir);
    expect(s.name).toBe('status-demo');
    expect(s.task).toBe('spam');
    expect(s.phase).toBe('students');
    expect(s.gridKnown).toBe(true);
    expect(s.cells.map((c) => [c.id, c.state])).toEqual([
      ['none-random-d1-s1', 'done'],
      ['forward-random-d1-s1', 'training'],
      ['forward-random-d1-s2', 'waiting'],
    ]);
    expect(s.cells[0].metrics).toEqual({ accuracy: 81.5 });
    expect(s.cells[1].progress).toMatchObject({ step: 12, totalSteps: 40 });
    expect([s.cellsDone, s.cellsTotal]).toEqual([1, 3]);
  });

  it('keeps startedAt when the plan is rewritten with the grid', () => {
    const dir = path.join(root, 'r');
    writeRunPlan(dir, { transport: 'kafka', manifest });
    const first = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(first.cells).toBeUndefined();
    expect(readRunStatus(dir).phase).toBe('teacher');
    writeRunPlan(dir, { transport: 'kafka', manifest, cells: cells as never });
    const second = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(second.startedAt).toBe(first.startedAt);
    expect(second.cells).toHaveLength(3);
  });

  it('reads an older run without run.json from its cell folders, and a finished one from results.json', () => {
    const dir = path.join(root, 'old');
    write(path.join(dir, 'students', 'reverse-copy-d2-s3', 'result.json'), { metrics: { accuracy: 70 } });
    fs.mkdirSync(path.join(dir, 'teacher'));
    let s = readRunStatus(dir);
    expect(s.gridKnown).toBe(false);
    expect(s.cells).toEqual([{ id: 'reverse-copy-d2-s3', strategy: 'reverse', init: 'copy', depth: 2, seed: 3, state: 'done', metrics: { accuracy: 70 } }]);
    write(path.join(dir, 'results.json'), { experiment: 'old', task: 'spam', teacher: { metrics: { accuracy: 90 } }, cells: [{ id: 'reverse-copy-d2-s3', strategy: 'reverse', init: 'copy', depth: 2, seed: 3, metrics: { accuracy: 70 } }] });
    s = readRunStatus(dir);
    expect(s.phase).toBe('complete');
    expect(s.teacher.metrics).toEqual({ accuracy: 90 });
  });

  it('never fails on a half-written file: the cell reads as waiting', () => {
    const dir = path.join(root, 'half');
    writeRunPlan(dir, { transport: 'embedded', manifest, cells: cells as never });
    fs.mkdirSync(path.join(dir, 'students', 'none-random-d1-s1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'students', 'none-random-d1-s1', 'result.json'), '{"metrics": {"accur');
    expect(readRunStatus(dir).cells[0].state).toBe('waiting');
  });

  it('names the folder when it is not a run folder', () => {
    expect(() => readRunStatus(path.join(root, 'missing'))).toThrow(/missing: not a directory/);
  });

  it('finds the runs of a runs/ folder, or the folder itself when it is a run', () => {
    writeRunPlan(path.join(root, 'b'), { transport: 'embedded', manifest });
    writeRunPlan(path.join(root, 'a'), { transport: 'embedded', manifest });
    fs.mkdirSync(path.join(root, 'not-a-run'));
    expect(findRunDirs(root).map((d) => path.basename(d))).toEqual(['a', 'b']);
    expect(findRunDirs(path.join(root, 'a'))).toEqual([path.join(root, 'a')]);
  });

  it('parses cell ids whose label has dashes', () => {
    expect(parseCellId('out-of-order-random-copy-d2-s11')).toEqual({ strategy: 'out-of-order-random', init: 'copy', depth: 2, seed: 11 });
    expect(parseCellId('nonsense')).toBeUndefined();
  });
});
