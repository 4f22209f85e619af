// Writes docs/MANIFEST.md from the manifest schema: `npx tsx libs/experiment/scripts/manifest-doc.ts`.
// `--check` writes nothing and exits 1 when the committed file differs (what manifest-doc.test.ts asserts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_DOC_COMMAND, MANIFEST_DOC_EXAMPLE, MANIFEST_DOC_PATH, renderManifestReference } from '../src/manifest-doc';

const repo = path.resolve(__dirname, '../../..');
const target = path.join(repo, MANIFEST_DOC_PATH);
const text = renderManifestReference(fs.readFileSync(path.join(repo, MANIFEST_DOC_EXAMPLE), 'utf8'));
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== text) {
    console.error(`${MANIFEST_DOC_PATH} is out of date; regenerate: ${MANIFEST_DOC_COMMAND}`);
    process.exit(1);
  }
  console.log(`${MANIFEST_DOC_PATH} is current`);
} else {
  fs.writeFileSync(target, text);
  console.log(`wrote ${MANIFEST_DOC_PATH}`);
}
