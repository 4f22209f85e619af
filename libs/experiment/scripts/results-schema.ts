// Writes docs/results.schema.json from the zod schema of results.json: `npx tsx libs/experiment/scripts/results-schema.ts`.
// `--check` writes nothing and exits 1 when the committed file differs (results-schema.test.ts asserts the same).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_SCHEMA_COMMAND, RESULTS_SCHEMA_PATH, resultsSchemaText } from '../src/results-schema';

const target = path.join(path.resolve(__dirname, '../../..'), RESULTS_SCHEMA_PATH);
const text = resultsSchemaText();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== text) {
    console.error(`${RESULTS_SCHEMA_PATH} is out of date; regenerate: ${RESULTS_SCHEMA_COMMAND}`);
    process.exit(1);
  }
  console.log(`${RESULTS_SCHEMA_PATH} is current`);
} else {
  fs.writeFileSync(target, text);
  console.log(`wrote ${RESULTS_SCHEMA_PATH}`);
}
