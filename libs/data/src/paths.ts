import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors';

/** Environment variable naming the folder that holds one sub-folder per task. */
export const DATA_ROOT_ENV = 'STRATA_DATA_ROOT';

/** The repository root: the nearest ancestor of this file holding `nx.json` (falls back to three levels up). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '../../..');
    dir = parent;
  }
}

/** Folder holding the task folders: `option`, else `$STRATA_DATA_ROOT`, else `<repo>/../shared/data`. */
export function resolveDataRoot(dataRoot?: string): string {
  if (dataRoot) return path.resolve(dataRoot);
  const fromEnv = process.env[DATA_ROOT_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(repoRoot(), '..', 'shared', 'data');
}

/** `<data root>/<task>`, without checking that it exists. */
export function taskDataDir(task: string, dataRoot?: string): string {
  return path.join(resolveDataRoot(dataRoot), task);
}

/** `<data root>/<task>`, or a `MISSING_DATA` error that says which path was tried and how to point elsewhere. */
export function requireTaskDataDir(task: string, dataRoot?: string): string {
  const dir = taskDataDir(task, dataRoot);
  if (!existsSync(dir)) {
    const source = dataRoot ? 'the dataRoot option / --data-root' : process.env[DATA_ROOT_ENV] ? `$${DATA_ROOT_ENV}` : 'the default <repo>/../shared/data';
    throw new DataError(
      'MISSING_DATA',
      `data for task "${task}" not found: ${dir} does not exist (data root from ${source}). ` +
        `Put the task's files in ${dir}, or set ${DATA_ROOT_ENV} (CLI: --data-root DIR) to the folder that holds the <task>/ folders.`,
    );
  }
  return dir;
}

/** Environment variable naming the folder that holds Hugging Face model folders (pretrained teachers, test fixtures). */
export const MODELS_ROOT_ENV = 'STRATA_MODELS_ROOT';

/** `$STRATA_MODELS_ROOT`, else `<repo>/../shared/models`. */
export function resolveModelsRoot(): string {
  const fromEnv = process.env[MODELS_ROOT_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot(), '..', 'shared', 'models');
}

/** `<models root>/<name>`, without checking that it exists. */
export function sharedModelDir(name: string): string {
  return path.join(resolveModelsRoot(), name);
}
