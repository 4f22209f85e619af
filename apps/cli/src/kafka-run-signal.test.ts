// SIGTERM to `strata experiment run --transport kafka` while students train: the run exits 143 and leaves no
// process behind (its teacher-inference, evaluator and student-trainers are stopped and waited for).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainTinyTeacher, writeTinyManifest } from '@strata/experiment';
import { describeKafka, uniqueName } from '@strata/kafka';

jest.setTimeout(600_000);

const CLI = path.resolve(__dirname, '../bin/strata.js');

/** PIDs of live processes started with STRATA_ARTIFACTS=`artifacts` in their environment (Linux /proc). */
function processesWithArtifacts(artifacts: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const state = fs.readFileSync(`/proc/${entry}/stat`, 'latin1').split(') ')[1]?.[0];
      if (env.includes(`STRATA_ARTIFACTS=${artifacts}`) && state !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

describeKafka('experiment run --transport kafka stopped by SIGTERM', (brokers) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kafka-sigterm-'));
  afterAll(() => {
    for (const pid of processesWithArtifacts(path.join(dir, 'runs'))) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 143 and leaves no service or student running', async () => {
    const name = uniqueName('sigterm').replace(/[^a-z0-9-]/g, '-');
    await trainTinyTeacher(path.join(dir, 'T'), 600);
    const manifest = writeTinyManifest(path.join(dir, 'kafka.yaml'), name, path.join(dir, 'T', 'teacher.onnx'), { store: 'kafka' });
    const artifacts = path.join(dir, 'runs');
    const child = spawn(process.execPath, [CLI, 'experiment', 'run', manifest, '--transport', 'kafka', '--brokers', brokers, '--out', path.join(artifacts, name)], {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: string) => {
        stderr += d;
        if (/training \d+ students/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`the run ended before its students started:\n${stderr}`)));
    });
    // The two services and at least one student (spawned just after that line).
    const t0 = Date.now();
    while (processesWithArtifacts(artifacts).length < 3 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(processesWithArtifacts(artifacts).length).toBeGreaterThanOrEqual(3);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/SIGTERM: stopping \d+ students? \(each saves a checkpoint\) and the services/);
    expect(stderr).toMatch(/stopped by SIGTERM; run the same command again to resume/);
    expect(processesWithArtifacts(artifacts)).toEqual([]);
  });
});
