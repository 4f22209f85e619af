// `experiment run --transport kafka --cells`: only the chosen cells train through the services; the evaluator scores
// them, and the partial results (the grid's other cells named as missing) are written by the CLI, since the evaluator
// aggregates complete grids only. A second run of the rest completes the grid through the evaluator as usual.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainTinyTeacher, writeTinyManifest } from '@strata/experiment';
import { describeKafka, uniqueName } from '@strata/kafka';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

describeKafka('experiment run --transport kafka --cells', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kafka-cells-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains the chosen cells, writes partial results naming the rest, and completes the grid on the next run', async () => {
    const name = uniqueName('cells').replace(/[^a-z0-9-]/g, '-');
    await trainTinyTeacher(path.join(dir, 'T'), 300);
    const manifest = writeTinyManifest(path.join(dir, 'kafka.yaml'), name, path.join(dir, 'T', 'teacher.onnx'), { store: 'kafka', strategies: ['none', 'forward', 'reverse'], epochs: 1, examples: 300 });
    const outDir = path.join(dir, 'runs', name);
    const lines: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const first = await runExperimentOverKafka(manifest, { outDir, brokers, parallelism: 2, cells: ['forward-random-d1-s1'], log: (l) => lines.push(l), evaluatorTimeoutMs: 120_000 });
      expect(first.results.cells.map((c) => c.id)).toEqual(['forward-random-d1-s1']);
      expect(first.results.missingCells).toEqual(['none-random-d1-s1', 'reverse-random-d1-s1']);
      expect(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')).toContain('**Partial results:** 1 of 3 cells of the grid have finished');
      expect(lines.some((l) => l.startsWith('training 1 of 3 students'))).toBe(true);
      expect(fs.existsSync(path.join(outDir, 'students', 'none-random-d1-s1', 'result.json'))).toBe(false);

      const second = await runExperimentOverKafka(manifest, { outDir, brokers, parallelism: 2, cells: ['none-random-d1-s1', 'reverse-random-d1-s1'], log: () => undefined, evaluatorTimeoutMs: 120_000 });
      expect(second.results.cells.map((c) => c.id)).toEqual(['none-random-d1-s1', 'forward-random-d1-s1', 'reverse-random-d1-s1']);
      expect(second.results.missingCells).toBeUndefined();
    } finally {
      stderr.mockRestore();
    }
  });
});
