import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBart, buildBert, buildQwen3 } from '@strata/nn';
import { createSession, ort } from '@strata/onnx';
import { loadCheckpoint, readCheckpointConfig } from './checkpoint';
import { HubError } from './errors';
import { configFromHf } from './hf-config';
import { describeSharedModel, sharedModelDir } from '@strata/data';

interface Reference {
  json: Record<string, unknown>;
  array(name: string): { data: Float32Array; shape: number[] };
  inputs: Record<string, number[][]>;
}

/** A reference of ../shared/models/<model>/reference: its inputs and the float32 arrays transformers computed. */
function reference(model: string, name: string): Reference {
  const dir = path.join(sharedModelDir(model), 'reference');
  const json = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Record<string, unknown>;
  const inputs = (json.inputs ?? json) as Record<string, number[][]>;
  const arrays = (json.arrays ?? {}) as Record<string, { file: string; shape: number[] }>;
  const array = (key: string) => {
    const meta = arrays[key] ?? { file: json[`${key}_file`] as string, shape: json[`${key}_shape`] as number[] };
    const bytes = fs.readFileSync(path.join(dir, meta.file));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(data.length).toBe(meta.shape.reduce((a, b) => a * b, 1));
    return { data, shape: meta.shape };
  };
  return { json, array, inputs };
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

/** Max |a - b| over positions whose mask is 1: arrays [B, S, ...inner] against a [B, S] mask. */
function maxErrorOverTokens(a: Float32Array, b: Float32Array, mask: number[][], inner: number): number {
  let worst = 0;
  mask.forEach((row, r) =>
    row.forEach((m, s) => {
      if (!m) return;
      const base = (r * row.length + s) * inner;
      for (let k = 0; k < inner; k++) worst = Math.max(worst, Math.abs(a[base + k] - b[base + k]));
    }),
  );
  return worst;
}

/** Slice `layer` of a stacked [L+1, B, S, H] reference. */
const layerOf = (stacked: { data: Float32Array; shape: number[] }, layer: number) => {
  const per = stacked.shape.slice(1).reduce((a, b) => a * b, 1);
  return stacked.data.subarray(layer * per, (layer + 1) * per);
};

const TOLERANCE = 1e-4;

describeSharedModel('tiny-bert-classifier', 'BERT checkpoint import (tiny-bert-classifier)', () => {
  it('reproduces transformers hidden states and logits within 1e-4', async () => {
    const ckpt = loadCheckpoint(sharedModelDir('tiny-bert-classifier'));
    if (ckpt.imported.arch !== 'bert') throw new Error(`expected bert, got ${ckpt.imported.arch}`);
    expect(ckpt.initialized).toEqual([]);
    // Its config.json has no id2label: two labels by transformers' default, no names.
    expect(ckpt.imported.config.numLabels).toBe(2);
    expect(ckpt.imported.labels).toBeUndefined();
    const ref = reference('tiny-bert-classifier', 'sst2-dev-0-8');
    const ids = ref.inputs.input_ids;
    const [B, S] = [ids.length, ids[0].length];
    const bert = buildBert(ckpt.imported.config, { batch: B, seqLen: S, training: false, params: { kind: 'initializers', values: ckpt.values } });
    bert.g.output(bert.logits);
    for (const h of bert.hiddenStates) bert.g.output(h);
    const session = await createSession(bert.g.build());
    const out = await session.run({ input_ids: int64(ids), attention_mask: int64(ref.inputs.attention_mask), token_type_ids: int64(ref.inputs.token_type_ids) });
    const hs = ref.array('hidden_states');
    const errors = bert.hiddenStates.map((name, l) => maxErrorOverTokens(out[name].data as Float32Array, layerOf(hs, l), ref.inputs.attention_mask, 64));
    for (const e of errors) expect(e).toBeLessThan(TOLERANCE);
    const logits = ref.array('logits');
    const logitError = Math.max(...Array.from(out.logits.data as Float32Array, (v, i) => Math.abs(v - logits.data[i])));
    expect(logitError).toBeLessThan(TOLERANCE);
    await session.release();
  });

  it('names the field of an unsupported setting', () => {
    const config = JSON.parse(fs.readFileSync(path.join(sharedModelDir('tiny-bert-classifier'), 'config.json'), 'utf8'));
    expect(() => configFromHf({ ...config, position_embedding_type: 'relative_key' }, 'x/config.json')).toThrow(/x\/config\.json: field 'position_embedding_type': "relative_key" is not supported/);
    expect(() => configFromHf({ ...config, model_type: 'roberta' }, 'x/config.json')).toThrow(/field 'model_type': 'roberta' is not supported \(supported: bert, bart, mbart, qwen3\)/);
    expect(() => configFromHf({ ...config, hidden_act: 'swish' }, 'c.json')).toThrow(/field 'hidden_act': activation 'swish' is not supported/);
    expect(() => configFromHf({ ...config, num_labels: 3, id2label: undefined }, 'c.json', { numLabels: 2 })).toThrow(/field 'num_labels': the checkpoint's classifier has 3 labels but the task has 2/);
  });

  it('refuses a checkpoint whose tensors do not fit its config, naming the tensor', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-hub-'));
    const src = sharedModelDir('tiny-bert-classifier');
    fs.copyFileSync(path.join(src, 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const config = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 96 }));
    expect(() => loadCheckpoint(dir)).toThrow(HubError);
    expect(() => loadCheckpoint(dir)).toThrow(/tensor 'bert\.encoder\.layer\.0\.intermediate\.dense\.weight': has shape \[128,64\] but config\.json makes parameter 'bert\.encoder\.layer\.0\.intermediate\.dense\.weight' \[96,64\]/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 4 }));
    expect(() => loadCheckpoint(dir)).toThrow(/parameter\(s\) of the BertForSequenceClassification described by config\.json are not in the checkpoint: bert\.encoder\.layer\.3\./);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describeSharedModel('all-MiniLM-L6-v2', 'BERT checkpoint import (pretrained all-MiniLM-L6-v2)', () => {
  it('is a head-less BertModel: loads the encoder and pooler, initializes a seeded classifier', () => {
    let state = 1;
    const uniform = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const ckpt = loadCheckpoint(sharedModelDir('all-MiniLM-L6-v2'), { numLabels: 2, uniform });
    expect(ckpt.imported.architecture).toBe('BertModel');
    expect(ckpt.initialized).toEqual(['classifier.weight', 'classifier.bias']);
    expect(ckpt.values.get('classifier.bias')).toEqual(new Float32Array(2));
    const w = ckpt.values.get('classifier.weight')!;
    expect(w.length).toBe(2 * 384);
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(ckpt.tokenizer).toBe(path.join(sharedModelDir('all-MiniLM-L6-v2'), 'tokenizer.json'));
    expect(() => loadCheckpoint(sharedModelDir('all-MiniLM-L6-v2'), { numLabels: 2 })).toThrow(/lacks classifier\.weight, classifier\.bias; give a seeded uniform source/);
  });

  it('reproduces transformers hidden states within 1e-4 on SST-2 sentences', async () => {
    const ckpt = loadCheckpoint(sharedModelDir('all-MiniLM-L6-v2'), { numLabels: 2, uniform: () => 0.5 });
    if (ckpt.imported.arch !== 'bert') throw new Error('expected bert');
    const ref = reference('all-MiniLM-L6-v2', 'minilm-sst2-dev-0-8');
    const ids = ref.inputs.input_ids;
    const [B, S] = [ids.length, ids[0].length];
    const bert = buildBert(ckpt.imported.config, { batch: B, seqLen: S, training: false, params: { kind: 'initializers', values: ckpt.values } });
    for (const h of bert.hiddenStates) bert.g.output(h);
    const session = await createSession(bert.g.build());
    const out = await session.run({ input_ids: int64(ids), attention_mask: int64(ref.inputs.attention_mask), token_type_ids: int64(ref.inputs.token_type_ids) });
    const hs = ref.array('hidden_states');
    expect(hs.shape).toEqual([7, B, S, 384]);
    const errors = bert.hiddenStates.map((name, l) => maxErrorOverTokens(out[name].data as Float32Array, layerOf(hs, l), ref.inputs.attention_mask, 384));
    expect(errors).toHaveLength(7);
    for (const e of errors) expect(e).toBeLessThan(TOLERANCE);
    await session.release();
  });
});

describeSharedModel('tiny-bart', 'BART checkpoint import (tiny-bart)', () => {
  it('reproduces transformers encoder/decoder hidden states and logits within 1e-4', async () => {
    const ckpt = loadCheckpoint(sharedModelDir('tiny-bart'));
    if (ckpt.imported.arch !== 'bart') throw new Error('expected bart');
    expect(ckpt.initialized).toEqual([]);
    expect(ckpt.values.has('final_logits_bias')).toBe(true);
    expect(ckpt.imported.config).toMatchObject({ padId: 0, decoderStartId: 102, eosId: 102, maxPositions: 128, normalizeBefore: false });
    const ref = reference('tiny-bart', 'pairs-0-8');
    const ids = ref.inputs.input_ids;
    const dec = ref.inputs.decoder_input_ids;
    const bart = buildBart(ckpt.imported.config, { batch: ids.length, srcLen: ids[0].length, tgtLen: dec[0].length, training: false, params: { kind: 'initializers', values: ckpt.values } });
    bart.g.output(bart.logits);
    for (const h of [...bart.encoderHiddenStates, ...bart.decoderHiddenStates]) bart.g.output(h);
    const session = await createSession(bart.g.build());
    const out = await session.run({ input_ids: int64(ids), attention_mask: int64(ref.inputs.attention_mask), decoder_input_ids: int64(dec) });
    const enc = ref.array('encoder_hidden_states');
    const decRef = ref.array('decoder_hidden_states');
    bart.encoderHiddenStates.forEach((name, l) => expect(maxErrorOverTokens(out[name].data as Float32Array, layerOf(enc, l), ref.inputs.attention_mask, 64)).toBeLessThan(TOLERANCE));
    bart.decoderHiddenStates.forEach((name, l) => expect(maxErrorOverTokens(out[name].data as Float32Array, layerOf(decRef, l), ref.inputs.decoder_attention_mask, 64)).toBeLessThan(TOLERANCE));
    const logits = ref.array('logits_first2');
    const V = ckpt.imported.config.vocabSize;
    const first2 = (out.logits.data as Float32Array).subarray(0, 2 * dec[0].length * V);
    expect(maxErrorOverTokens(first2, logits.data, ref.inputs.decoder_attention_mask.slice(0, 2), V)).toBeLessThan(TOLERANCE);
    await session.release();
  });
});

describeSharedModel('tiny-qwen3', 'Qwen3 checkpoint import (tiny-qwen3)', () => {
  it('reproduces transformers hidden states and logits within 1e-4', async () => {
    const ckpt = loadCheckpoint(sharedModelDir('tiny-qwen3'));
    if (ckpt.imported.arch !== 'qwen3') throw new Error('expected qwen3');
    expect(ckpt.initialized).toEqual([]);
    expect(ckpt.imported.config).toMatchObject({ heads: 4, kvHeads: 2, headDim: 16, ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: true });
    const ref = reference('tiny-qwen3', 'sst2-dev-0-8');
    const ids = ref.inputs.input_ids;
    const qwen = buildQwen3(ckpt.imported.config, { batch: ids.length, seqLen: ids[0].length, training: false, params: { kind: 'initializers', values: ckpt.values } });
    qwen.g.output(qwen.logits);
    for (const h of qwen.hiddenStates) qwen.g.output(h);
    const session = await createSession(qwen.g.build());
    const out = await session.run({ input_ids: int64(ids), attention_mask: int64(ref.inputs.attention_mask) });
    const hs = ref.array('hidden_states');
    qwen.hiddenStates.forEach((name, l) => expect(maxErrorOverTokens(out[name].data as Float32Array, layerOf(hs, l), ref.inputs.attention_mask, 64)).toBeLessThan(TOLERANCE));
    const logits = ref.array('logits_first2');
    const V = ckpt.imported.config.vocabSize;
    const first2 = (out.logits.data as Float32Array).subarray(0, 2 * ids[0].length * V);
    expect(maxErrorOverTokens(first2, logits.data, ref.inputs.attention_mask.slice(0, 2), V)).toBeLessThan(TOLERANCE);
    await session.release();
  });

  it('refuses rope scaling and attention biases, naming the field', () => {
    const config = JSON.parse(fs.readFileSync(path.join(sharedModelDir('tiny-qwen3'), 'config.json'), 'utf8'));
    expect(() => configFromHf({ ...config, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'q/config.json')).toThrow(/q\/config\.json: field 'rope_scaling': .*"yarn".* is not supported: rope scaling/);
    expect(() => configFromHf({ ...config, attention_bias: true }, 'q/config.json')).toThrow(/field 'attention_bias'/);
    expect(readCheckpointConfig(sharedModelDir('tiny-qwen3')).arch).toBe('qwen3');
  });
});
