// The run folder's file writes: every results.json, result.json and training record is replaced whole, so a reader
// (the dashboard, `strata status`, a resumed run) never sees half a file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** JSON as every record of a run is written: two-space indent and a final newline. */
export const writeJsonAtomic = (file: string, value: unknown) => writeAtomic(file, `${JSON.stringify(value, null, 2)}\n`);

/** The teacher's identity in cell hashes and run events: its bytes, not its path. */
export const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
