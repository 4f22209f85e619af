// Teachers Strata did not train: a Hugging Face checkpoint fine-tuned on the task, and an optimum ONNX export run as a
// frozen teacher. The models come from ../shared/models; the task is the embedded spam corpus, so no dataset is needed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '@strata/activations';
import { describeSharedModel, sharedModelDir } from '@strata/data';
import { readSafetensors } from '@strata/hub';
import { createSession, ort } from '@strata/onnx';
import { runExperiment } from '../run';
import { cacheTeacherStates } from './cache';
import { feedsFor, loadTeacher, teacherForward } from './common';
import { initialStudentParams } from './student';
import { finetuneTeacher } from './teacher';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pretrained-'));
const quiet = () => undefined;
const tinyBert = () => sharedModelDir('tiny-bert-classifier');

const manifest = (name: string, teacher: string) =>
  [
    'apiVersion: strata.dev/v1alpha1',
    'kind: Experiment',
    `metadata: { name: ${name} }`,
    'spec:',
    '  task: spam',
    `  teacher: ${teacher}`,
    '  students:',
    '    depths: [2]',
    '    inits: [copy]',
    '    strategies: [forward]',
    '    seeds: [1]',
    '    epochs: 1',
    '    lr: 0.0005',
    '  analysis: { angles: true }',
    '  data: { maxTrainExamples: 128, maxEvalExamples: 64 }',
    '',
  ].join('\n');

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

describeSharedModel('tiny-bert-classifier', 'pretrained and exported teachers', () => {
  it('fine-tunes a Hugging Face checkpoint with its own tokenizer, resumably, and copies its layers into students', async () => {
    const dir = path.join(root, 'finetuned');
    const lines: string[] = [];
    const t = await finetuneTeacher({ task: 'spam', outDir: dir, pretrained: tinyBert(), maxTrainExamples: 128, maxEvalExamples: 64, config: { epochs: 1, lr: 1e-3, maxLength: 32 }, log: (l) => lines.push(l) });
    expect(t.pretrained).toEqual({ dir: tinyBert(), initialized: [], unused: [] });
    expect(t.config).toMatchObject({ layers: 3, hidden: 64, heads: 4, intermediate: 128, maxPositions: 128, maxLength: 32, vocabSize: 30522 });
    expect(lines.some((l) => /^pretrained teacher BertForSequenceClassification from .*: 3 layers, hidden 64, 4 heads, FFN 128, vocab 30522$/.test(l))).toBe(true);
    // The checkpoint's tokenizer, byte for byte.
    expect(fs.readFileSync(path.join(dir, 'tokenizer.json')).equals(fs.readFileSync(path.join(tinyBert(), 'tokenizer.json')))).toBe(true);
    // A file of the run's own, writable although ../shared is read-only, so a re-run can replace it.
    expect(fs.statSync(path.join(dir, 'tokenizer.json')).mode & 0o777).toBe(0o644);
    // Training moved the weights away from the checkpoint's.
    const ckpt = readSafetensors(path.join(tinyBert(), 'model.safetensors'));
    const teacher = loadTeacher(t.onnx);
    const q = 'bert.encoder.layer.2.attention.self.query.weight';
    const before = ckpt.float32(q);
    const after = teacher.values.get(q)!;
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    // Weight copy takes the fine-tuned teacher's layers 2 and 3 (forward order, 3 -> 2).
    const student = initialStudentParams(teacher, 2, 'copy', 1);
    expect(student.get('bert.encoder.layer.1.attention.self.query.weight')).toEqual(after);
    expect(student.get('bert.embeddings.word_embeddings.weight')).toEqual(teacher.values.get('bert.embeddings.word_embeddings.weight'));
    // Re-running finds the finished checkpoint: nothing is trained again, the result is the same.
    const again = await finetuneTeacher({ task: 'spam', outDir: dir, pretrained: tinyBert(), maxTrainExamples: 128, maxEvalExamples: 64, config: { epochs: 1, lr: 1e-3, maxLength: 32 }, log: quiet });
    expect(again.curve).toEqual(t.curve);
    expect(again.metrics).toEqual(t.metrics);
  });

  it('runs an optimum export as a frozen teacher: detected layer outputs and logits equal transformers', async () => {
    const onnx = path.join(tinyBert(), 'onnx', 'model.onnx');
    const teacher = loadTeacher(onnx);
    expect(teacher.graph).toBeDefined();
    expect(teacher.valuesError).toBeUndefined();
    expect(teacher.config).toMatchObject({ layers: 3, hidden: 64, heads: 4, numLabels: 2, maxLength: 128 });
    const ref = JSON.parse(fs.readFileSync(path.join(tinyBert(), 'reference', 'sst2-dev-0-8.json'), 'utf8'));
    const inputs = ref.inputs as Record<string, number[][]>;
    const raw = (file: string) => {
      const b = fs.readFileSync(path.join(tinyBert(), 'reference', file));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const hs = raw(ref.arrays.hidden_states.file);
    const logits = raw(ref.arrays.logits.file);
    const [B, S, H] = [8, 28, 64];
    const forward = teacherForward(teacher, B, S);
    expect(forward.key).toBe('graph');
    const session = await createSession(forward.model());
    const out = await session.run(feedsFor(session.inputNames, { input_ids: int64(inputs.input_ids), attention_mask: int64(inputs.attention_mask), token_type_ids: int64(inputs.token_type_ids) }));
    for (let l = 0; l <= 3; l++) {
      const got = out[`hidden_states.${l}`].data as Float32Array;
      let worst = 0;
      for (let r = 0; r < B; r++)
        for (let s = 0; s < S; s++) {
          if (!inputs.attention_mask[r][s]) continue;
          for (let k = 0; k < H; k++) worst = Math.max(worst, Math.abs(got[(r * S + s) * H + k] - hs[((l * B + r) * S + s) * H + k]));
        }
      expect(worst).toBeLessThan(1e-4);
    }
    const gotLogits = out.logits.data as Float32Array;
    expect(Math.max(...Array.from(gotLogits, (v, i) => Math.abs(v - logits[i])))).toBeLessThan(1e-4);
    await session.release();
    // Its weights map back to parameters, so a student can be weight-copied from it.
    const ckpt = readSafetensors(path.join(tinyBert(), 'model.safetensors'));
    const student = initialStudentParams(teacher, 2, 'copy', 1);
    expect(student.get('bert.encoder.layer.0.output.dense.weight')).toEqual(ckpt.float32('bert.encoder.layer.1.output.dense.weight'));
  });

  it('caches an exported teacher\'s detected layers (teacher.hiddenStates overrides detection, a wrong name is an error)', async () => {
    const onnx = path.join(tinyBert(), 'onnx', 'model.onnx');
    const teacher = loadTeacher(onnx);
    const cacheRoot = path.join(root, 'cache');
    const r = await cacheTeacherStates({ teacher, task: 'spam', split: 'train', layers: [0, 2, 3], cacheRoot, maxExamples: 64, log: quiet });
    expect(r.count).toBe(64);
    const store = FileStore.open(cacheRoot, r.cacheKey, { readOnly: true });
    expect(store.readManifest()!.layers).toEqual([0, 2, 3]);
    store.close();
    expect(() => loadTeacher(onnx, undefined, { hiddenStates: ['/bert/embeddings/LayerNorm/LayerNormalization_output_0', 'nope'] })).toThrow(/no tensor named 'nope'/);
  });

  it('runs a whole experiment from a pretrained checkpoint and from an optimum export, with weight copy', async () => {
    fs.writeFileSync(path.join(root, 'ft.yaml'), manifest('pretrained-ft', `{ pretrained: ${JSON.stringify(tinyBert())}, finetune: { epochs: 1, lr: 0.001, maxLength: 32 } }`));
    const ft = await runExperiment(path.join(root, 'ft.yaml'), { outDir: path.join(root, 'run-ft'), log: quiet, angleExamples: 32 });
    expect(ft.results.cells.map((c) => c.id)).toEqual(['forward-copy-d2-s1']);
    expect(ft.results.teacher).toMatchObject({ layers: 3, hidden: 64 });
    expect(ft.results.teacher.metrics.accuracy).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'run-ft', 'teacher', 'teacher.json'), 'utf8')).pretrained.dir).toBe(tinyBert());

    fs.writeFileSync(path.join(root, 'onnx.yaml'), manifest('pretrained-onnx', `{ onnx: ${JSON.stringify(path.join(tinyBert(), 'onnx', 'model.onnx'))} }`));
    const given = await runExperiment(path.join(root, 'onnx.yaml'), { outDir: path.join(root, 'run-onnx'), log: quiet, angleExamples: 32 });
    expect(given.results.cells.map((c) => c.id)).toEqual(['forward-copy-d2-s1']);
    expect(given.results.angles?.[0].layers).toHaveLength(2);
    // The experiment keeps the export with its hidden states exposed, beside its config.json.
    const kept = loadTeacher(path.join(root, 'run-onnx', 'teacher', 'teacher.onnx'));
    expect(kept.graph!.graph.outputs.map((o) => o.name)).toEqual(['logits', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'hidden_states.3']);
    expect(fs.existsSync(path.join(root, 'run-onnx', 'teacher', 'config.json'))).toBe(true);
  }, 300_000);

  it('refuses a manifest that gives two teachers or finetune without pretrained, naming the field', async () => {
    fs.writeFileSync(path.join(root, 'two.yaml'), manifest('two', `{ onnx: x.onnx, pretrained: ${JSON.stringify(tinyBert())} }`));
    await expect(runExperiment(path.join(root, 'two.yaml'), { log: quiet })).rejects.toThrow(/spec\.teacher: give one of onnx, pretrained or train, not onnx and pretrained/);
    fs.writeFileSync(path.join(root, 'ft-only.yaml'), manifest('ftonly', '{ onnx: x.onnx, finetune: { epochs: 1 } }'));
    await expect(runExperiment(path.join(root, 'ft-only.yaml'), { log: quiet })).rejects.toThrow(/spec\.teacher\.finetune: finetune applies to a pretrained teacher only/);
  });
});
