import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, Model, Node, attr, attrFloat, createSession, ort, readModel, writeModel } from '@strata/onnx';
import { BERT_DEFAULTS, bertParamSpecs } from '@strata/nn';
import { HubError } from './errors';
import { checkHiddenStates, findHiddenStates, onnxTeacherParameters, onnxTeacherWithHiddenStates, withHiddenStateOutputs } from './onnx-teacher';
import { readSafetensors } from './safetensors';
import { describeSharedModel, sharedModelDir } from '@strata/data';

const TOL = 1e-4;
const MODEL = 'tiny-bert-classifier';

interface Reference {
  ids: number[][];
  mask: number[][];
  types: number[][];
  /** [layers + 1, batch, seq, hidden] */
  hidden: Float32Array;
  logits: Float32Array;
  batch: number;
  seq: number;
  width: number;
  states: number;
}

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function readReference(dir: string): Reference {
  const json = JSON.parse(readFileSync(path.join(dir, 'reference', 'sst2-dev-0-8.json'), 'utf8'));
  const [states, batch, seq, width] = json.arrays.hidden_states.shape as number[];
  return {
    ids: json.inputs.input_ids,
    mask: json.inputs.attention_mask,
    types: json.inputs.token_type_ids,
    hidden: readF32(path.join(dir, 'reference', json.arrays.hidden_states.file)),
    logits: readF32(path.join(dir, 'reference', json.arrays.logits.file)),
    batch,
    seq,
    width,
    states,
  };
}

interface Run {
  hidden: ort.Tensor[];
  logits: ort.Tensor;
}

/** Runs reference rows `rows`, each cut to `len` tokens, through the model with hidden-state outputs. */
async function run(model: Model, names: string[], ref: Reference, rows: number[], len: number): Promise<Run> {
  const session = await createSession(withHiddenStateOutputs(model, names));
  try {
    const feed = (m: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flatMap((r) => m[r].slice(0, len)), (v) => BigInt(v)), [rows.length, len]);
    const out = await session.run({ input_ids: feed(ref.ids), attention_mask: feed(ref.mask), token_type_ids: feed(ref.types) });
    return { hidden: names.map((_, i) => out[`hidden_states.${i}`]), logits: out.logits };
  } finally {
    await session.release();
  }
}

/** Max |difference| to the reference per hidden state (real tokens only) and of the logits. */
function maxErrors(got: Run, ref: Reference, rows: number[], len: number): { hidden: number[]; logits: number } {
  const H = ref.width;
  const hidden = got.hidden.map((t, k) => {
    expect(t.dims).toEqual([rows.length, len, H]);
    const data = t.data as Float32Array;
    let max = 0;
    rows.forEach((r, b) => {
      for (let s = 0; s < len; s++) {
        if (ref.mask[r][s] !== 1) continue;
        for (let h = 0; h < H; h++) {
          const want = ref.hidden[((k * ref.batch + r) * ref.seq + s) * H + h];
          max = Math.max(max, Math.abs(data[(b * len + s) * H + h] - want));
        }
      }
    });
    return max;
  });
  const labels = ref.logits.length / ref.batch;
  expect(got.logits.dims).toEqual([rows.length, labels]);
  const logits = (got.logits.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - ref.logits[rows[Math.floor(i / labels)] * labels + (i % labels)])), 0);
  return { hidden, logits };
}

const withNodes = (m: Model, nodes: Node[]): Model => ({ ...m, graph: { ...m.graph, nodes } });
const stripNames = (m: Model): Model => withNodes(m, m.graph.nodes.map((n) => ({ ...n, name: '' })));

/** Every LayerNormalization as torch exports it below opset 17, at opset 14 (ReduceMean's axes still an attribute). */
function decomposeLayerNorms(m: Model): Model {
  const rename = new Map<string, string>();
  const nodes: Node[] = [];
  const node = (name: string, opType: string, inputs: string[], attributes: Node['attributes'] = {}): string => {
    const output = `${name}_output_0`;
    nodes.push({ name, opType, domain: '', inputs, outputs: [output], attributes });
    return output;
  };
  const scalar = (v: number) => ({ value: attr.t({ name: '', dtype: DataType.FLOAT, dims: [], data: Float32Array.of(v) }) });
  const lastAxis = { axes: attr.ints([-1]), keepdims: attr.i(1) };
  for (const n of m.graph.nodes) {
    const inputs = n.inputs.map((i) => rename.get(i) ?? i);
    if (n.opType !== 'LayerNormalization') {
      nodes.push({ ...n, inputs });
      continue;
    }
    const scope = n.name.slice(0, n.name.lastIndexOf('/'));
    const [x, weight, bias] = inputs;
    const mean = node(`${scope}/ReduceMean`, 'ReduceMean', [x], lastAxis);
    const centred = node(`${scope}/Sub`, 'Sub', [x, mean]);
    const two = node(`${scope}/Constant`, 'Constant', [], scalar(2));
    const variance = node(`${scope}/ReduceMean_1`, 'ReduceMean', [node(`${scope}/Pow`, 'Pow', [centred, two])], lastAxis);
    const eps = node(`${scope}/Constant_1`, 'Constant', [], scalar(attrFloat(n, 'epsilon', 1e-5)));
    const std = node(`${scope}/Sqrt`, 'Sqrt', [node(`${scope}/Add`, 'Add', [variance, eps])]);
    const normed = node(`${scope}/Div`, 'Div', [centred, std]);
    rename.set(n.outputs[0], node(`${scope}/Add_1`, 'Add', [node(`${scope}/Mul`, 'Mul', [normed, weight]), bias]));
  }
  const outputs = m.graph.outputs.map((o) => ({ ...o, name: rename.get(o.name) ?? o.name }));
  return { ...m, opsetImports: [{ domain: '', version: 14 }], graph: { ...m.graph, nodes, outputs } };
}

/** The LayerNorm of `scope` replaced by a pass-through, as if the export had lost it. */
function dropLayerNorm(m: Model, scope: string): Model {
  return withNodes(
    m,
    m.graph.nodes.map((n) => (n.name === `${scope}/LayerNormalization` ? { ...n, opType: 'Identity', inputs: [n.inputs[0]], attributes: {} } : n)),
  );
}

function thrown(fn: () => unknown): HubError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('ONNX_EXPORT');
    return err as HubError;
  }
  throw new Error('expected a HubError');
}

describeSharedModel(MODEL, 'onnx-teacher (optimum export of tiny-bert-classifier)', () => {
  const dir = sharedModelDir(MODEL);
  const file = path.join(dir, 'onnx', 'model.onnx');
  const all = [0, 1, 2, 3, 4, 5, 6, 7];
  let model: Model;
  let decomposed: Model;
  let ref: Reference;
  let tmp: string;

  const fusedNames = [
    '/bert/embeddings/LayerNorm/LayerNormalization_output_0',
    ...[0, 1, 2].map((l) => `/bert/encoder/layer.${l}/output/LayerNorm/LayerNormalization_output_0`),
  ];
  const decomposedNames = ['/bert/embeddings/LayerNorm/Add_1_output_0', ...[0, 1, 2].map((l) => `/bert/encoder/layer.${l}/output/LayerNorm/Add_1_output_0`)];

  async function expectReference(label: string, m: Model, names: string[]): Promise<void> {
    const err = maxErrors(await run(m, names, ref, all, ref.seq), ref, all, ref.seq);
    for (const e of err.hidden) expect(e).toBeLessThan(TOL);
    expect(err.logits).toBeLessThan(TOL);
  }

  beforeAll(() => {
    model = readModel(file);
    ref = readReference(dir);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'strata-onnx-teacher-'));
    writeModel(path.join(tmp, 'decomposed.onnx'), decomposeLayerNorms(model));
    decomposed = readModel(path.join(tmp, 'decomposed.onnx'));
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('finds hidden_states 0..3 of the opset-18 export by node names', () => {
    const found = findHiddenStates(model, { file });
    expect(found.names).toEqual(fusedNames);
    expect(found.how).toMatch(/^node names: '\/bert\/embeddings\/LayerNorm' then '\/bert\/encoder\/layer\.\{0\.\.2\}\/output\/LayerNorm'/);
  });

  it("matches transformers' hidden states and logits on the 8 reference inputs (opset 18)", async () => {
    expect(model.opsetImports.find((o) => o.domain === '')?.version).toBe(18);
    const { names } = findHiddenStates(model);
    expect(names).toHaveLength(ref.states);
    await expectReference('opset 18', model, names);
  });

  it('keeps the dynamic axes: batch 1 and batch 3 at other lengths', async () => {
    const { names } = findHiddenStates(model);
    // Row 0 has 12 real tokens; rows 0, 1, 4 have at most 13.
    for (const [rows, len] of [[[0], 12], [[0, 1, 4], 13]] as const) {
      const got = await run(model, names, ref, [...rows], len);
      const err = maxErrors(got, ref, [...rows], len);
      for (const e of err.hidden) expect(e).toBeLessThan(TOL);
      expect(err.logits).toBeLessThan(TOL);
    }
  });

  it('adds typed outputs with the symbolic dims, and checks them on a 1×4 batch', async () => {
    const { names } = findHiddenStates(model);
    const teacher = withHiddenStateOutputs(model, names);
    expect(teacher.graph.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', ['batch_size', 2]],
      ...names.map((_, i) => [`hidden_states.${i}`, ['batch_size', 'sequence_length', 64]]),
    ]);
    expect(model.graph.outputs).toHaveLength(1);
    await expect(checkHiddenStates(teacher, { layers: 3 })).resolves.toEqual({ layers: 3, hidden: 64 });
    const session = await createSession(teacher);
    try {
      await expect(checkHiddenStates(session)).resolves.toEqual({ layers: 3, hidden: 64 });
    } finally {
      await session.release();
    }
    await expect(checkHiddenStates(teacher, { layers: 4 })).rejects.toThrow(/4 hidden_states.N outputs, expected 5/);

    const prepared = await onnxTeacherWithHiddenStates(model, { file });
    expect([prepared.layers, prepared.hidden, prepared.names]).toEqual([3, 64, names]);

    // Attention probabilities are [1, heads, 4, 4]: the check names the output.
    const wrong = withHiddenStateOutputs(model, [names[0], names[1], '/bert/encoder/layer.1/attention/self/Softmax_output_0', names[3]]);
    await expect(checkHiddenStates(wrong, { file })).rejects.toThrow(/tensor 'hidden_states\.2': is \[1, 4, 4, 4\]/);
  });

  it('finds the same layers in the decomposed-LayerNorm opset-14 variant and matches the reference', async () => {
    expect(decomposed.opsetImports).toEqual([{ domain: '', version: 14 }]);
    expect(decomposed.graph.nodes.some((n) => n.opType === 'LayerNormalization')).toBe(false);
    const found = findHiddenStates(decomposed);
    expect(found.names).toEqual(decomposedNames);
    expect(found.how).toMatch(/node names: .*decomposed LayerNorm, its last node Add/);
    await expectReference('opset 14, decomposed LayerNorm', decomposed, found.names);
  });

  it('falls back to the residual structure when node names are stripped', async () => {
    for (const [m, names] of [[model, fusedNames], [decomposed, decomposedNames]] as const) {
      const found = findHiddenStates(stripNames(m));
      expect(found.names).toEqual(names);
      expect(found.how).toMatch(/^graph structure: 7 LayerNorm outputs along the residual stream/);
    }
    await expectReference('opset 14, decomposed, names stripped', stripNames(decomposed), decomposedNames);
  });

  it('uses the structure when a renamed LayerNorm makes the node names inconsistent', () => {
    const renamed = withNodes(
      model,
      model.graph.nodes.map((n) => (n.name === '/bert/encoder/layer.1/output/LayerNorm/LayerNormalization' ? { ...n, name: '/bert/encoder/layer.1/output/Norm/LayerNormalization' } : n)),
    );
    const found = findHiddenStates(renamed);
    expect(found.names).toEqual(fusedNames);
    expect(found.how).toMatch(/^graph structure/);
  });

  it('takes teacher.hiddenStates as given, and names a tensor that does not exist', () => {
    const given = findHiddenStates(model, { names: fusedNames });
    expect(given).toEqual({ names: fusedNames, how: 'given (teacher.hiddenStates)' });
    const err = thrown(() => findHiddenStates(model, { names: [fusedNames[0], 'layer_1_out', fusedNames[2]], file: 'model.onnx' }));
    expect(err.message).toBe("model.onnx: no tensor named 'layer_1_out' in the graph (teacher.hiddenStates[1])");
  });

  it('reports the LayerNorms it found when one layer lost its LayerNorm', () => {
    const broken = dropLayerNorm(model, '/bert/encoder/layer.1/output/LayerNorm');
    const named = thrown(() => findHiddenStates(broken, { file: 'model.onnx' }));
    expect(named.message).toMatch(/^model\.onnx: cannot find the hidden states: by node names, layer\.1 has 1 LayerNorm scope/);
    expect(named.message).toMatch(/found 4 LayerNorm outputs along the residual stream \(6 LayerNorm in the graph\), expected 2·L\+1 = 7 for the 3 layers/);
    const stripped = thrown(() => findHiddenStates(stripNames(broken)));
    expect(stripped.message).toMatch(/found 4 LayerNorm outputs along the residual stream \(6 LayerNorm in the graph\), expected 2·L\+1 \(an odd number/);
    expect(() => onnxTeacherParameters(broken)).toThrow(/found 4 LayerNorm outputs/);
  });

  it("recovers every parameter of Strata's BERT classifier, equal to the checkpoint", () => {
    const hf = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const { values, shapes, config, notes, how } = onnxTeacherParameters(model, { file });
    expect(how).toBe('node names');
    expect(notes).toEqual([]);
    expect(config).toEqual({
      vocabSize: hf.vocab_size,
      hidden: hf.hidden_size,
      layers: hf.num_hidden_layers,
      heads: hf.num_attention_heads,
      intermediate: hf.intermediate_size,
      maxPositions: hf.max_position_embeddings,
      typeVocabSize: hf.type_vocab_size,
      numLabels: 2,
      layerNormEps: hf.layer_norm_eps,
      activation: 'gelu',
    });
    const specs = bertParamSpecs({ ...BERT_DEFAULTS, ...config, heads: config.heads as number, numLabels: config.numLabels as number });
    expect([...values.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    const checkpoint = readSafetensors(path.join(dir, 'model.safetensors'));
    for (const s of specs) {
      expect([s.name, shapes.get(s.name)]).toEqual([s.name, s.shape]);
      expect([s.name, checkpoint.info(s.name).shape]).toEqual([s.name, s.shape]);
      const want = checkpoint.float32(s.name);
      const got = values.get(s.name) as Float32Array;
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(got[i] - want[i]));
      expect([s.name, got.length, diff]).toEqual([s.name, want.length, 0]);
    }
  });

  it('recovers the same parameters from the structure (names stripped) and from the decomposed variant', () => {
    const byName = onnxTeacherParameters(model);
    for (const m of [stripNames(model), decomposed, stripNames(decomposed)]) {
      const other = onnxTeacherParameters(m);
      expect(other.config).toEqual(byName.config);
      expect([...other.values.keys()].sort()).toEqual([...byName.values.keys()].sort());
      for (const [name, v] of byName.values) expect([name, Buffer.from((other.values.get(name) as Float32Array).buffer).equals(Buffer.from(v.buffer))]).toEqual([name, true]);
    }
    expect(onnxTeacherParameters(stripNames(model)).how).toBe('graph structure');
  });

  it('names the parameter whose MatMul weight cannot be traced to an initializer', () => {
    const nodes: Node[] = [];
    for (const n of model.graph.nodes) {
      if (n.name !== '/bert/encoder/layer.1/attention/self/key/MatMul') {
        nodes.push(n);
        continue;
      }
      const scaled = '/bert/encoder/layer.1/attention/self/key/Mul_output_0';
      nodes.push(
        { name: '/bert/encoder/layer.1/attention/self/key/Constant', opType: 'Constant', domain: '', inputs: [], outputs: ['one'], attributes: { value: attr.t({ name: '', dtype: DataType.FLOAT, dims: [], data: Float32Array.of(1) }) } },
        { name: '/bert/encoder/layer.1/attention/self/key/Mul', opType: 'Mul', domain: '', inputs: [n.inputs[1], 'one'], outputs: [scaled], attributes: {} },
        { ...n, inputs: [n.inputs[0], scaled] },
      );
    }
    const err = thrown(() => onnxTeacherParameters(withNodes(model, nodes), { file: 'model.onnx' }));
    expect(err.tensor).toBe('bert.encoder.layer.1.attention.self.key.weight');
    expect(err.message).toMatch(
      /^model\.onnx: tensor 'bert\.encoder\.layer\.1\.attention\.self\.key\.weight': not found: MatMul '\/bert\/encoder\/layer\.1\/attention\/self\/key\/MatMul' takes its weight from '.*Mul_output_0', which Mul '.*key\/Mul' computes, not an initializer \(1 more missing: bert\.encoder\.layer\.1\.attention\.self\.key\.bias\)$/,
    );
  });
});
