/**
 * The free buffers of a buffer pool (ring/send-pool.ts, parties/recv-pool.ts): taken by best fit within 2x, dropped
 * least recently given back first past a byte cap and a count cap.
 *
 * take(size): the smallest free buffer of at least `size` bytes and at most 2 `size` (newest first among equal
 * sizes), or null. A linear scan, so the count cap bounds it: the byte cap alone would allow maxBytes / 16 KiB
 * buffers of a pool's smallest size (16,384 at 256 MiB; BENCHMARKS.md "Receive pool: a cap on the free buffers").
 */
export class FreeList {
  /** Free buffers, least recently given back first. */
  private readonly list: ArrayBuffer[] = [];
  private held = 0;

  constructor(private readonly maxBytes: number, private readonly maxBuffers: number) {}

  /** Bytes held now. */
  get bytes(): number { return this.held; }

  /** Buffers held now. */
  get count(): number { return this.list.length; }

  /** The best fit within [size, 2 size], taken out of the list; null if none. */
  take(size: number): ArrayBuffer | null {
    const list = this.list;
    let best = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i]!.byteLength;
      if (b >= size && b <= 2 * size && (best < 0 || b < list[best]!.byteLength)) { best = i; if (b === size) break; }
    }
    if (best < 0) return null;
    const ab = list.splice(best, 1)[0]!;
    this.held -= ab.byteLength;
    return ab;
  }

  /** Keep `ab` (the caller checked it may be kept), dropping the least recently given back first to stay within both caps. */
  put(ab: ArrayBuffer): void {
    const list = this.list;
    while ((this.held + ab.byteLength > this.maxBytes || list.length >= this.maxBuffers) && list.length) this.held -= list.shift()!.byteLength;
    list.push(ab);
    this.held += ab.byteLength;
  }
}
