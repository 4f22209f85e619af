import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Environment variable naming the folder that holds Hugging Face model folders (default `<repo>/../shared/models`). */
export const MODELS_ROOT_ENV = 'STRATA_MODELS_ROOT';
const REQUIRE_SHARED_ENV = 'STRATA_REQUIRE_SHARED';

function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '../../..');
    dir = parent;
  }
}

/** `$STRATA_MODELS_ROOT`, else `<repo>/../shared/models`. */
export function modelsRoot(): string {
  const fromEnv = process.env[MODELS_ROOT_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot(), '..', 'shared', 'models');
}

/** `<models root>/<name>`, without checking that it exists. */
export function sharedModelDir(name: string): string {
  return path.join(modelsRoot(), name);
}

/**
 * Jest `describe` for tests that read a model folder of ../shared/models: runs them when it exists; otherwise prints
 * why and skips them, or, under `STRATA_REQUIRE_SHARED=1`, registers a failing test instead.
 */
export function describeSharedModel(model: string, name: string, fn: () => void): void {
  const dir = sharedModelDir(model);
  if (existsSync(dir)) {
    describe(name, fn);
    return;
  }
  const message = `${name}: ${dir} not found (set ${MODELS_ROOT_ENV})`;
  if (process.env[REQUIRE_SHARED_ENV] === '1') {
    describe(name, () => {
      it('needs the shared models', () => {
        throw new Error(`${message}; ${REQUIRE_SHARED_ENV}=1 requires shared models`);
      });
    });
    return;
  }
  process.stderr.write(`skipping ${message}\n`);
  describe.skip(name, fn);
}
