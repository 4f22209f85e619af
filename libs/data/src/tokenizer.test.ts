import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataError } from './errors';
import { loadSplit } from './registry';
import { Tokenizer } from './tokenizer';

// Training text that needs no shared data: the SpamAssassin dev split shipped by the npm package (604 e-mails).
const corpus = loadSplit('spam', 'dev').examples.map((e) => e.textA);
let work: string;
beforeAll(() => (work = mkdtempSync(path.join(tmpdir(), 'strata-tokenizer-test-'))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('WordPiece (BERT-style, uncased)', () => {
  const tokenizer = Tokenizer.train(corpus, { kind: 'wordpiece', vocabSize: 2000 });

  it('has the special tokens first and the requested vocabulary size', () => {
    expect(tokenizer.vocabSize).toBe(2000);
    expect(tokenizer.specialIds).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, bos: 2, eos: 3 });
    expect([0, 1, 2, 3, 4].map((id) => tokenizer.idToToken(id))).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  });

  it('lower-cases, strips accents, and marks unknown characters [UNK]', async () => {
    const e = await tokenizer.encode('The FRÉE Mönèy 龘', undefined, { withTokens: true });
    expect(e.tokens).toEqual(['[CLS]', 'the', 'free', 'money', '[UNK]', '[SEP]']);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('encodes a pair as [CLS] A [SEP] B [SEP] with token types 0 then 1', async () => {
    const e = await tokenizer.encode('click here', 'free money', { withTokens: true });
    expect(e.tokens).toEqual(['[CLS]', 'click', 'here', '[SEP]', 'free', 'money', '[SEP]']);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });

  it('truncates to maxLength, longest sequence first, keeping the special tokens', async () => {
    const a = 'you can get the best offer for your home now';
    const b = 'click here';
    const [full, fullA, fullB] = await tokenizer.encodeBatch([a, a, b], { addSpecialTokens: false });
    expect(fullA.ids.length).toBeGreaterThan(6);
    expect(fullB.ids).toHaveLength(2);
    const [single, pair, short] = await tokenizer.encodeBatch([a, [a, b], b], { maxLength: 8 });
    expect(single.ids).toEqual([2, ...full.ids.slice(0, 6), 3]);
    // Longest first: A loses tokens until A + B + 3 special tokens fit in 8.
    expect(pair.ids).toEqual([2, ...fullA.ids.slice(0, 3), 3, ...fullB.ids, 3]);
    expect(pair.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(short.ids).toEqual([2, ...fullB.ids, 3]);
    expect((await tokenizer.encode(a)).ids).toHaveLength(full.ids.length + 2);
  });

  it('learns the same vocabulary on every run (the Rust WordPiece trainer did not: huggingface/tokenizers#1794)', () => {
    const again = Tokenizer.train([...corpus].reverse(), { kind: 'wordpiece', vocabSize: 2000 });
    expect(again.fingerprint()).toBe(tokenizer.fingerprint());
  });

  it('saves tokenizer.json and loads it back with identical encodings', async () => {
    const file = path.join(work, 'wordpiece.json');
    tokenizer.save(file);
    const loaded = Tokenizer.fromFile(file);
    const text = 'Dear friend, this offer expires soon!';
    expect((await loaded.encode(text, 'unsubscribe')).ids).toEqual((await tokenizer.encode(text, 'unsubscribe')).ids);
    expect(loaded.fingerprint()).toBe(tokenizer.fingerprint());
    expect(await loaded.decode((await loaded.encode(text)).ids)).toBe('dear friend, this offer expires soon!');
  });
});

describe('loading an existing tokenizer.json', () => {
  it('reads a BERT-style file written by another tool', async () => {
    const vocab = Object.fromEntries(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello', 'world', '##s', 'play'].map((t, i) => [t, i]));
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    };
    const tokenizer = Tokenizer.fromJson(JSON.stringify(json));
    const e = await tokenizer.encode('Hello worlds', 'play zebra');
    expect(e.ids).toEqual([2, 4, 5, 6, 3, 7, 1, 3]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(tokenizer.specialIds).toMatchObject({ pad: 0, unk: 1, cls: 2, sep: 3 });
  });

  it('fails with a TOKENIZER error naming the file', () => {
    const file = path.join(work, 'absent.json');
    expect(() => Tokenizer.fromFile(file)).toThrow(DataError);
    expect(() => Tokenizer.fromFile(file)).toThrow(`${file}: cannot load tokenizer`);
  });
});

describe('byte-level BPE', () => {
  const tokenizer = Tokenizer.train(corpus, { kind: 'bpe', vocabSize: 1000 });

  it('keeps case, covers every byte (no unknowns) and decodes losslessly', async () => {
    expect(tokenizer.vocabSize).toBe(1000);
    const text = 'Fostul șef al cabinetului: ☃ 龘 CAPS';
    const e = await tokenizer.encode(text, undefined, { addSpecialTokens: false });
    expect(e.ids).not.toContain(tokenizer.specialIds.unk);
    expect(await tokenizer.decode(e.ids)).toBe(text);
    const withSpecials = await tokenizer.encode('a', 'b', { withTokens: true });
    expect(withSpecials.tokens?.[0]).toBe('[CLS]');
    expect(withSpecials.typeIds[withSpecials.typeIds.length - 1]).toBe(1);
  });
});

describe('Unigram (SentencePiece-style)', () => {
  // The Unigram trainer is slow on raw e-mail (HTML, base64): train on the first 2,000 characters of 200 messages.
  const small = corpus.slice(0, 200).map((t) => t.slice(0, 2000));

  it('trains to at most the requested size and maps unseen characters to [UNK]', async () => {
    const tokenizer = Tokenizer.train(small, { kind: 'unigram', vocabSize: 1500 });
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(1500);
    expect(tokenizer.vocabSize).toBeGreaterThan(500);
    expect(tokenizer.specialIds).toMatchObject({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
    const e = await tokenizer.encode('free money 龘', undefined, { addSpecialTokens: false });
    expect(e.ids).toContain(1);
    expect(await tokenizer.decode((await tokenizer.encode('free money now')).ids)).toBe('free money now');
  });

  it('rejects a vocabulary too small for the corpus alphabet', () => {
    expect(() => Tokenizer.train(['abc def', 'ghi jkl'], { kind: 'unigram', vocabSize: 10 })).toThrow(/vocabSize 10 is too small/);
  });
});

describe('word-level (symbol sequences: spelled letters, ARPAbet phonemes)', () => {
  const tokenizer = Tokenizer.train(['H E L L O', 'HH AH0 L OW1', 'W O R L D'], { kind: 'word-level', vocabSize: 12 });

  it('keeps the special tokens first and the most frequent words, cut to vocabSize', () => {
    expect(tokenizer.vocabSize).toBe(12);
    expect([0, 1, 2, 3, 4, 5, 6].map((id) => tokenizer.idToToken(id))).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'L', 'O']);
    expect(tokenizer.specialIds).toMatchObject({ pad: 0, unk: 1, cls: 2, sep: 3, eos: 3 });
  });

  it('splits on whitespace, maps unseen words to [UNK], adds [CLS]/[SEP], and decodes with spaces', async () => {
    const e = await tokenizer.encode('H E L L O W', undefined, { withTokens: true });
    expect(e.tokens).toEqual(['[CLS]', 'H', 'E', 'L', 'L', 'O', '[UNK]', '[SEP]']);
    const plain = await tokenizer.encode('HH AH0 L', undefined, { addSpecialTokens: false });
    expect(await tokenizer.decode(plain.ids)).toBe('HH AH0 L');
    const loaded = Tokenizer.fromJson(tokenizer.toJson());
    expect((await loaded.encode('L O')).ids).toEqual((await tokenizer.encode('L O')).ids);
  });
});
