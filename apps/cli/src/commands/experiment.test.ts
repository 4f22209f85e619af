// `strata experiment run` as a real process sent SIGTERM mid-training (what Ctrl-C, `kubectl delete` or an
// eviction does): the students in their worker threads checkpoint where they are, the process exits 143, and the
// same command resumes them to the students of a run that was never stopped, byte for byte.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainTinyTeacher, writeTinyManifest, type ExperimentResults } from '@strata/experiment';

jest.setTimeout(300_000);
const CLI = path.resolve(__dirname, '../../bin/strata.js');

/** Runs the CLI; calls `onStderr` with all stderr so far after each chunk. */
function strata(args: string[], onStderr: (text: string, kill: (signal: NodeJS.Signals) => void) => void = () => undefined): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      onStderr(stderr, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('strata experiment run, stopped by a signal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-signal-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('on SIGTERM checkpoints the students in flight and exits 143; run again, it resumes them to the same students, byte for byte', async () => {
    await trainTinyTeacher(path.join(dir, 'T'), 600);
    // Four epochs (76 steps a student) so that the signal lands mid-training.
    const manifest = writeTinyManifest(path.join(dir, 'exp.yaml'), 'signalled', path.join(dir, 'T', 'teacher.onnx'), { store: 'file', strategies: ['none', 'forward'], epochs: 4 });
    const run = (out: string, onStderr?: Parameters<typeof strata>[1]) => strata(['experiment', 'run', manifest, '--out', path.join(dir, out), '--parallelism', '2'], onStderr);
    expect((await run('straight')).code).toBe(0);
    const straight = JSON.parse(fs.readFileSync(path.join(dir, 'straight', 'results.json'), 'utf8')) as ExperimentResults;

    const out = path.join(dir, 'stopped');
    let sent = false;
    const stopped = await run('stopped', (text, kill) => {
      // The first progress line of a student: it has taken its first step.
      if (!sent && /student \S+: \d+\/\d+ \(/.test(text)) {
        sent = true;
        kill('SIGTERM');
      }
    });
    expect(sent).toBe(true);
    expect(stopped.stderr).toContain('SIGTERM: stopping after the steps in flight and saving checkpoints');
    expect(stopped.stderr).toMatch(/strata: student \S+: stopped by SIGTERM after step \d+; checkpoint saved to \S+student\.ckpt; run the same command again to resume/);
    expect(stopped.code).toBe(143);
    const saved = fs.readdirSync(path.join(out, 'students')).filter((c) => fs.existsSync(path.join(out, 'students', c, 'student.ckpt')));
    expect(saved.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);

    const resumed = await run('stopped');
    expect(resumed.code).toBe(0);
    // Each student stopped mid-way resumes from the step it stopped at, not from a checkpoint-cadence step.
    // Every student ends its progress bar with the step it stopped at; the first one's error is the process's message.
    const stoppedAt = [...stopped.stderr.matchAll(/student (\S+): stopped by SIGTERM at step (\d+)/g)].map((m) => [m[1], m[2]]);
    expect(stoppedAt.length).toBeGreaterThan(0);
    for (const [label, step] of stoppedAt) expect(resumed.stderr).toContain(`student ${label}: resuming from step ${step} `);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.cells.map((c) => c.id)).toEqual(straight.cells.map((c) => c.id));
    for (const [i, c] of results.cells.entries()) {
      expect(c.hash).toBe(straight.cells[i].hash);
      expect(c.metrics).toEqual(straight.cells[i].metrics);
      expect(fs.readFileSync(path.join(out, 'students', `${c.id}.onnx`)).equals(fs.readFileSync(path.join(dir, 'straight', 'students', `${c.id}.onnx`)))).toBe(true);
    }
  });
});

describe('strata experiment run --transport kafka without a broker', () => {
  it('fails in seconds, before training anything, naming the address and the connection error', async () => {
    const net = await import('node:net');
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as import('node:net').AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-nobroker-'));
    try {
      const t0 = Date.now();
      const r = await strata(['experiment', 'run', path.resolve(__dirname, '../../../../examples/quickstart.yaml'), '--transport', 'kafka', '--brokers', `127.0.0.1:${port}`, '--out', path.join(out, 'run')]);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no Kafka broker answers at 127.0.0.1:${port} (127.0.0.1:${port}: ECONNREFUSED`);
      expect(r.stderr).not.toContain('teacher 4L/64H');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
