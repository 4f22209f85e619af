// Running a service as a child process: start it on a free port and wait for its `listening on <url>` line, stop it
// with SIGTERM (SIGKILL after a grace period). Used by `experiment run --transport kafka` and the services' tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  url: string;
}

export function startServiceProcess(name: string, script: string, env: NodeJS.ProcessEnv, logFile: string, timeoutMs = 120_000): Promise<ServiceProcess> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', out] });
    fs.closeSync(out);
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs / 1000} s; see ${logFile}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve({ name, child, url: m[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before listening; see ${logFile}`));
    });
  });
}

/** Resolves with the exit code once the process has exited (SIGTERM first, SIGKILL after graceMs). */
export function stopServiceProcess(s: ServiceProcess, graceMs = 30_000): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve(s.child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
    s.child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    s.child.kill('SIGTERM');
  });
}
