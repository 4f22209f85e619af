// A tiny pipeline on the embedded spam task through a fresh commander program (main.ts wiring is separate):
// teacher train -> teacher cache -> student train -> eval -> analyze angles.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { trainGenerationTeacher } from '@strata/experiment';
import { registerAnalyzeCommands } from './analyze';
import { registerStageCommands } from './stages';
import { registerTeacherCommands } from './teacher';

jest.setTimeout(120_000);

function program(): Command {
  const p = new Command('strata').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerTeacherCommands(p);
  registerStageCommands(p);
  registerAnalyzeCommands(p);
  const deep = (c: Command) => c.commands.forEach((s) => { s.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined }); deep(s); });
  deep(p);
  return p;
}

async function run(...args: string[]): Promise<string> {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program().parseAsync(args, { from: 'user' });
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('stage commands', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-stages-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const T = path.join(dir, 'T');
  const teacherOnnx = path.join(T, 'teacher.onnx');
  const cacheRoot = path.join(dir, 'cache');
  const S = path.join(dir, 'S');

  it('registers teacher cache, student train, eval and analyze angles', () => {
    const p = program();
    const names = (c: Command) => c.commands.map((s) => s.name());
    expect(names(p)).toEqual(expect.arrayContaining(['teacher', 'student', 'eval', 'analyze']));
    expect(names(p.commands.find((c) => c.name() === 'teacher')!)).toEqual(['train', 'cache']);
    expect(names(p.commands.find((c) => c.name() === 'student')!)).toEqual(['train']);
    expect(names(p.commands.find((c) => c.name() === 'analyze')!)).toEqual(['angles']);
  });

  it('rejects bad arguments with clear errors', async () => {
    await expect(run('teacher', 'cache', '--teacher', 'x.onnx', '--task', 'spam', '--layers', '0,a', '--cache-root', dir)).rejects.toThrow(/--layers must be comma-separated/);
    await expect(run('teacher', 'cache', '--teacher', 'x.onnx', '--task', 'spam', '--layers', '0', '--dtype', 'int8', '--cache-root', dir)).rejects.toThrow(/--dtype must be one of/);
    await expect(run('eval', '--model', path.join(dir, 'missing.onnx'), '--task', 'spam')).rejects.toThrow(/missing.onnx: no such file or directory; expected a model .onnx exported by Strata/);
    await expect(run('eval', '--model', 'x.onnx', '--task', 'hellaswag', '--carve', '1.5')).rejects.toThrow(/--carve must be a fraction between 0 and 1, got '1.5'/);
  });

  it('runs teacher train -> cache -> student train -> eval -> analyze angles', async () => {
    JSON.parse(
      await run('teacher', 'train', '--task', 'spam', '--out', T, '--layers', '2', '--hidden', '32', '--heads', '2', '--ffn', '64', '--max-length', '32', '--vocab', '2000', '--epochs', '1', '--max-train', '400', '--max-eval', '200', '--json'),
    );
    expect(fs.existsSync(teacherOnnx)).toBe(true);

    const cache = JSON.parse(await run('teacher', 'cache', '--teacher', teacherOnnx, '--task', 'spam', '--split', 'train', '--layers', '0,1,2', '--cache-root', cacheRoot, '--max-examples', '400', '--json'));
    expect(cache.cacheKey).toEqual(expect.any(String));
    expect(cache.count).toBe(400);
    expect(cache.computed).toBe(true);
    const again = await run('teacher', 'cache', '--teacher', teacherOnnx, '--task', 'spam', '--layers', '0,1,2', '--cache-root', cacheRoot, '--max-examples', '400');
    expect(again).toContain(`cache key: ${cache.cacheKey}`);
    expect(again).toContain('(already cached)');

    const student = JSON.parse(
      await run('student', 'train', '--teacher', teacherOnnx, '--task', 'spam', '--cache-root', cacheRoot, '--cache-key', cache.cacheKey, '--strategy', 'forward', '--init', 'copy', '--depth', '1', '--seed', '1', '--epochs', '1', '--out', S, '--max-train', '400', '--max-eval', '200', '--json'),
    );
    expect(student.onnx).toBe(path.join(S, 'student.onnx'));
    expect(fs.existsSync(student.onnx)).toBe(true);
    expect(student.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(student.metrics.accuracy).toBeLessThanOrEqual(1);
    expect(student.layerMaps).toHaveLength(1);
    expect(student.layerMaps[0]).toEqual(expect.arrayContaining([[1, expect.any(Number)]]));

    const ev = JSON.parse(await run('eval', '--model', student.onnx, '--task', 'spam', '--split', 'dev', '--max-examples', '200', '--json'));
    expect(ev.count).toBe(200);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0);
    expect(ev.accuracy).toBeLessThanOrEqual(1);
    expect(ev.f1).toBeGreaterThanOrEqual(0);
    expect(ev.f1).toBeLessThanOrEqual(1);
    // Evaluating the same student on the same examples reproduces the student stage's own metrics.
    expect(ev.accuracy).toBeCloseTo(student.metrics.accuracy, 6);
    expect(await run('eval', '--model', teacherOnnx, '--task', 'spam', '--max-examples', '50')).toMatch(/^spam\/dev \(50 examples\) accuracy: \d+\.\d\d%, F1: \d+\.\d\d%\n$/);

    const out = path.join(dir, 'angles');
    const angles = JSON.parse(await run('analyze', 'angles', '--teacher', teacherOnnx, '--student', student.onnx, '--task', 'spam', '--max-examples', '64', '--out', out, '--json'));
    expect(angles.teacherLayers).toEqual([1, 2]);
    expect(angles.layers).toHaveLength(1);
    const l = angles.layers[0];
    expect(l.studentLayer).toBe(1);
    expect(l.meanCosine).toHaveLength(4);
    expect(l.meanCosine[0]).toBeCloseTo(1, 4);
    expect(l.meanCosine[3]).toBeCloseTo(1, 4);
    expect(l.meanCosine[1]).toBeCloseTo(l.meanCosine[2], 5);
    for (const v of l.meanCosine) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
    expect(l.fractionAcute).toBeGreaterThanOrEqual(0);
    expect(l.fractionAcute).toBeLessThanOrEqual(1);
    for (const f of ['angles-s1.svg', 'angles-hist-s1.svg']) expect(fs.readFileSync(path.join(out, f), 'utf8')).toMatch(/^<svg/);

    const table = await run('analyze', 'angles', '--teacher', teacherOnnx, '--student', student.onnx, '--task', 'spam', '--max-examples', '64', '--out', out);
    expect(table).toMatch(/student layer 1: acute fraction \d\.\d{4}/);
  });

  it('eval scores an encoder-decoder on a seq2seq task and reproduces the teacher stage\'s metrics', async () => {
    const G = path.join(dir, 'G');
    const t = await trainGenerationTeacher({
      task: 'cmudict-g2p', outDir: G, train: { split: 'train' }, eval: { split: 'dev' }, data: { maxExamples: 256 }, maxEvalExamples: 16, evaluation: { beam: 2, lengthPenalty: 1 }, log: () => undefined,
      config: { layers: 2, hidden: 16, heads: 2, intermediate: 32, maxLength: 16, maxTargetLength: 16, vocabSize: 128, tokenizer: 'word-level', epochs: 1, batchSize: 32, lr: 2e-3, warmupRatio: 0.1, dropout: 0.1, labelSmoothing: 0, seed: 1 },
    });
    const ev = JSON.parse(await run('eval', '--model', t.onnx, '--task', 'cmudict-g2p', '--max-examples', '16', '--beam', '2', '--json'));
    expect(ev).toMatchObject({ task: 'cmudict-g2p', split: 'dev', count: 16 });
    expect(ev.metrics).toEqual(t.metrics);
    expect(await run('eval', '--model', t.onnx, '--task', 'cmudict-g2p', '--max-examples', '16', '--beam', '2')).toMatch(/^cmudict-g2p\/dev \(16 examples\) bleu: \d+\.\d\d, per: \d+\.\d\d, word_accuracy: \d+\.\d\d\n$/);
    await expect(run('eval', '--model', t.onnx, '--task', 'cmudict-g2p', '--max-length', '64')).rejects.toThrow(/maxLength 64 exceeds the model's 16 positions/);
    await expect(run('eval', '--model', t.onnx, '--task', 'spam', '--carve', '0.2')).rejects.toThrow(/--carve is for generation tasks; 'spam' is classification/);
  });
});
