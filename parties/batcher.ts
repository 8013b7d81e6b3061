/**
 * Dynamic batching at the batch leader (P0): sessions that are ready at all
 * three parties wait at most `windowMs` for company, then up to `maxBatch`
 * images (the sum of the sessions' batch sizes), in arrival order, form one
 * protocol run. At most `maxConcurrentRuns` runs are in flight; the rest wait.
 */
export interface BatchItem { readonly id: string; readonly batch: number }

export interface BatcherOptions { windowMs: number; maxBatch: number; maxConcurrentRuns: number }

export class Batcher<T extends BatchItem> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private closed = false;

  constructor(private readonly opts: BatcherOptions, private readonly run: (items: T[]) => Promise<void>) {}

  add(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    if (this.queuedImages() >= this.opts.maxBatch) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = null; this.flush(); }, this.opts.windowMs);
      this.timer.unref();
    }
  }

  remove(id: string): void {
    this.queue = this.queue.filter((i) => i.id !== id);
  }

  clear(): void {
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  close(): void { this.closed = true; this.clear(); }

  queuedImages(): number { return this.queue.reduce((s, i) => s + i.batch, 0); }
  get runsInFlight(): number { return this.inFlight; }
  get queued(): number { return this.queue.length; }

  private flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    while (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      const batch: T[] = [];
      let images = 0;
      while (this.queue.length > 0 && (batch.length === 0 || images + this.queue[0]!.batch <= this.opts.maxBatch)) {
        const it = this.queue.shift()!;
        batch.push(it);
        images += it.batch;
      }
      this.inFlight += 1;
      void this.run(batch).catch(() => {}).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0 && !this.timer) setImmediate(() => this.flush());
      });
    }
  }
}
