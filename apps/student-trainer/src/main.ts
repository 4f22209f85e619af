// student-trainer: trains one grid cell from teacher states streamed over Kafka (docs/SERVICES.md), or, with
// --listen, every cell requested on strata.runs.
import * as fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { Interrupted, RUNS_TOPIC, RUNS_TOPIC_SPEC, RunEventPublisher, experimentManifestSchema, onStopRequest, readManifestFile, parseRunEvent, stopRequested, withStopOnSignals, type ExperimentManifest } from '@strata/experiment';
import { createKafkaClient } from '@strata/kafka';
import { serviceConfig, useServiceLogFormat } from '@strata/service';
import { runCell, type CellSpec } from './cell';

const index = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a cell index (0, 1, ...), got '${v}'`);
  return Number(v);
};

export function readManifest(file: string): ExperimentManifest {
  if (!fs.existsSync(file)) throw new Error(`manifest '${file}' not found`);
  return readManifestFile(file);
}

/** The cell to train from flags, else from the environment of a Kubernetes Indexed Job. */
export function cellFromArgs(o: { cell?: string; cellIndex?: number }, env: NodeJS.ProcessEnv): CellSpec['cell'] {
  if (o.cell !== undefined && o.cellIndex !== undefined) throw new Error('give --cell or --cell-index, not both');
  if (o.cell !== undefined) return { id: o.cell };
  if (o.cellIndex !== undefined) return { index: o.cellIndex };
  if (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '') return { index: index(env.JOB_COMPLETION_INDEX) };
  throw new Error('which cell? give --cell <id>, --cell-index <n>, or run as an Indexed Job (JOB_COMPLETION_INDEX)');
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('student-trainer')
    .description('train one grid cell of an experiment from teacher states streamed over Kafka')
    .option('--manifest <file>', 'experiment manifest (default $STRATA_MANIFEST)')
    .option('--cell <id>', 'cell id, e.g. forward-copy-d3-s1')
    .option('--cell-index <n>', 'n-th cell of the grid, zero-based (default $JOB_COMPLETION_INDEX)', index)
    .option('--dir <dir>', 'experiment directory under $STRATA_ARTIFACTS (default metadata.name)')
    .option('--teacher <onnx>', 'teacher under $STRATA_ARTIFACTS (default <dir>/teacher/teacher.onnx)')
    .option('--checkpoint-every <steps>', 'checkpoint every this many steps besides each epoch end (default 200)', (v: string) => {
      if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`must be a positive integer, got '${v}'`);
      return Number(v);
    })
    .option('--listen', 'train the cells requested on strata.runs, one after another')
    .option('--group <id>', 'consumer group of --listen trainers (they share the requests)', 'strata-student-trainers')
    .showHelpAfterError();
  program.parse(argv);
  // After parsing, so --help and usage errors stay plain text for the person typing them.
  useServiceLogFormat('student-trainer');
  const o = program.opts<{ manifest?: string; cell?: string; cellIndex?: number; dir?: string; teacher?: string; listen?: boolean; checkpointEvery?: number; group: string }>();
  const config = serviceConfig(0);
  const client = createKafkaClient({ brokers: config.brokers, clientId: 'strata-student-trainer' });
  const events = new RunEventPublisher(client);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const progressEveryMs = process.env.STRATA_PROGRESS_EVERY_MS ? Number(process.env.STRATA_PROGRESS_EVERY_MS) : undefined;
  if (progressEveryMs !== undefined && !(progressEveryMs >= 0)) throw new Error(`STRATA_PROGRESS_EVERY_MS='${process.env.STRATA_PROGRESS_EVERY_MS}' is not a number of milliseconds`);
  const options = { client, events, artifacts: config.artifacts, dataRoot: config.dataRoot, log, progressEveryMs, checkpointEvery: o.checkpointEvery };
  try {
    if (o.listen) {
      await client.ensureTopics([RUNS_TOPIC_SPEC]);
      const reader = await client.read(RUNS_TOPIC, { groupId: o.group, from: 'committed' });
      log(`listening for run requests on ${RUNS_TOPIC} (group ${o.group})`);
      // A stop request (SIGTERM, SIGINT) ends the wait for requests. A cell in flight checkpoints and stops, and its
      // request stays uncommitted, so the group's next trainer (or this one, restarted) takes it up and resumes it.
      const unsubscribe = onStopRequest(() => void reader.close());
      try {
        await withStopOnSignals(async () => {
          requests: for await (const batch of reader) {
            for (const m of batch) {
              const { event, error } = parseRunEvent(m.value);
              if (error) log(`strata.runs offset ${m.offset}: ignoring a bad event (${error})`);
              if (event?.type !== 'requested') continue;
              const parsed = experimentManifestSchema.safeParse(event.manifest);
              if (!parsed.success) {
                await events.publish({ type: 'failed', experiment: event.experiment, cellId: event.cellId, error: `bad manifest: ${parsed.error.issues[0]?.message}` });
                continue;
              }
              try {
                await runCell({ manifest: parsed.data, dir: event.dir, cell: { id: event.cellId } }, options);
              } catch (e) {
                log(`${event.cellId}: ${(e as Error).message}`);
                if (e instanceof Interrupted) break requests;
              }
            }
            await reader.commit();
            if (stopRequested() !== undefined) break;
          }
        }, log);
      } finally {
        unsubscribe();
      }
      return;
    }
    const file = o.manifest ?? process.env.STRATA_MANIFEST;
    if (!file) throw new Error('no manifest: give --manifest <file> or set STRATA_MANIFEST');
    const { cell, skipped } = await withStopOnSignals(() => runCell({ manifest: readManifest(file), dir: o.dir, cell: cellFromArgs(o, process.env), teacher: o.teacher }, options), log);
    log(`${cell.id}: ${skipped ? 'already finished' : 'finished'}`);
  } finally {
    await events.close();
    await client.close();
  }
}
