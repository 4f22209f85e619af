import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATA_ROOT_ENV } from './paths';
import { REQUIRE_SHARED_ENV, describeShared, sharedDataAvailable } from './testing';

describe('describeShared', () => {
  let root: string;
  const saved = { root: process.env[DATA_ROOT_ENV], require: process.env[REQUIRE_SHARED_ENV] };
  const realDescribe = globalThis.describe;
  let calls: string[];

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'strata-shared-'));
    mkdirSync(path.join(root, 'present'));
    process.env[DATA_ROOT_ENV] = root;
    delete process.env[REQUIRE_SHARED_ENV];
    calls = [];
    // A stand-in for Jest's describe that records what describeShared registers.
    const fake = Object.assign((name: string) => void calls.push(`describe ${name}`), { skip: (name: string) => void calls.push(`skip ${name}`) });
    (globalThis as { describe: unknown }).describe = fake;
  });

  afterEach(() => {
    (globalThis as { describe: unknown }).describe = realDescribe;
    for (const [key, value] of [
      [DATA_ROOT_ENV, saved.root],
      [REQUIRE_SHARED_ENV, saved.require],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the tests when the task folder exists', () => {
    expect(sharedDataAvailable('present')).toBe(true);
    describeShared('present', 'present tests', () => undefined);
    expect(calls).toEqual(['describe present tests']);
  });

  it('warns and skips when it does not', () => {
    const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(sharedDataAvailable('absent')).toBe(false);
      describeShared('absent', 'absent tests', () => undefined);
      expect(calls).toEqual(['skip absent tests']);
      expect(warn).toHaveBeenCalledWith(`skipping absent tests: ${path.join(root, 'absent')} not found (set STRATA_DATA_ROOT)\n`);
    } finally {
      warn.mockRestore();
    }
  });

  it('registers a failing test instead when STRATA_REQUIRE_SHARED=1', () => {
    process.env[REQUIRE_SHARED_ENV] = '1';
    describeShared('absent', 'absent tests', () => undefined);
    expect(calls).toEqual(['describe absent tests']);
  });
});
