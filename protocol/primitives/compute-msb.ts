/**
 * SecureNN Algorithm 5, ComputeMSB (F_MSB): from shares of a over Z_{L-1},
 * shares over Z_L of MSB(a). Uses MSB(a) = LSB(y) for y = 2a mod (L-1) (odd
 * modulus), and LSB(y) = y[0] = r[0] XOR x[0] XOR (x > r) for r = y + x.
 *
 *  1. P0, P1 hold a common random bit beta and shares u_j of 0 over Z_L.
 *  2. P2 picks random x in Z_{L-1}, shares x over Z_{L-1}, its bits over Z_p
 *     and its LSB x[0] over Z_L.
 *  3. P2 sends the shares (P0's from the P0-P2 PRG; only P1's travel).
 *  4. P_j: y_j = 2 a_j, r_j = y_j + x_j (mod L-1).
 *  5. P0, P1 reconstruct r (openToDataParties: r is masked by x).
 *  6. F_PC({x[i]_j}, r, beta): P2 learns beta' = beta XOR (x > r).
 *  7. P2 shares beta' over Z_L and sends (only P1's share travels).
 *  8. P_j: gamma_j = beta'_j + j beta - 2 beta beta'_j   (gamma = beta' XOR beta = (x > r)).
 *  9. P_j: delta_j = x[0]_j + j r[0] - 2 r[0] x[0]_j   (delta = x[0] XOR r[0]).
 * 10. theta = F_MatMul(gamma, delta) (elementwise).
 * 11. P_j: alpha_j = gamma_j + delta_j - 2 theta_j + u_j   (alpha = gamma XOR delta = MSB(a)).
 *
 * Cost: 5 rounds; bytes per element: 80 (step 3: x_1, 64 bit shares, x[0]_1) +
 * 16 (step 5) + 128 (step 6) + 8 (step 7) + 40 (step 10) = 272.
 */
import type { PartyContext } from '../context.js';
import { L_BITS, type AShare, type OddShare, type PShare, type Public } from '../ring/types.js';
import { bitsToU64, lsb, selectByBit } from '../ring/ops.js';
import { openToDataParties } from '../sharing/open.js';
import { recvBytes, recvU64, sendBytes, sendU64 } from '../transport/messages.js';
import { addCost, type Cost } from './cost.js';
import { mulCost, mulShares } from './matmul.js';
import { privateCompare, privateCompareCost } from './private-compare.js';

export const computeMsbCost = (n: number): Cost =>
  addCost({ rounds: 1, bytes: (16 + L_BITS) * n }, { rounds: 1, bytes: 16 * n }, privateCompareCost(n), { rounds: 1, bytes: 8 * n }, mulCost(n));

/** out = b ? (j - s) : s elementwise (mod 2^64): shares of b XOR s when s is shared and b public to P0, P1. */
function xorPublicBit(ctx: PartyContext, bit: Uint8Array, s: BigUint64Array): BigUint64Array {
  const k = ctx.kernels;
  const flipped = new BigUint64Array(s.length);
  k.sub(new BigUint64Array(s.length).fill(ctx.party === 1 ? 1n : 0n), s, flipped);
  const out = new BigUint64Array(s.length);
  selectByBit(bit, flipped, s, out);
  return out;
}

export async function computeMsb(ctx: PartyContext, a: OddShare, label = 'msb'): Promise<AShare> {
  return ctx.step('ComputeMSB', () => computeMsbBody(ctx, a, label));
}

async function computeMsbBody(ctx: PartyContext, a: OddShare, label = 'msb'): Promise<AShare> {
  const k = ctx.kernels;
  const n = a.length;
  if (ctx.party === 2) {
    // Step 2.
    const x = ctx.ownPrg.u64odd(n);
    const g0 = ctx.pairPrg(0);
    const x0 = g0.u64odd(n), xb0 = g0.zp(n * L_BITS), lsb0 = g0.u64(n);
    const x1 = new BigUint64Array(n), xb1 = new Uint8Array(n * L_BITS), lsb1 = new BigUint64Array(n);
    k.subOdd(x, x0, x1);
    k.bitShareZp(x, xb0, xb1);
    k.sub(bitsToU64(lsb(x)), lsb0, lsb1);
    // Step 3.
    sendU64(ctx, 1, `${label}:x`, x1);
    sendBytes(ctx, 1, `${label}:xbits`, xb1);
    sendU64(ctx, 1, `${label}:x0`, lsb1);
    // Step 6.
    const betaP = (await privateCompare(ctx, n, null, null, null, `${label}.pc`))!;
    // Step 7.
    const b0 = g0.u64(n), b1 = new BigUint64Array(n);
    k.sub(bitsToU64(betaP), b0, b1);
    sendU64(ctx, 1, `${label}:beta'`, b1);
    // Step 10.
    await mulShares(ctx, new BigUint64Array(n) as AShare, new BigUint64Array(n) as AShare, `${label}.mul`);
    return new BigUint64Array(n) as AShare;
  }
  const j = ctx.party;
  // Step 1.
  const g01 = ctx.pairPrg(j === 0 ? 1 : 0);
  const beta = g01.bits(n);
  const u0 = g01.u64(n);
  // Step 3: receive (P1) or generate (P0) the shares of x.
  let xj: BigUint64Array, xb: Uint8Array, x0j: BigUint64Array;
  if (j === 0) {
    const g02 = ctx.pairPrg(2);
    xj = g02.u64odd(n); xb = g02.zp(n * L_BITS); x0j = g02.u64(n);
  } else {
    xj = await recvU64(ctx, 2, `${label}:x`, n);
    xb = await recvBytes(ctx, 2, `${label}:xbits`, n * L_BITS);
    x0j = await recvU64(ctx, 2, `${label}:x0`, n);
  }
  // Step 4.
  const rj = new BigUint64Array(n);
  k.addOdd(a, a, rj);
  k.addOdd(rj, xj, rj);
  // Step 5.
  const r = await openToDataParties(ctx, `${label}:r`, rj, 'odd');
  // Step 6.
  await privateCompare(ctx, n, xb as PShare, r as Public, beta, `${label}.pc`);
  // Step 7.
  const betaPj = j === 0 ? ctx.pairPrg(2).u64(n) : await recvU64(ctx, 2, `${label}:beta'`, n);
  // Step 8: gamma = beta' XOR beta.
  const gamma = xorPublicBit(ctx, beta, betaPj);
  // Step 9: delta = x[0] XOR r[0].
  const delta = xorPublicBit(ctx, lsb(r), x0j);
  // Step 10.
  const theta = await mulShares(ctx, gamma as AShare, delta as AShare, `${label}.mul`);
  // Step 11: alpha_j = gamma_j + delta_j - 2 theta_j + u_j.
  const alpha = new BigUint64Array(n);
  k.add(gamma, delta, alpha);
  k.mulScalar(theta, 2n, theta);
  k.sub(alpha, theta, alpha);
  if (j === 0) k.add(alpha, u0, alpha);
  else k.sub(alpha, u0, alpha);
  return alpha as AShare;
}
