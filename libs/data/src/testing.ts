import { existsSync } from 'node:fs';
import { DATA_ROOT_ENV, MODELS_ROOT_ENV, sharedModelDir, taskDataDir } from './paths';

/** Environment variable that turns a missing shared-data folder from a skip into a test failure (CI sets it). */
export const REQUIRE_SHARED_ENV = 'STRATA_REQUIRE_SHARED';

/** Whether the task's folder exists under the data root (`STRATA_DATA_ROOT`, else `<repo>/../shared/data`). */
export function sharedDataAvailable(task: string, dataRoot?: string): boolean {
  return existsSync(taskDataDir(task, dataRoot));
}

/**
 * Jest `describe` for tests that read shared data: runs them when `<data root>/<task>` exists; otherwise warns
 * `skipping <name>: ../shared/data/<task> not found (set STRATA_DATA_ROOT)` and skips them, or, when
 * `STRATA_REQUIRE_SHARED=1`, registers a failing test instead.
 */
export function describeShared(task: string, name: string, fn: () => void): void {
  const shown = process.env[DATA_ROOT_ENV] ? taskDataDir(task) : `../shared/data/${task}`;
  describeIfPresent(sharedDataAvailable(task), `${name}: ${shown} not found (set ${DATA_ROOT_ENV})`, 'the shared data', name, fn);
}

/**
 * The same for a model folder of the shared models (`STRATA_MODELS_ROOT`, else `<repo>/../shared/models`): runs the
 * tests when `<models root>/<model>` exists, else skips them with the reason or fails under `STRATA_REQUIRE_SHARED=1`.
 */
export function describeSharedModel(model: string, name: string, fn: () => void): void {
  const dir = sharedModelDir(model);
  describeIfPresent(existsSync(dir), `${name}: ${dir} not found (set ${MODELS_ROOT_ENV})`, 'the shared models', name, fn);
}

function describeIfPresent(present: boolean, message: string, what: string, name: string, fn: () => void): void {
  if (present) {
    describe(name, fn);
    return;
  }
  if (process.env[REQUIRE_SHARED_ENV] === '1') {
    describe(name, () => {
      it(`needs ${what}`, () => {
        throw new Error(`${message}; ${REQUIRE_SHARED_ENV}=1 requires ${what.replace(/^the /, '')}`);
      });
    });
    return;
  }
  // Straight to stderr: Jest swallows console output of a file whose tests are all skipped.
  process.stderr.write(`skipping ${message}\n`);
  describe.skip(name, fn);
}
