/**
 * Send buffers: large arrays a party fills and sends (P2's dealt Z_p shares for P1 and its z, w message, P0's and
 * P1's PrivateCompare d), taken from buffers whose earlier sends the transport has finished writing, instead of a
 * fresh ArrayBuffer per message. Every fresh large array is external memory to V8, and a sent one lives until the
 * link has written it (several event-loop turns), so it is promoted and only a mark-compact frees it: at the seed CNN
 * P2's sent arrays were about half of what it allocated, and its mark-compacts (~25-40 ms each) ~15% of its CPU
 * (BENCHMARKS.md "Seed CNN: send buffers back from the link").
 *
 * Life of a buffer: `sendBufferU8` / `sendBufferU64` lend it (contents undefined: the caller overwrites all of it);
 * the caller fills it and hands it to `sendPooled` (transport/messages.ts) once, and never touches it again. A
 * transport that can say when it has done with a payload (Transport.sendWithRelease: the h2 link once the bytes are
 * on its socket, the in-memory one once it copied them) gives it back then; any other transport keeps it, and it is
 * left to the GC as before. So a buffer is reused only after its bytes have left, and nothing about the bits sent
 * changes. A buffer handed to `sendPooled` a second time before it came back is refused (E_INTERNAL): the first
 * release would let the next message overwrite what the second send still reads.
 *
 * Memory: at most SEND_POOL_MAX_BYTES and SEND_POOL_MAX_BUFFERS free per process, the least recently given back dropped first. A request takes
 * the smallest free buffer of at least its size and at most twice it (a view of the requested length on it): a run's
 * message sizes repeat from run to run, and under load the runs' batch sizes vary (1 to 8 images with 8 clients), so
 * an exact-size pool would hold a set of buffers per batch size and drop most of them before they came round again.
 */
import { MpcError } from '../errors.js';
import { FreeList } from './free-list.js';

/** Buffers smaller than this are plain fresh arrays (they die young in the scavenger). */
export const SEND_POOL_MIN_BYTES = 16 * 1024;
/** Bytes kept free at most. */
export const SEND_POOL_MAX_BYTES = 128 * 1024 * 1024;

/**
 * Free buffers kept at most: take() scans the list, and the byte cap alone allowed 8,192 of the smallest size (16 KiB),
 * each scanned on every lend (the receive pool's cap, parties/recv-pool.ts, for the same reason; BENCHMARKS.md
 * "Send pool: a cap on the free buffers").
 */
export const SEND_POOL_MAX_BUFFERS = 512;

/** Free buffers (best fit within 2x, oldest given back dropped first past either cap). */
const free = new FreeList(SEND_POOL_MAX_BYTES, SEND_POOL_MAX_BUFFERS);
/** Lent and not yet sent. */
const lent = new WeakSet<ArrayBuffer>();
/** Handed to sendPooled and not yet given back by the transport. */
const sending = new WeakSet<ArrayBuffer>();

/** Counters (tests, benchmarks): buffers lent, of them reused; buffers the transports gave back. */
export const sendPoolStats = { lent: 0, reused: 0, returned: 0 };

/** Tests: called with each buffer as it comes back to the pool (e.g. to poison it: whoever still reads it sees garbage). */
export const sendPoolTesting: { onGiveBack: ((ab: ArrayBuffer) => void) | null } = { onGiveBack: null };

/** The bytes kept free now (tests). */
export function sendPoolFreeBytes(): number { return free.bytes; }

/** The buffers kept free now (tests). */
export function sendPoolFreeBuffers(): number { return free.count; }

function take(bytes: number): ArrayBuffer {
  // Whole u64 words, so a u64 view fits whatever the byte count.
  const size = Math.ceil(bytes / 8) * 8;
  if (size < SEND_POOL_MIN_BYTES) return new ArrayBuffer(size);
  sendPoolStats.lent++;
  // Best fit in [size, 2 size]; newest first among equals (ring/free-list.ts).
  let ab = free.take(size);
  if (ab) sendPoolStats.reused++;
  else ab = new ArrayBuffer(size);
  lent.add(ab);
  return ab;
}

/** A Uint8Array of n bytes to fill and send once with sendPooled (contents undefined). */
export function sendBufferU8(n: number): Uint8Array {
  return new Uint8Array(take(n), 0, n);
}

/** A BigUint64Array of n elements to fill and send once with sendPooled (contents undefined). */
export function sendBufferU64(n: number): BigUint64Array {
  return new BigUint64Array(take(8 * n), 0, n);
}

/**
 * `payload` goes to a transport: returns the function the transport calls once it has done with the bytes (gives
 * the buffer back), or null when the payload is not a lent send buffer (then it is the transport's for good).
 * Throws E_INTERNAL for a send buffer already handed over and not yet given back.
 */
export function handOver(payload: ArrayBufferView): (() => void) | null {
  return handOverHeld(payload, 1)?.[0] ?? null;
}

/**
 * As handOver, for a sender that still reads the payload after sending it (sharing/open.ts adds its own share to
 * the other party's): `holders` functions, each to be called once (the transport's release, then the sender's own
 * "done reading"); the buffer comes back when all have been called. null when the payload is not a lent send buffer.
 */
export function handOverHeld(payload: ArrayBufferView, holders = 2): (() => void)[] | null {
  const ab = payload.buffer as ArrayBuffer;
  if (sending.has(ab)) throw new MpcError('E_INTERNAL', 'send pool: a send buffer was sent twice before the transport gave it back');
  if (!lent.has(ab)) return null;
  lent.delete(ab);
  sending.add(ab);
  let left = holders;
  return Array.from({ length: holders }, () => {
    let called = false;
    return () => {
      if (called) return;
      called = true;
      if (--left > 0) return;
      sending.delete(ab);
      giveBack(ab);
    };
  });
}

/** Whether `payload` lies in a send buffer handed over and not yet given back (a plain send of it is refused). */
export function inFlight(payload: ArrayBufferView): boolean {
  return sending.has(payload.buffer as ArrayBuffer);
}

function giveBack(ab: ArrayBuffer): void {
  sendPoolStats.returned++;
  sendPoolTesting.onGiveBack?.(ab);
  if (ab.byteLength > SEND_POOL_MAX_BYTES) return;
  free.put(ab);
}
