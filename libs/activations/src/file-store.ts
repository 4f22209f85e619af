import * as fs from 'node:fs';
import * as path from 'node:path';
import { crcOfCrc, hex8 } from './crc32c';
import { ActivationError, RecordPosition } from './errors';
import { decodeRecord, encodeRecord, readRecordHeader, type DecodeOptions, type ActivationDtype, type ActivationRecord, type ActivationRecordInput, type RecordHeader } from './record';

export const DEFAULT_SEGMENT_BYTES = 256 * 1024 * 1024;
/** Bytes of a frame's length prefix (little-endian uint32) before each record. */
export const FRAME_HEADER = 4;
const MIN_RECORD = 36;
const INDEX_FILE = 'index.json';
const MANIFEST_FILE = 'manifest.json';
export const SEGMENT_RE = /^segment-(\d{6})\.acts$/;
/** What to do about a damaged cache, in every message that reports one. */
export const REPAIR_HINT = (dir: string) => `\`strata cache repair ${dir}\` keeps the records before the damage and drops the rest, which the next run caches again`;
const STORE_VERSION = 1;

export interface FileStoreOptions {
  /** Bytes after which a new segment starts (a record larger than this gets a segment of its own). Default 256 MiB. */
  segmentBytes?: number;
  /** Open for reading only: a torn tail is skipped, never truncated; appends and complete() are refused. */
  readOnly?: boolean;
  /** fsync the segment after every append (default false: fsync at rotation, close and complete). */
  fsyncEachAppend?: boolean;
}

/** The completion manifest: the only signal that a cache is whole. */
export interface CacheManifest {
  version: number;
  cacheKey: string;
  count: number;
  /** CRC32C (hex) over the records' own CRC32Cs, each as 4 little-endian bytes, in append order. */
  recordsCrc32c: string;
  layers: number[];
  dtype: ActivationDtype;
  hiddenSize: number;
  segments: { name: string; bytes: number }[];
  /** ISO 8601. */
  createdAt: string;
  /** Caller's extra fields (teacher path, dataset, timings, ...). */
  meta?: Record<string, unknown>;
}

export interface CompletionInfo {
  /** Must equal the records' layers when there are records; required to describe an empty cache. */
  layers?: number[];
  dtype?: ActivationDtype;
  meta?: Record<string, unknown>;
}

/** Where one record lives. `offset` is its frame's offset (the length prefix); the record starts 4 bytes later. */
export interface IndexEntry {
  exampleId: string;
  segment: number;
  offset: number;
  length: number;
  crc: number;
}

interface Layout {
  layers: number[];
  dtype: ActivationDtype;
  hiddenSize: number;
}

interface IndexFile {
  version: number;
  cacheKey: string;
  segments: { name: string; bytes: number }[];
  layout: Layout | null;
  /** [exampleId, segment, offset, length, crc] */
  entries: [string, number, number, number, number][];
}

export function segmentName(i: number): string {
  return `segment-${String(i).padStart(6, '0')}.acts`;
}

/**
 * The embedded activation store: `<root>/<cacheKey>/` holds append-only segment files of length-prefixed records,
 * `index.json` (example id -> segment, offset, length; rebuilt from the segments when missing or stale) and, once
 * the cache is whole, `manifest.json`. One writer per cache directory (not enforced); any number of readers.
 */
export class FileStore {
  readonly dir: string;
  readonly cacheKey: string;
  readonly readOnly: boolean;
  private readonly segmentBytes: number;
  private readonly fsyncEachAppend: boolean;
  private segments: { name: string; bytes: number }[] = [];
  private entries: IndexEntry[] = [];
  private byId = new Map<string, number>();
  private layout: Layout | null = null;
  private recordsCrc = 0;
  private manifest: CacheManifest | undefined;
  private readFds = new Map<number, number>();
  private writeFd: number | undefined;
  private indexDirty = false;
  private closed = false;
  /** Segments and torn bytes found when the store was opened (or refreshed). */
  private lastScan = { truncatedBytes: 0, rebuiltIndex: false };
  /** Whether the entries came from index.json at open (a claim to verify before certifying it) rather than a scan. */
  private indexFromFile = false;

  private constructor(root: string, cacheKey: string, options: FileStoreOptions) {
    if (!/^[0-9A-Za-z._-]+$/.test(cacheKey)) throw new ActivationError('INVALID_RECORD', `cache key "${cacheKey}" is not a plain file name`);
    this.dir = path.join(root, cacheKey);
    this.cacheKey = cacheKey;
    this.readOnly = options.readOnly ?? false;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.fsyncEachAppend = options.fsyncEachAppend ?? false;
    if (!(this.segmentBytes > 0)) throw new ActivationError('INVALID_RECORD', `segmentBytes must be positive, got ${this.segmentBytes}`);
  }

  /**
   * Opens (a writer creates) the cache directory `<root>/<cacheKey>`, loads the index, scans whatever the index does
   * not cover, truncates a torn tail (writer) or ignores it (reader), and checks the manifest against the records.
   */
  static open(root: string, cacheKey: string, options: FileStoreOptions = {}): FileStore {
    const store = new FileStore(root, cacheKey, options);
    if (!store.readOnly) fs.mkdirSync(store.dir, { recursive: true });
    store.load();
    return store;
  }

  /** Number of records served. */
  get count(): number {
    return this.entries.length;
  }

  /** What opening found: bytes cut off as a torn tail, and whether the index had to be rebuilt from scratch. */
  get openReport(): { truncatedBytes: number; rebuiltIndex: boolean } {
    return { ...this.lastScan };
  }

  has(exampleId: string): boolean {
    return this.byId.has(exampleId);
  }

  /** Example ids in append order. */
  ids(): string[] {
    return this.entries.map((e) => e.exampleId);
  }

  /** Where a record lives, or undefined. */
  locate(exampleId: string): IndexEntry | undefined {
    const i = this.byId.get(exampleId);
    return i === undefined ? undefined : { ...this.entries[i] };
  }

  /**
   * Appends one record (or its already-encoded bytes). Refuses (`DUPLICATE_ID`) an id the cache already holds,
   * (`CACHE_COMPLETE`) any append once the manifest exists, and (`MISMATCH`) layers / dtype / hidden size that differ
   * from the cache's first record.
   */
  append(record: ActivationRecordInput | Uint8Array): IndexEntry {
    this.assertOpen();
    if (this.readOnly) throw new ActivationError('CLOSED', `${this.dir} is open read-only`);
    if (this.manifest || fs.existsSync(path.join(this.dir, MANIFEST_FILE))) {
      throw new ActivationError('CACHE_COMPLETE', `cache ${this.cacheKey} is complete (manifest written); appends are refused`);
    }
    const bytes = record instanceof Uint8Array ? record : encodeRecord(record);
    const h = readRecordHeader(bytes);
    const existing = this.byId.get(h.exampleId);
    if (existing !== undefined) {
      const e = this.entries[existing];
      throw new ActivationError('DUPLICATE_ID', `example id "${h.exampleId}" is already in cache ${this.cacheKey}; duplicates are refused`, {
        index: existing,
        segment: path.join(this.dir, this.segments[e.segment].name),
        offset: e.offset,
      });
    }
    this.checkLayout(h);

    let seg = this.segments.length - 1;
    const frameBytes = FRAME_HEADER + bytes.length;
    if (seg < 0 || (this.segments[seg].bytes > 0 && this.segments[seg].bytes + frameBytes > this.segmentBytes)) {
      if (seg >= 0) this.rotate();
      seg = this.newSegment();
    }
    const fd = this.writerFd();
    const s = this.segments[seg];
    const frame = new Uint8Array(frameBytes);
    new DataView(frame.buffer).setUint32(0, bytes.length, true);
    frame.set(bytes, FRAME_HEADER);
    try {
      writeFully(fd, frame, s.bytes);
      if (this.fsyncEachAppend) fs.fsyncSync(fd);
    } catch (err) {
      fs.ftruncateSync(fd, s.bytes); // never leave a partial frame behind a record we did not count
      throw err;
    }
    const entry: IndexEntry = { exampleId: h.exampleId, segment: seg, offset: s.bytes, length: bytes.length, crc: h.crc };
    s.bytes += frameBytes;
    this.addEntry(entry, h);
    this.indexDirty = true;
    return { ...entry };
  }

  /** The record of `exampleId`, or undefined when the cache does not hold it. */
  get(exampleId: string, options?: DecodeOptions): ActivationRecord | undefined {
    this.assertOpen();
    const i = this.byId.get(exampleId);
    if (i === undefined) return undefined;
    const rec = this.readAt(i, options);
    if (rec.exampleId === exampleId) return rec;
    // index.json disagrees with the segments (edited, or from another cache): the segments are the truth.
    const held = rec.exampleId;
    this.rebuildIndex();
    const j = this.byId.get(exampleId);
    const again = j === undefined ? undefined : this.readAt(j, options);
    if (again && again.exampleId !== exampleId) throw new ActivationError('CORRUPT_STORE', `${this.dir}: record #${j} holds "${again.exampleId}" where "${exampleId}" was indexed, even after rebuilding the index from the segments`);
    if (!again) throw new ActivationError('CORRUPT_STORE', `${this.dir}: ${INDEX_FILE} listed "${exampleId}" at a record that holds "${held}", and the segments do not hold "${exampleId}"`);
    return again;
  }

  /** Records in append order, including those appended (or, for readers, refreshed in) while iterating. */
  *records(): Generator<ActivationRecord> {
    for (let i = 0; i < this.entries.length; i++) {
      this.assertOpen();
      const rec = this.readAt(i);
      if (rec.exampleId !== this.entries[i].exampleId) {
        throw new ActivationError('CORRUPT_STORE', `${this.dir}: ${INDEX_FILE} lists "${this.entries[i].exampleId}" as record #${i}, which holds "${rec.exampleId}"; reopen the cache to rebuild the index from the segments`);
      }
      yield rec;
    }
  }

  [Symbol.iterator](): Generator<ActivationRecord> {
    return this.records();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ActivationRecord> {
    yield* this.records();
  }

  /** Readers: pick up records the writer appended since open (a torn tail stays unserved). Returns how many are new. */
  refresh(): number {
    this.assertOpen();
    const before = this.entries.length;
    this.scan();
    this.loadManifest();
    return this.entries.length - before;
  }

  /** True once the manifest exists (re-checked on disk, so readers see a writer's completion). */
  isComplete(): boolean {
    return this.readManifest() !== undefined;
  }

  /** The completion manifest, or undefined while the cache is incomplete. */
  readManifest(): CacheManifest | undefined {
    if (!this.manifest) this.loadManifest();
    return this.manifest ? structuredClone(this.manifest) : undefined;
  }

  /**
   * Marks the cache whole: fsyncs the segments, writes the index, then writes `manifest.json` atomically
   * (temporary file, fsync, rename, directory fsync). Appends are refused afterwards.
   */
  complete(info: CompletionInfo = {}): CacheManifest {
    this.assertOpen();
    if (this.readOnly) throw new ActivationError('CLOSED', `${this.dir} is open read-only`);
    if (this.isComplete()) throw new ActivationError('CACHE_COMPLETE', `cache ${this.cacheKey} is already complete`);
    const layout = this.layout;
    if (layout) {
      if (info.layers && !sameNumbers(info.layers, layout.layers)) {
        throw new ActivationError('MISMATCH', `complete() says layers [${info.layers}] but the records hold [${layout.layers}]`);
      }
      if (info.dtype && info.dtype !== layout.dtype) throw new ActivationError('MISMATCH', `complete() says dtype ${info.dtype} but the records are ${layout.dtype}`);
    }
    if (this.writeFd !== undefined) fs.fsyncSync(this.writeFd);
    // The manifest certifies the records; an index read from index.json is only a claim about them, so rebuild it
    // from the segments first (one read of the cache; a cache written in this session is indexed as appended).
    if (this.indexFromFile) this.rebuildIndex();
    const manifest: CacheManifest = {
      version: STORE_VERSION,
      cacheKey: this.cacheKey,
      count: this.entries.length,
      recordsCrc32c: hex8(this.recordsCrc),
      layers: layout?.layers ?? info.layers ?? [],
      dtype: layout?.dtype ?? info.dtype ?? 'float16',
      hiddenSize: layout?.hiddenSize ?? 0,
      segments: this.segments.map((s) => ({ ...s })),
      createdAt: new Date().toISOString(),
      ...(info.meta ? { meta: info.meta } : {}),
    };
    this.writeIndex();
    writeFileAtomic(path.join(this.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    this.manifest = manifest;
    return structuredClone(manifest);
  }

  /** Writes the index (writer), fsyncs and closes every file. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.writeFd !== undefined) {
      fs.fsyncSync(this.writeFd);
      fs.closeSync(this.writeFd);
      this.writeFd = undefined;
    }
    if (!this.readOnly && this.indexDirty) this.writeIndex();
    for (const fd of this.readFds.values()) fs.closeSync(fd);
    this.readFds.clear();
    this.closed = true;
  }

  // ---- internals ----

  private assertOpen(): void {
    if (this.closed) throw new ActivationError('CLOSED', `store ${this.dir} is closed`);
  }

  /** Forgets the index and rebuilds it by reading every segment from the start. */
  private rebuildIndex(): void {
    for (const fd of this.readFds.values()) fs.closeSync(fd);
    this.readFds.clear();
    this.resetIndex();
    this.indexFromFile = false;
    this.lastScan.rebuiltIndex = true;
    this.indexDirty = true;
    this.scan();
    if (!this.readOnly) this.writeIndex();
  }

  private load(): void {
    const indexed = this.loadIndex();
    this.indexFromFile = indexed;
    if (!indexed) {
      this.lastScan.rebuiltIndex = true;
      this.indexDirty = true;
    }
    this.scan();
    this.loadManifest();
    if (this.manifest) this.checkManifest(this.manifest);
    if (!this.readOnly && this.indexDirty && fs.existsSync(this.dir)) this.writeIndex();
  }

  private listSegments(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    const names = fs.readdirSync(this.dir).filter((n) => SEGMENT_RE.test(n)).sort();
    names.forEach((n, i) => {
      if (n !== segmentName(i)) throw new ActivationError('CORRUPT_STORE', `segment ${segmentName(i)} is missing from ${this.dir} (found ${n})`);
    });
    return names;
  }

  /** Accepts index.json when every indexed segment still has at least its indexed bytes (only the last may have more). */
  private loadIndex(): boolean {
    const file = path.join(this.dir, INDEX_FILE);
    let idx: IndexFile;
    try {
      idx = JSON.parse(fs.readFileSync(file, 'utf8')) as IndexFile;
    } catch {
      return false;
    }
    if (idx.version !== STORE_VERSION || idx.cacheKey !== this.cacheKey || !Array.isArray(idx.segments) || !Array.isArray(idx.entries)) return false;
    const names = this.listSegments();
    if (idx.segments.length > names.length) return false;
    for (let i = 0; i < idx.segments.length; i++) {
      const s = idx.segments[i];
      if (s.name !== names[i]) return false;
      const size = fs.statSync(path.join(this.dir, s.name)).size;
      const isLastIndexed = i === idx.segments.length - 1;
      if (size < s.bytes || (!isLastIndexed && size !== s.bytes)) return false;
    }
    this.segments = idx.segments.map((s) => ({ name: s.name, bytes: s.bytes }));
    this.layout = idx.layout;
    for (const [exampleId, segment, offset, length, crc] of idx.entries) {
      if (this.byId.has(exampleId)) return this.resetIndex();
      this.byId.set(exampleId, this.entries.length);
      this.entries.push({ exampleId, segment, offset, length, crc });
      this.recordsCrc = crcOfCrc(this.recordsCrc, crc);
    }
    return true;
  }

  private resetIndex(): false {
    this.segments = [];
    this.entries = [];
    this.byId.clear();
    this.layout = null;
    this.recordsCrc = 0;
    return false;
  }

  /** Reads frames from the end of what is known through the last segment on disk. */
  private scan(): void {
    const names = this.listSegments();
    for (let i = 0; i < names.length; i++) {
      if (i >= this.segments.length) this.segments.push({ name: names[i], bytes: 0 });
      const s = this.segments[i];
      const file = path.join(this.dir, s.name);
      const size = fs.statSync(file).size;
      if (size === s.bytes) continue;
      const isLast = i === names.length - 1;
      const fd = this.readFd(i);
      let off = s.bytes;
      while (off < size) {
        const torn = this.readFrame(fd, i, off, size);
        if (torn === 'torn') {
          if (!isLast) throw new ActivationError('CORRUPT_STORE', `incomplete record in a non-final segment`, { segment: path.join(this.dir, s.name), offset: off, index: this.entries.length });
          if (!this.readOnly) {
            const cut = size - off;
            const wfd = this.writerFd();
            fs.ftruncateSync(wfd, off);
            fs.fsyncSync(wfd);
            this.lastScan.truncatedBytes += cut;
          }
          break;
        }
        off += torn;
      }
      s.bytes = off;
      this.indexDirty = true;
    }
  }

  /** Returns the frame's byte size after indexing it, or 'torn' for an unfinished tail. Throws on real corruption. */
  private readFrame(fd: number, seg: number, off: number, size: number): number | 'torn' {
    const s = this.segments[seg];
    const position: RecordPosition = { segment: path.join(this.dir, s.name), offset: off, index: this.entries.length };
    if (size - off < FRAME_HEADER) return 'torn';
    const head = readExactly(fd, off, FRAME_HEADER);
    const length = new DataView(head.buffer).getUint32(0, true);
    const end = off + FRAME_HEADER + length;
    if (end > size) return 'torn';
    if (length < MIN_RECORD) {
      if (allZero(fd, off, size)) return 'torn';
      throw new ActivationError('CORRUPT_STORE', `frame length ${length} is smaller than any record`, position);
    }
    const bytes = readExactly(fd, off + FRAME_HEADER, length);
    let h: RecordHeader;
    try {
      h = readRecordHeader(bytes, position);
    } catch (err) {
      if (end === size || allZero(fd, off, size)) return 'torn'; // the last frame, half written
      throw err;
    }
    if (this.byId.has(h.exampleId)) {
      throw new ActivationError('CORRUPT_STORE', `example id "${h.exampleId}" appears twice (first as record #${this.byId.get(h.exampleId)})`, position);
    }
    this.addEntry({ exampleId: h.exampleId, segment: seg, offset: off, length, crc: h.crc }, h);
    return FRAME_HEADER + length;
  }

  private addEntry(entry: IndexEntry, h: RecordHeader): void {
    if (!this.layout) this.layout = { layers: [...h.layers], dtype: h.dtype, hiddenSize: h.hiddenSize };
    this.byId.set(entry.exampleId, this.entries.length);
    this.entries.push(entry);
    this.recordsCrc = crcOfCrc(this.recordsCrc, entry.crc);
  }

  private checkLayout(h: RecordHeader): void {
    const l = this.layout;
    if (!l) return;
    const what =
      !sameNumbers(h.layers, l.layers)
        ? `layers [${h.layers}] differ from the cache's [${l.layers}]`
        : h.dtype !== l.dtype
          ? `dtype ${h.dtype} differs from the cache's ${l.dtype}`
          : h.hiddenSize !== l.hiddenSize
            ? `hidden size ${h.hiddenSize} differs from the cache's ${l.hiddenSize}`
            : undefined;
    if (what) throw new ActivationError('MISMATCH', `record "${h.exampleId}": ${what}`);
  }

  private loadManifest(): void {
    const file = path.join(this.dir, MANIFEST_FILE);
    if (!fs.existsSync(file)) return;
    let m: CacheManifest;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheManifest;
    } catch (err) {
      throw new ActivationError('CORRUPT_STORE', `${file} is not valid JSON: ${(err as Error).message}`);
    }
    this.manifest = m;
  }

  private checkManifest(m: CacheManifest): void {
    if (m.cacheKey !== this.cacheKey) throw new ActivationError('CORRUPT_STORE', `${path.join(this.dir, MANIFEST_FILE)}: cache key ${m.cacheKey} differs from the directory's ${this.cacheKey}`);
    if (m.count !== this.entries.length || m.recordsCrc32c !== hex8(this.recordsCrc)) {
      throw new ActivationError(
        'CORRUPT_STORE',
        `${path.join(this.dir, MANIFEST_FILE)} says ${m.count} records with CRC ${m.recordsCrc32c}; the segments hold ${this.entries.length} with CRC ${hex8(this.recordsCrc)}. ${REPAIR_HINT(this.dir)}`,
      );
    }
  }

  private readAt(i: number, options?: DecodeOptions): ActivationRecord {
    const e = this.entries[i];
    const bytes = readExactly(this.readFd(e.segment), e.offset + FRAME_HEADER, e.length);
    return decodeRecord(bytes, { segment: path.join(this.dir, this.segments[e.segment].name), offset: e.offset, index: i }, options);
  }

  private readFd(seg: number): number {
    let fd = this.readFds.get(seg);
    if (fd === undefined) {
      fd = fs.openSync(path.join(this.dir, this.segments[seg].name), 'r');
      this.readFds.set(seg, fd);
    }
    return fd;
  }

  private writerFd(): number {
    if (this.writeFd === undefined) this.writeFd = fs.openSync(path.join(this.dir, this.segments[this.segments.length - 1].name), 'r+');
    return this.writeFd;
  }

  private rotate(): void {
    if (this.writeFd !== undefined) {
      fs.fsyncSync(this.writeFd);
      fs.closeSync(this.writeFd);
      this.writeFd = undefined;
    }
    this.writeIndex();
  }

  private newSegment(): number {
    const i = this.segments.length;
    const name = segmentName(i);
    fs.writeFileSync(path.join(this.dir, name), new Uint8Array(0), { flag: 'wx' });
    fsyncDir(this.dir);
    this.segments.push({ name, bytes: 0 });
    return i;
  }

  private writeIndex(): void {
    const idx: IndexFile = {
      version: STORE_VERSION,
      cacheKey: this.cacheKey,
      segments: this.segments.map((s) => ({ ...s })),
      layout: this.layout,
      entries: this.entries.map((e) => [e.exampleId, e.segment, e.offset, e.length, e.crc]),
    };
    writeFileAtomic(path.join(this.dir, INDEX_FILE), JSON.stringify(idx));
    this.indexDirty = false;
  }
}

function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
}

function readExactly(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new ActivationError('TRUNCATED', `segment ended ${length - done} bytes early`, { offset: position });
    done += n;
  }
  return out;
}

function allZero(fd: number, from: number, to: number): boolean {
  const chunk = 1 << 16;
  for (let at = from; at < to; at += chunk) {
    const bytes = readExactly(fd, at, Math.min(chunk, to - at));
    if (bytes.some((b) => b !== 0)) return false;
  }
  return true;
}

/** Temporary file, fsync, rename over the target, fsync the directory: readers see the old file or the new, never half. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}


function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

