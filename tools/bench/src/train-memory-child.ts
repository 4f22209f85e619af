// One variant of the train-memory bench, in a process of its own so that its peak resident size is its own.
import { runTrainMemoryVariant } from './train-memory';

const { name, layers, shapes, rounds } = JSON.parse(process.argv[2]);
runTrainMemoryVariant(name, layers, shapes, rounds).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
