// `strata cache verify|repair <dir>`: a file cache checked record by record (checksums, ids, the manifest), and
// cut back to its undamaged prefix so that the next run caches the rest again. Nothing else rewrites segment bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crcOfCrc } from './crc32c';
import { ActivationError } from './errors';
import { decodeRecord, readRecordHeader } from './record';
import { FRAME_HEADER, SEGMENT_RE, type CacheManifest } from './file-store';

export interface CacheDamage {
  /** The damaged segment file (absolute); undefined when the records are sound and the manifest is what disagrees. */
  segment?: string;
  /** Byte offset of the first damaged frame in it. */
  offset?: number;
  /** Index of the first damaged record in append order. */
  index: number;
  message: string;
}

export interface CacheCheck {
  dir: string;
  /** Sound records before the damage (all of them when there is none). */
  records: number;
  /** Bytes of an unfinished last record (an interrupted writer: normal, cut off by the next writer). */
  tornTailBytes: number;
  /** Whether manifest.json exists. */
  complete: boolean;
  damage?: CacheDamage;
}

/** Reads every record of the cache in `dir` (`<root>/<cacheKey>`), checking each checksum, id and the manifest. */
export function verifyCache(dir: string): CacheCheck {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ActivationError('NOT_FOUND', `${dir} is not a cache directory (expected <cache root>/<cache key>/ holding segment-*.acts)`);
  const segments = fs.readdirSync(dir).filter((n) => SEGMENT_RE.test(n)).sort();
  const manifestFile = path.join(dir, 'manifest.json');
  const complete = fs.existsSync(manifestFile);
  const ids = new Set<string>();
  let records = 0;
  let crc = 0;
  let tornTailBytes = 0;
  const result = (damage?: CacheDamage): CacheCheck => ({ dir, records, tornTailBytes, complete, ...(damage ? { damage } : {}) });
  scan: for (let s = 0; s < segments.length; s++) {
    const file = path.join(dir, segments[s]);
    const bytes = fs.readFileSync(file);
    const isLast = s === segments.length - 1;
    let off = 0;
    while (off < bytes.length) {
      const damaged = (message: string) => result({ segment: file, offset: off, index: records, message });
      if (bytes.length - off < FRAME_HEADER) {
        if (isLast) {
          tornTailBytes = bytes.length - off;
          break scan;
        }
        return damaged('a frame header cut short in a non-final segment');
      }
      const length = bytes.readUInt32LE(off);
      // space a crashed writer extended but never wrote, as FileStore treats it
      if (length === 0 && isLast && bytes.subarray(off).every((b) => b === 0)) {
        tornTailBytes = bytes.length - off;
        break scan;
      }
      const end = off + FRAME_HEADER + length;
      if (end > bytes.length) {
        if (isLast) {
          tornTailBytes = bytes.length - off;
          break scan;
        }
        return damaged(`a record of ${length} bytes runs past the end of a non-final segment`);
      }
      const record = new Uint8Array(bytes.buffer, bytes.byteOffset + off + FRAME_HEADER, length);
      try {
        const h = readRecordHeader(record);
        decodeRecord(record);
        if (ids.has(h.exampleId)) return damaged(`example id "${h.exampleId}" appears a second time`);
        ids.add(h.exampleId);
        crc = crcOfCrc(crc, h.crc);
      } catch (err) {
        return damaged((err as Error).message);
      }
      records++;
      off = end;
    }
  }
  if (complete) {
    let m: CacheManifest;
    try {
      m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CacheManifest;
    } catch (err) {
      return result({ index: records, message: `${manifestFile} is not valid JSON: ${(err as Error).message}` });
    }
    const hex = (crc >>> 0).toString(16).padStart(8, '0');
    if (m.count !== records || m.recordsCrc32c !== hex) return result({ index: records, message: `${manifestFile} says ${m.count} records with CRC ${m.recordsCrc32c}; the segments hold ${records} with CRC ${hex}` });
    if (m.cacheKey !== path.basename(dir)) return result({ index: records, message: `${manifestFile} is for cache ${m.cacheKey}, not ${path.basename(dir)}` });
  }
  return result();
}

export interface CacheRepair extends CacheCheck {
  /** Records dropped with the damaged frame and everything after it. */
  dropped: number;
  /** Files removed or cut. */
  changed: string[];
}

/**
 * Keeps the sound prefix of a damaged cache: cuts the damaged segment at the first bad record, deletes the segments
 * after it, and removes index.json and manifest.json (the next open rebuilds the index; the next cache run appends
 * the dropped examples and completes it). A cache without damage is left as it is.
 */
export function repairCache(dir: string): CacheRepair {
  const check = verifyCache(dir);
  if (!check.damage) return { ...check, dropped: 0, changed: [] };
  const changed: string[] = [];
  const all = fs.readdirSync(dir).filter((n) => SEGMENT_RE.test(n)).sort().map((n) => path.join(dir, n));
  let dropped = 0;
  const { segment, offset } = check.damage;
  if (segment !== undefined && offset !== undefined) {
    const after = all.slice(all.indexOf(segment) + 1);
    dropped = countFrames(segment, offset) + after.reduce((n, f) => n + countFrames(f, 0), 0);
    fs.truncateSync(segment, offset);
    changed.push(segment);
    for (const f of after) {
      fs.rmSync(f);
      changed.push(f);
    }
  }
  for (const name of ['index.json', 'manifest.json']) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) {
      fs.rmSync(f);
      changed.push(f);
    }
  }
  return { ...check, complete: false, dropped, changed };
}

/** Frames from `offset` on, as far as their length prefixes can be followed (a damaged one counts as one). */
function countFrames(file: string, offset: number): number {
  const bytes = fs.readFileSync(file);
  let n = 0;
  for (let off = offset; off + FRAME_HEADER <= bytes.length; n++) {
    const length = bytes.readUInt32LE(off);
    if (length === 0) break;
    off += FRAME_HEADER + length;
  }
  return n;
}
