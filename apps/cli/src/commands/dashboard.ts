import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

export function registerDashboardCommands(program: Command): void {
  program
    .command('dashboard')
    .description('serve run folders in the browser (embedded or Kafka, finished or running; no broker needed): Table 1 with mean ± std and Δ vs None, per-strategy bars, loss curves, angle figures, artifacts, an in-browser demo')
    .argument('<runs dir>', 'a run folder (runs/<name>) or a folder of runs (runs/), like tensorboard --logdir')
    .option('--port <n>', 'port to listen on (0: any free port)', (v: string) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError(`--port must be a port number 0-65535, got '${v}'`);
      return Number(v);
    }, 6006)
    .option('--host <address>', 'address to listen on; the default serves this machine only', '127.0.0.1')
    .addHelpText('after', '\nExample:\n  strata dashboard runs/ --port 6006   then open http://127.0.0.1:6006/\n')
    .action(async (root: string, o: { port: number; host: string }) => {
      // Loaded here so `strata --help` does not pay for the dashboard's imports.
      const { startDashboard } = require('@strata/dashboard') as typeof import('@strata/dashboard');
      const d = await startDashboard({ root, port: o.port, host: o.host, log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`strata dashboard: ${d.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void d.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
