// A stop request that the long loops (training steps, teacher caching) honour at their next boundary, so Ctrl-C or
// a Kubernetes eviction (SIGTERM, then SIGKILL after the grace period) loses no work: a training loop saves its
// checkpoint where it is and throws `Interrupted`, and running the same command again resumes from there. Without it
// a signal killed the process and the resumed run repeated up to a checkpoint interval of steps.
//
// The request is per thread (module state), so `trainInWorker` forwards it to each student worker thread.
import * as os from 'node:os';

/** The shell's exit code for a process ended by `signal` (130 SIGINT, 143 SIGTERM); 1 for a reason that is no signal. */
function signalExitCode(signal: string): number {
  const n = (os.constants.signals as Record<string, number | undefined>)[signal];
  return n !== undefined ? 128 + n : 1;
}

/** Thrown by a loop that stopped on request; `exitCode` is the shell's code for the signal. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  readonly exitCode: number;

  constructor(message: string, readonly reason: string) {
    super(message);
    this.exitCode = signalExitCode(reason);
  }
}

let requested: string | undefined;
const listeners = new Set<(reason: string) => void>();

/** Asks every loop of this thread to stop at its next boundary; `reason` names the cause (a signal name, usually). */
export function requestStop(reason: string): void {
  if (requested !== undefined) return;
  requested = reason;
  for (const l of [...listeners]) l(reason);
}

/** The reason of the pending stop request, if any. */
export function stopRequested(): string | undefined {
  return requested;
}

/** Calls `listener` when a stop is requested (at once if one already is); returns the unsubscribe function. */
export function onStopRequest(listener: (reason: string) => void): () => void {
  if (requested !== undefined) {
    listener(requested);
    return () => undefined;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forgets a stop request (a process that keeps going after handling one, and tests). */
export function clearStopRequest(): void {
  requested = undefined;
}

/** Throws `Interrupted` when a stop has been requested; `what` says what stopped and where its work is saved. */
export function throwIfStopRequested(what: string): void {
  if (requested !== undefined) throw new Interrupted(`${what}: stopped by ${requested}; run the same command again to resume`, requested);
}

/**
 * Runs `work` with SIGINT and SIGTERM turned into a stop request: the first signal lets the loops save and stop,
 * a second one exits at once (losing what the first would have saved). The handlers are removed when `work` settles.
 */
export async function withStopOnSignals<T>(work: () => Promise<T>, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<T> {
  const handler = (signal: NodeJS.Signals) => {
    if (requested === undefined) {
      log(`\n${signal}: stopping after the steps in flight and saving checkpoints (${signal} again stops at once, losing them)`);
      requestStop(signal);
    } else process.exit(signalExitCode(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await work();
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
