import { BART_DEFAULTS, QWEN3_DEFAULTS, type BartConfig, type BertConfig, type Qwen3Config } from '@strata/nn';
import { configFromHf } from './hf-config';
import { bartToHfConfig, bertToHfConfig, qwen3ToHfConfig } from './to-hf';

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

/** What transformers reads: the JSON text, not the object. */
const throughJson = (json: Record<string, unknown>): unknown => JSON.parse(JSON.stringify(json));

const bart: BartConfig = {
  ...BART_DEFAULTS, vocabSize: 128, hidden: 16, encoderLayers: 2, decoderLayers: 3, heads: 2, ffn: 32, maxPositions: 40, dropout: 0.1, attentionDropout: 0.05,
  activation: 'gelu', scaleEmbedding: true, normalizeBefore: false, finalLogitsBias: false, padId: 0, decoderStartId: 2, eosId: 3,
};

describe('bartToHfConfig', () => {
  it('writes a BartForConditionalGeneration config.json, or MBart for the pre-LN layout', () => {
    expect(bartToHfConfig(bart)).toEqual({
      architectures: ['BartForConditionalGeneration'], model_type: 'bart', vocab_size: 128, d_model: 16, encoder_layers: 2, decoder_layers: 3,
      encoder_attention_heads: 2, decoder_attention_heads: 2, encoder_ffn_dim: 32, decoder_ffn_dim: 32, activation_function: 'gelu', dropout: 0.1,
      attention_dropout: 0.05, activation_dropout: 0, encoder_layerdrop: 0, decoder_layerdrop: 0, max_position_embeddings: 40, scale_embedding: true,
      init_std: 0.02, is_encoder_decoder: true, tie_word_embeddings: true, pad_token_id: 0, bos_token_id: 2, eos_token_id: 3, decoder_start_token_id: 2,
      forced_eos_token_id: null, use_cache: true, torch_dtype: 'float32', dtype: 'float32',
    });
    expect(bartToHfConfig({ ...bart, normalizeBefore: true })).toMatchObject({ architectures: ['MBartForConditionalGeneration'], model_type: 'mbart' });
    expect(bartToHfConfig(bart, 1).bos_token_id).toBe(1);
  });

  it('reads back through the Hugging Face importer as the same model, up to what Strata fixes', () => {
    for (const normalizeBefore of [false, true])
      for (const finalLogitsBias of [false, true])
        for (const activation of ['gelu', 'gelu_tanh', 'relu'] as const) {
          const c: BartConfig = { ...bart, normalizeBefore, finalLogitsBias, activation, scaleEmbedding: !normalizeBefore };
          const imported = configFromHf(throughJson(bartToHfConfig(c)), 'config.json');
          expect(imported.arch).toBe('bart');
          expect(imported.notes).toEqual([]);
          // transformers always carries final_logits_bias (zeros when a checkpoint has none), so the importer does too.
          expect(imported.config).toEqual({ ...c, finalLogitsBias: true });
        }
    const { normalizeBefore: _n, finalLogitsBias: _f, ...bare } = bart;
    expect(configFromHf(throughJson(bartToHfConfig(bare)), 'config.json').config).toEqual({ ...bare, normalizeBefore: false, finalLogitsBias: true });
  });

  it('refuses a LayerNorm epsilon transformers cannot express', () => {
    expect(() => bartToHfConfig({ ...bart, layerNormEps: 1e-12 })).toThrow('layerNormEps 1e-12 cannot be expressed');
  });
});

const qwen3: Qwen3Config = {
  ...QWEN3_DEFAULTS, vocabSize: 300, hidden: 24, layers: 3, heads: 4, kvHeads: 2, headDim: 8, intermediate: 40, maxPositions: 96, ropeTheta: 1e6, rmsNormEps: 1e-5,
  tieWordEmbeddings: true, attentionDropout: 0, hiddenDropout: 0, padId: 0, bosId: 1, eosId: 2,
};

describe('qwen3ToHfConfig', () => {
  it('writes a Qwen3ForCausalLM config.json', () => {
    expect(qwen3ToHfConfig(qwen3)).toEqual({
      architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 300, hidden_size: 24, num_hidden_layers: 3, num_attention_heads: 4,
      num_key_value_heads: 2, head_dim: 8, intermediate_size: 40, hidden_act: 'silu', max_position_embeddings: 96, rope_theta: 1e6, rope_scaling: null,
      rms_norm_eps: 1e-5, attention_bias: false, attention_dropout: 0, use_sliding_window: false, sliding_window: null, max_window_layers: 3,
      layer_types: ['full_attention', 'full_attention', 'full_attention'], tie_word_embeddings: true, initializer_range: 0.02, pad_token_id: 0,
      bos_token_id: 1, eos_token_id: 2, use_cache: true, torch_dtype: 'float32', dtype: 'float32',
    });
  });

  it('reads back through the Hugging Face importer as the same model, up to what Strata fixes', () => {
    for (const c of [qwen3, { ...qwen3, tieWordEmbeddings: false, kvHeads: 4, headDim: 6, attentionDropout: 0.1 }, { ...qwen3, padId: 7, bosId: 8, eosId: 9 }]) {
      const imported = configFromHf(throughJson(qwen3ToHfConfig(c)), 'config.json');
      expect(imported).toMatchObject({ arch: 'qwen3', architecture: 'Qwen3ForCausalLM', notes: [] });
      expect(imported.config).toEqual(c);
    }
    // Qwen3 has no dropout on the residual branches; a model trained with one reads back without it.
    expect(configFromHf(throughJson(qwen3ToHfConfig({ ...qwen3, hiddenDropout: 0.1 })), 'config.json').config).toEqual(qwen3);
  });
});
