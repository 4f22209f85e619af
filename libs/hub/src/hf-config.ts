// Hugging Face config.json -> Strata model configuration. Pure: the caller reads the file. Anything Strata's graphs
// would compute differently is refused with the field named, never approximated; settings that only change training
// (dropout rates Strata does not have) are accepted and reported in `notes`.
import { BERT_DEFAULTS, type Activation, type BartConfig, type BertConfig, type Qwen3Config } from '@strata/nn';
import { HubError } from './errors';

export const SUPPORTED_MODEL_TYPES = ['bert', 'bart', 'mbart', 'qwen3'] as const;

/** Architectures whose weights Strata imports; heads it has no use for (masked-LM, pre-training) are reported as unused. */
const BERT_ARCHITECTURES = ['BertModel', 'BertForSequenceClassification', 'BertForMaskedLM', 'BertForPreTraining'];
const BART_ARCHITECTURES = ['BartModel', 'BartForConditionalGeneration', 'MBartModel', 'MBartForConditionalGeneration'];
const QWEN3_ARCHITECTURES = ['Qwen3Model', 'Qwen3ForCausalLM'];

interface Common {
  /** Label names from id2label, in id order (classification checkpoints). */
  labels?: string[];
  /** Settings accepted although Strata does not model them (they only affect training), for the log. */
  notes: string[];
  /** Standard deviation of the normal init of weights the checkpoint lacks (initializer_range / init_std). */
  initStd: number;
}

export type ImportedConfig =
  | (Common & { arch: 'bert'; config: BertConfig; architecture: string })
  | (Common & { arch: 'bart'; config: BartConfig; architecture: string })
  | (Common & { arch: 'qwen3'; config: Qwen3Config; architecture: string });

export interface ConfigOptions {
  /** Classes of the task the model will be fine-tuned on; must agree with a checkpoint's own head when it has one. */
  numLabels?: number;
  /** generation_config.json, when present: token ids a config.json may leave out. */
  generation?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Reads typed fields of one config.json, every error naming the file and the field. */
class Fields {
  constructor(
    readonly json: Json,
    readonly file: string,
  ) {}

  fail(field: string, message: string): never {
    throw new HubError('CONFIG', message, { file: this.file, field });
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  int(field: string, fallback?: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is required');
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, `must be a non-negative integer (got ${JSON.stringify(v)})`);
    return v;
  }

  positive(field: string, fallback?: number): number {
    const v = this.int(field, fallback);
    if (v < 1) this.fail(field, `must be at least 1 (got ${v})`);
    return v;
  }

  num(field: string, fallback: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a number (got ${JSON.stringify(v)})`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }

  str(field: string, fallback?: string): string | undefined {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') this.fail(field, `must be a string (got ${JSON.stringify(v)})`);
    return v;
  }

  /** A field whose only supported value is `allowed` (absent counts as allowed). */
  only(field: string, allowed: unknown[], why: string): void {
    const v = this.json[field];
    if (v === undefined || allowed.some((a) => a === v)) return;
    this.fail(field, `${JSON.stringify(v)} is not supported: ${why}`);
  }

  activation(field: string, fallback: string): Activation {
    const v = this.str(field, fallback)!;
    const known: Record<string, Activation> = { gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', relu: 'relu' };
    if (!(v in known)) this.fail(field, `activation '${v}' is not supported (supported: ${Object.keys(known).join(', ')})`);
    return known[v];
  }

  /** The one architecture of `architectures` (absent: the first of the supported list). */
  architecture(supported: string[]): string {
    const v = this.json.architectures;
    if (v === undefined || v === null) return supported[0];
    if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== 'string')) this.fail('architectures', `must be a list of class names (got ${JSON.stringify(v)})`);
    const found = (v as string[]).find((a) => supported.includes(a));
    if (!found) this.fail('architectures', `${JSON.stringify(v)}: none is supported (supported: ${supported.join(', ')})`);
    return found;
  }

  /** id2label as names in id order, checked to be 0..n-1. */
  labels(): string[] | undefined {
    const v = this.json.id2label;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail('id2label', 'must be an object {"0": "name", ...}');
    const entries = Object.entries(v as Json);
    const names: string[] = new Array(entries.length);
    for (const [k, name] of entries) {
      const id = Number(k);
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || names[id] !== undefined) this.fail('id2label', `keys must be the ids 0..${entries.length - 1} (got '${k}')`);
      names[id] = String(name);
    }
    return names;
  }
}

/** Maps a parsed config.json (see SUPPORTED_MODEL_TYPES); `file` names it in errors. */
export function configFromHf(json: unknown, file: string, opts: ConfigOptions = {}): ImportedConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HubError('CONFIG', 'must be a JSON object', { file });
  const f = new Fields(json as Json, file);
  const modelType = f.str('model_type');
  if (modelType === undefined) f.fail('model_type', `is required (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  switch (modelType) {
    case 'bert':
      return bertFromHf(f, opts);
    case 'bart':
    case 'mbart':
      return bartFromHf(f, modelType, opts);
    case 'qwen3':
      return qwen3FromHf(f, opts);
    default:
      return f.fail('model_type', `'${modelType}' is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
}

function bertFromHf(f: Fields, opts: ConfigOptions): ImportedConfig {
  const architecture = f.architecture(BERT_ARCHITECTURES);
  f.only('position_embedding_type', ['absolute'], 'Strata\'s BERT adds absolute position embeddings; relative_key / relative_key_query attention computes other outputs');
  f.only('is_decoder', [false], 'Strata imports BERT as an encoder');
  f.only('add_cross_attention', [false], 'Strata imports BERT as an encoder');
  const hiddenDropout = f.num('hidden_dropout_prob', 0.1);
  const classifierDropout = f.json.classifier_dropout;
  if (classifierDropout !== undefined && classifierDropout !== null && classifierDropout !== hiddenDropout)
    f.fail('classifier_dropout', `${JSON.stringify(classifierDropout)} differs from hidden_dropout_prob ${hiddenDropout}; Strata's pooler and classifier use hidden_dropout_prob`);
  const labels = f.labels();
  const own = labels?.length ?? (f.has('num_labels') ? f.positive('num_labels') : undefined);
  const headless = architecture !== 'BertForSequenceClassification';
  let numLabels = opts.numLabels ?? own ?? 2;
  if (!headless && own !== undefined && opts.numLabels !== undefined && own !== opts.numLabels)
    f.fail(labels ? 'id2label' : 'num_labels', `the checkpoint's classifier has ${own} labels but the task has ${opts.numLabels}; use a head-less checkpoint (BertModel) or one fine-tuned on this task`);
  if (!headless && opts.numLabels === undefined && own !== undefined) numLabels = own;
  const config: BertConfig = {
    ...BERT_DEFAULTS,
    vocabSize: f.positive('vocab_size'),
    hidden: f.positive('hidden_size'),
    layers: f.positive('num_hidden_layers'),
    heads: f.positive('num_attention_heads'),
    intermediate: f.positive('intermediate_size'),
    maxPositions: f.positive('max_position_embeddings', 512),
    typeVocabSize: f.positive('type_vocab_size', 2),
    numLabels,
    hiddenDropout,
    attentionDropout: f.num('attention_probs_dropout_prob', 0.1),
    layerNormEps: f.num('layer_norm_eps', 1e-12),
    activation: f.activation('hidden_act', 'gelu'),
  };
  if (config.hidden % config.heads !== 0) f.fail('num_attention_heads', `${config.heads} does not divide hidden_size ${config.hidden}`);
  return { arch: 'bert', architecture, config, labels: headless ? undefined : labels, notes: [], initStd: f.num('initializer_range', 0.02) };
}

function bartFromHf(f: Fields, modelType: 'bart' | 'mbart', opts: ConfigOptions): ImportedConfig {
  const architecture = f.architecture(BART_ARCHITECTURES);
  const heads = f.positive('encoder_attention_heads', 16);
  if (f.positive('decoder_attention_heads', 16) !== heads) f.fail('decoder_attention_heads', `must equal encoder_attention_heads (${heads}) in Strata's encoder-decoder`);
  const ffn = f.positive('encoder_ffn_dim', 4096);
  if (f.positive('decoder_ffn_dim', 4096) !== ffn) f.fail('decoder_ffn_dim', `must equal encoder_ffn_dim (${ffn}) in Strata's encoder-decoder`);
  f.only('tie_word_embeddings', [true], 'Strata\'s encoder-decoder ties the LM head to the shared embeddings');
  // Old BART configs carry fairseq's layout switches; only BART's own post-LN layout is mapped for model_type bart.
  if (modelType === 'bart') {
    f.only('normalize_before', [false], 'pre-LN BART layers: use model_type mbart');
    f.only('add_final_layer_norm', [false], 'Strata\'s post-LN BART ends its stacks without a final LayerNorm');
  }
  f.only('normalize_embedding', [true], 'Strata always normalizes the embeddings (layernorm_embedding)');
  const notes: string[] = [];
  for (const field of ['activation_dropout', 'encoder_layerdrop', 'decoder_layerdrop'])
    if (f.num(field, 0) > 0) notes.push(`${field} ${f.num(field, 0)} is not applied (Strata has no such dropout); it only affects fine-tuning`);
  const gen = opts.generation ?? {};
  const tokenId = (field: string, fallback?: number): number => {
    if (f.has(field)) return f.int(field);
    const g = gen[field];
    if (typeof g === 'number' && Number.isInteger(g)) return g;
    if (fallback !== undefined) return fallback;
    return f.fail(field, 'is required (in config.json or generation_config.json)');
  };
  const eosId = tokenId('eos_token_id');
  const config: BartConfig = {
    vocabSize: f.positive('vocab_size'),
    hidden: f.positive('d_model'),
    encoderLayers: f.positive('encoder_layers'),
    decoderLayers: f.positive('decoder_layers'),
    heads,
    ffn,
    maxPositions: f.positive('max_position_embeddings', 1024),
    dropout: f.num('dropout', 0.1),
    attentionDropout: f.num('attention_dropout', 0),
    activation: f.activation('activation_function', 'gelu'),
    layerNormEps: 1e-5,
    scaleEmbedding: f.bool('scale_embedding', false),
    normalizeBefore: modelType === 'mbart',
    finalLogitsBias: true,
    padId: tokenId('pad_token_id', 1),
    decoderStartId: tokenId('decoder_start_token_id', eosId),
    eosId,
  };
  if (config.hidden % heads !== 0) f.fail('encoder_attention_heads', `${heads} does not divide d_model ${config.hidden}`);
  return { arch: 'bart', architecture, config, notes, initStd: f.num('init_std', 0.02) };
}

function qwen3FromHf(f: Fields, opts: ConfigOptions): ImportedConfig {
  const architecture = f.architecture(QWEN3_ARCHITECTURES);
  f.only('rope_scaling', [null], 'rope scaling (yarn, linear, dynamic, ...) changes the rotary frequencies; Strata\'s are plain rotary embeddings');
  f.only('attention_bias', [false], 'Strata\'s Qwen3 projections have no biases');
  f.only('use_sliding_window', [false], 'Strata\'s Qwen3 attends over the whole sequence in every layer');
  f.only('hidden_act', ['silu'], 'Strata\'s Qwen3 MLP is SwiGLU (silu)');
  const layerTypes = f.json.layer_types;
  if (Array.isArray(layerTypes) && layerTypes.some((t) => t !== 'full_attention')) f.fail('layer_types', `only full_attention layers are supported (got ${JSON.stringify(layerTypes)})`);
  const hidden = f.positive('hidden_size');
  const heads = f.positive('num_attention_heads');
  const gen = opts.generation ?? {};
  const tokenId = (field: string, fallback: number | undefined): number | undefined => {
    if (f.has(field)) return f.int(field);
    const g = gen[field];
    if (typeof g === 'number' && Number.isInteger(g)) return g;
    return fallback;
  };
  // Qwen3 checkpoints often name no pad token, and small test models no bos/eos: fall back along eos -> pad -> 0.
  const eosId = tokenId('eos_token_id', undefined);
  const padId = tokenId('pad_token_id', eosId) ?? 0;
  const config: Qwen3Config = {
    vocabSize: f.positive('vocab_size'),
    hidden,
    layers: f.positive('num_hidden_layers'),
    heads,
    kvHeads: f.positive('num_key_value_heads', heads),
    headDim: f.has('head_dim') ? f.positive('head_dim') : hidden / heads,
    intermediate: f.positive('intermediate_size'),
    maxPositions: f.positive('max_position_embeddings'),
    ropeTheta: f.num('rope_theta', 10000),
    rmsNormEps: f.num('rms_norm_eps', 1e-6),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    attentionDropout: f.num('attention_dropout', 0),
    hiddenDropout: 0,
    padId,
    bosId: tokenId('bos_token_id', eosId ?? padId)!,
    eosId: eosId ?? padId,
  };
  if (!Number.isInteger(config.headDim)) f.fail('head_dim', `is required when num_attention_heads (${heads}) does not divide hidden_size (${hidden})`);
  if (config.heads % config.kvHeads !== 0) f.fail('num_key_value_heads', `${config.kvHeads} must divide num_attention_heads ${heads}`);
  return { arch: 'qwen3', architecture, config, notes: [], initStd: f.num('initializer_range', 0.02) };
}
