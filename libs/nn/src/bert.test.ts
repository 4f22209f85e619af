import { checkGradients, weightedSum } from '@strata/autodiff';
import { DataType, GraphBuilder } from '@strata/onnx';
import { BertConfig, bertParamSpecs, buildBert } from './index';

const tiny: BertConfig = {
  vocabSize: 11, hidden: 8, layers: 2, heads: 2, intermediate: 12, maxPositions: 6, typeVocabSize: 2, numLabels: 3,
  hiddenDropout: 0.1, attentionDropout: 0.1, layerNormEps: 1e-5, activation: 'gelu_tanh',
};

describe('BERT encoder graph', () => {
  it('uses Hugging Face parameter names and exposes every hidden state', () => {
    const bert = buildBert({ ...tiny, activation: 'gelu' }, { batch: 3, seqLen: 5, training: true });
    const names = bert.params.map((p) => p.name);
    expect(names).toContain('bert.embeddings.word_embeddings.weight');
    expect(names).toContain('bert.encoder.layer.0.attention.self.query.weight');
    expect(names).toContain('bert.encoder.layer.1.output.LayerNorm.bias');
    expect(names).toContain('bert.pooler.dense.weight');
    expect(names.slice(-2)).toEqual(['classifier.weight', 'classifier.bias']);
    expect(bert.params.find((p) => p.name === 'bert.encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([12, 8]);
    expect(bert.hiddenStates).toEqual(['hidden_states.0', 'hidden_states.1', 'hidden_states.2']);
    for (const h of bert.hiddenStates) expect(bert.g.shapeOf(h)).toEqual([3, 5, 8]);
    expect(bert.g.shapeOf(bert.logits)).toEqual([3, 3]);
    // embeddings, and per layer: attention probs, attention output, FFN output; plus the pooler.
    expect(bert.dropoutSites.map((s) => s.name)).toHaveLength(1 + 3 * 2 + 1);
    expect(bert.dropoutSites.find((s) => s.name === 'dropout_mask.layer.0.attention.probs')!.shape).toEqual([3, 2, 5, 5]);
    expect(bertParamSpecs(tiny)).toHaveLength(names.length);
    expect(() => buildBert({ ...tiny, hidden: 9 }, { batch: 1, seqLen: 2, training: false })).toThrow('bert config: hidden (9) must be divisible by heads (2)');
  });

  it('differentiates the whole classifier correctly (float64 finite differences, masks and padding included)', async () => {
    const B = 2;
    const S = 4;
    const specs = bertParamSpecs(tiny);
    const inputs: Parameters<typeof checkGradients>[0] = {
      input_ids: { shape: [B, S], dtype: DataType.INT64, values: [1, 5, 5, 9, 1, 3, 0, 0], wrt: false },
      attention_mask: { shape: [B, S], dtype: DataType.INT64, values: [1, 1, 1, 1, 1, 1, 0, 0], wrt: false },
      token_type_ids: { shape: [B, S], dtype: DataType.INT64, values: [0, 0, 1, 1, 0, 0, 0, 0], wrt: false },
    };
    for (const p of specs) inputs[p.name] = { shape: p.shape };
    const bertDouble = buildBert(tiny, { batch: B, seqLen: S, training: true, dtype: DataType.DOUBLE });
    for (const site of bertDouble.dropoutSites) inputs[site.name] = { shape: site.shape, values: Array.from({ length: site.shape.reduce((a, b) => a * b) }, (_, i) => (i % 7 === 3 ? 0 : 1 / 0.9)), wrt: false };
    const result = await checkGradients(
      inputs,
      (g: GraphBuilder) => {
        // Rebuild the same graph inside the checker's builder by replaying the nodes of the float64 build.
        for (const t of bertDouble.g.initializers) g.initializer(t);
        for (const n of bertDouble.g.nodes) g.addNode({ ...n });
        return g.op('Add', [weightedSum(g, bertDouble.logits, 3), weightedSum(g, bertDouble.hiddenStates[1], 4)]);
      },
      { samples: 4 },
    );
    expect(result.checked).toBeGreaterThanOrEqual(3 * specs.length);
    expect(result.maxError).toBeLessThan(1e-6);
  });
});
