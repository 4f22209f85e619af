// A queue between a push-style client callback and a pull-style async iterator, with an error channel and a
// high-water mark the producer side can wait on (so a slow reader bounds memory instead of the client buffering).
export class BatchQueue<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: IteratorResult<T[]>) => void; reject: (e: Error) => void }[] = [];
  private drained: (() => void)[] = [];
  private error: Error | undefined;
  private ended = false;

  constructor(private readonly highWaterMark: number) {}

  get size(): number {
    return this.items.length;
  }

  push(batch: T[]): void {
    if (this.ended || !batch.length) return;
    const w = this.waiters.shift();
    if (w) w.resolve({ value: batch, done: false });
    else this.items.push(...batch);
  }

  fail(e: Error): void {
    if (this.ended) return;
    this.error = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
    for (const d of this.drained.splice(0)) d();
  }

  /** Resolves once the queue is below its high-water mark (or ended). */
  async belowHighWater(): Promise<void> {
    while (!this.ended && this.items.length >= this.highWaterMark) await new Promise<void>((r) => this.drained.push(r));
  }

  next(): Promise<IteratorResult<T[]>> {
    if (this.error) return Promise.reject(this.error);
    if (this.items.length) {
      const batch = this.items.splice(0);
      for (const d of this.drained.splice(0)) d();
      return Promise.resolve({ value: batch, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}
