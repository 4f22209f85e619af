// Memory benches run each variant in a process of its own, so that each peak resident size is its own.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Runs `variant` of `bench` (own-process-child.ts) in a fresh Node process and returns what it printed. */
export function runInOwnProcess<T>(bench: 'generation-memory' | 'train-memory', args: unknown, env: NodeJS.ProcessEnv = process.env): T {
  const child = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'own-process-child.ts'), bench, JSON.stringify(args)], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${bench} child (${JSON.stringify(args)}) exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as T;
}
