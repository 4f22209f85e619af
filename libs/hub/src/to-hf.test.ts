import type { BertConfig } from '@strata/nn';
import { configFromHf } from './hf-config';
import { bertToHfConfig } from './to-hf';

const cfg: BertConfig = {
  vocabSize: 1000, hidden: 32, layers: 2, heads: 2, intermediate: 64, maxPositions: 32, typeVocabSize: 2, numLabels: 2,
  hiddenDropout: 0.1, attentionDropout: 0.05, layerNormEps: 1e-12, activation: 'gelu',
};

describe('bertToHfConfig', () => {
  it("writes a BertForSequenceClassification config.json with the task's labels", () => {
    const json = bertToHfConfig(cfg, ['ham', 'spam']);
    expect(json).toEqual({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      vocab_size: 1000,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 64,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.05,
      classifier_dropout: null,
      max_position_embeddings: 32,
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
      initializer_range: 0.02,
      position_embedding_type: 'absolute',
      pad_token_id: 0,
      id2label: { '0': 'ham', '1': 'spam' },
      label2id: { ham: 0, spam: 1 },
      problem_type: 'single_label_classification',
      torch_dtype: 'float32',
      dtype: 'float32',
    });
    // What transformers reads: JSON object keys, so id2label's ids are the strings "0", "1".
    expect(Object.keys(JSON.parse(JSON.stringify(json)).id2label)).toEqual(['0', '1']);
  });

  it("maps Strata's activations to transformers' names", () => {
    expect(bertToHfConfig({ ...cfg, activation: 'gelu_tanh' }, ['a', 'b']).hidden_act).toBe('gelu_new');
    expect(bertToHfConfig({ ...cfg, activation: 'relu' }, ['a', 'b']).hidden_act).toBe('relu');
  });

  it('reads back through the Hugging Face importer as the same model', () => {
    for (const activation of ['gelu', 'gelu_tanh', 'relu'] as const) {
      const three: BertConfig = { ...cfg, activation, numLabels: 3, maxPositions: 64, layerNormEps: 1e-5 };
      const imported = configFromHf(JSON.parse(JSON.stringify(bertToHfConfig(three, ['negative', 'neutral', 'positive']))), 'config.json');
      expect(imported).toMatchObject({ arch: 'bert', architecture: 'BertForSequenceClassification', config: three, labels: ['negative', 'neutral', 'positive'] });
    }
  });

  it('refuses label names that do not fit the classifier', () => {
    expect(() => bertToHfConfig(cfg, ['only'])).toThrow('1 label names for a classifier with 2 labels');
    expect(() => bertToHfConfig(cfg, ['x', 'x'])).toThrow('label names must be distinct');
  });
});
