import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { runExperiment } from '@strata/experiment';

export function registerExperimentCommands(program: Command): void {
  const experiment = program.command('experiment').description('run a whole layer-selection experiment from a manifest');
  experiment
    .command('run')
    .description('teacher -> cached states -> every student cell -> evaluation -> angle analysis -> report (re-running skips finished cells)')
    .argument('<manifest.yaml>', 'Experiment manifest (apiVersion strata.dev/v1alpha1)')
    .option('--out <dir>', 'output directory (default runs/<metadata.name>)')
    .option('--json', 'print results.json to stdout when done')
    .action(async (manifest: string, o: { out?: string; json?: boolean }) => {
      const { outDir, results } = await runExperiment(manifest, { outDir: o.out });
      if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else process.stdout.write(`\n${fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')}\nreport: ${outDir}/report.md\nresults: ${outDir}/results.json\n`);
    });
}
