// results.json against its committed JSON Schema: the file must be what the zod schema emits (no drift), and a real
// run's results.json (a tiny teacher, three students, in seconds) must conform to it. The same run checks what the
// schema cannot: per-term curves that add up, dev points per epoch, progress.json, sizes, latency, and that a re-run
// over cells written in the schemaVersion-1 layout reuses them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// ajv is installed with the repository (kubernetes-models validates with it); it reads the committed file itself.
import Ajv2020 from 'ajv/dist/2020';
import { RESULTS_SCHEMA_COMMAND, RESULTS_SCHEMA_PATH, resultsProblems, resultsSchemaText } from './results-schema';
import type { ExperimentResults } from './report';
import { runExperiment } from './run';
import type { ProgressFile } from './stages/loop';
import { trainTinyTeacher, writeTinyManifest } from './testing';

const repo = path.resolve(__dirname, '../../..');
const committed = fs.readFileSync(path.join(repo, RESULTS_SCHEMA_PATH), 'utf8');
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(committed));
const schemaErrors = (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe('docs/results.schema.json', () => {
  it('is what the zod schema of results.json emits', () => {
    // On failure, regenerate it: npx tsx libs/experiment/scripts/results-schema.ts
    expect({ file: RESULTS_SCHEMA_PATH, text: committed }).toEqual({ file: RESULTS_SCHEMA_PATH, text: resultsSchemaText() });
    expect(RESULTS_SCHEMA_COMMAND).toContain('libs/experiment/scripts/results-schema.ts');
  });
});

describe('results.json of a real run', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-results-'));
  const out = path.join(root, 'run');
  const quiet = () => undefined;
  let manifest = '';
  let results: ExperimentResults;

  beforeAll(async () => {
    const teacher = await trainTinyTeacher(path.join(root, 'teacher'), 400);
    // Depth-1 students of a 2-layer teacher: out-of-order random can only match the top layer, as forward does.
    manifest = writeTinyManifest(path.join(root, 'tiny.yaml'), 'tiny-results', teacher.onnx, { store: 'file', examples: 400, epochs: 2, strategies: ['none', 'forward', 'out-of-order-random'] });
    results = (await runExperiment(manifest, { outDir: out, log: quiet, angleExamples: 32 })).results;
  }, 600_000);

  it('conforms to the committed JSON Schema and to the zod schema', () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(schemaErrors(onDisk)).toEqual([]);
    expect(resultsProblems(onDisk)).toEqual([]);
    expect(onDisk.schemaVersion).toBe(2);
    // Each student's result.json is the same object as its entry.
    for (const cell of onDisk.cells) expect(JSON.parse(fs.readFileSync(path.join(out, 'students', cell.id, 'result.json'), 'utf8'))).toEqual(cell);
    // And the schema has teeth: the old layout is refused.
    expect(schemaErrors({ ...onDisk, cells: [{ ...onDisk.cells[0], curve: [[1, 2]] }] })).not.toEqual([]);
  });

  it('records per-term curves whose terms add up to the optimized loss', () => {
    const forward = results.cells.find((c) => c.strategy === 'forward')!;
    const none = results.cells.find((c) => c.strategy === 'none')!;
    expect(Object.keys(forward.curves).sort()).toEqual(['ce', 'hidden', 'kl', 'loss', 'step']);
    expect(Object.keys(none.curves).sort()).toEqual(['ce', 'kl', 'loss', 'step']);
    for (const c of [forward, none]) {
      const n = c.curves.step.length;
      expect(n).toBeGreaterThan(2);
      expect(c.curves.step[0]).toBe(1);
      for (const k of ['loss', 'ce', 'kl', 'hidden'] as const) if (c.curves[k]) expect(c.curves[k]).toHaveLength(n);
      c.curves.loss.forEach((loss, i) => {
        const sum = c.curves.ce![i] + c.curves.kl![i] + (c.curves.hidden?.[i] ?? 0);
        expect(Math.abs(sum - loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(loss)));
      });
    }
    // The hidden term is weighted 3 and is most of a matching student's loss at the start.
    expect(forward.curves.hidden![0]).toBeGreaterThan(forward.curves.ce![0]);
  });

  it('scores every epoch, the last one being the final metrics, and leaves progress.json at the end', () => {
    for (const c of results.cells) {
      expect(c.dev!.map((d) => d.epoch)).toEqual([1, 2]);
      expect(c.dev![0].step).toBeLessThan(c.dev![1].step);
      expect(c.dev![1].metrics).toEqual(c.metrics);
      const progress = JSON.parse(fs.readFileSync(path.join(out, 'students', c.id, 'progress.json'), 'utf8')) as ProgressFile;
      expect(progress).toMatchObject({ step: c.dev![1].step, totalSteps: c.dev![1].step, epoch: 2, epochs: 2 });
      expect(Number.isNaN(Date.parse(progress.updatedAt))).toBe(false);
      expect(c.wallSeconds).toBeGreaterThan(0);
    }
  });

  it('states sizes and latency of the teacher and the students, and flags the strategy that repeats another', () => {
    const cell = results.cells[0];
    expect(cell.student.onnxBytes).toBe(fs.statSync(path.join(out, 'students', `${cell.id}.onnx`)).size);
    expect(results.teacher.onnxBytes).toBe(fs.statSync(path.join(out, 'teacher', 'teacher.onnx')).size);
    expect(cell.student.parameters).toBeLessThan(results.teacher.parameters);
    expect(results.latency).toMatchObject({ runs: 5, seqLen: 32, students: [{ depth: 1, cellId: cell.id }] });
    for (const p of [results.latency!.teacher, results.latency!.students[0]]) expect(p.batch32Ms).toBeGreaterThan(p.batch1Ms);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('| Out-of-order random (= Forward: same layer maps) | 1 |');
    expect(report).toMatch(/\| Student d1 \| 1 \| [\d,]+ \| 0\.\d\d× \| [\d.]+ KiB \| [\d.]+ ms \| [\d.]+ ms \|/);
  });

  it('reuses cells written in the schemaVersion-1 layout, upgrading their files', async () => {
    // Rewrite every result.json as a run before #22 left it.
    const file = (id: string) => path.join(out, 'students', id, 'result.json');
    for (const c of results.cells) {
      const { curves, dev: _dev, wallSeconds: _w, student: _s, ...rest } = c;
      const legacy = { ...rest, curves: { trainLoss: curves.loss }, curve: curves.step.map((s, i) => [s, curves.loss[i]]), layerMaps: [c.layerMap, c.layerMap] };
      fs.writeFileSync(file(c.id), JSON.stringify(legacy));
    }
    fs.rmSync(path.join(out, 'results.json'));
    const lines: string[] = [];
    const again = (await runExperiment(manifest, { outDir: out, log: (l) => lines.push(l), angleExamples: 32 })).results;
    expect(lines.filter((l) => l.endsWith('finished earlier, skipped'))).toHaveLength(3);
    expect(schemaErrors(again)).toEqual([]);
    again.cells.forEach((c, i) => {
      const before = results.cells[i];
      expect(c.curves).toEqual({ step: before.curves.step, loss: before.curves.loss });
      expect(c.metrics).toEqual(before.metrics);
      expect(c.student).toEqual(before.student);
      // The checkpoint's training time: the cell's wall time without its final scoring and export.
      expect(c.wallSeconds).toBeGreaterThan(0);
      expect(c.wallSeconds).toBeLessThanOrEqual(before.wallSeconds);
      expect(JSON.parse(fs.readFileSync(file(c.id), 'utf8'))).toEqual(c);
    });
  }, 300_000);
});
