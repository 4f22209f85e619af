import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DataError, malformedRow } from '../errors';
import { type JsonLine, SkipCollector, readJsonLines, readTextFile, splitLines, describe as describeValue } from '../io';
import type { LoadOptions, Seq2SeqExample, Seq2SeqSplit } from '../types';
import { type SplitInfo, type TaskDefinition, makeSplit } from './task';

const SOURCE_LANG = 'en';
const TARGET_LANG = 'ro';

/**
 * The files a split may come in, in order of preference: JSON Lines of pairs, or two line-aligned text files
 * (`<split>.source`/`<split>.target`, or `<split>.en`/`<split>.ro`).
 */
function locate(split: string, dir: string | undefined, options: LoadOptions): string[] | undefined {
  if (split === 'train') {
    if (options.trainFile) return [path.resolve(options.trainFile)];
    if (options.trainSourceFile || options.trainTargetFile) {
      if (!options.trainSourceFile || !options.trainTargetFile) {
        throw new DataError('MISSING_DATA', 'wmt16-en-ro: give both trainSourceFile and trainTargetFile (line-aligned), or trainFile (JSON lines)');
      }
      return [path.resolve(options.trainSourceFile), path.resolve(options.trainTargetFile)];
    }
  }
  if (!dir) return undefined;
  const candidates = [[`${split}.jsonl`], [`${split}.source`, `${split}.target`], [`${split}.${SOURCE_LANG}`, `${split}.${TARGET_LANG}`]];
  for (const names of candidates) {
    const files = names.map((n) => path.join(dir, n));
    if (files.every((f) => existsSync(f))) return files;
  }
  return undefined;
}

/** Reads one JSON-lines pair: `{en, ro}`, `{source, target}` or Hugging Face's `{translation: {en, ro}}`. */
function jsonPair(row: JsonLine, file: string): { source: unknown; target: unknown } {
  const v = row.value;
  if (SOURCE_LANG in v || TARGET_LANG in v) return { source: v[SOURCE_LANG], target: v[TARGET_LANG] };
  if ('source' in v || 'target' in v) return { source: v.source, target: v.target };
  const t = v.translation;
  if (typeof t === 'object' && t !== null) {
    const tr = t as Record<string, unknown>;
    return { source: tr[SOURCE_LANG], target: tr[TARGET_LANG] };
  }
  throw malformedRow(file, row.line, `expected a pair as {"${SOURCE_LANG}","${TARGET_LANG}"}, {"source","target"} or {"translation":{...}}`);
}

const DESCRIPTIONS: Record<string, string> = {
  train: 'training pairs (not in shared data: supply a file with trainFile or trainSourceFile/trainTargetFile)',
  dev: 'newsdev2016 (1,999)',
  test: 'newstest2016 (1,999)',
};

export const wmt16EnRo: TaskDefinition<'seq2seq'> = {
  id: 'wmt16-en-ro',
  kind: 'seq2seq',
  description: 'WMT16 English -> Romanian translation',
  source: 'shared',
  splitNames: ['train', 'dev', 'test'],
  notes: [
    'Source is English, target Romanian; text is raw (untokenized), as sacreBLEU expects.',
    'A split is read from <split>.jsonl ({"en","ro"}), or line-aligned <split>.source/<split>.target or <split>.en/<split>.ro.',
    'The WMT16 training pairs are not in the shared data; pass trainFile (JSON lines) or trainSourceFile + trainTargetFile.',
  ],
  splits(dir: string | undefined, options: LoadOptions): SplitInfo[] {
    return ['train', 'dev', 'test'].map((name) => {
      const files = locate(name, dir, options);
      return {
        name,
        available: files !== undefined,
        files: files ?? [path.join(dir ?? '', `${name}.jsonl`)],
        labeled: true,
        official: true,
        description: DESCRIPTIONS[name],
      };
    });
  },
  load(info: SplitInfo): Seq2SeqSplit {
    const skipped = new SkipCollector();
    const examples: Seq2SeqExample[] = [];
    const add = (id: string, source: string, target: string, file: string, line: number): void => {
      if (source.trim() === '' || target.trim() === '') return skipped.skip(file, line, source.trim() === '' ? 'empty source' : 'empty target');
      examples.push({ id, source, target });
    };
    if (info.files.length === 1) {
      const file = info.files[0];
      readJsonLines(file).forEach((row, i) => {
        const pair = jsonPair(row, file);
        if (typeof pair.source !== 'string') throw malformedRow(file, row.line, `source (${SOURCE_LANG}) must be a string, found ${describeValue(pair.source)}`);
        if (typeof pair.target !== 'string') throw malformedRow(file, row.line, `target (${TARGET_LANG}) must be a string, found ${describeValue(pair.target)}`);
        const rawId = row.value.id;
        add(`${info.name}-${typeof rawId === 'string' || typeof rawId === 'number' ? rawId : i}`, pair.source, pair.target, file, row.line);
      });
    } else {
      const [sourceFile, targetFile] = info.files;
      const sources = splitLines(readTextFile(sourceFile));
      const targets = splitLines(readTextFile(targetFile));
      if (sources.length !== targets.length) {
        const shorter = sources.length < targets.length ? sourceFile : targetFile;
        throw malformedRow(
          shorter,
          Math.min(sources.length, targets.length) + 1,
          `line-aligned files differ in length: ${sourceFile} has ${sources.length} lines, ${targetFile} has ${targets.length}`,
        );
      }
      sources.forEach((source, i) => add(`${info.name}-${i}`, source, targets[i], sourceFile, i + 1));
    }
    return makeSplit('seq2seq', { task: 'wmt16-en-ro', split: info.name, examples, skipped, labeled: true, files: info.files });
  },
};
