// The child side of runInOwnProcess: one variant of one memory bench, its result as a JSON line.
import { runGenerationMemoryVariant } from './generation-memory';
import { runTrainMemoryVariant } from './train-memory';

const [bench, json] = process.argv.slice(2);
const a = JSON.parse(json);
const work = bench === 'train-memory' ? runTrainMemoryVariant(a.name, a.layers, a.shapes, a.rounds) : runGenerationMemoryVariant(a.layers, a.maxLength, a.shapes, a.openSessions);
work.then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
