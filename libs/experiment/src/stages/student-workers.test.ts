import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExperiment } from '../run';
import { trainTinyTeacher, writeTinyManifest } from '../testing';
import { mapPool, threadsPerStudent, trainInWorker } from './student-workers';

jest.setTimeout(300_000);

describe('mapPool', () => {
  it('keeps item order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapPool([30, 5, 20, 1, 10], 2, async (ms, i) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10']);
    expect(most).toBe(2);
  });

  it('starts nothing new after a failure, lets the running item finish, then throws the failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapPool([0, 1, 2, 3], 2, async (i) => {
      started.push(i);
      if (i === 0) throw new Error('cell 0 failed');
      await new Promise((r) => setTimeout(r, 20));
      finished.push(i);
      return i;
    });
    await expect(run).rejects.toThrow('cell 0 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });
});

describe('threadsPerStudent', () => {
  it('shares the cores equally, at least one each, unless STRATA_THREADS says otherwise', () => {
    expect(threadsPerStudent(2, {}, 2)).toBe(1);
    expect(threadsPerStudent(3, {}, 8)).toBe(2);
    expect(threadsPerStudent(4, {}, 2)).toBe(1);
    expect(threadsPerStudent(2, { STRATA_THREADS: '3' }, 2)).toBe(3);
  });
});

describe('students in worker threads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-workers-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an embedded run with parallelism 2 gives the cells of a run that trains them one at a time', async () => {
    // The fixture teacher learns (91% dev), so it carries no chance warning.
    expect((await trainTinyTeacher(path.join(dir, 'T'), 600)).warnings).toEqual([]);
    const manifest = writeTinyManifest(path.join(dir, 'exp.yaml'), 'workers', path.join(dir, 'T', 'teacher.onnx'), { store: 'file', strategies: ['none', 'forward', 'out-of-order-random'] });
    const quiet = () => undefined;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const lines: string[] = [];
    let one, two;
    try {
      one = (await runExperiment(manifest, { outDir: path.join(dir, 'one'), log: quiet })).results;
      two = (await runExperiment(manifest, { outDir: path.join(dir, 'two'), log: (l) => lines.push(l), parallelism: 2 })).results;
    } finally {
      stderr.mockRestore();
    }
    expect(lines).toContain(`training 3 students, 2 at a time in worker threads (${threadsPerStudent(2)} ONNX Runtime thread${threadsPerStudent(2) === 1 ? '' : 's'} each)`);
    expect(two.cells.map((c) => c.id)).toEqual(one.cells.map((c) => c.id));
    for (const [i, c] of two.cells.entries()) {
      expect(c.hash).toBe(one.cells[i].hash);
      expect(c.layerMap).toEqual(one.cells[i].layerMap);
      for (const [k, v] of Object.entries(c.metrics)) expect(Math.abs(v - one.cells[i].metrics[k])).toBeLessThanOrEqual(1e-6);
      expect(fs.existsSync(path.join(dir, 'two', 'students', `${c.id}.onnx`))).toBe(true);
    }
    expect(new Set(two.cells.map((c) => c.metrics.accuracy)).size).toBeGreaterThan(1);
  });

  it("a student's failure in its thread comes back as the error it threw", async () => {
    const job = {
      kind: 'classification' as const,
      options: { teacherOnnx: path.join(dir, 'T', 'teacher.onnx'), tokenizerPath: path.join(dir, 'T', 'tokenizer.json'), task: 'spam', cacheRoot: path.join(dir, 'no-cache'), cacheKey: 'missing', strategy: 'forward', init: 'random' as const, depth: 1, seed: 1, epochs: 1, batchSize: 32, lr: 0.003, outDir: path.join(dir, 'failing') },
    };
    await expect(trainInWorker(job, { threads: 1, log: () => undefined })).rejects.toThrow(/missing/);
  });
});
