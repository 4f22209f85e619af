// What the pipeline stages need from a cache, whatever holds it: the file store (embedded mode) or Kafka (services).
// The teacher stage writes through CacheWriter; a student reads one epoch at a time through EpochRecords.
import type { ActivationDtype, ActivationRecord, ActivationRecordInput, DecodeOptions } from './record';
import type { FileStore } from './file-store';

export interface CompletionInfoLike {
  layers?: number[];
  dtype?: ActivationDtype;
  meta?: Record<string, unknown>;
}

export interface CacheWriter {
  readonly cacheKey: string;
  readonly count: number;
  has(exampleId: string): boolean;
  isComplete(): boolean;
  /** Appends whole records; an id already in the cache is refused (resuming writers check has() first). */
  appendBatch(records: (ActivationRecordInput | Uint8Array)[]): Promise<void>;
  complete(info?: CompletionInfoLike): Promise<unknown>;
  close(): Promise<void>;
}

/** The records of one epoch: get() resolves once every asked-for example is available. */
export interface EpochRecords {
  /** `options.layers`: decode only those hidden states of each record. */
  get(ids: readonly string[], options?: DecodeOptions): Promise<ActivationRecord[]>;
  close(): Promise<void>;
}

/** The file store behind the CacheWriter interface. */
export function fileCacheWriter(store: FileStore): CacheWriter {
  return {
    cacheKey: store.cacheKey,
    get count() {
      return store.count;
    },
    has: (id) => store.has(id),
    isComplete: () => store.isComplete(),
    async appendBatch(records) {
      for (const r of records) store.append(r);
    },
    async complete(info) {
      return store.complete(info);
    },
    async close() {
      store.close();
    },
  };
}

/** Random access into a complete file store, as one epoch's records. */
export function fileEpochRecords(store: FileStore): EpochRecords {
  return {
    async get(ids, options) {
      return ids.map((id) => {
        const rec = store.get(id, options);
        if (!rec) throw new Error(`example '${id}' is missing from teacher cache ${store.cacheKey}`);
        return rec;
      });
    },
    async close() {},
  };
}
