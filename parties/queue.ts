/** An async FIFO with close: pull() waits for the next item or rejects once closed (same semantics as the in-memory transport's channel). */
export class AsyncQueue<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  private closed: Error | null = null;

  push(v: T): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w) w.resolve(v);
    else this.items.push(v);
  }

  pull(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  get pending(): number { return this.items.length; }
  get isClosed(): boolean { return this.closed !== null; }
}
