/**
 * Truncation after a fixed-point product (SecureML, as SecureNN uses it):
 * P0 computes floor(x_0 / 2^f), P1 computes -floor(-x_1 / 2^f), locally.
 * Correct up to 1 ulp except with probability about 2^(l_x + 1 - 64) for
 * |x| < 2^l_x (PROTOCOL-NOTES). divideByPublic is the same local rule for any
 * public divisor (AveragePooling's window size).
 *
 * Cost: 0 rounds, 0 bytes.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';

export const truncateCost = (): Cost => ({ rounds: 0, bytes: 0 });

/** Divide shares by public positive integer divisors (length 1 = broadcast). P2's placeholder passes through. */
export function divideByPublic(ctx: PartyContext, x: AShare, d: Uint32Array): AShare {
  if (ctx.party === 2) return x;
  assert(d.length === 1 || d.length === x.length, 'E_SHAPE', `divideByPublic: ${d.length} divisors for ${x.length} elements`);
  const out = new BigUint64Array(x.length);
  ctx.kernels.divShare(x, d, ctx.party, out);
  return out as AShare;
}

/** Truncate by f bits (default: the context's fractional bits). */
export function truncate(ctx: PartyContext, x: AShare, f: number = ctx.fracBits): AShare {
  return divideByPublic(ctx, x, Uint32Array.of(2 ** f));
}
