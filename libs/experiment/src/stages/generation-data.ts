// Data of the generation tasks for the pipeline: which split (or carved part of one) a stage reads, task-specific
// text formatting (G2P spelled letter by letter, multiple choice as prompt + continuation), and token rows.
import {
  BatchRow, MultipleChoiceExample, MultipleChoiceSplit, Seq2SeqExample, Seq2SeqSplit, Tokenizer, encodeSplit, getTask, hashString32, loadSplit, type LoadOptions,
} from '@strata/data';

/** Seq2seq tasks train an encoder-decoder; multiple-choice tasks a decoder-only causal LM. */
export type GenerationArchitecture = 'encoder-decoder' | 'decoder';

export function generationArchitecture(task: string): GenerationArchitecture {
  const kind = getTask(task).kind;
  if (kind === 'seq2seq') return 'encoder-decoder';
  if (kind === 'multiple-choice') return 'decoder';
  throw new Error(`task '${task}' is ${kind}; the generation pipeline handles seq2seq and multiple-choice tasks`);
}

/**
 * A deterministic cut of one split into a training part and an evaluation part, by a seeded hash of the example ids
 * (HellaSwag: only its validation set is available here, so the experiment trains on one part and tests on the other).
 */
export interface Carve {
  from: string;
  /** Fraction of the split's examples that go to the evaluation part. */
  evalFraction: number;
  seed: number;
}

/** Which examples a stage reads: a split, or one part of a carved split. */
export interface SplitRef {
  split: string;
  part?: 'train' | 'eval';
  carve?: Carve;
}

export function describeSplit(ref: SplitRef): string {
  if (!ref.carve || !ref.part) return ref.split;
  const pct = Math.round((ref.part === 'eval' ? ref.carve.evalFraction : 1 - ref.carve.evalFraction) * 1000) / 10;
  return `${ref.carve.from}[${ref.part} ${pct}%, seed ${ref.carve.seed}]`;
}

/** The ids of a carved part: an example goes to `eval` when its seeded hash falls below evalFraction. */
export function carvePart<T extends { id: string }>(examples: readonly T[], carve: Carve, part: 'train' | 'eval'): T[] {
  const threshold = carve.evalFraction * 4294967296;
  return examples.filter((e) => (hashString32(e.id, carve.seed) < threshold) === (part === 'eval'));
}

export interface DataOptions {
  dataRoot?: string;
  /** wmt16-en-ro user-supplied training pairs (resolved paths). */
  load?: LoadOptions;
  maxExamples?: number;
}

/**
 * The same deterministic subset as the classification stages' `subsample` (n examples chosen by a seeded hash of
 * their ids, kept in split order), with each hash computed once: sorting 100k ids with the hash inside the comparator
 * took seconds.
 */
export function subsampleById<T extends { id: string }>(examples: readonly T[], n: number | undefined): T[] {
  if (n === undefined || n >= examples.length) return [...examples];
  const keyed = examples.map((e) => ({ id: e.id, h: hashString32(e.id, 17) }));
  keyed.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1));
  const chosen = new Set(keyed.slice(0, n).map((k) => k.id));
  return examples.filter((e) => chosen.has(e.id));
}

// Stages of one run read the same splits again and again (teacher, cache, every student): keep the last few loaded.
const loaded = new Map<string, Seq2SeqSplit | MultipleChoiceSplit>();

function loadCached(task: string, split: string, options: LoadOptions): Seq2SeqSplit | MultipleChoiceSplit {
  const key = JSON.stringify([task, split, options]);
  let s = loaded.get(key);
  if (!s) {
    s = loadSplit(task, split, options) as Seq2SeqSplit | MultipleChoiceSplit;
    loaded.set(key, s);
    if (loaded.size > 4) loaded.delete(loaded.keys().next().value!);
  }
  return s;
}

function loadExamples<T extends { id: string }>(task: string, ref: SplitRef, opts: DataOptions, rows?: 'per-input'): { examples: T[]; split: Seq2SeqSplit | MultipleChoiceSplit; fingerprint: string } {
  const split = loadCached(task, ref.carve ? ref.carve.from : ref.split, { ...opts.load, dataRoot: opts.dataRoot, ...(rows ? { rows } : {}) });
  let examples = split.examples as unknown as T[];
  let fingerprint = split.fingerprint;
  if (ref.carve && ref.part) {
    examples = carvePart(examples, ref.carve, ref.part);
    fingerprint = `${fingerprint}:${describeSplit(ref)}`;
  }
  const chosen = subsampleById(examples, opts.maxExamples);
  if (chosen.length !== examples.length) fingerprint = `${fingerprint}:first-${chosen.length}`;
  if (chosen.length === 0) throw new Error(`task '${task}' split ${describeSplit(ref)} has no examples`);
  return { examples: chosen, split, fingerprint };
}

/** G2P spells the word letter by letter, so a word-level tokenizer sees one symbol per letter. */
export function formatSource(task: string, source: string): string {
  return task === 'cmudict-g2p' ? Array.from(source).join(' ') : source;
}

export interface Seq2SeqData {
  examples: Seq2SeqExample[];
  fingerprint: string;
}

/**
 * Seq2seq examples with formatted sources. Training reads one row per reference; evaluation (`perInput`) one row per
 * input with all its references.
 */
export function loadSeq2Seq(task: string, ref: SplitRef, opts: DataOptions, perInput = false): Seq2SeqData {
  const { examples, fingerprint } = loadExamples<Seq2SeqExample>(task, ref, opts, perInput ? 'per-input' : undefined);
  return { examples: examples.map((e) => ({ ...e, source: formatSource(task, e.source), references: e.references ?? [e.target] })), fingerprint };
}

export async function encodeSeq2Seq(tokenizer: Tokenizer, examples: Seq2SeqExample[], maxLength: number, maxTargetLength: number): Promise<BatchRow[]> {
  const split: Seq2SeqSplit = { task: '', split: '', kind: 'seq2seq', examples, fingerprint: '', skipped: { count: 0, byReason: {}, samples: [] }, labeled: true, files: [] };
  return encodeSplit(tokenizer, split, { maxLength, maxTargetLength });
}

export interface MultipleChoiceData {
  examples: MultipleChoiceExample[];
  fingerprint: string;
}

export function loadMultipleChoice(task: string, ref: SplitRef, opts: DataOptions): MultipleChoiceData {
  const { examples, fingerprint } = loadExamples<MultipleChoiceExample>(task, ref, opts);
  return { examples, fingerprint };
}

/** The prompt a causal LM continues: CommonsenseQA as a question with "Answer:", HellaSwag's context as it is. */
export function promptOf(task: string, e: MultipleChoiceExample): string {
  return task === 'commonsenseqa' ? `Question: ${e.context}\nAnswer:` : e.context;
}

/** A choice as the continuation of its prompt (after one space). */
export function continuationOf(choice: string): string {
  return ` ${choice.trim()}`;
}

/** One scored sequence: BOS + prompt (type 0), then the continuation + EOS (type 1), truncated from the left. */
export interface CausalRow extends BatchRow {
  /** Length of the continuation in characters (the length-normalized HellaSwag accuracy divides by it). */
  continuationChars: number;
}

export async function encodeCausal(tokenizer: Tokenizer, prompts: string[], continuations: string[], maxLength: number): Promise<CausalRow[]> {
  const bos = tokenizer.specialIds.cls ?? tokenizer.specialIds.bos;
  const eos = tokenizer.specialIds.eos;
  if (bos === undefined || eos === undefined) throw new Error('the tokenizer has no [CLS]/<s> (BOS) or [SEP]/</s> (EOS) token');
  const p = await tokenizer.encodeBatch(prompts, { addSpecialTokens: false });
  const c = await tokenizer.encodeBatch(continuations, { addSpecialTokens: false });
  return p.map((pe, i) => {
    const answer = [...c[i].ids, eos].slice(0, maxLength - 1);
    // Keep the end of the prompt (the words next to the answer) when the whole does not fit.
    const prompt = [bos, ...pe.ids].slice(-(maxLength - answer.length));
    return { inputIds: [...prompt, ...answer], tokenTypeIds: [...prompt.map(() => 0), ...answer.map(() => 1)], continuationChars: continuations[i].trim().length };
  });
}

/** Text a tokenizer is trained on: both sides of seq2seq pairs; prompts and gold continuations for causal LMs. */
export function tokenizerTexts(task: string, data: Seq2SeqData | MultipleChoiceData): string[] {
  if ('examples' in data && data.examples.length > 0 && 'source' in data.examples[0]) return (data as Seq2SeqData).examples.flatMap((e) => [e.source, e.target]);
  return (data as MultipleChoiceData).examples.flatMap((e) => [promptOf(task, e), ...e.choices]);
}

/** Loads the examples of a split reference for the task's architecture (seq2seq training reads one row per reference). */
export function loadGenerationData(task: string, ref: SplitRef, data: DataOptions, forEval: boolean): Seq2SeqData | MultipleChoiceData {
  return generationArchitecture(task) === 'encoder-decoder' ? loadSeq2Seq(task, ref, data, forEval) : loadMultipleChoice(task, ref, data);
}
