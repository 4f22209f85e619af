// Shared by the stages: loading a teacher, tokenized classification rows, and batch plumbing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClassificationSplit, Tokenizer, encodeSplit, hashString32, loadSplit, type BatchRow } from '@strata/data';
import { configFromHf, findHiddenStates, onnxTeacherParameters, withHiddenStateOutputs, type LoadedCheckpoint } from '@strata/hub';
import { floatValues, quantizeWeightsInt8, readModel, type Model } from '@strata/onnx';
import { BERT_DEFAULTS, BertConfig, bertParamSpecs } from '@strata/nn';
import { bertInferenceModel } from '@strata/train';

export interface LoadedTeacher {
  onnx: string;
  config: BertConfig;
  /**
   * Parameters by Hugging Face name, for weight copy. An export Strata did not write has them mapped back from its
   * initializers where that works; otherwise empty, with `valuesError` saying why.
   */
  values: Map<string, Float32Array>;
  valuesError?: string;
  tokenizer: Tokenizer;
  tokenizerPath: string;
  /**
   * A teacher Strata did not export (e.g. optimum's): its own graph, run as it is with `hidden_states.0..L` added as
   * outputs (dynamic axes, so one session serves every batch shape). Undefined for Strata's exports, whose graph is
   * rebuilt from config and values per batch shape.
   */
  graph?: Model;
}

export type TeacherPrecision = 'float32' | 'int8';

/** The teacher graph a cache pass runs: as built, or with its weight products quantized to int8. */
export function teacherPassModel(model: Model, precision: TeacherPrecision): Model {
  return precision === 'int8' ? quantizeWeightsInt8(model).model : model;
}

/** How far a quantized teacher's outputs are from float32's on one batch. */
export interface StateError {
  /** Real (unpadded) examples compared. */
  examples: number;
  /** sqrt(Σ d²) / sqrt(Σ x²) over every compared hidden state's valid tokens, x the float32 state. */
  relRms: number;
  maxAbs: number;
  /** Logits, when given. */
  logitsMaxAbs: number;
  /** Fraction of examples whose arg-max class agrees. */
  sameArgmax: number;
}

/**
 * Compares [B, S, D] states over the tokens `mask` ([B, S]) marks valid, and [B, C] logits; rows with no valid token
 * (a short last batch's padding) are left out. Pure.
 */
export function stateError(states: { reference: Float32Array; other: Float32Array }[], mask: BigInt64Array, batch: number, hidden: number, logits?: { reference: Float32Array; other: Float32Array }): StateError {
  let sumD = 0;
  let sumX = 0;
  let maxAbs = 0;
  for (const { reference, other } of states)
    for (let t = 0; t < mask.length; t++) {
      if (mask[t] === 0n) continue;
      for (let h = t * hidden; h < (t + 1) * hidden; h++) {
        const d = other[h] - reference[h];
        sumD += d * d;
        sumX += reference[h] * reference[h];
        maxAbs = Math.max(maxAbs, Math.abs(d));
      }
    }
  const seq = mask.length / batch;
  const classes = logits ? logits.reference.length / batch : 0;
  let logitsMaxAbs = 0;
  let same = 0;
  let examples = 0;
  for (let r = 0; r < batch; r++) {
    if (!mask.subarray(r * seq, (r + 1) * seq).some((m) => m !== 0n)) continue;
    examples++;
    if (!logits) continue;
    let ra = 0;
    let oa = 0;
    for (let j = 0; j < classes; j++) {
      const i = r * classes + j;
      logitsMaxAbs = Math.max(logitsMaxAbs, Math.abs(logits.other[i] - logits.reference[i]));
      if (logits.reference[i] > logits.reference[r * classes + ra]) ra = j;
      if (logits.other[i] > logits.other[r * classes + oa]) oa = j;
    }
    if (ra === oa) same++;
  }
  return { examples, relRms: sumX > 0 ? Math.sqrt(sumD / sumX) : 0, maxAbs, logitsMaxAbs, sameArgmax: examples ? same / examples : 1 };
}

export interface LoadTeacherOptions {
  /** An external export's hidden-state tensors, embeddings first (the manifest's teacher.hiddenStates). */
  hiddenStates?: string[];
}

/** Longest input of an external export: the paper's BERT runs at 128 tokens. */
const EXTERNAL_MAX_LENGTH = 128;

/**
 * Reads a teacher: one exported by Strata (config from its metadata, parameters by name), or any BERT-family ONNX
 * export of a sequence classifier (optimum's `--task text-classification`), whose layer outputs are found in the graph.
 */
export function loadTeacher(onnx: string, tokenizerPath = path.join(path.dirname(onnx), 'tokenizer.json'), opts: LoadTeacherOptions = {}): LoadedTeacher {
  const model = readModel(onnx);
  if (!fs.existsSync(tokenizerPath)) throw new Error(`tokenizer '${tokenizerPath}' not found (Strata writes it next to teacher.onnx; for another export give teacher.tokenizer)`);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const raw = model.metadata['strata.config'];
  if (!raw) return { onnx, tokenizer, tokenizerPath, ...externalTeacher(onnx, model, opts) };
  const config = JSON.parse(raw) as BertConfig;
  const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const values = new Map<string, Float32Array>();
  for (const p of bertParamSpecs(config)) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`${onnx}: parameter '${p.name}' is missing`);
    values.set(p.name, Float32Array.from(floatValues(t)));
  }
  return { onnx, config, values, tokenizer, tokenizerPath };
}

/**
 * An export Strata did not write: the graph with its hidden states as outputs, the student architecture from the
 * config.json beside it (else read off the graph), and the weights mapped back when they can be.
 */
function externalTeacher(onnx: string, model: Model, opts: LoadTeacherOptions): Pick<LoadedTeacher, 'config' | 'values' | 'valuesError' | 'graph'> {
  if (!model.graph.outputs.some((o) => o.name === 'logits'))
    throw new Error(`${onnx}: no 'logits' output (outputs: ${model.graph.outputs.map((o) => o.name).join(', ')}); a classification teacher must be exported with its head (optimum-cli export onnx --task text-classification)`);
  // A copy Strata already gave its hidden-state outputs (the experiment's teacher/teacher.onnx) is run as it is.
  const exposed = exposedHiddenStates(model);
  const found = exposed ? { names: exposed } : findHiddenStates(model, { names: opts.hiddenStates, file: onnx });
  const graph = exposed ? model : withHiddenStateOutputs(model, found.names, { file: onnx });
  let values = new Map<string, Float32Array>();
  let valuesError: string | undefined;
  let read: ReturnType<typeof onnxTeacherParameters> | undefined;
  try {
    read = onnxTeacherParameters(model, { names: found.names, file: onnx });
    values = read.values;
  } catch (e) {
    valuesError = (e as Error).message;
  }
  const layers = found.names.length - 1;
  const configFile = path.join(path.dirname(onnx), 'config.json');
  let config: BertConfig;
  if (fs.existsSync(configFile)) {
    const imported = configFromHf(JSON.parse(fs.readFileSync(configFile, 'utf8')), configFile);
    if (imported.arch !== 'bert') throw new Error(`${configFile}: model_type of a classification teacher must be bert (got ${imported.arch})`);
    config = imported.config;
    if (config.layers !== layers) throw new Error(`${onnx}: the graph has ${layers} layers but ${configFile} says num_hidden_layers ${config.layers}`);
  } else if (read?.config.heads !== undefined && read.config.numLabels !== undefined) {
    const c = read.config;
    config = { ...BERT_DEFAULTS, vocabSize: c.vocabSize, hidden: c.hidden, layers: c.layers, heads: c.heads!, intermediate: c.intermediate, maxPositions: c.maxPositions, typeVocabSize: c.typeVocabSize, numLabels: c.numLabels!, layerNormEps: c.layerNormEps, activation: c.activation ?? 'gelu' };
  } else {
    throw new Error(`${onnx}: no config.json beside it${valuesError ? ` and its architecture cannot be read off the graph (${valuesError})` : ' and the graph does not show the attention heads or the classifier'}; put the model's config.json next to the .onnx`);
  }
  config = { ...config, maxLength: Math.min(EXTERNAL_MAX_LENGTH, config.maxPositions) };
  return { config, values, valuesError, graph };
}

/** `hidden_states.0..L` when the graph already has them as outputs (in order, none missing), else undefined. */
function exposedHiddenStates(model: Model): string[] | undefined {
  const names = new Set(model.graph.outputs.map((o) => o.name));
  const out: string[] = [];
  while (names.has(`hidden_states.${out.length}`)) out.push(`hidden_states.${out.length}`);
  return out.length >= 2 ? out : undefined;
}

/**
 * The forward model of a teacher for one batch shape, with `logits` and `hidden_states.0..L` outputs, and the key
 * under which a session of it serves: an external export's one dynamic graph serves every shape.
 */
export function teacherForward(teacher: LoadedTeacher, batch: number, seqLen: number): { key: string; model: () => Model } {
  if (teacher.graph) return { key: 'graph', model: () => teacher.graph! };
  return { key: `${batch}x${seqLen}`, model: () => bertInferenceModel(teacher.config, batch, seqLen, { kind: 'initializers', values: teacher.values }) };
}

/**
 * Copies a file the run keeps (a teacher's tokenizer, config, model) as a file of the run's own: readable and
 * writable, whatever the source's mode (../shared is read-only), so a re-run can replace it; atomically.
 */
export function copyIntoRun(src: string, dst: string): void {
  const tmp = `${dst}.tmp-${process.pid}`;
  fs.copyFileSync(src, tmp);
  fs.chmodSync(tmp, 0o644);
  fs.renameSync(tmp, dst);
}

/** Writes a model's Hugging Face config.json beside its exported .onnx. */
export function writeHfConfig(onnx: string, config: Record<string, unknown>): void {
  fs.writeFileSync(path.join(path.dirname(onnx), 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * A pretrained teacher's tokenizer in its run folder: the checkpoint's tokenizer.json (or `override`), copied byte for
 * byte, so teacher, students and exports tokenize as Hugging Face does; refused when it has more tokens than the
 * checkpoint's embeddings. Also logs what the import initialized, left unused or noted.
 */
export function pretrainedTokenizer(ckpt: LoadedCheckpoint, override: string | undefined, outDir: string, log: (line: string) => void, seed: number): { tokenizer: Tokenizer; tokenizerPath: string } {
  const source = override ?? ckpt.tokenizer;
  if (!source) throw new Error(`${ckpt.dir}: no tokenizer.json in the checkpoint folder; give teacher.tokenizer (Strata reads Hugging Face's fast-tokenizer file, not vocab.txt)`);
  const tokenizerPath = path.join(outDir, 'tokenizer.json');
  if (path.resolve(source) !== path.resolve(tokenizerPath)) copyIntoRun(source, tokenizerPath);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const vocab = ckpt.imported.config.vocabSize;
  if (tokenizer.vocabSize > vocab) throw new Error(`${source}: the tokenizer has ${tokenizer.vocabSize} tokens but the checkpoint's embeddings only ${vocab} (vocab_size): they do not belong together`);
  if (ckpt.initialized.length) log(`initialized (not in the checkpoint, seed ${seed}): ${ckpt.initialized.join(', ')}`);
  if (ckpt.unused.length) log(`not used from the checkpoint: ${ckpt.unused.map((u) => `${u.tensor} (${u.why})`).join(', ')}`);
  for (const note of ckpt.imported.notes) log(`note: ${note}`);
  return { tokenizer, tokenizerPath };
}

/** Only the feeds a session declares (a DistilBERT-style export has no token_type_ids). */
export function feedsFor<T>(inputNames: readonly string[], feeds: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(feeds).filter(([name]) => inputNames.includes(name)));
}

/** A classification split; the stages handle classification tasks only so far. */
export function loadClassification(task: string, splitName: string, dataRoot?: string): ClassificationSplit {
  const split = loadSplit(task, splitName, { dataRoot });
  if (split.kind !== 'classification') throw new Error(`task '${task}' is ${split.kind}; only classification tasks are supported by the pipeline stages so far`);
  return split;
}

export interface EncodedSplit {
  split: ClassificationSplit;
  rows: BatchRow[];
  ids: string[];
  fingerprint: string;
}

/**
 * The splits this process encoded last, by content (the split's and the tokenizer's fingerprints, the length, the
 * subsample): a student encodes its training split for the cache key and again to train, and a worker thread or a
 * --listen trainer encodes the same splits for cell after cell. Tokenizing is most of a small student's start
 * (2,400 spam emails: 3.4 CPU-seconds), so repeats share one encoding. Callers treat rows as read-only.
 */
const recentEncodings = new Map<string, Promise<EncodedSplit>>();
const RECENT_ENCODINGS_KEPT = 4;

export async function encodeClassification(task: string, splitName: string, tokenizer: Tokenizer, maxLength: number, opts: { dataRoot?: string; maxExamples?: number } = {}): Promise<EncodedSplit> {
  const split = loadClassification(task, splitName, opts.dataRoot);
  const key = JSON.stringify([task, splitName, split.fingerprint, opts.maxExamples ?? null, maxLength, tokenizer.fingerprint()]);
  let encoding = recentEncodings.get(key);
  if (!encoding) {
    const made = (async () => {
      const examples = subsample(split.examples, opts.maxExamples);
      const sliced: ClassificationSplit = { ...split, examples };
      const rows = await encodeSplit(tokenizer, sliced, { maxLength });
      const fingerprint = examples.length === split.examples.length ? split.fingerprint : `${split.fingerprint}:first-${examples.length}`;
      return { split: sliced, rows, ids: examples.map((e) => e.id), fingerprint };
    })();
    // Like generation-data's loaded splits: the oldest of the few kept goes; a failed encode is not kept.
    recentEncodings.set(key, made);
    if (recentEncodings.size > RECENT_ENCODINGS_KEPT) recentEncodings.delete(recentEncodings.keys().next().value!);
    made.catch(() => recentEncodings.get(key) === made && recentEncodings.delete(key));
    encoding = made;
  }
  return encoding;
}

/**
 * A deterministic subset of n examples chosen by a hash of their ids (not the first n: splits are often ordered by
 * label), kept in split order.
 */
export function subsample<T extends { id: string }>(examples: readonly T[], n: number | undefined): T[] {
  if (n === undefined || n >= examples.length) return [...examples];
  const chosen = new Set([...examples].sort((a, b) => hashString32(a.id, 17) - hashString32(b.id, 17) || (a.id < b.id ? -1 : 1)).slice(0, n).map((e) => e.id));
  return examples.filter((e) => chosen.has(e.id));
}

/** Length buckets up to and including maxLength. */
export function lengthBuckets(maxLength: number): number[] {
  return [16, 32, 64, 128, 256, 512].filter((b) => b < maxLength).concat(maxLength);
}
