import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UsageError, requireFile } from '../cli-errors';
import { parseCellGlobs, selectCells } from '../cells';

const MANIFEST = 'an experiment manifest (.yaml or .json, apiVersion strata.dev/v1alpha1)';

function cellsOption(v: string): string[] {
  try {
    return parseCellGlobs(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

interface RunFlags {
  out?: string;
  json?: boolean;
  transport: 'embedded' | 'kafka';
  brokers?: string;
  parallelism?: number;
  stallTimeout?: number;
  dryRun?: boolean;
  cells?: string[];
}

/** The ids --cells picks from the manifest's grid (ids do not depend on the teacher), or a usage error naming them all. */
function selectedCells(manifestPath: string, globs: string[]): string[] {
  // Loaded here: registering the command must not load the pipeline (strata --help).
  const { planGrid, readManifestFile } = require('@strata/experiment') as typeof import('@strata/experiment');
  const ids = planGrid(readManifestFile(manifestPath)).map((c) => c.id);
  try {
    return selectCells(ids, globs);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** validate and --dry-run: prints the report; exit 1 when the manifest cannot run. */
async function validate(manifest: string, o: { json?: boolean; cells?: string[]; out?: string }): Promise<void> {
  const { validateExperiment, formatValidation } = require('../validate') as typeof import('../validate');
  const report = await validateExperiment(manifest);
  const selected = o.cells && report.grid ? selectCells(report.grid.ids, o.cells) : undefined;
  let finished: string[] | undefined;
  const outDir = path.resolve(o.out ?? path.join('runs', report.name ?? ''));
  if (report.name && fs.existsSync(outDir)) {
    const { readRunStatus } = require('@strata/experiment') as typeof import('@strata/experiment');
    finished = readRunStatus(outDir).cells.filter((c) => c.state === 'done').map((c) => c.id);
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ ...report, ...(selected ? { selected } : {}), ...(finished ? { outDir, finished } : {}) })}\n`);
  else {
    let text = formatValidation(report);
    if (selected) text += `--cells: ${selected.length} of ${report.grid!.cells} cells: ${selected.join(', ')}\n`;
    if (finished) text += `${outDir}: ${finished.length} cell${finished.length === 1 ? '' : 's'} finished earlier (a run skips them when nothing changed)\n`;
    process.stdout.write(text);
  }
  if (!report.valid) process.exitCode = 1;
}

export function registerExperimentCommands(program: Command): void {
  const experiment = program.command('experiment').description('run, validate or dry-run a whole layer-selection experiment from a manifest');
  experiment
    .command('run')
    .description('teacher -> cached states -> every student cell -> evaluation -> angle analysis -> report (re-running skips finished cells)')
    .argument('<manifest.yaml>', 'Experiment manifest (apiVersion strata.dev/v1alpha1)')
    .option('--out <dir>', 'output directory (default runs/<metadata.name>)')
    .option('--json', 'print results.json to stdout when done')
    .option('--dry-run', 'check everything strata experiment validate checks, print the grid and the estimated time, and train nothing')
    .option('--cells <globs>', 'train only the cells whose ids match (comma-separated globs, e.g. forward-*-d2-s1,none-*); results.json and the report cover the cells finished so far and name the missing ones', cellsOption)
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
    .addHelpText('after', [
      '',
      'Examples:',
      '  strata experiment run examples/quickstart.yaml                        # the whole grid into runs/quickstart-spam',
      '  strata experiment run examples/quickstart.yaml --dry-run              # check it and estimate the time first',
      "  strata experiment run examples/quickstart.yaml --cells 'forward-*-s1' # two cells now, the rest later",
      '  strata experiment run examples/quickstart.yaml --transport kafka --brokers 127.0.0.1:9092',
    ].join('\n'))
    .action(async (manifest: string, o: RunFlags) => {
      requireFile(manifest, MANIFEST);
      if (o.dryRun) return validate(manifest, o);
      const cells = o.cells ? selectedCells(manifest, o.cells) : undefined;
      const { runExperiment, withStopOnSignals } = require('@strata/experiment') as typeof import('@strata/experiment');
      let run;
      if (o.transport === 'kafka') {
        // Kafka clients take about a second to load: only runs over Kafka pay for them.
        const { runExperimentOverKafka } = require('../kafka-run') as typeof import('../kafka-run');
        const brokers = o.brokers ?? brokersFromEnv() ?? '127.0.0.1:9092';
        run = () => runExperimentOverKafka(manifest, { outDir: o.out, brokers, parallelism: o.parallelism, cells, ...(o.stallTimeout ? { evaluatorTimeoutMs: o.stallTimeout * 1000 } : {}) });
      } else run = () => runExperiment(manifest, { outDir: o.out, parallelism: o.parallelism, cells });
      const { outDir, results } = await withStopOnSignals(run);
      if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else process.stdout.write(`\n${fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')}\nreport: ${outDir}/report.md\nresults: ${outDir}/results.json\n`);
    });

  experiment
    .command('validate')
    .description('check a manifest without training: schema and cross-field rules, the files it names, the task\'s data under the data root (where it looked), the grid, and a rough time estimate; exit 0 valid, 1 invalid, 2 usage error')
    .argument('<manifest.yaml>', 'Experiment manifest (apiVersion strata.dev/v1alpha1)')
    .option('--out <dir>', 'also report the cells already finished in this run folder (default runs/<metadata.name>)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExample:\n  strata experiment validate examples/sst2.yaml   # data found under ../shared/data/sst2? grid size, estimated time')
    .action(async (manifest: string, o: { json?: boolean; out?: string }) => {
      requireFile(manifest, MANIFEST);
      await validate(manifest, o);
    });
}

/** $STRATA_BROKERS, or the deprecated $STRATA_KAFKA_BROKERS with a warning. */
export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STRATA_BROKERS) return env.STRATA_BROKERS;
  if (env.STRATA_KAFKA_BROKERS) {
    process.stderr.write('warning: STRATA_KAFKA_BROKERS is deprecated; set STRATA_BROKERS (the services read that name)\n');
    return env.STRATA_KAFKA_BROKERS;
  }
  return undefined;
}
