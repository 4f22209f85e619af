// One variant of the generation-memory bench, in a process of its own so that its peak resident size is its own.
import { runGenerationMemoryVariant } from './generation-memory';

const { layers, maxLength, shapes, openSessions } = JSON.parse(process.argv[2]);
runGenerationMemoryVariant(layers, maxLength, shapes, openSessions).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
