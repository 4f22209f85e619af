import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fingerprintExamples } from '../fingerprint';
import type { SkipCollector } from '../io';
import type { ExampleByKind, LoadOptions, SplitByKind, TaskKind } from '../types';

/** What the registry knows about one split of a task, for the given data root. */
export interface SplitInfo {
  name: string;
  /** Whether its files are there (embedded tasks: always). */
  available: boolean;
  /** Absolute paths it reads (when available) or would look for (when not). */
  files: string[];
  labeled: boolean;
  /** False for samples that are not the official split (e.g. the O-LoRA subsets of QQP and MNLI). */
  official: boolean;
  description: string;
}

export interface TaskDefinition<K extends TaskKind = TaskKind> {
  id: string;
  kind: K;
  description: string;
  /** `shared`: files under the data root; `embedded`: shipped inside an npm package. */
  source: 'shared' | 'embedded';
  /** Classification: label names by id. */
  labelNames?: readonly string[];
  /** Multiple choice: choices per question. */
  numChoices?: number;
  /** Split names this task knows, in a sensible display order. */
  splitNames: readonly string[];
  /** Other names accepted for a split (e.g. MNLI `dev` -> `dev-matched`). */
  aliases?: Readonly<Record<string, string>>;
  /** Facts a user should know (what is missing, what is not official). */
  notes: readonly string[];
  /** Split descriptions with availability, for the given data folder (`undefined` for embedded tasks). */
  splits(dir: string | undefined, options: LoadOptions): SplitInfo[];
  /** Loads one split; `info` is the available split as returned by `splits`. */
  load(info: SplitInfo, dir: string | undefined, options: LoadOptions): SplitByKind[K];
}

/** First of the candidate file names that exists in `dir`, else the first candidate (absolute). */
export function firstExisting(dir: string, candidates: readonly string[]): { file: string; exists: boolean } {
  for (const name of candidates) {
    const file = path.join(dir, name);
    if (existsSync(file)) return { file, exists: true };
  }
  return { file: path.join(dir, candidates[0]), exists: false };
}

/** Assembles a split result, computing its fingerprint. */
export function makeSplit<K extends TaskKind>(
  kind: K,
  fields: {
    task: string;
    split: string;
    examples: ExampleByKind[K][];
    skipped: SkipCollector;
    labeled: boolean;
    files: string[];
    labelNames?: readonly string[];
    numChoices?: number;
  },
): SplitByKind[K] {
  const base = {
    task: fields.task,
    split: fields.split,
    kind,
    examples: fields.examples,
    fingerprint: fingerprintExamples(kind, fields.examples, fields.labelNames),
    skipped: fields.skipped.report(),
    labeled: fields.labeled,
    files: fields.files,
  };
  if (kind === 'classification') return { ...base, labelNames: fields.labelNames ?? [] } as unknown as SplitByKind[K];
  if (kind === 'multiple-choice') return { ...base, numChoices: fields.numChoices ?? 0 } as unknown as SplitByKind[K];
  return base as unknown as SplitByKind[K];
}

/** Default row layout for seq2seq tasks with several references: one row per reference for train only. */
export function referenceRows(split: string, options: LoadOptions): 'per-reference' | 'per-input' {
  return options.rows ?? (split === 'train' ? 'per-reference' : 'per-input');
}
