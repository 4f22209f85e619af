// The published generation models: teacher.onnx and student.onnx run at any batch and any lengths up to maxPositions
// in onnxruntime-node, and a Hugging Face config.json beside each reads back as the same configuration.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configFromHf } from '@strata/hub';
import { initParams } from '@strata/nn';
import { createSession, ort, readModel } from '@strata/onnx';
import { Rng, exportInference } from '@strata/train';
import { cacheGenerationTeacher } from './generation-cache';
import { GenerationConfig, generationConfig, generationExportModel, generationHfConfig, loadGenerationModel, paramSpecs } from './generation-model';
import { trainGenerationStudent } from './generation-student';
import { trainGenerationTeacher } from './generation-teacher';

jest.setTimeout(300_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-generation-export-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = () => undefined;
const task = 'cmudict-g2p';
const train = { split: 'train' };
const evalRef = { split: 'dev' };
const data = { maxExamples: 64 };
const evaluation = { beam: 1, lengthPenalty: 1 };
// Every batch trains at one length bucket, 16 (lengthBuckets); the exports run at other lengths below.
const sizes = { maxLength: 16, maxTargetLength: 16 };

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** Right-padded ids [B, S]: each row a different real length (at least 1), ids drawn from 3..vocab-1. */
function padded(rng: Rng, B: number, S: number, vocab: number): { ids: number[]; mask: number[] } {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let r = 0; r < B; r++) {
    const real = 1 + Math.floor(rng.next() * S);
    for (let t = 0; t < S; t++) {
      ids.push(t < real ? 3 + Math.floor(rng.next() * (vocab - 3)) : 0);
      mask.push(t < real ? 1 : 0);
    }
  }
  return { ids, mask };
}

/** Feeds of a batch of B rows as flat ids with their shapes; `rows(1)` of the same draw is its first row. */
function feedsOf(model: GenerationConfig, B: number, S: number, T: number, seed: number): (rows: number) => Record<string, ort.Tensor> {
  const rng = new Rng(seed);
  const V = model.config.vocabSize;
  const src = padded(rng, B, S, V);
  const tgt = padded(rng, B, T, V);
  return (rows) => {
    const feeds = { input_ids: int64(src.ids.slice(0, rows * S), [rows, S]), attention_mask: int64(src.mask.slice(0, rows * S), [rows, S]) };
    return model.arch === 'bart' ? { ...feeds, decoder_input_ids: int64(tgt.ids.slice(0, rows * T), [rows, T]) } : feeds;
  };
}

/** [dims without the batch] of every output at source length S and target length T. */
function expectedDims(model: GenerationConfig, S: number, T: number): Record<string, number[]> {
  const { hidden: H, vocabSize: V } = model.config;
  if (model.arch === 'qwen3') {
    return { logits: [S, V], ...Object.fromEntries(Array.from({ length: model.config.layers + 1 }, (_, i) => [`hidden_states.${i}`, [S, H]])) };
  }
  const c = model.config;
  return {
    logits: [T, V],
    ...Object.fromEntries(Array.from({ length: c.encoderLayers + 1 }, (_, i) => [`encoder_hidden_states.${i}`, [S, H]])),
    ...Object.fromEntries(Array.from({ length: c.decoderLayers + 1 }, (_, i) => [`decoder_hidden_states.${i}`, [T, H]])),
  };
}

/**
 * Runs the file at batch 7 and at batch 1 on the batch's first row, at lengths other than the training ones, and
 * returns the largest difference between that row alone and in the batch.
 */
async function runsAnyShape(onnx: string, model: GenerationConfig, lengths: [number, number][]): Promise<number> {
  const session = await createSession(fs.readFileSync(onnx), { threads: 1 });
  let worst = 0;
  try {
    for (const [i, [S, T]] of lengths.entries()) {
      const feeds = feedsOf(model, 7, S, T, 100 + i);
      const dims = expectedDims(model, S, T);
      expect([...session.outputNames].sort()).toEqual(Object.keys(dims).sort());
      const batch = await session.run(feeds(7));
      const alone = await session.run(feeds(1));
      for (const [name, rest] of Object.entries(dims)) {
        expect([name, batch[name].dims]).toEqual([name, [7, ...rest]]);
        expect([name, alone[name].dims]).toEqual([name, [1, ...rest]]);
        const row = alone[name].data as Float32Array;
        const first = (batch[name].data as Float32Array).subarray(0, row.length);
        for (let k = 0; k < row.length; k++) worst = Math.max(worst, Math.abs(row[k] - first[k]));
      }
    }
  } finally {
    await session.release();
  }
  return worst;
}

/** The config.json beside `onnx`, read back through the Hugging Face importer. */
function hfConfigBeside(onnx: string) {
  const file = path.join(path.dirname(onnx), 'config.json');
  return configFromHf(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

function inputDims(onnx: string): Record<string, unknown[]> {
  const m = readModel(onnx);
  const inits = new Set(m.graph.initializers.map((t) => t.name));
  return Object.fromEntries(m.graph.inputs.filter((i) => !inits.has(i.name)).map((i) => [i.name, i.shape ?? []]));
}

describe('generation exports', () => {
  it('the encoder-decoder teacher and its student run at any batch and lengths, with a config.json beside each', async () => {
    const t = await trainGenerationTeacher({
      task, outDir: path.join(root, 'teacher'), train, eval: evalRef, data, maxEvalExamples: 4, evaluation, log: quiet,
      config: { layers: 2, hidden: 16, heads: 2, intermediate: 32, ...sizes, vocabSize: 128, tokenizer: 'word-level', epochs: 1, batchSize: 32, lr: 2e-3, warmupRatio: 0.1, dropout: 0.1, labelSmoothing: 0.1, seed: 1 },
    });
    expect(inputDims(t.onnx)).toEqual({
      input_ids: ['batch_size', 'encoder_sequence_length'], attention_mask: ['batch_size', 'encoder_sequence_length'], decoder_input_ids: ['batch_size', 'decoder_sequence_length'],
    });
    const teacher = loadGenerationModel(t.onnx);
    expect(teacher.model).toEqual(t.model);
    expect(await runsAnyShape(t.onnx, t.model, [[5, 3], [11, 7], [1, 1], [16, 16]])).toBeLessThanOrEqual(1e-4);
    const imported = hfConfigBeside(t.onnx);
    expect(imported).toMatchObject({ arch: 'bart', architecture: 'BartForConditionalGeneration', notes: [] });
    // transformers' BART always has final_logits_bias (zeros where a checkpoint has none), so its importer does too.
    expect(imported.config).toEqual({ ...t.model.config, finalLogitsBias: true });
    const hf = JSON.parse(fs.readFileSync(path.join(root, 'teacher', 'config.json'), 'utf8'));
    expect(hf.bos_token_id).toBe(teacher.tokenizer.specialIds.cls);

    const cacheRoot = path.join(root, 'cache');
    const cache = await cacheGenerationTeacher({ teacher, task, train, data, layers: [0, 1, 2], topK: 8, cacheRoot, ...sizes, log: quiet });
    const s = await trainGenerationStudent({
      teacher, task, cacheRoot, cacheKey: cache.cacheKey, strategy: 'forward', init: 'copy', depth: 1, seed: 1, labelSmoothing: 0.1, epochs: 1, batchSize: 32, lr: 2e-3,
      outDir: path.join(root, 'student'), train, eval: evalRef, data, maxEvalExamples: 4, ...sizes, evaluation, log: quiet,
    });
    const student = loadGenerationModel(s.onnx, teacher.tokenizerPath);
    expect(student.model.arch === 'bart' && student.model.config).toMatchObject({ encoderLayers: 1, decoderLayers: 1 });
    expect(await runsAnyShape(s.onnx, student.model, [[9, 4], [3, 12]])).toBeLessThanOrEqual(1e-4);
    expect(hfConfigBeside(s.onnx).config).toEqual({ ...student.model.config, finalLogitsBias: true });
  });

  it('a decoder-only model exports the same way (random weights through the stages\' export)', async () => {
    const teacher = loadGenerationModel(path.join(root, 'teacher', 'teacher.onnx'));
    const model = generationConfig('decoder', { layers: 2, hidden: 16, heads: 4, kvHeads: 2, intermediate: 32, maxPositions: 24, dropout: 0.1 }, teacher.tokenizer);
    const rng = new Rng(4);
    const values = initParams(paramSpecs(model), () => rng.next(), 0.3);
    const onnx = path.join(root, 'decoder', 'model.onnx');
    fs.mkdirSync(path.dirname(onnx), { recursive: true });
    exportInference(onnx, (v) => generationExportModel(model, { kind: 'initializers', values: v }), values);
    fs.writeFileSync(path.join(root, 'decoder', 'config.json'), `${JSON.stringify(generationHfConfig(model, teacher.tokenizer), null, 2)}\n`);
    expect(inputDims(onnx)).toEqual({ input_ids: ['batch_size', 'sequence_length'], attention_mask: ['batch_size', 'sequence_length'] });
    expect(loadGenerationModel(onnx, teacher.tokenizerPath).model).toEqual(model);
    expect(await runsAnyShape(onnx, model, [[5, 0], [13, 0], [1, 0], [24, 0]])).toBeLessThanOrEqual(1e-4);
    const imported = hfConfigBeside(onnx);
    expect(imported).toMatchObject({ arch: 'qwen3', architecture: 'Qwen3ForCausalLM' });
    // Qwen3 has no dropout on the residual branches: it only changed training.
    expect(imported.config).toEqual({ ...model.config, hiddenDropout: 0 });
  });
});
