// Strata models -> Hugging Face config.json (BertForSequenceClassification, BartForConditionalGeneration or
// MBartForConditionalGeneration, Qwen3ForCausalLM). Pure: the caller writes the file. Written beside an exported
// .onnx so Hugging Face tooling (optimum, transformers.js) can load the model; the reverse mapping is configFromHf
// (hf-config.ts).
import type { Activation, BartConfig, BertConfig, Qwen3Config } from '@strata/nn';

/** transformers' ACT2FN names of Strata's activations: its exact erf GELU is 'gelu', the tanh approximation 'gelu_new'. */
const HF_ACTIVATION: Record<Activation, string> = { gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' };

export function bertToHfConfig(cfg: BertConfig, labels: readonly string[]): Record<string, unknown> {
  if (labels.length !== cfg.numLabels) throw new Error(`bertToHfConfig: ${labels.length} label names for a classifier with ${cfg.numLabels} labels`);
  if (new Set(labels).size !== labels.length) throw new Error(`bertToHfConfig: label names must be distinct (label2id maps them back), got ${JSON.stringify(labels)}`);
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hidden,
    num_hidden_layers: cfg.layers,
    num_attention_heads: cfg.heads,
    intermediate_size: cfg.intermediate,
    hidden_act: HF_ACTIVATION[cfg.activation],
    hidden_dropout_prob: cfg.hiddenDropout,
    attention_probs_dropout_prob: cfg.attentionDropout,
    // Strata's pooler and classifier drop out at hidden_dropout_prob, which is what null means to transformers.
    classifier_dropout: null,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.layerNormEps,
    // Strata's init std (libs/nn initParams), for heads a fine-tune adds.
    initializer_range: 0.02,
    position_embedding_type: 'absolute',
    pad_token_id: 0,
    id2label: Object.fromEntries(labels.map((name, id) => [String(id), name])),
    label2id: Object.fromEntries(labels.map((name, id) => [name, id])),
    problem_type: 'single_label_classification',
    // transformers 4.56 renamed torch_dtype to dtype (huggingface/transformers#39782); older versions read only torch_dtype.
    torch_dtype: 'float32',
    dtype: 'float32',
  };
}

/**
 * Strata encoder-decoder -> config.json: BartForConditionalGeneration (post-LN), or MBartForConditionalGeneration when
 * normalizeBefore (the pre-LN layout with each stack's final LayerNorm is mBART's). Strata's BartConfig has no BOS id:
 * `bosId` defaults to the decoder start token, which is the tokenizer's BOS for models Strata trains; give the
 * tokenizer's when the decoder starts with another token (Hugging Face's BART checkpoints start it with </s>).
 */
export function bartToHfConfig(cfg: BartConfig, bosId = cfg.decoderStartId): Record<string, unknown> {
  // transformers' BART and mBART build nn.LayerNorm at its default eps, with no config field to change it.
  if (cfg.layerNormEps !== 1e-5) throw new Error(`bartToHfConfig: layerNormEps ${cfg.layerNormEps} cannot be expressed; transformers' BART and mBART use 1e-5`);
  const mbart = cfg.normalizeBefore === true;
  return {
    architectures: [mbart ? 'MBartForConditionalGeneration' : 'BartForConditionalGeneration'],
    model_type: mbart ? 'mbart' : 'bart',
    vocab_size: cfg.vocabSize,
    d_model: cfg.hidden,
    encoder_layers: cfg.encoderLayers,
    decoder_layers: cfg.decoderLayers,
    encoder_attention_heads: cfg.heads,
    decoder_attention_heads: cfg.heads,
    encoder_ffn_dim: cfg.ffn,
    decoder_ffn_dim: cfg.ffn,
    activation_function: HF_ACTIVATION[cfg.activation],
    dropout: cfg.dropout,
    attention_dropout: cfg.attentionDropout,
    activation_dropout: 0,
    encoder_layerdrop: 0,
    decoder_layerdrop: 0,
    max_position_embeddings: cfg.maxPositions,
    scale_embedding: cfg.scaleEmbedding,
    init_std: 0.02,
    is_encoder_decoder: true,
    // The LM head is model.shared; without final_logits_bias in the weights transformers keeps its zeros, which is
    // what a Strata model without the bias computes.
    tie_word_embeddings: true,
    pad_token_id: cfg.padId,
    bos_token_id: bosId,
    eos_token_id: cfg.eosId,
    decoder_start_token_id: cfg.decoderStartId,
    // transformers defaults it to 2 for BART; Strata's beam search forces nothing at the length limit.
    forced_eos_token_id: null,
    use_cache: true,
    torch_dtype: 'float32',
    dtype: 'float32',
  };
}

/**
 * Strata decoder-only model -> config.json (Qwen3ForCausalLM). hiddenDropout has no counterpart in Qwen3 (it only
 * changes training), so it is left out.
 */
export function qwen3ToHfConfig(cfg: Qwen3Config): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hidden,
    num_hidden_layers: cfg.layers,
    num_attention_heads: cfg.heads,
    num_key_value_heads: cfg.kvHeads,
    head_dim: cfg.headDim,
    intermediate_size: cfg.intermediate,
    hidden_act: 'silu',
    max_position_embeddings: cfg.maxPositions,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    rms_norm_eps: cfg.rmsNormEps,
    attention_bias: false,
    attention_dropout: cfg.attentionDropout,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: cfg.layers,
    layer_types: Array.from({ length: cfg.layers }, () => 'full_attention'),
    tie_word_embeddings: cfg.tieWordEmbeddings,
    initializer_range: 0.02,
    pad_token_id: cfg.padId,
    bos_token_id: cfg.bosId,
    eos_token_id: cfg.eosId,
    use_cache: true,
    torch_dtype: 'float32',
    dtype: 'float32',
  };
}
