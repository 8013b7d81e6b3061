/**
 * Dynamic batching at the batch leader (P0): a session ready at all three
 * parties waits at most `windowMs` for company; up to `maxBatch` images (the
 * sum of the sessions' batch sizes), in arrival order, form one protocol run.
 * A full batch leaves at once. At most `maxConcurrentRuns` runs are in flight;
 * the rest wait for one to finish.
 */
export interface BatchItem { readonly id: string; readonly batch: number }

/** How long P1 and P2 wait for a session P0 planned ahead of their reports (batch.planAheadMs; parties/party.ts, step 3). */
export const DEFAULT_PLAN_AHEAD_MS = 50;

export interface BatcherOptions { windowMs: number; maxBatch: number; maxConcurrentRuns: number }

export class Batcher<T extends BatchItem> {
  private queue: { item: T; at: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private closed = false;

  constructor(private readonly opts: BatcherOptions, private readonly run: (items: T[]) => Promise<void>) {}

  add(item: T): void {
    if (this.closed) return;
    this.queue.push({ item, at: Date.now() });
    this.pump();
  }

  remove(id: string): void {
    this.queue = this.queue.filter((q) => q.item.id !== id);
  }

  clear(): void {
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  close(): void { this.closed = true; this.clear(); }

  queuedImages(): number { return this.queue.reduce((s, q) => s + q.item.batch, 0); }
  get runsInFlight(): number { return this.inFlight; }
  get queued(): number { return this.queue.length; }

  private pump(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.closed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      const full = this.queuedImages() >= this.opts.maxBatch;
      const due = now - this.queue[0]!.at >= this.opts.windowMs;
      if (!full && !due) break;
      const batch: T[] = [];
      let images = 0;
      while (this.queue.length > 0 && (batch.length === 0 || images + this.queue[0]!.item.batch <= this.opts.maxBatch)) {
        const { item } = this.queue.shift()!;
        batch.push(item);
        images += item.batch;
      }
      this.inFlight += 1;
      void this.run(batch).catch(() => {}).finally(() => { this.inFlight -= 1; this.pump(); });
    }
    // Not due yet (and a run slot free): wake up when the oldest has waited the window.
    if (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.max(0, this.opts.windowMs - (now - this.queue[0]!.at)));
      this.timer.unref();
    }
  }
}
