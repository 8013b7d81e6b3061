/**
 * A matrix product followed by a truncation in ONE round: the truncation's
 * opening rides in the product's resharing round (the fixed-point layers,
 * runner.ts: Conv2D and Dense, every product of which is truncated by f).
 *
 * Replicated multiplication with resharing (Araki, Furukawa, Lindell, Nof,
 * Ohara, CCS 2016, §2.2; on value and MAC as in Dalskov, Escudero, Keller,
 * PoPETs 2020, Pi_Mult: product.ts) and the probabilistic truncation
 * TruncPr in its Z_2^k form (Catrina and de Hoogh 2010: trunc.ts, same mask
 * [r], same steps 3-4). With P_i holding (r_i, r_{i+1}) of the mask:
 *
 *  1. (product.ts step 1) z_i = f(X_i, Y_i + Y_{i+1}) + f(X_{i+1}, Y_i) +
 *     beta_i, and the same for the MAC with [alpha X].
 *  2. P_i sends z_i and its MAC share to P_{i-1} (the resharing, as
 *     product.ts), and c_i = z_i + r_i (+ 2^(ell-1) at P0, the public offset
 *     on share 0: trunc.ts step 1) to P_{i+1}: both in the same round.
 *  3. P_i holds (z_i, z_{i+1}) (a replicated sharing of z = XY, registered
 *     for the MAC check as every product) and c = c_i + c_{i+1} + c_{i+2}:
 *     c_i is its own, c_{i+1} = z_{i+1} + r_{i+1} (+ 2^(ell-1) at P2) from the
 *     resharing, c_{i+2} from P_{i+2} = P_{i-1}. c is logged with its MAC
 *     shares [alpha z] + 2^(ell-1)[alpha] + [alpha r] for the MAC check.
 *  4. (trunc.ts steps 3-4) [z / 2^f] from c mod 2^(ell+1) and the mask.
 *
 * The one difference from product.ts then trunc.ts: the share c_{i+2}
 * reaches P_i from one holder only (P_{i+2}, who computed z_{i+2}), with no
 * hash from its other holder P_{i+1} (whose copy z_{i+2} came from P_{i+2}
 * in the same round, so a hash could only come one round later). What that
 * hash caught at once is caught before any output instead:
 *  - a P_{i+2} that sends c_{i+2} inconsistent with the z_{i+2} it sent
 *    P_{i+1} makes the honest P_i and P_{i+1} log different c; c is in each
 *    party's view hash, which the MAC check's confirm round compares
 *    (mac-check.ts step 4): E_INTEGRITY at both, before any output (the
 *    SPDZ way: openings are unchecked broadcasts, the views compared at
 *    the end; Damgard, Keller, Larraia, Pastro, Scholl, Smart, ESORICS 2013);
 *  - a consistent but wrong z_{i+2} is an additive error on the registered
 *    product and on the opened c, which the batched MAC check catches
 *    (SPDZ_2k Thm. 1), as for product.ts.
 * Privacy is that of the two steps: P_{i+1} gets c_i masked by r_i, which
 * it does not hold, and learns c = z + r as trunc.ts's opening reveals it
 * (uniform over the ring); an inconsistent c at two honest parties changes
 * what they send later only in values masked by fresh masks or zero
 * sharings, and they abort before any output.
 *
 * Cost (matmulTruncCostM): 1 round; the resharing (96 bytes per output
 * element, all parties) and c_i (48): 144 n bytes, against matmulCostM +
 * truncOnlineCostM = 2 rounds and 144 n + 96 bytes; the mask (truncMaskCostM)
 * as before, from the session's mask source or made inline.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { alloc128, bytes128, view128, WORD_BYTES, type Vec128 } from './ring128.js';
import { add128Kernels } from './gemm128.js';
import { checkMatmul, matmulCostM, matmulMap, productLocal } from './product.js';
import { checkParams, constant, maskedForOpening, takeTruncMask, truncFinish, truncMaskCostM, TRUNC_ELL } from './trunc.js';
import type { MShare } from './rep.js';
import type { MalSession } from './session.js';

/** The online cost (mask given or from a pool): 1 round, 144 n bytes. */
export const matmulTruncOnlineCostM = (m: number, n: number): Cost => ({ rounds: 1, bytes: matmulCostM(m, n).bytes + 3 * WORD_BYTES * m * n });
/** With the mask made inline (truncMaskCostM) first. */
export const matmulTruncCostM = (m: number, n: number, f: number, ell: number = TRUNC_ELL): Cost => addCost(truncMaskCostM(m * n, f, ell), matmulTruncOnlineCostM(m, n));

/** [X Y / 2^f] for X (m x k), Y (k x n), row-major, |XY| < 2^(ell-1) (see the header). Cost matmulTruncCostM (the online part with a pooled mask). */
export function matmulTruncM(s: MalSession, X: MShare, Y: MShare, m: number, k: number, n: number, f: number, ell: number = TRUNC_ELL): Promise<MShare> {
  return s.guard('mal.matmulTrunc', async () => {
    checkMatmul(s, X, Y, m, k, n);
    const N = m * n, kern = s.ctx.kernels;
    checkParams(s, 'mal.matmulTrunc', N, f, ell);
    const mk = await takeTruncMask(s, N, f, ell);
    mk.used = true;
    const tag = s.label('matmulTrunc');
    // Step 1.
    const zm = productLocal(s, matmulMap(s, m, k, n), X, Y);
    // Step 2: c_i = z_i + r_i (+ 2^(ell-1) at P0) to P_{i+1}, the resharing to P_{i-1}.
    const ci = add128Kernels(kern, zm.subarray(0, 4 * N) as Vec128, mk.r.x.a, alloc128(N));
    if (s.party === 0) add128Kernels(kern, ci, constant(N, 1n << BigInt(ell - 1)), ci); // the public offset on share 0 (P0's a), as maskedForOpening
    s.send(s.next, `${tag}:c`, bytes128(ci));
    s.send(s.prev, tag, bytes128(zm.slice() as Vec128));
    // Step 3.
    const got = view128(await s.recv(s.next, tag, 2 * N * WORD_BYTES));
    const cPrev = view128(await s.recv(s.prev, `${tag}:c`, N * WORD_BYTES));
    const z = s.register({
      n: N,
      x: { a: zm.subarray(0, 4 * N) as Vec128, b: got.subarray(0, 4 * N) as Vec128 },
      m: { a: zm.subarray(4 * N) as Vec128, b: got.subarray(4 * N) as Vec128 },
    });
    const y = maskedForOpening(s, z, mk); // (c_i, c_{i+1}) and the MAC shares of c
    const c = add128Kernels(kern, add128Kernels(kern, y.x.a, y.x.b, alloc128(N)), cPrev, alloc128(N));
    s.record(`${tag}:c`, c, y.m);
    // Step 4.
    return truncFinish(s, mk, c);
  });
}
