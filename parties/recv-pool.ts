/**
 * Receive buffers of the h2 data link (mesh-h2.ts) that the protocol handed back (Transport.recycle), kept for
 * the next received frames.
 *
 * Why: every frame the h2 link receives gets a fresh ArrayBuffer (the frame's final buffer, filled chunk by chunk).
 * At the seed CNN that is most of what P1 and P2 allocate (P1: the dealt Z_p shares of each comparison, 48 bytes per
 * element; P2: the d of PrivateCompare from P0 and P1), and V8 starts a mark-compact after each ~64 MiB of
 * ArrayBuffers allocated and not yet freed ("external memory pressure"; BENCHMARKS.md "Party CPU in the deployment").
 * A run's message sizes repeat from run to run (the same layers), so a buffer handed back in one run serves the same
 * message of the next, and is never allocated again.
 *
 * Sizes: a frame takes the smallest free buffer of at least its size and at most twice it (its payload is a view of
 * the frame's length in it). Under load the runs' batch sizes vary (1 to 8 images with 8 clients), so a pool that
 * kept buffers by exact size held a set per batch size and dropped most of them (past its cap) before their size
 * came round again: P1 still had ~0.7 mark-compacts per prediction with mixed batch sizes (BENCHMARKS.md "Seed CNN:
 * send buffers back from the link"). The send pool (protocol/ring/send-pool.ts) chooses the same way, with the same free list (protocol/ring/free-list.ts).
 *
 * Safety: a buffer is reused only after the protocol said, through Transport.recycle, that nothing reads the payload
 * any more, and only when the view it hands back is exactly a frame payload this pool lent (same buffer, offset and
 * length: a view into a bundle or part of a payload is ignored), once (a second recycle of it is ignored while the
 * buffer is free or lent to a frame at another offset or length; a stale second recycle after the buffer carries a
 * later frame with the same payload offset and length would free that frame's buffer, so the protocol hands each
 * payload back at most once: protocol/primitives/relu-direct-recycle.test.ts counts the hand-backs). The reused
 * buffer's part the next frame occupies is overwritten in full before anyone sees it (the rest of a larger buffer,
 * the party's own earlier received bytes, lies outside every view handed on, as the frame's header does), and a frame cut off mid-way (its stream
 * ended) is never delivered nor lent (recv-pool.test.ts). Everything else about a received payload is unchanged:
 * it is the receiver's, and a payload never handed back is left to the GC as before (with its whole buffer: a
 * payload the protocol keeps a view of, e.g. P1's preprocessed bundle items or its share of a ReLU output, holds a
 * buffer of up to twice its message's bytes until it is dropped; the byte bounds that count payloads, preprocess.maxBytes among them, count less than
 * the memory behind them: deploy/README.md). Memory: at most maxBytes and RECV_POOL_MAX_BUFFERS buffers free
 * per process, kept after the runs end (deploy/README.md, "Memory the h2 link keeps").
 */
import { FreeList } from '../protocol/ring/free-list.js';

/** Frames smaller than this are not pooled (they die young in the scavenger; a batch-1 round's messages are 0.1–2 KiB). */
export const RECV_POOL_MIN_BYTES = 16 * 1024;
/** Bytes the pool keeps at most (the buffer given back longest ago is dropped first when a new one does not fit). */
export const RECV_POOL_MAX_BYTES = 256 * 1024 * 1024;
/**
 * Free buffers the pool keeps at most (the one given back longest ago is dropped first): take() scans them all, and
 * the byte cap alone would allow 16,384 (256 MiB of 16 KiB frames), each scanned on every received frame of 16 KiB or
 * more (BENCHMARKS.md "Receive pool: a cap on the free buffers"). At the seed CNN the byte cap binds first (P1's dealt
 * shares alone are 3.6 MB per image per comparison).
 */
export const RECV_POOL_MAX_BUFFERS = 512;

export class RecvPool {
  /** Free buffers (best fit within 2x; least recently given back dropped first). */
  private readonly free: FreeList;
  /** Lent buffers: where the frame's payload lies in it (what recycle must be handed to take the buffer back). */
  private readonly lent = new WeakMap<ArrayBuffer, { offset: number; length: number }>();
  /** Counters (tests, benchmarks): buffers taken from the pool, buffers put back. */
  reused = 0;
  recycled = 0;

  constructor(private readonly maxBytes = RECV_POOL_MAX_BYTES, private readonly minBytes = RECV_POOL_MIN_BYTES, maxBuffers = RECV_POOL_MAX_BUFFERS) {
    this.free = new FreeList(maxBytes, maxBuffers);
  }

  /**
   * An ArrayBuffer of at least `bytes` bytes: the smallest free one of at most 2 `bytes` (newest first among equal
   * sizes), else a new one of exactly `bytes`. Its contents are undefined; the caller views the `bytes` it needs.
   */
  take(bytes: number): ArrayBuffer {
    const ab = bytes >= this.minBytes ? this.free.take(bytes) : null;
    if (!ab) return new ArrayBuffer(bytes);
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
    this.free.put(ab);
    this.recycled++;
  }

  /** Bytes held free now. */
  get bytesFree(): number { return this.free.bytes; }
}

/** The process's pool: one for all data links of this party (the sizes of a run repeat whichever link brings them). */
export const recvPool = new RecvPool();
