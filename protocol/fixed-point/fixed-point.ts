/**
 * Fixed-point encoding of reals in Z_2^64 (two's complement), f fractional bits.
 *
 * Choice: f = 13 by default (SecureNN's choice), configurable 8..20.
 * Error bounds:
 *  - encoding rounds to nearest: |decode(encode(x)) - x| <= 2^-(f+1);
 *  - each product followed by local truncation adds at most 1 ulp (2^-f) of
 *    error per output element, and fails (a huge error) with probability about
 *    2^(l_x + 1 - 64) for |x| < 2^l_x (PROTOCOL-NOTES, SecureML truncation);
 *  - comparisons (DReLU and everything built on it) are exact for values with
 *    |x| < 2^62 in ring units, i.e. |real| < 2^(62-f) (2^49 at f = 13), see drelu.ts.
 * With f = 13 and activations |x| < 2^20 the truncation failure probability is
 * below 2^-42 per element. Encoding accepts |x * 2^f| < 2^53 (exact doubles).
 */
import { assert, MpcError } from '../errors.js';

export const DEFAULT_FRAC_BITS = 13;
export const MIN_FRAC_BITS = 8;
export const MAX_FRAC_BITS = 20;
const TWO32 = 4294967296;

export function checkFracBits(f: number): number {
  assert(Number.isInteger(f) && f >= MIN_FRAC_BITS && f <= MAX_FRAC_BITS, 'E_BAD_ARGUMENT', `fixed-point: fractional bits must be an integer in ${MIN_FRAC_BITS}..${MAX_FRAC_BITS}, got ${f}`);
  return f;
}

/** Encode reals as round(x * 2^f) in Z_2^64 without BigInt. */
export function encode(x: ArrayLike<number>, f: number = DEFAULT_FRAC_BITS): BigUint64Array {
  checkFracBits(f);
  const out = new BigUint64Array(x.length);
  const w = new Uint32Array(out.buffer);
  const scale = 2 ** f;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const v = Math.round(xi * scale);
    // Tested inline: the messages are made only for a refused element (a template per element and check cost ~50 ns).
    if (!Number.isFinite(xi)) throw new MpcError('E_RANGE', `fixed-point: element ${i} is not a finite number`);
    if (!(Math.abs(v) < 2 ** 53)) throw new MpcError('E_RANGE', `fixed-point: element ${i} exceeds the encodable magnitude 2^${53 - f}`);
    const hi = Math.floor(v / TWO32);
    w[2 * i] = v - hi * TWO32;
    w[2 * i + 1] = hi >>> 0;
  }
  return out;
}

/** Decode Z_2^64 values (two's complement) to reals: x / 2^f. Exact for |x| < 2^53. */
export function decode(a: BigUint64Array, f: number = DEFAULT_FRAC_BITS): Float64Array {
  checkFracBits(f);
  const w = new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
  const out = new Float64Array(a.length);
  const inv = 2 ** -f;
  for (let i = 0; i < a.length; i++) out[i] = ((w[2 * i + 1]! | 0) * TWO32 + w[2 * i]!) * inv;
  return out;
}

/** Encode an integer-valued public constant (e.g. the fixed-point of 6 for relu6) as bigint. */
export function encodeScalar(x: number, f: number = DEFAULT_FRAC_BITS): bigint {
  return BigInt.asUintN(64, BigInt(Math.round(x * 2 ** f)));
}
