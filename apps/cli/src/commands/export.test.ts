// `strata export hf`: a Strata-exported classifier as a Hugging Face folder that reads back as the same model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { trainTinyTeacher } from '@strata/experiment';
import { loadCheckpoint } from '@strata/hub';
import { buildBert } from '@strata/nn';
import { createSession, ort, readModel, validateModel } from '@strata/onnx';
import { registerExportCommands } from './export';

jest.setTimeout(120_000);

async function run(...args: string[]): Promise<string> {
  const program = new Command('strata').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerExportCommands(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })));
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['export', ...args], { from: 'user' });
  } finally {
    out.mockRestore();
  }
  return chunks.join('');
}

const ids = (rows: number, len: number, seed: number) => new ort.Tensor('int64', BigInt64Array.from({ length: rows * len }, (_, i) => BigInt(5 + ((i * 7 + seed) % 300))), [rows, len]);
const ones = (rows: number, len: number, v: number) => new ort.Tensor('int64', new BigInt64Array(rows * len).fill(BigInt(v)), [rows, len]);

describe('strata export hf', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-export-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a checkpoint whose weights, labels and tokenizer give the exported model back, at any batch size', async () => {
    const t = await trainTinyTeacher(path.join(dir, 'T'), 200);
    // The export has dynamic axes and passes `strata onnx check` (structure; its shapes are symbolic).
    expect(validateModel(readModel(t.onnx))).toEqual([]);
    const out = await run('hf', t.onnx, path.join(dir, 'hf'));
    expect(out).toMatch(/wrote .*model\.safetensors, .*config\.json, .*tokenizer\.json, .*tokenizer_config\.json/);
    const back = loadCheckpoint(path.join(dir, 'hf'));
    if (back.imported.arch !== 'bert') throw new Error('expected bert');
    expect(back.imported.labels).toEqual(['ham', 'spam']);
    expect(fs.readFileSync(path.join(dir, 'hf', 'tokenizer.json'), 'utf8')).toBe(fs.readFileSync(t.tokenizer, 'utf8'));
    const exported = await createSession(readModel(t.onnx));
    for (const [B, S] of [[1, 9], [7, 13]]) {
      const rebuilt = buildBert(back.imported.config, { batch: B, seqLen: S, training: false, params: { kind: 'initializers', values: back.values } });
      rebuilt.g.output(rebuilt.logits);
      const session = await createSession(rebuilt.g.build());
      const feeds = { input_ids: ids(B, S, B), attention_mask: ones(B, S, 1), token_type_ids: ones(B, S, 0) };
      const [a, b] = [await exported.run(feeds), await session.run(feeds)];
      expect(a.logits.dims).toEqual([B, 2]);
      expect(Array.from(b.logits.data as Float32Array)).toEqual(Array.from(a.logits.data as Float32Array));
      await session.release();
    }
    await exported.release();
  });

  it('finds the tokenizer and label names of a student in a run folder (students/<cell>.onnx, the teacher beside)', async () => {
    const runDir = path.join(dir, 'run');
    fs.mkdirSync(path.join(runDir, 'students'), { recursive: true });
    fs.mkdirSync(path.join(runDir, 'teacher'));
    fs.copyFileSync(path.join(dir, 'T', 'teacher.onnx'), path.join(runDir, 'students', 'forward-copy-d1-s1.onnx'));
    for (const f of ['tokenizer.json', 'config.json']) fs.copyFileSync(path.join(dir, 'T', f), path.join(runDir, 'teacher', f));
    await run('hf', path.join(runDir, 'students', 'forward-copy-d1-s1.onnx'), path.join(dir, 'hf-cell'));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'hf-cell', 'config.json'), 'utf8')).id2label).toEqual({ 0: 'ham', 1: 'spam' });
  });

  it('says what is missing', async () => {
    await expect(run('hf', path.join(dir, 'nope.onnx'), path.join(dir, 'x'))).rejects.toThrow(/nope\.onnx: no such file or directory; expected a student or teacher .onnx exported by Strata/);
    fs.mkdirSync(path.join(dir, 'lonely'));
    fs.copyFileSync(path.join(dir, 'T', 'teacher.onnx'), path.join(dir, 'lonely', 'm.onnx'));
    await expect(run('hf', path.join(dir, 'lonely', 'm.onnx'), path.join(dir, 'x'))).rejects.toThrow(/no tokenizer\.json beside it or in the experiment's teacher folder; give --tokenizer/);
    await expect(run('hf', path.join(dir, 'T', 'teacher.onnx'), path.join(dir, 'x'), '--labels', 'a,b,c')).rejects.toThrow(/--labels names 3 labels; the model has 2/);
  });
});
