import { DataType, GraphBuilder, ort } from '@strata/onnx';
import { BartConfig, bartParamSpecs, buildBart, buildBartDecoderStep, buildBartEncoder } from './index';
import { checkModelGradients, int64, maxAbsDiff, randomParams, runWithParams, weightedSum } from './test-helpers';

const tiny: BartConfig = {
  vocabSize: 13, hidden: 8, encoderLayers: 2, decoderLayers: 2, heads: 2, ffn: 12, maxPositions: 8,
  dropout: 0.1, attentionDropout: 0.1, activation: 'gelu_tanh', layerNormEps: 1e-5, scaleEmbedding: true, padId: 0, decoderStartId: 2, eosId: 3,
};

describe('BART-style encoder-decoder graph', () => {
  it('uses Hugging Face parameter names and exposes every encoder and decoder hidden state', () => {
    const m = buildBart({ ...tiny, activation: 'gelu' }, { batch: 3, srcLen: 5, tgtLen: 4, training: true });
    const names = m.params.map((p) => p.name);
    const shape = (n: string) => m.params.find((p) => p.name === n)?.shape;
    expect(names[0]).toBe('model.shared.weight');
    expect(shape('model.encoder.embed_positions.weight')).toEqual([10, 8]); // maxPositions + BART's offset of 2
    expect(shape('model.encoder.layers.0.self_attn.q_proj.weight')).toEqual([8, 8]);
    expect(shape('model.encoder.layers.1.fc1.weight')).toEqual([12, 8]);
    for (const n of [
      'model.encoder.layernorm_embedding.weight', 'model.encoder.layers.1.self_attn_layer_norm.bias', 'model.encoder.layers.1.final_layer_norm.bias',
      'model.decoder.embed_positions.weight', 'model.decoder.layernorm_embedding.bias', 'model.decoder.layers.1.self_attn.out_proj.weight',
      'model.decoder.layers.0.encoder_attn.k_proj.weight', 'model.decoder.layers.0.encoder_attn.q_proj.bias', 'model.decoder.layers.1.encoder_attn_layer_norm.weight',
      'model.decoder.layers.1.fc2.bias',
    ]) expect(names).toContain(n);
    expect(names.some((n) => n.startsWith('lm_head'))).toBe(false); // tied to model.shared.weight
    expect(m.encoderHiddenStates).toEqual(['encoder_hidden_states.0', 'encoder_hidden_states.1', 'encoder_hidden_states.2']);
    expect(m.decoderHiddenStates).toEqual(['decoder_hidden_states.0', 'decoder_hidden_states.1', 'decoder_hidden_states.2']);
    for (const h of m.encoderHiddenStates) expect(m.g.shapeOf(h)).toEqual([3, 5, 8]);
    for (const h of m.decoderHiddenStates) expect(m.g.shapeOf(h)).toEqual([3, 4, 8]);
    expect(m.g.shapeOf(m.logits)).toEqual([3, 4, 13]);
    // encoder: embeddings + 3 per layer; decoder: embeddings + 5 per layer (self and cross attention, FFN).
    expect(m.dropoutSites).toHaveLength(1 + 3 * 2 + 1 + 5 * 2);
    expect(m.dropoutSites.find((s) => s.name === 'dropout_mask.decoder.layer.1.cross_attention.probs')!.shape).toEqual([3, 2, 4, 5]);
    expect(bartParamSpecs(tiny).map((p) => p.name)).toEqual(names);
    expect(() => buildBart({ ...tiny, eosId: 13 }, { batch: 1, srcLen: 2, tgtLen: 2, training: false })).toThrow('bart config: eosId must be a token id in 0..12 (got 13)');
    expect(() => buildBart(tiny, { batch: 1, srcLen: 9, tgtLen: 2, training: false })).toThrow(/exceeds maxPositions 8/);
  });

  it('pre-LN (mBART layout) adds each stack\'s final LayerNorm under its Hugging Face name', () => {
    const names = bartParamSpecs({ ...tiny, normalizeBefore: true }).map((p) => p.name);
    expect(names.filter((n) => !bartParamSpecs(tiny).some((p) => p.name === n)).sort()).toEqual([
      'model.decoder.layer_norm.bias', 'model.decoder.layer_norm.weight', 'model.encoder.layer_norm.bias', 'model.encoder.layer_norm.weight',
    ]);
  });

  it.each([false, true])('differentiates the whole model (float64 finite differences, padding and fed dropout masks included; pre-LN %s)', async (normalizeBefore) => {
    const m = buildBart({ ...tiny, normalizeBefore }, { batch: 2, srcLen: 4, tgtLen: 3, training: true, dtype: DataType.DOUBLE });
    const result = await checkModelGradients(
      m,
      {
        input_ids: { shape: [2, 4], values: [2, 5, 6, 3, 2, 7, 0, 0] },
        attention_mask: { shape: [2, 4], values: [1, 1, 1, 1, 1, 1, 0, 0] },
        decoder_input_ids: { shape: [2, 3], values: [2, 9, 10, 2, 11, 0] },
      },
      (g: GraphBuilder) => g.op('Sum', [weightedSum(g, m.logits, 3), weightedSum(g, m.encoderHiddenStates[1], 4), weightedSum(g, m.decoderHiddenStates[2], 5)]),
    );
    expect(result.checked).toBeGreaterThanOrEqual(3 * m.params.length);
    if (result.maxError > 1e-6) throw new Error(`gradient mismatch ${result.maxError}: ${result.worst}`);
  });

  it.each([false, true])('decodes with the key/value-cache step graph exactly as full recomputation, beam reordering included (pre-LN %s)', async (normalizeBefore) => {
    const cfg = { ...tiny, activation: 'gelu' as const, dropout: 0, attentionDropout: 0, normalizeBefore };
    const params = randomParams(bartParamSpecs(cfg), 11);
    const N = 2;
    const S = 5;
    const T = 6;
    // One source repeated for two rows (as for two beams), with a padded tail.
    const src = [2, 5, 8, 4, 0];
    const mask = [1, 1, 1, 1, 0];
    const enc = buildBartEncoder(cfg, { batch: 1, srcLen: S, repeat: N });
    const cross = await runWithParams(enc.g, [...enc.crossKeys, ...enc.crossValues], { input_ids: int64(src, [1, S]), attention_mask: int64(mask, [1, S]) }, params);
    expect(cross['cross_key.0'].dims).toEqual([N, 2, 4, S]); // keys transposed
    expect(cross['cross_value.0'].dims).toEqual([N, 2, S, 4]);

    const step = buildBartDecoderStep(cfg, { rows: N, srcLen: S, maxLen: T });
    const stepOutputs = [step.logits, ...step.presentKeys, ...step.presentValues];
    const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(N * 2 * T * 4), dims);
    let past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < cfg.decoderLayers; l++) Object.assign(past, { [`past_key.${l}`]: zeros([N, 2, 4, T]), [`past_value.${l}`]: zeros([N, 2, T, 4]) });
    // Two prefixes; at step 3 the rows swap caches (beam_index [1, 0]) and each continues the other's prefix.
    const rows = [[2, 5, 6, 9], [2, 7, 8, 10]];
    const stepLogits: Float32Array[] = [];
    for (let t = 0; t < 4; t++) {
      const beam = t === 3 ? [1, 0] : [0, 1];
      const out = await runWithParams(step.g, stepOutputs, {
        input_ids: int64([rows[0][t], rows[1][t]], [N, 1]), position_ids: int64([t, t], [N, 1]), cache_position: int64([t], [1]),
        key_mask: int64(Array.from({ length: N * T }, (_, i) => ((i % T) <= t ? 1 : 0)), [N, T]), beam_index: int64(beam, [N]),
        encoder_attention_mask: int64([...mask, ...mask], [N, S]), ...cross, ...past,
      }, params);
      stepLogits.push(out.logits.data as Float32Array);
      past = {};
      for (let l = 0; l < cfg.decoderLayers; l++) Object.assign(past, { [`past_key.${l}`]: out[`present_key.${l}`], [`past_value.${l}`]: out[`present_value.${l}`] });
    }
    // Full recomputation on the sequences the rows really continued (after the swap).
    const seqs = [[2, 7, 8, 9], [2, 5, 6, 10]];
    const full = buildBart(cfg, { batch: N, srcLen: S, tgtLen: 4, training: false });
    const out = await runWithParams(full.g, [full.logits], {
      input_ids: int64([...src, ...src], [N, S]), attention_mask: int64([...mask, ...mask], [N, S]), decoder_input_ids: int64(seqs.flat(), [N, 4]),
    }, params);
    const logits = out.logits.data as Float32Array;
    const V = cfg.vocabSize;
    let worst = 0;
    for (let t = 0; t < 4; t++)
      for (let r = 0; r < N; r++) {
        // Before the swap row r ran prefix rows[r]; its full-graph twin is the sequence that shares that prefix.
        const twin = t < 3 ? (r === 0 ? 1 : 0) : r;
        worst = Math.max(worst, maxAbsDiff(stepLogits[t].subarray(r * V, (r + 1) * V), logits.subarray((twin * 4 + t) * V, (twin * 4 + t + 1) * V)));
      }
    expect(Math.max(...Array.from(logits).map(Math.abs))).toBeGreaterThan(0.1);
    expect(worst).toBeLessThan(1e-4);
  });
});
