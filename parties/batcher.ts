/**
 * Dynamic batching at the batch leader (P0): a session ready at all three
 * parties waits at most `windowMs` for company; up to `maxBatch` images (the
 * sum of the sessions' batch sizes) form one protocol run. A full batch
 * leaves at once. At most `maxConcurrentRuns` runs are in flight; the rest
 * wait for one to finish.
 *
 * Fair queueing: a run takes the waiting sessions round-robin over their
 * owners (each client's oldest first, then each client's second, ...), not in
 * plain arrival order, so a client with many sessions queued cannot make
 * another client's session wait behind all of them.
 */
export interface BatchItem { readonly id: string; readonly batch: number; readonly owner?: string }

/** How long P1 and P2 wait for a session P0 planned ahead of their reports (batch.planAheadMs; parties/run-planner.ts, step 3). */
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

  /** The queue in round-robin order over owners: by (rank among its owner's queued items, arrival). */
  private fairOrder(): { item: T; at: number }[] {
    const seen = new Map<string | undefined, number>();
    const ranked = this.queue.map((q, i) => {
      const r = seen.get(q.item.owner) ?? 0;
      seen.set(q.item.owner, r + 1);
      return { q, r, i };
    });
    ranked.sort((a, b) => a.r - b.r || a.i - b.i);
    return ranked.map((x) => x.q);
  }

  private pump(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.closed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      const full = this.queuedImages() >= this.opts.maxBatch;
      const due = now - this.queue[0]!.at >= this.opts.windowMs;
      if (!full && !due) break;
      const order = this.fairOrder();
      const batch: T[] = [];
      let images = 0;
      for (const q of order) {
        if (batch.length > 0 && images + q.item.batch > this.opts.maxBatch) break;
        batch.push(q.item);
        images += q.item.batch;
      }
      const taken = new Set(batch);
      this.queue = this.queue.filter((q) => !taken.has(q.item));
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
