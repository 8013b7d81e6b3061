/**
 * Scratch buffers for temporaries that live only within one synchronous
 * stretch of code (no await between filling and the last read): PRG draws
 * consumed by a kernel at once, intermediate sums. Every large typed array
 * allocated is external memory to V8, and allocating gigabytes of them per
 * run made the party processes spend as long in garbage collection as in
 * the protocol (seed CNN, batch 8); reusing these buffers avoids most of it.
 *
 * Rules: a scratch view is valid until the next request for the same slot;
 * never send one (the transport may serialise it later) and never keep one
 * across an await (another session in the process may take the slot). An
 * async function must not return a scratch view, nor fill one that its
 * caller reads after awaiting it: the caller resumes a microtask later, and
 * when two runs' messages arrive in one read of a link (the h2 link decodes
 * every frame of a chunk at once) the other run's continuation can take the
 * slot in between. Beaver's opened E did so (matmul.ts, until 2026-12-06):
 * two runs at once got each other's E, wrong logits under load. Slots
 * grow to the largest request and are kept for the process lifetime, up to
 * SCRATCH_MAX_BYTES: a larger request (VGG16's first im2col matrix is
 * 231 MB) gets a fresh buffer that is not kept, so a party does not hold
 * its largest temporaries while idle.
 */
const u8Slots = new Map<string, ArrayBuffer>();

/** Largest scratch buffer kept between requests. */
export const SCRATCH_MAX_BYTES = 64 * 1024 * 1024;

function slot(name: string, bytes: number): ArrayBuffer {
  if (bytes > SCRATCH_MAX_BYTES) return new ArrayBuffer(bytes);
  let b = u8Slots.get(name);
  if (!b || b.byteLength < bytes) {
    b = new ArrayBuffer(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, 64, b ? Math.ceil(b.byteLength * 1.25) : 0)));
    u8Slots.set(name, b);
  }
  return b;
}

/** A scratch Uint8Array of n bytes (contents undefined). */
export function scratchU8(name: string, n: number): Uint8Array {
  return new Uint8Array(slot(name, n), 0, n);
}

/** A scratch BigUint64Array of n elements (contents undefined). */
export function scratchU64(name: string, n: number): BigUint64Array {
  return new BigUint64Array(slot(name, 8 * n), 0, n);
}

/**
 * Lent buffers: for a temporary that must live across an await (drawn while a message is on its way, read by a
 * kernel after it), where a scratch slot is not allowed. A lent buffer is the borrower's alone until it gives it
 * back (so two sessions never share one); a given-back buffer serves the next borrow of at most its size. At most
 * LEND_KEEP buffers (LEND_MAX_BYTES in all) are kept; the smallest go first. Without it every such temporary is a
 * fresh external allocation, and those start mark-compacts in the party processes (see above).
 */
const lendFree: ArrayBuffer[] = [];
const LEND_KEEP = 8;
/** Most bytes kept in given-back buffers. */
export const LEND_MAX_BYTES = 96 * 1024 * 1024;
const lentOut = new WeakSet<ArrayBuffer>();
let outstanding = 0;

/** Buffers lent and not given back, and buffers kept for the next borrows (tests). */
export function lendStats(): { outstanding: number; kept: number } {
  return { outstanding, kept: lendFree.length };
}

/** A Uint8Array of n bytes (contents undefined) that no one else holds until giveBackU8. */
export function borrowU8(n: number): Uint8Array {
  let best = -1;
  for (let i = 0; i < lendFree.length; i++) if (lendFree[i]!.byteLength >= n && (best < 0 || lendFree[i]!.byteLength < lendFree[best]!.byteLength)) best = i;
  const b = best >= 0 ? lendFree.splice(best, 1)[0]! : new ArrayBuffer(Math.max(n, 64));
  lentOut.add(b);
  outstanding++;
  return new Uint8Array(b, 0, n);
}

/** A BigUint64Array of n elements (contents undefined) from the same lent buffers as borrowU8; hand back with giveBackU8. */
export function borrowU64(n: number): BigUint64Array {
  return new BigUint64Array(borrowU8(8 * n).buffer, 0, n);
}

/** Hand back buffers from borrowU8 / borrowU64 (each once; a view of any other buffer is ignored). */
export function giveBackU8(...vs: ArrayBufferView[]): void {
  for (const v of vs) {
    const b = v.buffer as ArrayBuffer;
    if (!lentOut.has(b)) continue;
    lentOut.delete(b);
    outstanding--;
    if (b.byteLength > LEND_MAX_BYTES) continue;
    lendFree.push(b);
    lendFree.sort((x, y) => y.byteLength - x.byteLength);
    let total = lendFree.reduce((t, x) => t + x.byteLength, 0);
    while (lendFree.length > LEND_KEEP || total > LEND_MAX_BYTES) total -= lendFree.pop()!.byteLength;
  }
}
