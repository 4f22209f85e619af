// config.json mapping and checkpoint names, pure (no files): the cases the shared fixtures do not cover.
import { configFromHf } from './hf-config';
import { checkpointRole, matchNames } from './names';

const bart = {
  model_type: 'bart', architectures: ['BartForConditionalGeneration'], vocab_size: 100, d_model: 16, encoder_layers: 2, decoder_layers: 2, encoder_attention_heads: 4, decoder_attention_heads: 4,
  encoder_ffn_dim: 32, decoder_ffn_dim: 32, max_position_embeddings: 64, activation_function: 'gelu', pad_token_id: 1, eos_token_id: 2, decoder_start_token_id: 2,
};

describe('configFromHf', () => {
  it('maps mbart to pre-LN layers with final norms, and takes missing token ids from generation_config.json', () => {
    const m = configFromHf({ ...bart, model_type: 'mbart', architectures: ['MBartForConditionalGeneration'], scale_embedding: true, decoder_start_token_id: undefined }, 'c.json', { generation: { decoder_start_token_id: 7 } });
    expect(m.arch).toBe('bart');
    expect(m.config).toMatchObject({ normalizeBefore: true, scaleEmbedding: true, finalLogitsBias: true, padId: 1, eosId: 2, decoderStartId: 7, layerNormEps: 1e-5 });
    expect(configFromHf(bart, 'c.json').config).toMatchObject({ normalizeBefore: false, decoderStartId: 2 });
  });

  it('accepts settings that only change training and says so; refuses what would compute something else', () => {
    expect(configFromHf({ ...bart, activation_dropout: 0.1 }, 'c.json').notes).toEqual(['activation_dropout 0.1 is not applied (Strata has no such dropout); it only affects fine-tuning']);
    expect(() => configFromHf({ ...bart, decoder_ffn_dim: 64 }, 'c.json')).toThrow(/field 'decoder_ffn_dim': must equal encoder_ffn_dim \(32\)/);
    expect(() => configFromHf({ ...bart, tie_word_embeddings: false }, 'c.json')).toThrow(/field 'tie_word_embeddings': false is not supported/);
    expect(() => configFromHf({ ...bart, normalize_before: true }, 'c.json')).toThrow(/field 'normalize_before': true is not supported: pre-LN BART layers: use model_type mbart/);
  });

  it('reads a masked-LM BERT as an encoder and gives it the task\'s head', () => {
    const m = configFromHf({ model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: 50, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16 }, 'c.json', { numLabels: 3 });
    expect(m.arch === 'bert' && m.config).toMatchObject({ numLabels: 3, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, activation: 'gelu' });
    expect(m.labels).toBeUndefined();
    expect(() => configFromHf({ model_type: 'bert', architectures: ['BertForTokenClassification'] }, 'c.json')).toThrow(/field 'architectures': \["BertForTokenClassification"\]: none is supported/);
    expect(() => configFromHf({ model_type: 'bert', vocab_size: 50, hidden_size: 10, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 16 }, 'c.json')).toThrow(/field 'num_attention_heads': 3 does not divide hidden_size 10/);
  });

  it('gives Qwen3 a pad token when the checkpoint names none (eos), and refuses sliding windows', () => {
    const q = { model_type: 'qwen3', vocab_size: 100, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 32, max_position_embeddings: 128, eos_token_id: 5, bos_token_id: 4 };
    expect(configFromHf(q, 'c.json').config).toMatchObject({ padId: 5, bosId: 4, eosId: 5, headDim: 4, tieWordEmbeddings: false });
    expect(() => configFromHf({ ...q, use_sliding_window: true }, 'c.json')).toThrow(/field 'use_sliding_window'/);
    expect(() => configFromHf({ ...q, num_key_value_heads: 3 }, 'c.json')).toThrow(/field 'num_key_value_heads': 3 must divide num_attention_heads 4/);
  });

  it('names a missing or malformed field', () => {
    expect(() => configFromHf({ model_type: 'bert' }, 'x/config.json')).toThrow("x/config.json: field 'vocab_size': is required");
    expect(() => configFromHf({ ...bart, d_model: '16' }, 'x/config.json')).toThrow(`x/config.json: field 'd_model': must be a non-negative integer (got "16")`);
    expect(() => configFromHf([], 'x/config.json')).toThrow('x/config.json: must be a JSON object');
    expect(() => configFromHf({}, 'x/config.json')).toThrow("field 'model_type': is required (supported: bert, bart, mbart, qwen3)");
  });
});

describe('checkpoint names', () => {
  it('maps bare and legacy names, ignores buffers and tied copies, lists heads it has no use for', () => {
    expect(checkpointRole('bert', 'encoder.layer.0.output.LayerNorm.gamma')).toEqual({ kind: 'param', name: 'bert.encoder.layer.0.output.LayerNorm.weight' });
    expect(checkpointRole('bert', 'bert.embeddings.LayerNorm.beta')).toEqual({ kind: 'param', name: 'bert.embeddings.LayerNorm.bias' });
    expect(checkpointRole('bert', 'embeddings.position_ids').kind).toBe('ignored');
    expect(checkpointRole('bert', 'cls.predictions.bias')).toEqual({ kind: 'unused', why: 'pre-training head' });
    expect(checkpointRole('bart', 'encoder.layers.0.fc1.weight')).toEqual({ kind: 'param', name: 'model.encoder.layers.0.fc1.weight' });
    expect(checkpointRole('bart', 'model.decoder.embed_tokens.weight').kind).toBe('ignored');
    expect(checkpointRole('bart', 'final_logits_bias')).toEqual({ kind: 'param', name: 'final_logits_bias' });
    expect(checkpointRole('qwen3', 'layers.1.mlp.up_proj.weight')).toEqual({ kind: 'param', name: 'model.layers.1.mlp.up_proj.weight' });
    expect(checkpointRole('qwen3', 'lm_head.weight', { tiedHead: false })).toEqual({ kind: 'param', name: 'lm_head.weight' });
    expect(checkpointRole('qwen3', 'model.layers.0.self_attn.rotary_emb.inv_freq').kind).toBe('ignored');
  });

  it('reports a parameter two tensors claim, and what is missing', () => {
    const m = matchNames('bert', ['bert.pooler.dense.weight', 'pooler.dense.weight', 'classifier.weight', 'extra.thing'], ['bert.pooler.dense.weight', 'classifier.weight', 'classifier.bias']);
    expect(m.conflicts).toEqual([{ param: 'bert.pooler.dense.weight', tensors: ['bert.pooler.dense.weight', 'pooler.dense.weight'] }]);
    expect(m.missing).toEqual(['classifier.bias']);
    expect(m.unused).toEqual([{ tensor: 'extra.thing', why: 'no such parameter in the model the config describes' }]);
  });
});
