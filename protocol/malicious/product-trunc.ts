/**
 * A matrix product followed by a truncation in one step: the truncation's
 * opening rides in the product's resharing round, its check (the other
 * holder's hash, as every checked opening's) in a second round (the
 * fixed-point layers, runner.ts: Conv2D and Dense, every product of which is
 * truncated by f).
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
 *  3b. (the opening's check, open.ts step 2) P_i sends H(c_{i+1}) (its own
 *     copy, z_{i+1} + r_{i+1}) to P_{i-1}, and checks the c_{i+2} it got from
 *     P_{i+2} against the hash of the other holder P_{i+1}: a mismatch is
 *     E_INTEGRITY before c is used.
 *  4. (trunc.ts steps 3-4) [z / 2^f] from c mod 2^(ell+1) and the mask.
 *
 * Step 3b costs the round this file was written to save (until 2026-12-07
 * the truncation used c unchecked, the mismatch left to the MAC check's
 * confirm of the views). That was not sound: a P_{i+2} that adds 2^ell to
 * the c_{i+2} it sends P_i flips the top bit of c mod 2^(ell+1) at P_i only,
 * so the copies of share i+1 of the truncated value held by P_i and P_{i+1}
 * differ by +-2^(ell+1-f) [r_top]_{i+1} (plus terms the cheater knows),
 * where r_top, the mask's bit ell, is a bit: given the cheater's two shares
 * [r_top]_{i+1} is one of two values. At the next opening (a
 * ReLU's, before any MAC check) the cheater receives P_i's copy and the hash
 * of P_{i+1}'s, tests both candidates, learns r_top and with it the carry
 * bit [z + 2^(ell-1) >= 2^ell - (r mod 2^ell)] of a secret pre-activation
 * z: a leak before the abort (product-trunc.test.ts, "an altered c_{i+2}").
 * The hash of step 3b, as every checked opening's, stops it: nothing derived
 * from an unchecked c leaves an honest party. What is left of the fusion:
 * one function and one step instead of two; the same rounds and bytes.
 * Privacy is that of the two steps: P_{i+1} gets c_i masked by r_i, which
 * it does not hold, and learns c = z + r as trunc.ts's opening reveals it
 * (uniform over the ring).
 *
 * Cost (matmulTruncCostM): 2 rounds; the resharing (96 bytes per output
 * element, all parties) with c_i (48), then the hashes (3 x 32): 144 n + 96
 * bytes, as matmulCostM + truncOnlineCostM; the mask (truncMaskCostM) as
 * before, from the session's mask source or made inline.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { alloc128, bytes128, view128, WORD_BYTES, type Vec128 } from './ring128.js';
import { add128Kernels } from './gemm128.js';
import { checkMatmul, matmulCostM, matmulMap, productLocal } from './product.js';
import { checkParams, constant, maskedForOpening, takeTruncMask, truncFinish, truncMaskCostM, TRUNC_ELL } from './trunc.js';
import type { MShare } from './rep.js';
import { digest, HASH_BYTES, sameBytes, type MalSession } from './session.js';

/** The online cost (mask given or from a pool): 2 rounds, 144 n + 96 bytes. */
export const matmulTruncOnlineCostM = (m: number, n: number): Cost => ({ rounds: 2, bytes: matmulCostM(m, n).bytes + 3 * WORD_BYTES * m * n + 3 * HASH_BYTES });
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
    // Step 3b: c_{i+1} (own copy) hashed to P_{i-1}; c_{i+2} from P_{i+2} checked against P_{i+1}'s hash before any use.
    const h = (v: Vec128) => digest(`mal.matmulTrunc:${tag}`, bytes128(v));
    s.send(s.prev, `${tag}:h`, h(y.x.b));
    if (!sameBytes(await s.recv(s.next, `${tag}:h`, HASH_BYTES), h(cPrev))) s.fail(tag, `the opening's share from P${s.prev} and the hash from P${s.next} disagree`);
    const c = add128Kernels(kern, add128Kernels(kern, y.x.a, y.x.b, alloc128(N)), cPrev, alloc128(N));
    s.record(`${tag}:c`, c, y.m);
    // Step 4.
    return truncFinish(s, mk, c);
  });
}
