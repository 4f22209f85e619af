// A Hugging Face checkpoint folder (config.json, model.safetensors or its shards, tokenizer.json) as a Strata model:
// its configuration, every parameter by Strata's name, and what was initialized rather than loaded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bartParamSpecs, bertParamSpecs, initParams, qwen3ParamSpecs, type ParamSpec } from '@strata/nn';
import { HubError } from './errors';
import { configFromHf, type ImportedConfig } from './hf-config';
import { matchNames, mayInitialize } from './names';
import { readSafetensorsCheckpoint } from './safetensors';

export interface CheckpointOptions {
  /** Classes of the task to fine-tune on (a head-less checkpoint gets a classifier of this size). */
  numLabels?: number;
  /**
   * Uniform [0, 1) source for parameters the checkpoint lacks (a head-less model's classifier); seed it for
   * reproducible runs. Without it, a missing parameter is an error.
   */
  uniform?: () => number;
}

export interface LoadedCheckpoint {
  dir: string;
  imported: ImportedConfig;
  /** Every parameter of the Strata model, by name: loaded, or initialized when listed in `initialized`. */
  values: Map<string, Float32Array>;
  params: ParamSpec[];
  /** Parameters that were freshly initialized (normal, std = initializer_range) rather than loaded. */
  initialized: string[];
  /** Checkpoint tensors not used, with why (e.g. a masked-LM head). */
  unused: { tensor: string; why: string }[];
  /** tokenizer.json of the checkpoint, when there is one. */
  tokenizer?: string;
  /** The safetensors file(s) read. */
  files: string[];
}

export function paramSpecsOf(imported: ImportedConfig): ParamSpec[] {
  if (imported.arch === 'bert') return bertParamSpecs(imported.config);
  if (imported.arch === 'bart') return bartParamSpecs(imported.config);
  return qwen3ParamSpecs(imported.config);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HubError('CONFIG', `cannot read JSON: ${(err as Error).message}`, { file });
  }
}

/** config.json (and generation_config.json) of a checkpoint folder, mapped to a Strata configuration. */
export function readCheckpointConfig(dir: string, opts: { numLabels?: number } = {}): ImportedConfig {
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) throw new HubError('MISSING', `no config.json in the checkpoint folder '${dir}'`, { file: configFile });
  const generationFile = path.join(dir, 'generation_config.json');
  const generation = fs.existsSync(generationFile) ? (readJson(generationFile) as Record<string, unknown>) : undefined;
  return configFromHf(readJson(configFile), configFile, { numLabels: opts.numLabels, generation });
}

/** Reads a checkpoint folder; every error names the file and the tensor or field at fault. */
export function loadCheckpoint(dir: string, opts: CheckpointOptions = {}): LoadedCheckpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new HubError('MISSING', `checkpoint folder '${dir}' does not exist`, { file: dir });
  const imported = readCheckpointConfig(dir, opts);
  const weights = readSafetensorsCheckpoint(dir);
  const params = paramSpecsOf(imported);
  const tiedHead = imported.arch === 'qwen3' ? imported.config.tieWordEmbeddings : true;
  const match = matchNames(imported.arch, weights.names(), params.map((p) => p.name), { tiedHead });
  const where = weights.files.length === 1 ? weights.files[0] : path.join(dir, 'model.safetensors.index.json');
  for (const c of match.conflicts) throw new HubError('WEIGHTS', `tensors ${c.tensors.map((t) => `'${t}'`).join(' and ')} both map to parameter '${c.param}'`, { file: where });
  const missingRequired = match.missing.filter((p) => !mayInitialize(imported.arch, p));
  if (missingRequired.length)
    throw new HubError('WEIGHTS', `${missingRequired.length} parameter(s) of the ${imported.architecture} described by config.json are not in the checkpoint: ${missingRequired.slice(0, 8).join(', ')}${missingRequired.length > 8 ? ', ...' : ''}`, { file: where, tensor: missingRequired[0] });
  const values = new Map<string, Float32Array>();
  for (const p of params) {
    const tensor = match.byParam.get(p.name);
    if (tensor === undefined) continue;
    const { shape } = weights.info(tensor);
    if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i]))
      throw new HubError('WEIGHTS', `has shape [${shape}] but config.json makes parameter '${p.name}' [${p.shape}]`, { file: where, tensor });
    values.set(p.name, weights.float32(tensor));
  }
  const initialized = match.missing;
  if (initialized.length) {
    if (!opts.uniform) throw new HubError('WEIGHTS', `the checkpoint lacks ${initialized.join(', ')}; give a seeded uniform source to initialize them`, { file: where, tensor: initialized[0] });
    const std = imported.initStd;
    const fresh = initParams(params.filter((p) => initialized.includes(p.name)), opts.uniform, std);
    for (const [name, v] of fresh) values.set(name, v);
  }
  const tokenizer = path.join(dir, 'tokenizer.json');
  return { dir, imported, values, params, initialized, unused: match.unused, tokenizer: fs.existsSync(tokenizer) ? tokenizer : undefined, files: weights.files };
}
