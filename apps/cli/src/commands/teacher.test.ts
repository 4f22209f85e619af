// `strata teacher train --manifest`: what the <experiment>-teacher Job runs. A tiny spam teacher (embedded data).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { describeSharedModel, sharedModelDir } from '@strata/data';
import { readCheckpointMeta } from '@strata/train';
import { registerTeacherCommands } from './teacher';

jest.setTimeout(120_000);

async function run(...args: string[]): Promise<string> {
  const program = new Command('strata').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerTeacherCommands(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })));
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['teacher', 'train', ...args], { from: 'user' });
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

const MANIFEST = `apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata: { name: tiny }
spec:
  task: spam
  teacher:
    train: { layers: 1, hidden: 16, heads: 2, intermediate: 32, maxLength: 16, vocabSize: 300, epochs: 1, batchSize: 16, seed: 3 }
  students: { depths: [1], strategies: [forward], seeds: [1] }
  data: { maxTrainExamples: 64, maxEvalExamples: 32 }
`;

describe('strata teacher train --manifest', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-teacher-manifest-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const manifest = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(manifest, MANIFEST);

  it('trains the teacher the manifest describes', async () => {
    const out = JSON.parse(await run('--manifest', manifest, '--out', path.join(dir, 'teacher'), '--json'));
    expect(out.onnx).toBe(path.join(dir, 'teacher', 'teacher.onnx'));
    expect(out.evalSplit).toBe('dev');
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'teacher', 'teacher.json'), 'utf8'));
    expect([saved.config.layers, saved.config.hidden, saved.config.heads, saved.config.intermediate, saved.config.maxPositions]).toEqual([1, 16, 2, 32, 16]);
  });

  it('refuses model flags next to --manifest, a manifest with a finished teacher, and neither --task nor --manifest', async () => {
    await expect(run('--manifest', manifest, '--out', dir, '--layers', '3', '--max-length', '8')).rejects.toThrow('--manifest fixes the teacher; drop --layers, --max-length');
    const given = path.join(dir, 'given.yaml');
    fs.writeFileSync(given, MANIFEST.replace(/train: \{[^}]*\}/, 'onnx: t.onnx'));
    await expect(run('--manifest', given, '--out', dir)).rejects.toThrow(`${given}: spec.teacher gives a finished teacher (spec.teacher.onnx); there is nothing to train (use train or pretrained)`);
    await expect(run('--out', dir)).rejects.toThrow("required option '--task <id>' not specified (or give --manifest)");
  });
});

describeSharedModel('tiny-bert-classifier', 'strata teacher train --pretrained', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-teacher-pretrained-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fine-tunes a Hugging Face checkpoint with only the flags given, and refuses architecture flags', async () => {
    const out = JSON.parse(await run('--task', 'spam', '--pretrained', sharedModelDir('tiny-bert-classifier'), '--epochs', '1', '--max-length', '32', '--max-train', '64', '--max-eval', '32', '--out', path.join(dir, 't'), '--json'));
    expect(out.onnx).toBe(path.join(dir, 't', 'teacher.onnx'));
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 't', 'teacher.json'), 'utf8'));
    expect(saved.pretrained.dir).toBe(sharedModelDir('tiny-bert-classifier'));
    // The checkpoint's architecture, --max-length as given; lr stays the fine-tuning default, not the from-scratch 5e-4.
    expect(saved.config).toMatchObject({ layers: 3, hidden: 64, maxPositions: 128, maxLength: 32 });
    const settings = JSON.parse(readCheckpointMeta(path.join(dir, 't', 'teacher.ckpt')).settings as string);
    expect(settings.hyper).toMatchObject({ epochs: 1, lr: 5e-5, batchSize: 32, maxLength: 32 });
    await expect(run('--task', 'spam', '--pretrained', sharedModelDir('tiny-bert-classifier'), '--layers', '2', '--out', dir)).rejects.toThrow('--pretrained fixes the architecture (its config.json); drop --layers');
  });
});
