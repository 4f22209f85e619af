import { existsSync } from 'node:fs';
import { DATA_ROOT_ENV, taskDataDir } from './paths';

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
  if (sharedDataAvailable(task)) {
    describe(name, fn);
    return;
  }
  const shown = process.env[DATA_ROOT_ENV] ? taskDataDir(task) : `../shared/data/${task}`;
  const message = `${name}: ${shown} not found (set ${DATA_ROOT_ENV})`;
  if (process.env[REQUIRE_SHARED_ENV] === '1') {
    describe(name, () => {
      it('needs the shared data', () => {
        throw new Error(`${message}; ${REQUIRE_SHARED_ENV}=1 requires shared data`);
      });
    });
    return;
  }
  // Straight to stderr: Jest swallows console output of a file whose tests are all skipped.
  process.stderr.write(`skipping ${message}\n`);
  describe.skip(name, fn);
}
