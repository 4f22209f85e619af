// `strata dashboard` as a user starts it: the real bin in a child process, serving a runs folder until SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseManifest, tinyManifestYaml, writeRunPlan } from '@strata/experiment';

jest.setTimeout(120_000);
const CLI = path.resolve(__dirname, '../../bin/strata.js');

describe('strata dashboard', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cli-dashboard-'));
    // A run that has just started: its plan is written, nothing trained yet.
    writeRunPlan(path.join(root, 'just-started'), { transport: 'embedded', manifest: parseManifest(tinyManifestYaml('just-started', 'teacher.onnx', { store: 'file' })) });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('serves a runs folder on the port it prints, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'dashboard', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /strata dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }, 50);
      child.once('exit', (code) => reject(new Error(`exited ${code} before serving: ${stderr}`)));
    });
    const index = await (await fetch(url)).text();
    expect(index).toContain('href="/runs/just-started"');
    const api = (await (await fetch(new URL('/api/runs/just-started', url))).json()) as { name: string; phase: string; cellsTotal: number };
    expect(api).toMatchObject({ name: 'just-started', phase: 'teacher', cellsTotal: 0 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/error|Error/);
  });

  it('refuses a folder that does not exist (exit 1, naming it) and a bad port (usage, exit 2)', () => {
    const missing = spawnSync(process.execPath, [CLI, 'dashboard', path.join(root, 'nope')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^strata: .*nope: not a directory/);
    const port = spawnSync(process.execPath, [CLI, 'dashboard', root, '--port', 'abc'], { encoding: 'utf8' });
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/^strata: .*--port must be a port number/);
  });
});
