/**
 * Truncation after a fixed-point product (SecureML, Mohassel-Zhang 2017,
 * Sec. 3.2 / Theorem 1, as SecureNN uses it), for shares x_0 + x_1 = x mod L:
 *  1. P0, P1 re-randomise: x_0 += u, x_1 -= u with u fresh from their common PRG.
 *  2. P0 computes floor(x_0 / 2^f), P1 computes L - floor((L - x_1) / 2^f), locally.
 * Step 2 alone is right (up to 1 ulp) exactly when the integer sum x_0 + x_1
 * (with P1's 0 read as L, as its formula does) is L + x for the signed x: it
 * needs the shares to wrap when x >= 0 and not to wrap when x < 0. Otherwise
 * the result is off by -L / 2^f (x >= 0) or +L / 2^f (x < 0): -2^27 in value
 * for a 24-bit truncation at f = 13. Theorem 1's "except with probability
 * 2^(l_x + 1 - 64) for |x| < 2^l_x" (PROTOCOL-NOTES) assumes a uniformly random
 * sharing, and deterministic ones are valid too and occur: a ZeroPadding2D
 * cell is shared (0, 0), a P0-only constant (c, 0), and (x, 0), (0, x) fail
 * for every x >= 0. Step 1 makes the sharing uniform whatever it was, so the
 * bound holds for every input sharing (probability over u); without it a
 * Pad -> LeakyReLU model gave -2^27 in the padded cells
 * (primitives/edge-sharings.test.ts). divideByPublic is the same rule for any
 * public divisor (AveragePooling's window size, Rescaling).
 *
 * Cost: 0 rounds, 0 bytes (8 bytes of P0-P1 PRG output per element).
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
  // Step 1: u from the P0-P1 PRG (both draw n words here, in the same order).
  const out = ctx.pairPrg(ctx.party === 0 ? 1 : 0).u64(x.length);
  if (ctx.party === 0) ctx.kernels.add(x, out, out);
  else ctx.kernels.sub(x, out, out);
  // Step 2.
  ctx.kernels.divShare(out, d, ctx.party, out);
  return out as AShare;
}

/** Truncate by f bits (default: the context's fractional bits). */
export function truncate(ctx: PartyContext, x: AShare, f: number = ctx.fracBits): AShare {
  return divideByPublic(ctx, x, Uint32Array.of(2 ** f));
}
