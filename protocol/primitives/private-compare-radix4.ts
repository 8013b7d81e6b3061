/**
 * PrivateCompare (F_PC, SecureNN Algorithm 3) over radix-4 digits on the
 * 32-bit comparison ring: an optimisation of Alg. 3 (not an algorithm of the
 * paper) that halves what P0 and P1 send to P2.
 *
 * Setting as in private-compare.ts: P0 and P1 hold shares over Z_p (p = 67)
 * of a secret x < 2^31 that P2 dealt, a public r < 2^31 and a common random
 * bit beta; P2 learns beta' = beta XOR (x > r), nobody learns more.
 * Alg. 3 works on the l bits of x and sends l values per element and party.
 * Here x is read as D = 16 digits x_i of 2 bits (i = 15 the most
 * significant), and P2 deals, instead of shares of the bits, shares of the
 * prefix indicators L_i[u] = [x_i <= u] for u = 0, 1, 2 (L_i[3] = 1 is
 * public; kernels/radix4.ts). For a public digit a every indicator the
 * comparison needs is linear in them:
 *   [x_i <= a] = L_i[a],  [x_i >= a] = 1 - L_i[a-1],  [x_i = a] = L_i[a] - L_i[a-1]
 * (L_i[-1] = 0), so P0 and P1 compute shares of, with v = r (beta = 0) or
 * v = t = r + 1 (beta = 1, step 1; t <= 2^31 still has 16 digits),
 *   c_i = [x_i <= v_i] + sum_{k>i} [x_k != v_k]   (beta = 0)
 *   c_i = [x_i >= v_i] + sum_{k>i} [x_k != v_k]   (beta = 1)
 * (steps 2-5). c_i = 0 exactly at the most significant digit where x and v
 * differ, when there x_i > v_i (beta = 0: x > r) or x_i < v_i (beta = 1:
 * x < r + 1, i.e. not x > r), and c_i is in [1, 16] elsewhere: at most one
 * zero, none unless beta XOR (x > r) = 1, and every c_i < p.
 *  6. P_j sends d_i^j = s_i c_i^j plus its part of a common zero-sharing
 *     mask (P0 adds m_i, P1 subtracts it), rotated by a common random
 *     rotation of the 16 positions (s_i in Z_p^*, m_i, the rotation from the
 *     P0-P1 PRG): as in private-compare.ts, each d_i^j alone is uniform and
 *     the sums d_i are uniform nonzero values with the zero, if any, at a
 *     uniform position.
 *  7. P2 reconstructs d_i and sets beta' = 1 iff some d_i = 0.
 * So P2's view has the same distribution as in Alg. 3 (16 positions instead
 * of 31); P0 and P1 receive nothing.
 *
 * Cost: 1 round, 2 * 16 bytes per element (Alg. 3 on the narrow ring: 2 * 32).
 * The dealt shares are 48 Z_p values per element (bits: 32); with a
 * preprocessed bundle (correlated/dealer.ts) they travel before the run.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { allBelow2p31 } from '../kernels/narrow.js';
import { R4_DEALT, R4_DIGITS } from '../kernels/radix4.js';
import type { Public } from '../ring/types.js';
import { sendNarrowD, zeroTestAtP2, type NarrowPcRandomness } from './private-compare.js';
import type { Cost } from './cost.js';

export { R4_DEALT, R4_DIGITS };

export const privateCompareRadix4Cost = (n: number): Cost => ({ rounds: 1, bytes: 2 * R4_DIGITS * n });

/**
 * P0/P1: pass xl (n*48 dealt Z_p shares of the prefix indicators), r (every
 * r < 2^31) and beta; returns null. P2: pass n (the rest is ignored); returns
 * beta' (n bits).
 */
export function privateCompareRadix4(ctx: PartyContext, n: number, xl: Uint8Array | null, r: Public | null, beta: Uint8Array | null, label = 'pc', pre?: NarrowPcRandomness): Promise<Uint8Array | null> {
  return ctx.step('PrivateCompare', () => body(ctx, n, xl, r, beta, label, pre));
}

async function body(ctx: PartyContext, n: number, xl: Uint8Array | null, r: Public | null, beta: Uint8Array | null, label: string, pre?: NarrowPcRandomness): Promise<Uint8Array | null> {
  const tag = `${label}:d`;
  // Step 7.
  if (ctx.party === 2) return zeroTestAtP2(ctx, tag, n, R4_DIGITS, (d0, d1, out) => ctx.kernels.zeroTest16(d0, d1, out));
  assert(xl && r && beta && xl.length === n * R4_DEALT && r.length === n && beta.length === n, 'E_SHAPE', `privateCompareRadix4: inputs do not match n = ${n}`, { party: ctx.party, step: label });
  assert(allBelow2p31(r), 'E_BAD_ARGUMENT', 'privateCompareRadix4: every r must be < 2^31', { party: ctx.party, step: label });
  // Steps 1-6 in one kernel, with step 6's common randomness (the rotation: low 4 bits).
  sendNarrowD(ctx, n, R4_DIGITS, tag, (s, rot, mask, d) => ctx.kernels.privateCompareR4(ctx.party as 0 | 1, xl, r, beta, s, rot, mask, d), pre);
  return null;
}
