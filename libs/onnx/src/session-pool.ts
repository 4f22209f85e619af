// Inference graphs here are built for one input shape (batch, length), so a run over bucketed batches opens one
// session per shape, and each keeps its own memory arena, sized by its largest run, until it is released: the cost
// grows with the number of shapes (beam search over eight shapes of a DART-sized model: 1.98 GB, against 1.41 GB
// with this pool; docs/BENCHMARKS.md, "Memory"). The pool keeps the most recently used few open and releases the
// rest; batches come grouped by bucket, so a small pool rarely reopens one.

/** How many sessions (or session groups) a pool keeps open unless told otherwise. */
export const DEFAULT_POOL_CAPACITY = 2;

interface Entry<T> {
  value: Promise<T>;
  users: number;
}

/**
 * Sessions keyed by shape, at most `capacity` open once their users are done (least recently used closed first). An
 * entry in use is never closed, so concurrent users may briefly hold more than `capacity`.
 */
export class SessionPool<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private opened = 0;

  constructor(private readonly close: (value: T) => Promise<void>, readonly capacity: number = DEFAULT_POOL_CAPACITY) {
    if (!(capacity >= 1)) throw new Error(`session pool capacity must be at least 1, got ${capacity}`);
  }

  /** Runs `fn` with the session for `key`, opening it with `open` when it is not held. */
  async use<R>(key: string, open: () => Promise<T>, fn: (value: T) => Promise<R>): Promise<R> {
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else {
      entry = { value: open(), users: 0 };
      this.opened++;
    }
    // Map order is insertion order: re-inserting makes this the most recently used.
    this.entries.set(key, entry);
    entry.users++;
    let value: T;
    try {
      value = await entry.value;
    } catch (e) {
      entry.users--;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw e;
    }
    try {
      return await fn(value);
    } finally {
      entry.users--;
      await this.evict();
    }
  }

  /** Sessions open now. */
  get size(): number {
    return this.entries.size;
  }

  /** Sessions opened so far, reopenings included (what a capacity costs in rebuilds). */
  get opens(): number {
    return this.opened;
  }

  private async evict(): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      if (entry.users > 0) continue;
      this.entries.delete(key);
      await this.close(await entry.value);
    }
  }

  async release(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) await this.close(await e.value);
  }
}
