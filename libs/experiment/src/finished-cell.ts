// A finished cell found again on resume, whatever the family: a re-run skips a cell whose result.json carries the
// hash the cell would have now, and brings a file from an older run into the current shape.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './files';
import type { ModelSize, ResultCell } from './report';
import { isLegacyCell, upgradeCell, type UpgradeFill } from './results';

/**
 * students/<cellId>/result.json when its hash is `hash`, else undefined. A schemaVersion-1 file takes what it cannot
 * tell from `fill` (asked only for such a file) and, when it lacked its wall time, is rewritten in the current shape.
 */
export function finishedResult(outDir: string, cellId: string, hash: string, fill: (raw: { depth?: number }) => Omit<UpgradeFill, 'file'>): ResultCell | undefined {
  const file = path.join(outDir, 'students', cellId, 'result.json');
  if (!fs.existsSync(file)) return undefined;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { hash?: string; depth?: number; wallSeconds?: number };
  if (raw.hash !== hash) return undefined;
  const done = upgradeCell(raw, { file, ...(isLegacyCell(raw) ? fill(raw) : {}) });
  if (raw.wallSeconds === undefined) writeJsonAtomic(file, done);
  return done;
}

/** The sizes of students/<cellId>.onnx as exported, if it is there. */
export function savedStudentSize(outDir: string, cellId: string, parameters: () => number): ModelSize | undefined {
  const onnx = path.join(outDir, 'students', `${cellId}.onnx`);
  return fs.existsSync(onnx) ? { parameters: parameters(), onnxBytes: fs.statSync(onnx).size } : undefined;
}
