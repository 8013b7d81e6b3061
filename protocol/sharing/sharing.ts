/**
 * Additive 2-out-of-2 sharing over Z_2^64 and the one place values are opened.
 * Randomness from globalThis.crypto.getRandomValues (Web Crypto: Node >= 19
 * and every browser), so the client SDK uses this file as it is.
 */
import { assert } from '../errors.js';
import type { RingKernels } from '../kernels/types.js';
import type { AShare } from '../ring/types.js';

/** Web Crypto caps one getRandomValues call at 65,536 bytes. */
const MAX_RANDOM_BYTES = 65536;

/** Fill bytes from the platform's CSPRNG, in chunks of at most 64 KiB. */
export function randomFill(bytes: Uint8Array): Uint8Array {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  assert(c !== undefined && typeof c.getRandomValues === 'function', 'E_INTERNAL', 'sharing: globalThis.crypto.getRandomValues is not available');
  for (let off = 0; off < bytes.length; off += MAX_RANDOM_BYTES) c.getRandomValues(bytes.subarray(off, Math.min(bytes.length, off + MAX_RANDOM_BYTES)));
  return bytes;
}

/** Uniform Z_2^64 elements from the CSPRNG. */
export function randomU64(n: number): BigUint64Array {
  const out = new BigUint64Array(n);
  randomFill(new Uint8Array(out.buffer));
  return out;
}

/** Split a secret into two shares: s0 uniform, s1 = x - s0. Used by the client and the model importer. */
export function share(k: RingKernels, x: BigUint64Array): [AShare, AShare] {
  const s0 = randomU64(x.length);
  const s1 = new BigUint64Array(x.length);
  k.sub(x, s0, s1);
  return [s0 as AShare, s1 as AShare];
}

/**
 * Reconstruct x = s0 + s1. Reveals x to whoever calls it; only the client
 * (with the output shares of P0 and P1) and tests call this.
 */
export function reconstruct(k: RingKernels, s0: BigUint64Array, s1: BigUint64Array): BigUint64Array {
  assert(s0.length === s1.length, 'E_SHAPE', `reconstruct: share lengths differ (${s0.length} vs ${s1.length})`);
  const out = new BigUint64Array(s0.length);
  k.add(s0, s1, out);
  return out;
}

/** View a u64 array as bytes (no copy). Little-endian hosts only (checked at load). */
export function u64Bytes(a: BigUint64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Bytes as u64, copied into an aligned array if needed (gRPC buffers may be unaligned). */
export function bytesU64(b: Uint8Array, expectLength?: number): BigUint64Array {
  assert(b.byteLength % 8 === 0, 'E_SHAPE', `payload: ${b.byteLength} bytes is not a whole number of u64`);
  if (expectLength !== undefined) assert(b.byteLength === expectLength * 8, 'E_SHAPE', `payload: expected ${expectLength} u64, got ${b.byteLength / 8}`);
  if (b.byteOffset % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const out = new BigUint64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

assert(new Uint8Array(new Uint32Array([1]).buffer)[0] === 1, 'E_INTERNAL', 'sharing: a little-endian host is required');
