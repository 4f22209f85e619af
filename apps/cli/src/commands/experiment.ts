import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { runExperiment, withStopOnSignals } from '@strata/experiment';
import { runExperimentOverKafka } from '../kafka-run';

export function registerExperimentCommands(program: Command): void {
  const experiment = program.command('experiment').description('run a whole layer-selection experiment from a manifest');
  experiment
    .command('run')
    .description('teacher -> cached states -> every student cell -> evaluation -> angle analysis -> report (re-running skips finished cells)')
    .argument('<manifest.yaml>', 'Experiment manifest (apiVersion strata.dev/v1alpha1)')
    .option('--out <dir>', 'output directory (default runs/<metadata.name>)')
    .option('--json', 'print results.json to stdout when done')
    .option('--transport <mode>', 'embedded (one process, file cache) or kafka (teacher-inference, student-trainers and evaluator as local processes over Kafka)', (v: string) => {
      if (v !== 'embedded' && v !== 'kafka') throw new InvalidArgumentError(`--transport must be embedded or kafka, got '${v}'`);
      return v;
    }, 'embedded')
    .option('--brokers <list>', 'Kafka bootstrap servers for --transport kafka (default $STRATA_BROKERS or 127.0.0.1:9092)')
    .option('--parallelism <n>', 'students at once: worker threads of an embedded run (default spec.resources.parallelism, else 1) or student-trainer processes of --transport kafka (default spec.resources.parallelism, else up to 5)', (v: string) => {
      if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`--parallelism must be a positive integer, got '${v}'`);
      return Number(v);
    })
    .option('--stall-timeout <seconds>', '--transport kafka: once the students have exited, fail naming the cells still missing when the evaluator scores none for this long (default 600)', (v: string) => {
      if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`--stall-timeout must be a positive number of seconds, got '${v}'`);
      return Number(v);
    })
    .action(async (manifest: string, o: { out?: string; json?: boolean; transport: 'embedded' | 'kafka'; brokers?: string; parallelism?: number; stallTimeout?: number }) => {
      const { outDir, results } =
        o.transport === 'kafka'
          ? await withStopOnSignals(() => runExperimentOverKafka(manifest, { outDir: o.out, brokers: o.brokers ?? process.env.STRATA_BROKERS ?? '127.0.0.1:9092', parallelism: o.parallelism, ...(o.stallTimeout ? { evaluatorTimeoutMs: o.stallTimeout * 1000 } : {}) }))
          : await withStopOnSignals(() => runExperiment(manifest, { outDir: o.out, parallelism: o.parallelism }));
      if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else process.stdout.write(`\n${fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')}\nreport: ${outDir}/report.md\nresults: ${outDir}/results.json\n`);
    });
}
