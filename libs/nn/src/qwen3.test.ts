import { seededRandom } from '@strata/autodiff';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';
import { Blocks, ParamDeclarer, Qwen3Config, applyRope, buildQwen3, buildQwen3Step, qwen3ParamSpecs, ropeTables } from './index';
import { checkModelGradients, int64, maxAbsDiff, randomParams, runWithParams, weightedSum } from './test-helpers';

const tiny: Qwen3Config = {
  vocabSize: 17, hidden: 8, layers: 2, heads: 4, kvHeads: 2, headDim: 4, intermediate: 12, maxPositions: 12,
  ropeTheta: 10000, rmsNormEps: 1e-6, tieWordEmbeddings: true, attentionDropout: 0.1, hiddenDropout: 0.1, padId: 0, bosId: 1, eosId: 2,
};

describe('Qwen3-style decoder-only graph', () => {
  it('uses Hugging Face parameter names (GQA, q/k norm, SwiGLU, no biases) and exposes every hidden state', () => {
    const m = buildQwen3(tiny, { batch: 2, seqLen: 5, training: true });
    const shape = (n: string) => m.params.find((p) => p.name === n)?.shape;
    expect(shape('model.embed_tokens.weight')).toEqual([17, 8]);
    expect(shape('model.layers.0.self_attn.q_proj.weight')).toEqual([16, 8]); // heads × headDim
    expect(shape('model.layers.0.self_attn.k_proj.weight')).toEqual([8, 8]); // kvHeads × headDim
    expect(shape('model.layers.1.self_attn.v_proj.weight')).toEqual([8, 8]);
    expect(shape('model.layers.1.self_attn.o_proj.weight')).toEqual([8, 16]);
    expect(shape('model.layers.0.self_attn.q_norm.weight')).toEqual([4]);
    expect(shape('model.layers.0.self_attn.k_norm.weight')).toEqual([4]);
    expect(shape('model.layers.1.mlp.gate_proj.weight')).toEqual([12, 8]);
    expect(shape('model.layers.1.mlp.down_proj.weight')).toEqual([8, 12]);
    expect(shape('model.layers.1.input_layernorm.weight')).toEqual([8]);
    expect(shape('model.layers.1.post_attention_layernorm.weight')).toEqual([8]);
    expect(shape('model.norm.weight')).toEqual([8]);
    expect(m.params.filter((p) => p.name.endsWith('.bias'))).toEqual([]);
    expect(m.params.some((p) => p.name === 'lm_head.weight')).toBe(false);
    expect(qwen3ParamSpecs({ ...tiny, tieWordEmbeddings: false }).at(-1)).toMatchObject({ name: 'lm_head.weight', shape: [17, 8] });
    expect(m.hiddenStates).toEqual(['hidden_states.0', 'hidden_states.1', 'hidden_states.2']);
    for (const h of m.hiddenStates) expect(m.g.shapeOf(h)).toEqual([2, 5, 8]);
    expect(m.g.shapeOf(m.logits)).toEqual([2, 5, 17]);
    expect(m.dropoutSites).toHaveLength(1 + 3 * 2);
    expect(() => buildQwen3({ ...tiny, kvHeads: 3 }, { batch: 1, seqLen: 2, training: false })).toThrow('qwen3 config: kvHeads (3) must divide heads (4)');
  });

  it('differentiates the whole model (float64 finite differences, padding and fed dropout masks included)', async () => {
    const m = buildQwen3({ ...tiny, tieWordEmbeddings: false }, { batch: 2, seqLen: 4, training: true, dtype: DataType.DOUBLE });
    const result = await checkModelGradients(
      m,
      { input_ids: { shape: [2, 4], values: [1, 5, 9, 2, 1, 7, 0, 0] }, attention_mask: { shape: [2, 4], values: [1, 1, 1, 1, 1, 1, 0, 0] } },
      (g: GraphBuilder) => g.op('Sum', [weightedSum(g, m.logits, 3), weightedSum(g, m.hiddenStates[1], 4)]),
    );
    expect(result.checked).toBeGreaterThanOrEqual(3 * m.params.length);
    if (result.maxError > 1e-6) throw new Error(`gradient mismatch ${result.maxError}: ${result.worst}`);
  });

  it('rotary tables follow θ^(-2i/d), and the rotation makes q·k depend only on the position difference', async () => {
    const { cos, sin } = ropeTables(8, 4, 10000);
    expect(cos[4]).toBeCloseTo(Math.cos(1), 12);
    expect(cos[6]).toBeCloseTo(Math.cos(1), 12);
    expect(sin[5]).toBeCloseTo(Math.sin(0.01), 12);
    const g = new GraphBuilder();
    const b = new Blocks(g, new ParamDeclarer(g, DataType.DOUBLE, { kind: 'inputs' }), DataType.DOUBLE, false);
    g.input('x', DataType.DOUBLE, [8, 4]);
    g.output(applyRope(b, 'x', g.constant(cos, DataType.DOUBLE, [8, 4]), g.constant(sin, DataType.DOUBLE, [8, 4])), 'y');
    const rand = seededRandom(3);
    const q = Array.from({ length: 4 }, () => rand() - 0.5);
    const k = Array.from({ length: 4 }, () => rand() - 0.5);
    // Rows 0..3 hold q at positions 0..3, rows 4..7 hold k at positions 4..7.
    const x = new Float64Array(32);
    for (let p = 0; p < 8; p++) x.set(p < 4 ? q : k, p * 4);
    const y = (await (await createSession(g.build())).run({ x: new ort.Tensor('float64', x, [8, 4]) })).y.data as Float64Array;
    const dot = (i: number, j: number) => [0, 1, 2, 3].reduce((s, d) => s + y[i * 4 + d] * y[j * 4 + d], 0);
    expect(Math.abs(dot(0, 5) - dot(2, 7))).toBeLessThan(1e-12); // both 5 apart
    expect(Math.abs(dot(1, 4) - dot(3, 6))).toBeLessThan(1e-12); // both 3 apart
    expect(Math.abs(dot(0, 5) - dot(0, 4))).toBeGreaterThan(1e-3);
  });

  it('decodes a left-padded prompt with the key/value-cache step graph exactly as full recomputation', async () => {
    const cfg = { ...tiny, attentionDropout: 0, hiddenDropout: 0 };
    const params = randomParams(qwen3ParamSpecs(cfg), 5);
    const N = 2;
    const T = 6;
    // Row 0 has 6 real tokens; row 1 is left-padded by 2 and has 4 (positions 0..3 at columns 2..5).
    const tokens = [[1, 5, 9, 4, 3, 8], [0, 0, 1, 7, 6, 9]];
    const pads = [0, 2];
    const step = buildQwen3Step(cfg, { rows: N, maxLen: T });
    const outputs = [step.logits, ...step.presentKeys, ...step.presentValues];
    let past: Record<string, ort.Tensor> = {};
    const empty = (dims: number[]) => new ort.Tensor('float32', new Float32Array(N * 2 * T * 4), dims);
    for (let l = 0; l < cfg.layers; l++) Object.assign(past, { [`past_key.${l}`]: empty([N, 2, 4, T]), [`past_value.${l}`]: empty([N, 2, T, 4]) });
    const stepLogits: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const keyMask = tokens.flatMap((_, r) => Array.from({ length: T }, (_, j) => (j <= t && j >= pads[r] ? 1 : 0)));
      const out = await runWithParams(step.g, outputs, {
        input_ids: int64(tokens.map((row) => row[t]), [N, 1]), position_ids: int64(pads.map((p) => Math.max(0, t - p)), [N, 1]), cache_position: int64([t], [1]),
        key_mask: int64(keyMask, [N, T]), beam_index: int64([0, 1], [N]), ...past,
      }, params);
      stepLogits.push(out.logits.data as Float32Array);
      past = {};
      for (let l = 0; l < cfg.layers; l++) Object.assign(past, { [`past_key.${l}`]: out[`present_key.${l}`], [`past_value.${l}`]: out[`present_value.${l}`] });
    }
    // The full graph sees row 1 right-padded instead, its tokens at positions 0..3.
    const full = buildQwen3(cfg, { batch: N, seqLen: T, training: false });
    const out = await runWithParams(full.g, [full.logits], { input_ids: int64([...tokens[0], 1, 7, 6, 9, 0, 0], [N, T]), attention_mask: int64([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [N, T]) }, params);
    const logits = out.logits.data as Float32Array;
    const V = cfg.vocabSize;
    let worst = 0;
    for (let t = 0; t < T; t++) {
      worst = Math.max(worst, maxAbsDiff(stepLogits[t].subarray(0, V), logits.subarray(t * V, (t + 1) * V)));
      if (t >= 2) worst = Math.max(worst, maxAbsDiff(stepLogits[t].subarray(V, 2 * V), logits.subarray((T + t - 2) * V, (T + t - 1) * V)));
    }
    expect(Math.max(...Array.from(logits).map(Math.abs))).toBeGreaterThan(0.1);
    expect(worst).toBeLessThan(1e-4);
  });
});
