/**
 * SecureNN Algorithm 4, ShareConvert (F_SC): shares of a over Z_L into shares
 * of the same a over Z_{L-1}, for a != L - 1.
 *
 * Notation: wrap(x, y, L) = 1 if x + y >= L as integers.
 *  1. P0, P1 hold a common random bit eta'', common random r in Z_L with
 *     shares r_0, r_1 and alpha = wrap(r_0, r_1, L), and shares u_j of 0 over Z_{L-1}.
 *  2. P_j: a~_j = a_j + r_j mod L, beta_j = wrap(a_j, r_j, L).
 *  3. P_j sends a~_j to P2.
 *  4. P2: x = a~_0 + a~_1 mod L (= a + r, masked by r), delta = wrap(a~_0, a~_1, L).
 *  5. P2 shares the bits of x over Z_p and delta over Z_{L-1}.
 *  6. P2 sends them (P0's shares come from the P0-P2 PRG; only P1's travel).
 *  7. F_PC({x[i]_j}, r - 1, eta''): P2 learns eta' = eta'' XOR (x > r - 1).
 *  8. P2 shares eta' over Z_{L-1} and sends (again only P1's share travels).
 *  9. P_j: eta_j = eta'_j + (1 - j) eta'' - 2 eta'' eta'_j  (mod L-1).
 * 10. P_j: theta_j = beta_j + (1 - j)(-alpha - 1) + delta_j + eta_j  (mod L-1).
 * 11. P_j: y_j = a_j - theta_j + u_j (mod L-1), with a_j first reduced mod L-1.
 *
 * Cost: 4 rounds; bytes per element: 16 (step 3) + 64 + 8 (step 6) +
 * 128 (step 7) + 8 (step 8) = 224.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { L_BITS, type AShare, type OddShare, type PShare, type Public } from '../ring/types.js';
import { bitsToU64, selectByBit } from '../ring/ops.js';
import { recvBytes, recvU64, sendBytes, sendU64 } from '../transport/messages.js';
import { privateCompare, privateCompareCost } from './private-compare.js';
import { addCost, type Cost } from './cost.js';

export const shareConvertCost = (n: number): Cost =>
  addCost({ rounds: 1, bytes: 16 * n }, { rounds: 1, bytes: (L_BITS + 8) * n }, privateCompareCost(n), { rounds: 1, bytes: 8 * n });

const ODD_MINUS_ONE = 0xfffffffffffffffdn; // -2 mod (2^64 - 1), i.e. -alpha-1 for alpha = 1
const ODD_NEG_ONE = 0xfffffffffffffffen; // -1 mod (2^64 - 1)

/** P0/P1 pass their share a_j; P2 passes a placeholder of length n. Returns shares over Z_{L-1} (P2: placeholder). */
export async function shareConvert(ctx: PartyContext, a: AShare, label = 'sc'): Promise<OddShare> {
  return ctx.step('ShareConvert', () => shareConvertBody(ctx, a, label));
}

async function shareConvertBody(ctx: PartyContext, a: AShare, label = 'sc'): Promise<OddShare> {
  const k = ctx.kernels;
  const n = a.length;
  if (ctx.party === 2) {
    // Steps 3-4.
    const a0 = await recvU64(ctx, 0, `${label}:a~`, n);
    const a1 = await recvU64(ctx, 1, `${label}:a~`, n);
    const x = new BigUint64Array(n);
    k.add(a0, a1, x);
    const deltaBits = new Uint8Array(n);
    k.wrap(a0, a1, deltaBits);
    // Steps 5-6: bits of x over Z_p, delta over Z_{L-1}; P0's shares from the PRG.
    const g0 = ctx.pairPrg(0);
    const xb0 = g0.zp(n * L_BITS);
    const delta0 = g0.u64odd(n);
    const xb1 = new Uint8Array(n * L_BITS);
    k.bitShareZp(x, xb0, xb1);
    const delta1 = new BigUint64Array(n);
    k.subOdd(bitsToU64(deltaBits), delta0, delta1);
    sendBytes(ctx, 1, `${label}:xbits`, xb1);
    sendU64(ctx, 1, `${label}:delta`, delta1);
    // Step 7.
    const etaP = (await privateCompare(ctx, n, null, null, null, `${label}.pc`))!;
    // Step 8.
    const eta0 = g0.u64odd(n);
    const eta1 = new BigUint64Array(n);
    k.subOdd(bitsToU64(etaP), eta0, eta1);
    sendU64(ctx, 1, `${label}:eta'`, eta1);
    return new BigUint64Array(n) as OddShare;
  }
  const j = ctx.party;
  // Step 1: common randomness from the P0-P1 PRG (both draw the same values).
  const g01 = ctx.pairPrg(j === 0 ? 1 : 0);
  const etaPP = g01.bits(n);
  const r0 = g01.u64(n), r1 = g01.u64(n);
  const u0 = g01.u64odd(n);
  const r = new BigUint64Array(n);
  k.add(r0, r1, r);
  const alpha = new Uint8Array(n);
  k.wrap(r0, r1, alpha);
  const rj = j === 0 ? r0 : r1;
  // Step 2.
  const aT = new BigUint64Array(n);
  k.add(a, rj, aT);
  const betaJ = new Uint8Array(n);
  k.wrap(a, rj, betaJ);
  // Step 3.
  sendU64(ctx, 2, `${label}:a~`, aT);
  // Step 6: receive (P1) or generate (P0) the shares of x's bits and of delta.
  let xb: Uint8Array, deltaJ: BigUint64Array;
  if (j === 0) {
    const g02 = ctx.pairPrg(2);
    xb = g02.zp(n * L_BITS);
    deltaJ = g02.u64odd(n);
  } else {
    xb = await recvBytes(ctx, 2, `${label}:xbits`, n * L_BITS);
    deltaJ = await recvU64(ctx, 2, `${label}:delta`, n);
  }
  // Step 7: compare x > r - 1.
  const rMinus1 = new BigUint64Array(n);
  k.addScalar(r, 0xffffffffffffffffn, rMinus1);
  await privateCompare(ctx, n, xb as PShare, rMinus1 as Public, etaPP, `${label}.pc`);
  // Step 8.
  const etaPj = j === 0 ? ctx.pairPrg(2).u64odd(n) : await recvU64(ctx, 2, `${label}:eta'`, n);
  // Step 9: eta_j = eta'' ? (1 - j) - eta'_j : eta'_j   (mod L-1).
  const flipped = new BigUint64Array(n);
  k.subOdd(new BigUint64Array(n).fill(j === 0 ? 1n : 0n), etaPj, flipped);
  const etaJ = new BigUint64Array(n);
  selectByBit(etaPP, flipped, etaPj, etaJ);
  // Step 10: theta_j = beta_j + (1 - j)(-alpha - 1) + delta_j + eta_j.
  const theta = bitsToU64(betaJ);
  if (j === 0) {
    const negAlphaMinus1 = new BigUint64Array(n);
    selectByBit(alpha, new BigUint64Array(n).fill(ODD_MINUS_ONE), new BigUint64Array(n).fill(ODD_NEG_ONE), negAlphaMinus1);
    k.addOdd(theta, negAlphaMinus1, theta);
  }
  k.addOdd(theta, deltaJ, theta);
  k.addOdd(theta, etaJ, theta);
  // Step 11: y_j = (a_j mod L-1) - theta_j + u_j.
  const y = new BigUint64Array(n);
  k.reduceOdd(a, y);
  k.subOdd(y, theta, y);
  if (j === 0) k.addOdd(y, u0, y);
  else k.subOdd(y, u0, y);
  return y as OddShare;
}
