import { existsSync } from 'node:fs';
import { DataError } from './errors';
import { requireTaskDataDir, taskDataDir } from './paths';
import { dart } from './tasks/dart';
import { cmudictG2p, spam } from './tasks/embedded';
import { mnli, qnli, qqp, sst2 } from './tasks/glue';
import { commonsenseqa, hellaswag } from './tasks/multipleChoice';
import type { SplitInfo, TaskDefinition } from './tasks/task';
import { wmt16EnRo } from './tasks/wmt16';
import type { DataSplit, LoadOptions, SplitByKind, TaskKind } from './types';

export type { SplitInfo } from './tasks/task';

/** Example kind of each built-in task. */
export interface TaskKinds {
  sst2: 'classification';
  qnli: 'classification';
  qqp: 'classification';
  mnli: 'classification';
  dart: 'seq2seq';
  'wmt16-en-ro': 'seq2seq';
  commonsenseqa: 'multiple-choice';
  hellaswag: 'multiple-choice';
  spam: 'classification';
  'cmudict-g2p': 'seq2seq';
}
export type TaskId = keyof TaskKinds;
export type SplitOf<T extends TaskId> = SplitByKind[TaskKinds[T]];

const TASKS: { [T in TaskId]: TaskDefinition<TaskKinds[T]> } = {
  sst2,
  qnli,
  qqp,
  mnli,
  dart,
  'wmt16-en-ro': wmt16EnRo,
  commonsenseqa,
  hellaswag,
  spam,
  'cmudict-g2p': cmudictG2p,
};

export const TASK_IDS = Object.keys(TASKS) as TaskId[];

/** Public description of a task (no loader functions). */
export interface TaskInfo {
  id: TaskId;
  kind: TaskKind;
  description: string;
  source: 'shared' | 'embedded';
  labelNames?: readonly string[];
  numChoices?: number;
  splitNames: readonly string[];
  aliases: Readonly<Record<string, string>>;
  notes: readonly string[];
}

export function isTaskId(name: string): name is TaskId {
  return Object.prototype.hasOwnProperty.call(TASKS, name);
}

function definition(task: string): TaskDefinition {
  if (!isTaskId(task)) throw new DataError('UNKNOWN_TASK', `unknown task "${task}"; built-in tasks: ${TASK_IDS.join(', ')}`);
  return TASKS[task] as TaskDefinition;
}

export function getTask(task: string): TaskInfo {
  const d = definition(task);
  return {
    id: d.id as TaskId,
    kind: d.kind,
    description: d.description,
    source: d.source,
    labelNames: d.labelNames,
    numChoices: d.numChoices,
    splitNames: d.splitNames,
    aliases: d.aliases ?? {},
    notes: d.notes,
  };
}

export function listTasks(): TaskInfo[] {
  return TASK_IDS.map(getTask);
}

/** The task's data folder if it is a shared-data task and the folder exists; `undefined` otherwise. */
function existingDir(d: TaskDefinition, options: LoadOptions): string | undefined {
  if (d.source === 'embedded') return undefined;
  const dir = taskDataDir(d.id, options.dataRoot);
  return existsSync(dir) ? dir : undefined;
}

/**
 * Every split the task knows, with whether its files are present under the data root. For a shared-data task
 * whose folder is missing, every split is unavailable (except a user-supplied wmt16-en-ro training file).
 */
export function listSplits(task: string, options: LoadOptions = {}): SplitInfo[] {
  const d = definition(task);
  return d.splits(existingDir(d, options), options);
}

/** Canonical split name for a name or alias (`mnli` `dev` -> `dev-matched`). */
export function resolveSplitName(task: string, split: string): string {
  const d = definition(task);
  const name = d.aliases?.[split] ?? split;
  if (!d.splitNames.includes(name)) {
    const aliases = Object.keys(d.aliases ?? {});
    throw new DataError(
      'UNKNOWN_SPLIT',
      `task "${task}" has no split "${split}"; splits: ${d.splitNames.join(', ')}${aliases.length ? ` (aliases: ${aliases.join(', ')})` : ''}`,
    );
  }
  return name;
}

/**
 * Loads one split of a task: its examples, content fingerprint and skip report. Errors: `UNKNOWN_TASK`,
 * `UNKNOWN_SPLIT`, `MISSING_DATA` (data folder or split files absent; the message says which path and how to
 * configure the data root) and `MALFORMED_ROW` (names file and line).
 */
export function loadSplit<T extends TaskId>(task: T, split: string, options?: LoadOptions): SplitOf<T>;
export function loadSplit(task: string, split: string, options?: LoadOptions): DataSplit;
export function loadSplit(task: string, split: string, options: LoadOptions = {}): DataSplit {
  const d = definition(task);
  const name = resolveSplitName(task, split);
  const dir = existingDir(d, options);
  const info = d.splits(dir, options).find((s) => s.name === name);
  if (!info) throw new DataError('UNKNOWN_SPLIT', `task "${task}" has no split "${name}"`);
  if (!info.available) {
    if (d.source === 'shared' && !dir) requireTaskDataDir(d.id, options.dataRoot); // throws the data-root message
    const present = d.splits(dir, options).filter((s) => s.available).map((s) => s.name);
    throw new DataError(
      'MISSING_DATA',
      `task "${task}" split "${name}" is not available: ${info.files.join(' + ')} not found` +
        ` (${info.description}). Available splits: ${present.length ? present.join(', ') : 'none'}.`,
    );
  }
  const loaded = d.load(info, dir, options);
  if (loaded.examples.length === 0) {
    // Otherwise the first consumer fails far away ("cannot train a tokenizer on no text") without naming the file.
    const skipped = loaded.skipped.count > 0 ? ` (${loaded.skipped.count} rows skipped as malformed)` : ' (a header only, or empty)';
    throw new DataError('MISSING_DATA', `task "${task}" split "${name}" has no examples${skipped}`, { file: loaded.files.join(' + ') });
  }
  return loaded;
}
