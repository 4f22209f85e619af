// Strata BERT classifier -> Hugging Face config.json (BertForSequenceClassification). Pure: the caller writes the file.
// Written beside an exported .onnx so Hugging Face tooling (optimum, transformers.js) can load the model; the reverse
// mapping is configFromHf (hf-config.ts).
import type { Activation, BertConfig } from '@strata/nn';

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
