// What the teacher and student stages publish: a dynamic-axes .onnx (any batch, any length) and a Hugging Face
// config.json beside it, both still loaded by loadTeacher.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, ort, readModel } from '@strata/onnx';
import { bertInferenceModel } from '@strata/train';
import { cacheTeacherStates } from './cache';
import { loadClassification, loadTeacher } from './common';
import { trainStudent } from './student';
import { trainTeacher } from './teacher';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-hf-export-'));
const quiet = () => undefined;
const MAX_LENGTH = 32;
let teacherOnnx = '';
let studentOnnx = '';

beforeAll(async () => {
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true); // progress bars
  try {
    await trainBoth();
  } finally {
    stderr.mockRestore();
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function trainBoth(): Promise<void> {
  const teacher = await trainTeacher({
    task: 'spam', outDir: path.join(root, 'teacher'), maxTrainExamples: 128, maxEvalExamples: 32, log: quiet,
    config: { layers: 2, hidden: 32, heads: 2, intermediate: 64, maxLength: MAX_LENGTH, vocabSize: 800, epochs: 1, batchSize: 32 },
  });
  teacherOnnx = teacher.onnx;
  const loaded = loadTeacher(teacherOnnx);
  const cacheRoot = path.join(root, 'cache');
  const cache = await cacheTeacherStates({ teacher: loaded, task: 'spam', split: 'train', layers: [0, 2], cacheRoot, maxExamples: 128, log: quiet });
  const student = await trainStudent({
    teacher: loaded, task: 'spam', cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'random', depth: 1, seed: 1,
    epochs: 1, batchSize: 32, lr: 1e-3, maxTrainExamples: 128, maxEvalExamples: 32, outDir: path.join(root, 'student'), log: quiet,
  });
  studentOnnx = student.onnx;
}

function feeds(B: number, S: number, seed: number): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  for (let r = 0; r < B; r++) {
    const real = Math.max(1, S - ((r * 5 + seed) % S));
    for (let t = 0; t < real; t++) {
      ids[r * S + t] = BigInt(2 + ((r * 31 + t * 7 + seed) % 700));
      mask[r * S + t] = 1n;
    }
  }
  return { input_ids: new ort.Tensor('int64', ids, [B, S]), attention_mask: new ort.Tensor('int64', mask, [B, S]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]) };
}

describe('published classifiers', () => {
  it.each([['teacher', 2], ['student', 1]])('the %s runs at batch 1 and 7 with different lengths, and config.json describes it', async (who, layers) => {
    const onnx = who === 'teacher' ? teacherOnnx : studentOnnx;
    const model = readModel(onnx);
    expect(model.graph.inputs.find((i) => i.name === 'input_ids')!.shape).toEqual(['batch_size', 'sequence_length']);
    const loaded = loadTeacher(onnx, path.join(root, 'teacher', 'tokenizer.json'));
    expect(loaded.config.layers).toBe(layers);

    const session = await createSession(new Uint8Array(fs.readFileSync(onnx)));
    try {
      for (const [B, S, seed] of [[1, 5, 1], [7, 23, 2], [1, MAX_LENGTH, 3]]) {
        const f = feeds(B, S, seed);
        const out = await session.run(f);
        expect(out.logits.dims).toEqual([B, 2]);
        expect(out[`hidden_states.${layers}`].dims).toEqual([B, S, 32]);
        // The same weights through the static graph the pipeline scores with.
        const reference = await createSession(bertInferenceModel(loaded.config, B, S, { kind: 'initializers', values: loaded.values }));
        const ref = await reference.run(f, ['logits']);
        await reference.release();
        const a = out.logits.data as Float32Array;
        const b = ref.logits.data as Float32Array;
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await session.release();
    }

    const config = JSON.parse(fs.readFileSync(path.join(path.dirname(onnx), 'config.json'), 'utf8'));
    const labels = loadClassification('spam', 'train').labelNames;
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'], model_type: 'bert', num_hidden_layers: layers, hidden_size: 32, num_attention_heads: 2,
      intermediate_size: 64, max_position_embeddings: MAX_LENGTH, vocab_size: loaded.tokenizer.vocabSize,
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    });
    expect(Object.keys(config.id2label)).toHaveLength(2);
  });
});
