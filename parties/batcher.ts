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
 *
 * Balanced pipelining (config batch.balance = true; off by default: the load
 * benchmark on 2 shared cores showed no throughput difference, BENCHMARKS.md
 * "Load"): once runs have been seen, a batch is "full" at the
 * target size ceil(demand / maxConcurrentRuns) (at most maxBatch), where
 * demand is the most images in the system (queued + in runs) now or at
 * any run start or end within the horizon (twice the mean run time, at least
 * 4 windows). With 8 clients sending back to back, 8 images and 2 runs at
 * once, two runs of 4 overlap (the next batch's online phase runs while the
 * previous one answers its clients and they send their next images) instead
 * of one run of 8 and then an idle gap, or runs of 1 to 3 images as they
 * happen to arrive. A run takes more than the target (up to maxBatch) when
 * the free run slots could not take the queue otherwise. While a run is in
 * flight, a batch below the target waits
 * for company up to half the mean run time (the window alone when nothing
 * runs: an idle pipeline starts at once). With no run in the horizon (a
 * fresh or long idle leader) the target is maxBatch, as without balancing.
 * Off, the window and maxBatch alone decide (a deployment that sets a long
 * window to gather batches on purpose wants that).
 */
export interface BatchItem { readonly id: string; readonly batch: number; readonly owner?: string }

/** How long P1 and P2 wait for a session P0 planned ahead of their reports (batch.planAheadMs; parties/run-planner.ts, step 3). */
export const DEFAULT_PLAN_AHEAD_MS = 50;

export interface BatcherOptions {
  windowMs: number;
  maxBatch: number;
  maxConcurrentRuns: number;
  /** Balanced pipelining (file comment; config batch.balance, default false): the window and maxBatch alone unless true. */
  balance?: boolean;
}

export class Batcher<T extends BatchItem> {
  private queue: { item: T; at: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private imagesInFlight = 0;
  private closed = false;
  /** Images in the system at each recent run start and end (ms timestamp), newest last. */
  private demandLog: { at: number; images: number }[] = [];
  /** Exponential mean of the run time (ms); 0 before the first run ends. */
  private meanRunMs = 0;

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

  /** Images a batch needs to leave before its window (see the file comment): maxBatch without recent runs. */
  targetBatch(now = Date.now()): number {
    if (this.opts.balance !== true) return this.opts.maxBatch;
    const horizon = Math.max(4 * this.opts.windowMs, 2 * this.meanRunMs);
    this.demandLog = this.demandLog.filter((d) => now - d.at <= horizon);
    if (this.demandLog.length === 0) return this.opts.maxBatch;
    const demand = Math.max(this.queuedImages() + this.imagesInFlight, ...this.demandLog.map((d) => d.images));
    return Math.max(1, Math.min(this.opts.maxBatch, Math.ceil(demand / this.opts.maxConcurrentRuns)));
  }

  private noteDemand(now: number): void {
    this.demandLog.push({ at: now, images: this.queuedImages() + this.imagesInFlight });
    if (this.demandLog.length > 1024) this.demandLog.splice(0, 512);
  }

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

  /** How long the oldest queued item may wait before its batch leaves below the target. */
  private maxWaitMs(): number {
    return this.inFlight === 0 || this.opts.balance !== true ? this.opts.windowMs : Math.max(this.opts.windowMs, this.meanRunMs / 2);
  }

  private pump(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.closed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      const target = this.targetBatch(now);
      const full = this.queuedImages() >= target;
      const due = now - this.queue[0]!.at >= this.maxWaitMs();
      if (!full && !due) break;
      // Up to the target, or more if the free run slots could not take the queue otherwise: images are split over
      // slots, never left waiting for a slot that is not there.
      const take = Math.min(this.opts.maxBatch, Math.max(target, Math.ceil(this.queuedImages() / (this.opts.maxConcurrentRuns - this.inFlight))));
      const order = this.fairOrder();
      const batch: T[] = [];
      let images = 0;
      for (const q of order) {
        if (batch.length > 0 && images + q.item.batch > take) break;
        batch.push(q.item);
        images += q.item.batch;
      }
      const taken = new Set(batch);
      this.queue = this.queue.filter((q) => !taken.has(q.item));
      this.inFlight += 1;
      this.imagesInFlight += images;
      this.noteDemand(now);
      const t0 = performance.now();
      void this.run(batch).catch(() => {}).finally(() => {
        const ms = performance.now() - t0;
        this.meanRunMs = this.meanRunMs === 0 ? ms : 0.8 * this.meanRunMs + 0.2 * ms;
        this.noteDemand(Date.now());
        this.inFlight -= 1;
        this.imagesInFlight -= images;
        this.pump();
      });
    }
    // Not due yet (and a run slot free): wake up when the oldest has waited long enough.
    if (this.queue.length > 0 && this.inFlight < this.opts.maxConcurrentRuns) {
      this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.max(0, this.maxWaitMs() - (now - this.queue[0]!.at)));
      this.timer.unref();
    }
  }
}
