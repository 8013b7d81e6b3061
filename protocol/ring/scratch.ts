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
