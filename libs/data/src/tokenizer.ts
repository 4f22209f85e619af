import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as hf from 'tokenizers';
import { DataError } from './errors';
import { trainWordPieceVocab } from './wordpiece-train';

/** Special tokens of every tokenizer Strata trains, in id order: [PAD] = 0, [UNK] = 1, [CLS] = 2, [SEP] = 3, [MASK] = 4. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/**
 * - `wordpiece`: BERT-style (BertNormalizer, lower-cased and accents stripped unless `lowercase: false`, BertPreTokenizer, `##` continuation).
 * - `bpe`: byte-level BPE (GPT-2/RoBERTa style pre-tokenization and decoder; lossless, case-sensitive; every byte is in the vocabulary).
 * - `unigram`: SentencePiece-style Unigram (NFKC, Metaspace `▁`; case-sensitive unless `lowercase: true`).
 * - `word-level`: one token per whitespace-separated word, the most frequent first (symbol sequences such as spelled
 *   letters and ARPAbet phonemes; case-sensitive unless `lowercase: true`). Decoding joins tokens with spaces.
 */
export type TokenizerModelKind = 'wordpiece' | 'bpe' | 'unigram' | 'word-level';

export interface TrainTokenizerOptions {
  kind: TokenizerModelKind;
  /**
   * Upper bound on the vocabulary size, special tokens included (a small corpus may give fewer). The Node
   * binding of `tokenizers` trains with its default trainer settings (WordPiece/BPE: 30,000 tokens; Unigram:
   * 8,000 pieces, min frequency 0); a smaller size keeps the tokens learnt first (WordPiece/BPE: the same as
   * training to that size) or, for Unigram, the highest-scoring pieces plus every single character.
   * Default: 30,000 (Unigram: 8,000).
   */
  vocabSize?: number;
  /** Lower-case (and, for WordPiece, strip accents). Default: true for `wordpiece`, false otherwise. */
  lowercase?: boolean;
}

/** Ids of the special tokens a model needs, looked up by their usual spellings (`[PAD]`/`<pad>`, ...). */
export interface SpecialTokenIds {
  pad?: number;
  unk?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  bos?: number;
  eos?: number;
}

export interface EncodeOptions {
  /**
   * Truncate to this many tokens, special tokens included, cutting from the right. Pairs follow Hugging Face's
   * `longest_first` rule (see pairKeptLengths): the ids equal those of the Python tokenizers. Default: no truncation.
   */
  maxLength?: number;
  /** Add [CLS]/[SEP] (or the loaded tokenizer's own post-processing). Default: true. */
  addSpecialTokens?: boolean;
  /** Also return the token strings. Default: false. */
  withTokens?: boolean;
}

export interface Encoded {
  ids: number[];
  /** Token type (segment) ids: 0 for the first sentence, 1 for the second of a pair. */
  typeIds: number[];
  tokens?: string[];
}

/** One input to encode: a sentence, or a sentence pair. */
export type EncodeInput = string | readonly [string, string];

const SPECIAL_SPELLINGS: Record<keyof SpecialTokenIds, readonly string[]> = {
  pad: ['[PAD]', '<pad>'],
  unk: ['[UNK]', '<unk>'],
  cls: ['[CLS]', '<s>'],
  sep: ['[SEP]', '</s>'],
  mask: ['[MASK]', '<mask>'],
  bos: ['<s>', '[CLS]'],
  eos: ['</s>', '[SEP]'],
};

/**
 * A Hugging Face tokenizer (the `tokenizers` npm package: Rust, prebuilt native binary) with Strata's
 * conventions: load or save `tokenizer.json`, train WordPiece/BPE/Unigram on texts, encode sentences and pairs
 * with token types and truncation.
 */
export class Tokenizer {
  /**
   * Serializes encodes that use different truncation settings: the setting lives on the shared native tokenizer and
   * is read when the encode runs on the thread pool, not when it is queued.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private truncation: number | undefined = undefined;
  readonly specialIds: SpecialTokenIds;

  private constructor(private readonly native: hf.Tokenizer) {
    // Truncation is set per call (EncodeOptions.maxLength) and padding is the batcher's job: drop any in the file.
    native.disableTruncation();
    native.disablePadding();
    this.specialIds = {};
    for (const role of Object.keys(SPECIAL_SPELLINGS) as (keyof SpecialTokenIds)[]) {
      for (const spelling of SPECIAL_SPELLINGS[role]) {
        const id = native.tokenToId(spelling);
        if (id !== null && id !== undefined) {
          this.specialIds[role] = id;
          break;
        }
      }
    }
  }

  /** Loads a `tokenizer.json` (any Hugging Face tokenizer file). */
  static fromFile(file: string): Tokenizer {
    try {
      return new Tokenizer(hf.Tokenizer.fromFile(file));
    } catch (err) {
      throw new DataError('TOKENIZER', `cannot load tokenizer: ${(err as Error).message}`, { file });
    }
  }

  /** Parses the contents of a `tokenizer.json`. */
  static fromJson(json: string): Tokenizer {
    try {
      return new Tokenizer(hf.Tokenizer.fromString(json));
    } catch (err) {
      throw new DataError('TOKENIZER', `cannot parse tokenizer JSON: ${(err as Error).message}`);
    }
  }

  /**
   * Trains a tokenizer on texts (e.g. a task's training split). WordPiece vocabularies are learnt here
   * (trainWordPieceVocab: the same corpus gives the same vocabulary on every run); BPE and Unigram ones by the Rust
   * trainer (BPE measured deterministic here; Unigram is not: four runs on SST-2 gave four vocabularies). The
   * result is then given Strata's special tokens ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4), cut to
   * `vocabSize`, and a BERT post-processor: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with token types 0/1.
   */
  static train(texts: Iterable<string>, options: TrainTokenizerOptions): Tokenizer {
    const kind = options.kind;
    if (kind === 'word-level') return wordLevel([...texts], options.vocabSize ?? 30000, options.lowercase ?? false);
    const lowercase = options.lowercase ?? kind === 'wordpiece';
    const vocabSize = options.vocabSize ?? (kind === 'unigram' ? 8000 : 30000);
    const work = mkdtempSync(path.join(tmpdir(), 'strata-tokenizer-'));
    try {
      const parts = [...texts];
      if (parts.length === 0) throw new DataError('TOKENIZER', 'cannot train a tokenizer on no text');
      const native = new hf.Tokenizer(emptyModel(kind));
      let wordPiece: (() => TokenizerJson['model']) | undefined;
      if (kind === 'wordpiece') {
        const normalizer = hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase });
        const preTokenizer = hf.bertPreTokenizer();
        native.setNormalizer(normalizer);
        native.setPreTokenizer(preTokenizer);
        native.setDecoder(hf.wordPieceDecoder('##', true));
        wordPiece = () => wordPieceModel(parts, normalizer, preTokenizer, vocabSize - BERT_SPECIAL_TOKENS.length);
      } else if (kind === 'bpe') {
        if (lowercase) native.setNormalizer(hf.lowercase());
        native.setPreTokenizer(hf.byteLevelPreTokenizer(true, true));
      } else {
        native.setNormalizer(lowercase ? hf.sequenceNormalizer([hf.nfkcNormalizer(), hf.lowercase()]) : hf.nfkcNormalizer());
        native.setPreTokenizer(hf.metaspacePreTokenizer('▁', 'always', true));
        native.setDecoder(hf.metaspaceDecoder('▁', 'always', true));
      }
      const untrainedFile = path.join(work, 'untrained.json');
      native.save(untrainedFile, false);
      if (wordPiece) {
        const json = JSON.parse(readFileSync(untrainedFile, 'utf8')) as TokenizerJson;
        json.model = wordPiece();
        return Tokenizer.finish(json, kind, vocabSize);
      }
      const corpus = path.join(work, 'corpus.txt');
      writeFileSync(corpus, parts.join('\n'));
      const trainedFile = path.join(work, 'trained.json');
      trainInChildProcess(untrainedFile, corpus, trainedFile, kind);
      return Tokenizer.finish(JSON.parse(readFileSync(trainedFile, 'utf8')) as TokenizerJson, kind, vocabSize);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Strata's special tokens and size cut, then the BERT template `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`. */
  private static finish(json: TokenizerJson, kind: TokenizerModelKind, vocabSize: number): Tokenizer {
    const tokenizer = Tokenizer.fromJson(JSON.stringify(withSpecialTokens(json, kind, vocabSize)));
    const cls = tokenizer.native.tokenToId('[CLS]');
    const sep = tokenizer.native.tokenToId('[SEP]');
    if (cls === null || sep === null) throw new DataError('TOKENIZER', 'unreachable: [CLS]/[SEP] missing after training');
    tokenizer.native.setPostProcessor(hf.templateProcessing('[CLS] $A:0 [SEP]:0', '[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1', [['[CLS]', cls], ['[SEP]', sep]]));
    return tokenizer;
  }

  /** Writes `tokenizer.json`. */
  save(file: string, pretty = true): void {
    writeFileSync(file, pretty ? JSON.stringify(JSON.parse(this.toJson()), null, 2) : this.toJson());
  }

  /** The `tokenizer.json` contents (compact). */
  toJson(): string {
    const work = mkdtempSync(path.join(tmpdir(), 'strata-tokenizer-'));
    try {
      const file = path.join(work, 'tokenizer.json');
      this.native.save(file, false);
      // Truncation is per call here, not a property of the tokenizer: keep it out of the file.
      const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      json.truncation = null;
      json.padding = null;
      return JSON.stringify(json);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** sha256 (hex) of the compact `tokenizer.json`, for cache keys. */
  fingerprint(): string {
    return createHash('sha256').update(this.toJson()).digest('hex');
  }

  /** Vocabulary size, added tokens included: the embedding table needs this many rows. */
  get vocabSize(): number {
    return this.native.getVocabSize(true);
  }

  tokenToId(token: string): number | undefined {
    return this.native.tokenToId(token) ?? undefined;
  }

  idToToken(id: number): string | undefined {
    return this.native.idToToken(id) ?? undefined;
  }

  /** Encodes a sentence, or a sentence pair (token types 0 then 1). */
  async encode(textA: string, textB?: string, options: EncodeOptions = {}): Promise<Encoded> {
    const [encoded] = await this.encodeBatch([textB === undefined ? textA : [textA, textB]], options);
    return encoded;
  }

  /** Encodes many inputs; sentences and pairs may be mixed. Runs on the native thread pool. */
  encodeBatch(inputs: readonly EncodeInput[], options: EncodeOptions = {}): Promise<Encoded[]> {
    const run = async (): Promise<Encoded[]> => {
      const maxLength = options.maxLength;
      // Pairs no longer hand maxLength to the native side, which used to reject such values.
      if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 0)) throw new DataError('TOKENIZER', `maxLength must be a whole number >= 0, got ${maxLength}`);
      const encodeOptions = { addSpecialTokens: options.addSpecialTokens ?? true };
      const withTokens = options.withTokens ?? false;
      const out: Encoded[] = new Array(inputs.length);
      const chunk = 1024;
      for (let start = 0; start < inputs.length; start += chunk) {
        const singles: number[] = [];
        const pairs: number[] = [];
        for (let i = start; i < Math.min(start + chunk, inputs.length); i++) (typeof inputs[i] === 'string' ? singles : pairs).push(i);
        if (singles.length > 0) {
          // The native truncation of a single sentence is Hugging Face's (the right end cut, special tokens kept).
          this.setTruncation(maxLength);
          const encodings = await this.encodeNative(() => this.native.encodeBatch(singles.map((i) => inputs[i] as string), encodeOptions));
          singles.forEach((i, j) => (out[i] = toEncoded(encodings[j], withTokens)));
        }
        if (pairs.length > 0) {
          // The binding's pair truncation is not Hugging Face's (see pairKeptLengths): encode in full, cut here.
          this.setTruncation(undefined);
          const encodings = await this.encodeNative(() =>
            Promise.all(
              pairs.map((i) => {
                const [a, b] = inputs[i] as readonly [string, string];
                return this.native.encode(a, b, encodeOptions);
              }),
            ),
          );
          pairs.forEach((i, j) => (out[i] = truncatePair(encodings[j], maxLength, withTokens)));
        }
      }
      return out;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async encodeNative(encode: () => Promise<hf.Encoding[]>): Promise<hf.Encoding[]> {
    try {
      return await encode();
    } catch (err) {
      throw new DataError('TOKENIZER', `encoding failed: ${(err as Error).message}`);
    }
  }

  /** Token ids back to text (special tokens dropped by default). */
  decode(ids: readonly number[], skipSpecialTokens = true): Promise<string> {
    return this.native.decode([...ids], skipSpecialTokens);
  }

  private setTruncation(maxLength: number | undefined): void {
    if (maxLength === this.truncation) return;
    try {
      if (maxLength === undefined) this.native.disableTruncation();
      else this.native.setTruncation(maxLength);
    } catch (err) {
      throw new DataError('TOKENIZER', `cannot truncate to ${maxLength}: ${(err as Error).message}`);
    }
    this.truncation = maxLength;
  }
}

function toEncoded(e: hf.Encoding, withTokens: boolean): Encoded {
  return withTokens ? { ids: e.getIds(), typeIds: e.getTypeIds(), tokens: e.getTokens() } : { ids: e.getIds(), typeIds: e.getTypeIds() };
}

/**
 * How many tokens of each sentence of a pair Hugging Face keeps under `longest_first` truncation to `budget` tokens
 * (special tokens already subtracted): `truncate_encodings` in tokenizers/src/utils/truncation.rs, unchanged since
 * huggingface/tokenizers#389 (Sept. 2020; Python tokenizers 0.9.0 on, still so in 0.22.2 and 0.23.3). The shorter
 * sentence is kept whole if the longer can take the rest; otherwise the shorter (the first, on a tie) keeps
 * floor(budget / 2) and the longer the rest, so an odd budget's extra token goes to the longer sentence. The native
 * truncation of npm tokenizers 0.23.2 (and of Python tokenizers 0.23.1 and 0.23.2) departs from this: its early exit
 * (huggingface/tokenizers#1990) stops tokenizing each sentence at maxLength tokens, so the rule compares the capped
 * lengths, and two sentences longer than that look equally long (the extra token then goes to the second).
 */
function pairKeptLengths(lengthA: number, lengthB: number, budget: number): [number, number] {
  if (lengthA + lengthB <= budget) return [lengthA, lengthB];
  const swap = lengthA > lengthB;
  let shorter = swap ? lengthB : lengthA;
  let longer = shorter > budget ? shorter : Math.max(shorter, budget - shorter);
  if (shorter + longer > budget) {
    shorter = Math.floor(budget / 2);
    longer = shorter + (budget % 2);
  }
  return swap ? [longer, shorter] : [shorter, longer];
}

/**
 * Truncates an untruncated, post-processed pair encoding as Hugging Face would have before post-processing. Every
 * Hugging Face post-processor (Template, Bert, Roberta, ByteLevel, Sequence, none) only puts special tokens around
 * the sentences and sets per-token type ids, so cutting a sentence's tail before post-processing and dropping that
 * tail's tokens after it give the same ids; the sentences' tokens are found by their sequence ids (0, 1; special
 * tokens have none). This keeps one native encode per pair, with no post-processor to re-implement.
 */
function truncatePair(e: hf.Encoding, maxLength: number | undefined, withTokens: boolean): Encoded {
  const ids = e.getIds();
  // Total = sentence tokens + special tokens, so this is Hugging Face's "no truncation needed" test too.
  if (maxLength === undefined || ids.length <= maxLength) return toEncoded(e, withTokens);
  const sequenceIds = e.getSequenceIds();
  const lengths = [0, 0];
  let previous: number | null | undefined = null;
  for (const s of sequenceIds) {
    if (s === 0 || s === 1) {
      // A sentence split by special tokens or repeated by the template would make "its first n tokens" ambiguous.
      if (s !== previous && lengths[s] > 0) {
        throw new DataError('TOKENIZER', 'cannot truncate sentence pairs: the post-processor does not place each sentence as one run of tokens');
      }
      lengths[s]++;
    }
    previous = s;
  }
  const specials = ids.length - lengths[0] - lengths[1];
  if (maxLength < specials) {
    // Hugging Face's Rust then underflows its budget and silently does not truncate at all.
    throw new DataError('TOKENIZER', `cannot truncate a sentence pair to ${maxLength} tokens: the post-processor adds ${specials} special tokens`);
  }
  const kept = pairKeptLengths(lengths[0], lengths[1], maxLength - specials);
  const typeIds = e.getTypeIds();
  const tokens = withTokens ? e.getTokens() : undefined;
  const out: Encoded = { ids: [], typeIds: [], ...(tokens ? { tokens: [] } : {}) };
  const seen = [0, 0];
  for (let i = 0; i < ids.length; i++) {
    const s = sequenceIds[i];
    if ((s === 0 || s === 1) && seen[s]++ >= kept[s]) continue;
    out.ids.push(ids[i]);
    out.typeIds.push(typeIds[i]);
    if (tokens) out.tokens?.push(tokens[i]);
  }
  return out;
}

function emptyModel(kind: TokenizerModelKind): hf.Model {
  // The typings declare WordPiece.empty() as WordPiece; at run time it is a Model like the others.
  if (kind === 'wordpiece') return hf.WordPiece.empty() as unknown as hf.Model;
  if (kind === 'bpe') return hf.BPE.empty();
  return hf.Unigram.empty();
}

/**
 * The WordPiece model of a tokenizer.json, learnt by trainWordPieceVocab (deterministic, unlike the Rust trainer)
 * from the words the tokenizer's own normalizer and pre-tokenizer make of the texts.
 */
function wordPieceModel(texts: string[], normalizer: hf.Normalizer, preTokenizer: hf.PreTokenizer, learnt: number): TokenizerJson['model'] {
  const counts = new Map<string, number>();
  for (const text of texts) for (const [word] of preTokenizer.preTokenizeString(normalizer.normalizeString(text))) counts.set(word, (counts.get(word) ?? 0) + 1);
  const vocab = trainWordPieceVocab(counts, { vocabSize: Math.max(1, learnt), continuingPrefix: '##' });
  return { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) } as TokenizerJson['model'];
}

/** The parts of `tokenizer.json` this module rewrites. */
interface TokenizerJson {
  added_tokens: unknown[];
  decoder: unknown;
  model: {
    type: string;
    vocab: Record<string, number> | [string, number][];
    merges?: (string | [string, string])[];
    unk_token?: string | null;
    unk_id?: number | null;
    byte_fallback?: boolean;
  };
  [key: string]: unknown;
}

/**
 * Puts the special tokens first in the trained vocabulary, cuts it to `vocabSize`, and (byte-level BPE) makes
 * sure all 256 byte symbols are present so no input is ever unknown.
 */
function withSpecialTokens(json: TokenizerJson, kind: TokenizerModelKind, vocabSize: number): TokenizerJson {
  const specials: string[] = [...BERT_SPECIAL_TOKENS];
  const isSpecial = new Set(specials);
  const model = json.model;
  if (kind === 'unigram') {
    const pieces = (model.vocab as [string, number][]).filter(([piece]) => !isSpecial.has(piece));
    const budget = vocabSize - specials.length;
    const singles = pieces.filter(([piece]) => [...piece].length === 1);
    if (budget < singles.length) {
      throw new DataError('TOKENIZER', `vocabSize ${vocabSize} is too small: the corpus has ${singles.length} distinct characters plus ${specials.length} special tokens`);
    }
    let multiAllowed = budget - singles.length;
    const kept = pieces.filter(([piece]) => [...piece].length === 1 || multiAllowed-- > 0);
    model.vocab = [...specials.map((s): [string, number] => [s, 0]), ...kept];
    model.unk_id = specials.indexOf('[UNK]');
    model.byte_fallback = false;
  } else {
    const trained = Object.entries(model.vocab as Record<string, number>)
      .sort((a, b) => a[1] - b[1])
      .map(([token]) => token)
      .filter((token) => !isSpecial.has(token));
    let ordered = trained;
    if (kind === 'bpe') {
      // Byte symbols first (trained ones keep their order), then the merged tokens in the order they were learnt.
      const alphabet = new Set(hf.byteLevelAlphabet());
      ordered = [...trained.filter((t) => alphabet.has(t)), ...[...alphabet].filter((c) => !trained.includes(c)).sort(), ...trained.filter((t) => !alphabet.has(t))];
      if (vocabSize < specials.length + alphabet.size) {
        throw new DataError('TOKENIZER', `vocabSize ${vocabSize} is too small for byte-level BPE: need at least ${specials.length + alphabet.size}`);
      }
    }
    const kept = [...specials, ...ordered.slice(0, Math.max(0, vocabSize - specials.length))];
    const vocab: Record<string, number> = {};
    kept.forEach((token, id) => (vocab[token] = id));
    model.vocab = vocab;
    if (kind === 'wordpiece') model.unk_token = '[UNK]';
    if (kind === 'bpe') {
      // Keep the merges whose parts and result survive the cut (merges are in learning order).
      model.merges = (model.merges ?? []).filter((m) => {
        const [a, b] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
        return a in vocab && b in vocab && `${a}${b}` in vocab;
      });
      model.unk_token = null;
      // ByteLevel, then drop the space the pre-tokenizer prefixed to the first word.
      json.decoder = {
        type: 'Sequence',
        decoders: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      };
    }
  }
  json.added_tokens = specials.map((content) => ({
    id: specialId(json, content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return json;
}

function specialId(json: TokenizerJson, token: string): number {
  const vocab = json.model.vocab;
  return Array.isArray(vocab) ? vocab.findIndex(([piece]) => piece === token) : vocab[token];
}

/**
 * Runs `Tokenizer.train` of the native binding in a child Node process. The Rust trainer writes stray blank
 * lines to file descriptor 1 (its progress reporting), which would corrupt machine-readable output such as
 * `strata data stats --json`; a child process with its stdout discarded keeps the caller's stdout clean.
 */
function trainInChildProcess(untrainedFile: string, corpus: string, trainedFile: string, kind: TokenizerModelKind): void {
  const script = [
    'const [binding, untrained, corpus, trained] = process.argv.slice(1);',
    'const tokenizer = require(binding).Tokenizer.fromFile(untrained);',
    'tokenizer.train([corpus]);',
    'tokenizer.save(trained, false);',
  ].join('\n');
  const child = spawnSync(process.execPath, ['-e', script, require.resolve('tokenizers'), untrainedFile, corpus, trainedFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (child.error || child.status !== 0) {
    const detail = child.error ? child.error.message : child.stderr.trim().split('\n').slice(-5).join('\n');
    throw new DataError('TOKENIZER', `training a ${kind} tokenizer failed (exit ${child.status}): ${detail}`);
  }
}

/**
 * A word-level tokenizer built in JS (the Node binding cannot train WordLevel): Strata's special tokens, then the
 * words by falling frequency (ties in first-seen order, so it is deterministic), cut to vocabSize; whitespace split;
 * the BERT template [CLS] A [SEP] (B [SEP]).
 */
function wordLevel(texts: string[], vocabSize: number, lowercase: boolean): Tokenizer {
  if (texts.length === 0) throw new DataError('TOKENIZER', 'cannot train a tokenizer on no text');
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of (lowercase ? text.toLowerCase() : text).split(/\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  const specials: string[] = [...BERT_SPECIAL_TOKENS];
  const words = [...counts.entries()].filter(([w]) => !specials.includes(w)).sort((a, b) => b[1] - a[1]).map(([w]) => w);
  const kept = [...specials, ...words.slice(0, Math.max(0, vocabSize - specials.length))];
  const vocab: Record<string, number> = {};
  kept.forEach((t, i) => (vocab[t] = i));
  const special = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: lowercase ? { type: 'Lowercase' } : null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]'), { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  };
  return Tokenizer.fromJson(JSON.stringify(json));
}
