import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateFullRun, smokeManifest } from './estimate';
import type { GenerationResults } from './families/generation-setup';
import { parseManifest } from './validate';

const file = path.resolve(__dirname, '../../../examples/table1-dart.yaml');
const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
// The example trains two students at a time; the scaling arithmetic below is checked on one at a time first.
const full = { ...manifest, spec: { ...manifest.spec, resources: { parallelism: 1 } } };

describe('smoke runs and full-run estimates', () => {
  it('cuts a reproduction to the same models on a sample, one seed, none + forward, one epoch', () => {
    const s = smokeManifest(full);
    expect(s.metadata.name).toBe('table1-dart-smoke');
    expect(s.spec.teacher.train).toEqual({ ...full.spec.teacher.train, epochs: 1 });
    expect(s.spec.students).toMatchObject({ seeds: [1], inits: ['copy'], strategies: ['none', 'forward'], epochs: 1, depths: [3] });
    expect(s.spec.data).toMatchObject({ maxTrainExamples: 1024, maxEvalExamples: 128 });
    expect(full.spec.students.strategies).toHaveLength(5); // the full manifest is left alone
  });

  it('scales per-step and per-example costs to the full run', () => {
    const smoke = smokeManifest(full);
    const results = {
      setup: { trainExamples: 1024 },
      teacher: { metrics: {}, layers: 12 },
      timings: {
        teacherTrain: 80, teacherSteps: 40, teacherEval: 128, cache: 20.48, angles: 6,
        students: { 'none-copy-d3-s1': { train: 20, eval: 32, steps: 40 }, 'forward-copy-d3-s1': { train: 30, eval: 32, steps: 40 } },
      },
    } as unknown as GenerationResults;
    const e = estimateFullRun(full, smoke, results, { trainExamples: 20000, evalExamples: 500 }, 256, 64);
    const steps = (40 / 1024) * 20000; // steps per epoch of the full run
    expect(e.cells).toBe(10);
    expect(e.teacherTrain).toBeCloseTo(2 * steps * 2, 6); // 2 s/step, 2 epochs
    expect(e.cache).toBeCloseTo(0.02 * 20000, 6);
    expect(e.studentsTrain).toBeCloseTo(0.625 * steps * 10, 6); // mean 0.625 s/step, 1 epoch, 10 cells
    expect(e.teacherEval).toBeCloseTo(500, 6);
    expect(e.studentsEval).toBeCloseTo(0.25 * 500 * 10, 6);
    expect(e.angles).toBeCloseTo(6 * 4 * 8, 6); // 6 s per cell at 64 examples, 256 in the full run, 8 cells analysed
    expect(e.total).toBeCloseTo(e.teacherTrain + e.teacherEval + e.cache + e.studentsTrain + e.studentsEval + e.angles, 6);
  });

  it('divides the students\' wall time by the students trained at once, and says so', () => {
    const smoke = smokeManifest(full);
    const results = {
      setup: { trainExamples: 1024 },
      teacher: { metrics: {}, layers: 12 },
      timings: { teacherSteps: 40, teacherTrain: 80, students: { 'none-copy-d3-s1': { train: 20, eval: 32, steps: 40 } } },
    } as unknown as GenerationResults;
    const sizes = { trainExamples: 20000, evalExamples: 500 };
    const one = estimateFullRun(full, smoke, results, sizes);
    const two = estimateFullRun({ ...full, spec: { ...full.spec, resources: { parallelism: 2 } } }, smoke, results, sizes);
    expect(two.studentsTrain).toBeCloseTo(one.studentsTrain / 2, 6);
    expect(two.studentsEval).toBeCloseTo(one.studentsEval / 2, 6);
    expect(two.teacherTrain).toBe(one.teacherTrain);
    expect(two.method).toContain('2 students at a time');
    expect(one.method).not.toContain('at a time');
  });
});
