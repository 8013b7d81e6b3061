/**
 * Receive buffers of the h2 data link (mesh-h2.ts) that the protocol handed back (Transport.recycle), kept for
 * the next received frame of the same size.
 *
 * Why: every frame the h2 link receives gets a fresh ArrayBuffer (the frame's final buffer, filled chunk by chunk).
 * At the seed CNN that is most of what P1 and P2 allocate (P1: the dealt Z_p shares of each comparison, 48 bytes per
 * element; P2: the d of PrivateCompare from P0 and P1), and V8 starts a mark-compact after each ~64 MiB of
 * ArrayBuffers allocated and not yet freed ("external memory pressure"; BENCHMARKS.md "Party CPU in the deployment").
 * A run's message sizes repeat from run to run (the same layers), so a buffer handed back in one run serves the same
 * message of the next, and is never allocated again.
 *
 * Safety: a buffer is reused only after the protocol said, through Transport.recycle, that nothing reads the payload
 * any more, and only when the view it hands back is exactly a frame payload this pool lent (same buffer, offset and
 * length: a view into a bundle or part of a payload is ignored), once (a second recycle of it is ignored while the
 * buffer is free or lent to a frame at another offset or length; a stale second recycle after the buffer carries a
 * later frame with the same payload offset and length would free that frame's buffer, so the protocol hands each
 * payload back at most once: protocol/primitives/relu-direct-recycle.test.ts counts the hand-backs). The reused
 * buffer is overwritten in full by the next frame before anyone sees it, and a frame cut off mid-way (its stream
 * ended) is never delivered nor lent (recv-pool.test.ts). Everything else about a received payload is unchanged:
 * it is the receiver's, and a payload never handed back is left to the GC as before. Memory: at most maxBytes free
 * per process, kept after the runs end (deploy/README.md, "Memory the h2 link keeps").
 */

/** Frames smaller than this are not pooled (they die young in the scavenger; a batch-1 round's messages are 0.1–2 KiB). */
export const RECV_POOL_MIN_BYTES = 16 * 1024;
/** Bytes the pool keeps at most (the oldest size is dropped first when a new one does not fit). */
export const RECV_POOL_MAX_BYTES = 256 * 1024 * 1024;

export class RecvPool {
  /** Free buffers by byteLength; Map order = the order in which the sizes were last filled (oldest first). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  /** Lent buffers: where the frame's payload lies in it (what recycle must be handed to take the buffer back). */
  private readonly lent = new WeakMap<ArrayBuffer, { offset: number; length: number }>();
  /** Counters (tests, benchmarks): buffers taken from the pool, buffers put back. */
  reused = 0;
  recycled = 0;

  constructor(private readonly maxBytes = RECV_POOL_MAX_BYTES, private readonly minBytes = RECV_POOL_MIN_BYTES) {}

  /** An ArrayBuffer of exactly `bytes` bytes: a free one of that size, else a new one. Its contents are undefined. */
  take(bytes: number): ArrayBuffer {
    const list = this.free.get(bytes);
    const ab = list?.pop();
    if (!ab) return new ArrayBuffer(bytes);
    if (!list!.length) this.free.delete(bytes);
    this.freeBytes -= bytes;
    this.reused++;
    return ab;
  }

  /** The frame in `ab` was decoded and its payload is `payload` (a view of `ab`): it may come back through recycle. */
  lend(ab: ArrayBuffer, payload: Uint8Array): void {
    if (payload.buffer !== ab || ab.byteLength < this.minBytes || ab.byteLength > this.maxBytes) return;
    this.lent.set(ab, { offset: payload.byteOffset, length: payload.byteLength });
  }

  /** The protocol is done with `payload`: if it is exactly a payload this pool lent, its buffer is free again. */
  recycle(payload: Uint8Array): void {
    const ab = payload.buffer as ArrayBuffer;
    const at = this.lent.get(ab);
    if (!at || at.offset !== payload.byteOffset || at.length !== payload.byteLength) return;
    this.lent.delete(ab);
    const bytes = ab.byteLength;
    while (this.freeBytes + bytes > this.maxBytes && this.free.size) {
      const [size, list] = this.free.entries().next().value as [number, ArrayBuffer[]];
      list.pop();
      this.freeBytes -= size;
      if (!list.length) this.free.delete(size);
    }
    const list = this.free.get(bytes);
    if (list) { this.free.delete(bytes); list.push(ab); this.free.set(bytes, list); } else this.free.set(bytes, [ab]);
    this.freeBytes += bytes;
    this.recycled++;
  }

  /** Bytes held free now. */
  get bytesFree(): number { return this.freeBytes; }
}

/** The process's pool: one for all data links of this party (the sizes of a run repeat whichever link brings them). */
export const recvPool = new RecvPool();
