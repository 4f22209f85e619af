// A Strata BERT classifier as a Hugging Face checkpoint folder (`strata export hf`): model.safetensors under the
// parameter names transformers' BertForSequenceClassification loads, config.json, and the tokenizer, so the student
// loads with AutoModelForSequenceClassification / AutoTokenizer as well as in onnxruntime.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bertParamSpecs, type BertConfig } from '@strata/nn';
import { HubError } from './errors';
import { writeSafetensors } from './safetensors';
import { bertToHfConfig } from './to-hf';

export interface HfCheckpointSource {
  config: BertConfig;
  values: ReadonlyMap<string, Float32Array>;
  /** Label names in id order (config.json's id2label). */
  labels: readonly string[];
  /** The tokenizer.json the model was trained with. */
  tokenizer: string;
}

/** Special tokens transformers' tokenizers look up by attribute (cls_token, ...), by their usual spellings. */
const SPECIAL: Record<string, string[]> = {
  cls_token: ['[CLS]', '<s>'],
  sep_token: ['[SEP]', '</s>'],
  pad_token: ['[PAD]', '<pad>'],
  unk_token: ['[UNK]', '<unk>'],
  mask_token: ['[MASK]', '<mask>'],
};

function tokenizerConfig(tokenizerJson: string, maxLength: number): Record<string, unknown> {
  const json = JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')) as { added_tokens?: { content: string }[]; model?: { vocab?: unknown } };
  const vocab = json.model?.vocab;
  const known = new Set<string>([
    ...(json.added_tokens ?? []).map((t) => t.content),
    ...(Array.isArray(vocab) ? (vocab as [string, number][]).map(([t]) => t) : Object.keys((vocab ?? {}) as Record<string, number>)),
  ]);
  const specials = Object.fromEntries(Object.entries(SPECIAL).flatMap(([attr, spellings]) => {
    const found = spellings.find((s) => known.has(s));
    return found ? [[attr, found]] : [];
  }));
  // PreTrainedTokenizerFast reads tokenizer.json as it is, whatever model it holds (WordPiece, BPE, Unigram).
  return { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: maxLength, ...specials };
}

/** Writes the folder (created if needed); returns the files written. Every parameter must be present. */
export function writeHfCheckpoint(dir: string, src: HfCheckpointSource): string[] {
  const specs = bertParamSpecs(src.config);
  const missing = specs.filter((p) => !src.values.has(p.name)).map((p) => p.name);
  if (missing.length) throw new HubError('WEIGHTS', `cannot export: no value for ${missing.join(', ')}`);
  if (!fs.existsSync(src.tokenizer)) throw new HubError('MISSING', 'tokenizer.json not found', { file: src.tokenizer });
  fs.mkdirSync(dir, { recursive: true });
  const files = ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => path.join(dir, f));
  // format 'pt': transformers refuses a safetensors file without it (or with another framework's).
  writeSafetensors(files[0], specs.map((p) => ({ name: p.name, dtype: 'F32', shape: p.shape, data: src.values.get(p.name)! })), { format: 'pt' });
  fs.writeFileSync(files[1], `${JSON.stringify(bertToHfConfig(src.config, src.labels), null, 2)}\n`);
  fs.copyFileSync(src.tokenizer, files[2]);
  fs.writeFileSync(files[3], `${JSON.stringify(tokenizerConfig(src.tokenizer, src.config.maxLength ?? src.config.maxPositions), null, 2)}\n`);
  return files;
}
