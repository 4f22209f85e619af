import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from './ir';
import { decodeModel, encodeModel } from './proto';

export function readModel(file: string): Model {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ONNX model '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return decodeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** Writes atomically (temp file + rename), so a crash never leaves a half-written model. */
export function writeModel(file: string, model: Model): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, encodeModel(model));
  fs.renameSync(tmp, file);
}
