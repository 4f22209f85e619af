// Pretrained generation teachers: a Hugging Face BART checkpoint fine-tuned on a seq2seq task (embedded CMUdict
// grapheme-to-phoneme) and a Qwen3 checkpoint on a multiple-choice task (HellaSwag from ../shared/data), then
// weight-copied students. Tiny runs: this checks the path, not the scores.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeShared, describeSharedModel, sharedModelDir } from '@strata/data';
import { readSafetensors } from '@strata/hub';
import { runExperiment } from '../run';
import { loadGenerationModel } from './generation-model';

jest.setTimeout(600_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pretrained-gen-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const manifest = (name: string, task: string, teacher: string, extra: string) =>
  [
    'apiVersion: strata.dev/v1alpha1',
    'kind: Experiment',
    `metadata: { name: ${name} }`,
    'spec:',
    `  task: ${task}`,
    `  teacher: ${teacher}`,
    '  cache: { dtype: float16, store: file, topK: 16 }',
    '  students: { depths: [1], inits: [copy], strategies: [forward], seeds: [1], epochs: 1, lr: 0.001, loss: { normalize: element } }',
    '  eval: { split: dev, beam: 1 }',
    '  analysis: { angles: false }',
    `  ${extra}`,
    '',
  ].join('\n');

describeSharedModel('tiny-bart', 'a pretrained BART teacher on a seq2seq task', () => {
  it('fine-tunes the checkpoint with its tokenizer, then distils a weight-copied student', async () => {
    const file = path.join(root, 'bart.yaml');
    fs.writeFileSync(file, manifest('g2p-bart', 'cmudict-g2p', `{ pretrained: ${JSON.stringify(sharedModelDir('tiny-bart'))}, finetune: { epochs: 1, lr: 0.001, maxLength: 24, maxTargetLength: 24 } }`, 'data: { maxTrainExamples: 64, maxEvalExamples: 8 }'));
    const lines: string[] = [];
    const { outDir, results } = await runExperiment(file, { outDir: path.join(root, 'run-bart'), log: (l) => lines.push(l) });
    expect(lines.some((l) => /^pretrained teacher BartForConditionalGeneration from .*: 2 layers per stack, hidden 64, vocab 30522$/.test(l))).toBe(true);
    expect(results.teacher).toMatchObject({ layers: 2, hidden: 64 });
    expect(results.cells.map((c) => c.id)).toEqual(['forward-copy-d1-s1']);
    const saved = JSON.parse(fs.readFileSync(path.join(outDir, 'teacher', 'teacher.json'), 'utf8'));
    expect(saved.pretrained).toBe(sharedModelDir('tiny-bart'));
    const teacher = loadGenerationModel(path.join(outDir, 'teacher', 'teacher.onnx'));
    expect(teacher.model.arch).toBe('bart');
    expect(teacher.model.config).toMatchObject({ finalLogitsBias: true, padId: 0, decoderStartId: 102, eosId: 102 });
    // Fine-tuning moved the checkpoint's weights, starting from them (not from a random init).
    const ckpt = readSafetensors(path.join(sharedModelDir('tiny-bart'), 'model.safetensors'));
    const name = 'model.encoder.layers.1.fc1.weight';
    const before = ckpt.float32(name);
    const after = teacher.values.get(name)!;
    let moved = 0;
    let dot = 0;
    let nb = 0;
    let na = 0;
    after.forEach((v, i) => {
      moved = Math.max(moved, Math.abs(v - before[i]));
      dot += v * before[i];
      nb += before[i] * before[i];
      na += v * v;
    });
    expect(moved).toBeGreaterThan(0);
    expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.9);
  });
});

describeSharedModel('tiny-qwen3', 'a pretrained Qwen3 teacher on a multiple-choice task', () => {
  describeShared('hellaswag', 'Qwen3 on HellaSwag', () => {
    it('fine-tunes the checkpoint, caches it and distils a weight-copied student', async () => {
      const file = path.join(root, 'qwen.yaml');
      fs.writeFileSync(file, manifest('hs-qwen', 'hellaswag', `{ pretrained: ${JSON.stringify(sharedModelDir('tiny-qwen3'))}, finetune: { epochs: 1, lr: 0.001, maxLength: 64 } }`, 'data: { maxTrainExamples: 48, maxEvalExamples: 8, carve: { from: dev, evalFraction: 0.2 } }'));
      const { outDir, results } = await runExperiment(file, { outDir: path.join(root, 'run-qwen'), log: () => undefined });
      expect(results.teacher).toMatchObject({ layers: 3, hidden: 64 });
      expect(results.cells.map((c) => c.id)).toEqual(['forward-copy-d1-s1']);
      const teacher = loadGenerationModel(path.join(outDir, 'teacher', 'teacher.onnx'));
      // Rotary tables are sized to the task's sequences, not the checkpoint's 256 positions.
      expect(teacher.model.arch === 'qwen3' && teacher.model.config.maxPositions).toBe(64);
    });
  });
});
