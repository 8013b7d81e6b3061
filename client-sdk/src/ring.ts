/**
 * The client's additive 2-out-of-2 sharing over Z_2^64: randomness and the
 * wire format come from protocol/sharing/sharing.ts (Web Crypto, so it runs
 * in browsers too); the arithmetic here uses 32-bit limbs on Uint32Array views
 * of the BigUint64Array, never a BigInt per element, and no kernels. Wire
 * format: raw little-endian u64 (sharing.ts checks the host at load).
 */
import { MpcError } from '../../protocol/errors.js';
import { bytesU64, randomFill, randomU64, u64Bytes } from '../../protocol/sharing/sharing.js';

export { randomFill, randomU64 };

function limbs(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** out = a + b mod 2^64, limb-wise with carry. */
export function addU64(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  checkSameLength('add', a, b, out);
  const x = limbs(a), y = limbs(b), z = limbs(out);
  for (let i = 0; i < x.length; i += 2) {
    const lo = x[i]! + y[i]!;
    const carry = lo > 0xffffffff ? 1 : 0;
    z[i] = lo >>> 0;
    z[i + 1] = (x[i + 1]! + y[i + 1]! + carry) >>> 0;
  }
  return out;
}

/** out = a - b mod 2^64, limb-wise with borrow. */
export function subU64(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  checkSameLength('sub', a, b, out);
  const x = limbs(a), y = limbs(b), z = limbs(out);
  for (let i = 0; i < x.length; i += 2) {
    const borrow = x[i]! < y[i]! ? 1 : 0;
    z[i] = (x[i]! - y[i]!) >>> 0;
    z[i + 1] = (x[i + 1]! - y[i + 1]! - borrow) >>> 0;
  }
  return out;
}

function checkSameLength(op: string, a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void {
  if (a.length !== b.length || out.length !== a.length) {
    throw new MpcError('E_SHAPE', `${op}: share lengths differ (${a.length}, ${b.length}, ${out.length})`);
  }
}

/**
 * Split x into (x_0, x_1) with x_0 uniform and x_1 = x - x_0 mod 2^64.
 * Each share alone is uniform and says nothing about x; x_0 goes to P0, x_1 to P1.
 */
export function splitShares(x: BigUint64Array): [BigUint64Array, BigUint64Array] {
  const s0 = randomU64(x.length);
  return [s0, subU64(x, s0)];
}

/**
 * Reconstruct y = y_0 + y_1 mod 2^64. Reveals y to the caller: only the
 * client, holding both output shares, calls it.
 */
export function reconstructShares(y0: BigUint64Array, y1: BigUint64Array): BigUint64Array {
  return addU64(y0, y1);
}

/** The bytes of a u64 array, little-endian on the wire (no copy). */
export const u64ToBytes = u64Bytes;

/** A response body as u64 (copies into an aligned buffer if needed). */
export const bytesToU64 = (b: ArrayBuffer | Uint8Array): BigUint64Array => bytesU64(b instanceof Uint8Array ? b : new Uint8Array(b));

/** A random UUID v4 from getRandomValues (randomUUID needs a secure context in browsers). */
export function uuidV4(): string {
  const b = randomFill(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * A session key (SESSION_KEY_HEADER): 32 random bytes from getRandomValues in
 * base64url without padding, 43 characters. The client draws one for each
 * party and each session; only it can then read or feed that session.
 */
export function sessionKey(): string {
  const b = randomFill(new Uint8Array(33));
  let out = '';
  for (let i = 0; i < 33; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  // 33 bytes make 44 characters; 43 of them carry 258 bits, more than the 256 the key needs.
  return out.slice(0, 43);
}
