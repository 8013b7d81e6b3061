/**
 * Random MACed bits for the malicious mode: n values b in {0, 1}, uniform
 * and unknown to any single party, as MACed replicated sharings over
 * Z_2^128 (bits are arithmetic values equal to 0 or 1; docs/MALICIOUS.md).
 *
 * Construction: b is the parity (XOR) of three bits, one per pair of
 * parties, each drawn from that pair's PRG, so that no party knows all of
 * them. The idea is that of daBit generation with an honest majority (a
 * random bit as the XOR of contributions no single party sees all of:
 * Rotaru and Wood, INDOCRYPT 2019; Escudero, Ghosh, Keller, Rachuri, Scholl,
 * CRYPTO 2020), here with the contributions taken from the replicated
 * sharing's pair PRGs instead of inputs, and the XOR computed in the
 * arithmetic domain over Z_2^k (bits as ring values, as in Damgard,
 * Escudero, Frederiksen, Keller, Scholl, Volgushev, S&P 2019) with the MACs
 * and products of SPDZ-wise replicated sharing (Dalskov, Escudero, Keller,
 * PoPETs 2020, Pi_Mult):
 *
 *  1. Pair bits: share t_j (j = 0, 1, 2) of a replicated sharing [T] is a
 *     bit drawn from the PRG of its two holders P_j and P_{j-1} (rep.ts
 *     convention: t_0 from s02, t_1 from s01, t_2 from s12). So
 *     T = t_0 + t_1 + t_2 in {0, 1, 2, 3}, with no message.
 *  2. MAC: [alpha T] (product.ts macOf: one resharing of n words).
 *  3. [T^2] = [T][T], then [T^3] = [T^2][T] (two mulM, one round each).
 *  4. [b] = 2[T] - [T^2] + gamma ([T^3] - 3[T^2] + 2[T]), gamma = 2 / 3 mod
 *     2^128 (3 is a unit): the polynomial p with p(0) = p(2) = 0,
 *     p(1) = p(3) = 1, i.e. b = T mod 2 = t_0 XOR t_1 XOR t_2 (check: the
 *     bracket is T(T-1)(T-2), 0 for T < 3 and 6 for T = 3, and 6 gamma = 4,
 *     so p(3) = 6 - 9 + 4 = 1). Local: shifts, additions, one public scalar.
 *
 * Privacy: party P_i knows t_i and t_{i+1} (its two shares) but not
 * t_{i+2}, which comes from the seed of P_{i+1} and P_{i+2}, dealt before
 * and independent of P_i's view; so b = t_0 XOR t_1 XOR t_2 is uniform to
 * P_i. Every message it receives is a resharing masked by a fresh zero
 * sharing (Araki et al. 2016), uniform whatever the bits.
 *
 * Correctness against a cheater (which check, and why mod 2^k is enough):
 * each t_j has an honest holder (at most one party cheats), and the value
 * of [T] is defined by the honest holders' copies: T is in {0, .., 3} by
 * construction, so b is a bit and no opening of b(1 - b) is needed. A
 * cheater can only compute with another copy or send other resharings:
 * additive errors on the MACed outputs of steps 2-3, which are registered
 * with the session and verified by the **batched MAC check** (mac-check.ts),
 * not before they are returned. The check guarantees them modulo 2^k
 * (k = 64, SPDZ_2k Thm. 1); p has coefficients in Z_2^128, so p(T) mod 2^64
 * depends only on T, T^2, T^3 mod 2^64, and after the check b is 0 or 1 mod
 * 2^k (exactly 0 or 1 in Z_2^128 in an honest run; after an attack its high
 * 64 bits may carry an undetectable multiple of 2^64). That is enough: every
 * consumer (trunc.ts, the comparisons) uses bits only in linear combinations
 * and products whose result is read mod 2^k, and opens only values masked
 * over the whole ring. So: nothing derived from these bits may leave the
 * parties before macCheck.
 *
 * The bits do not depend on any input: call randBitsM ahead of the input
 * (a later offline phase can batch them; see trunc.ts truncMaskM).
 *
 * Cost: 3 rounds; macOf of n words (48 n bytes) and two products of n
 * elements (2 x 96 n): 240 n bytes in all (the XOR of three separately
 * MACed pair bits with a + b - 2ab costs 336 n). A packed binary domain (or
 * edaBits with cut-and-choose) would be cheaper per bit; not built.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import type { PartyContext } from '../context.js';
import { alloc128, scalar128, type Vec128 } from './ring128.js';
import { mulScalar128Kernels } from './gemm128.js';
import { addM, next, prev, subM, type MShare, type Rep } from './rep.js';
import { macOfBody, macOfCost, mulCostM, mulM } from './product.js';
import { shlM } from './mvec.js';
import type { MalSession } from './session.js';

export const randBitsCost = (n: number): Cost => addCost(macOfCost(n), mulCostM(n), mulCostM(n));

/** gamma = 2 / 3 mod 2^128: 3^-1 = (2^129 + 1) / 3 (3 (2^129 + 1) / 3 = 2^129 + 1 = 1 mod 2^128). */
const GAMMA = scalar128(2n * (((1n << 129n) + 1n) / 3n));

/** n bits from a PRG stream (packed bytes), as elements 0/1 of Z_2^128. */
function bitsOf(bytes: Uint8Array, n: number): Vec128 {
  const out = alloc128(n);
  for (let e = 0; e < n; e++) out[4 * e] = (bytes[e >>> 3]! >>> (e & 7)) & 1;
  return out;
}

/**
 * Step 1 (local): this party's part (t_i, t_{i+1}) of the sharing [T] of
 * n elements, T = t_0 + t_1 + t_2. Party i draws t_i from the PRG it shares
 * with P_{i-1} and t_{i+1} from the one it shares with P_{i+1}, in that
 * order (the other holder of each seed draws the same bytes).
 */
export function pairBits(ctx: Pick<PartyContext, 'party' | 'pairPrg'>, n: number): Rep {
  const bytes = Math.ceil(n / 8);
  const a = bitsOf(ctx.pairPrg(prev(ctx.party)).bytes(bytes), n);
  const b = bitsOf(ctx.pairPrg(next(ctx.party)).bytes(bytes), n);
  return { a, b };
}

/** [gamma x] for the public gamma, on the context's kernels (value and MAC shares). */
function timesGamma(s: MalSession, x: MShare): MShare {
  const g = (v: Vec128): Vec128 => mulScalar128Kernels(s.ctx.kernels, v, GAMMA, alloc128(x.n));
  return { n: x.n, x: { a: g(x.x.a), b: g(x.x.b) }, m: { a: g(x.m.a), b: g(x.m.b) } };
}

/** Steps 3-4 on the MACed [T] of step 2: b = T mod 2 (two products). */
export async function parityM(s: MalSession, T: MShare): Promise<MShare> {
  const T2 = await mulM(s, T, T);
  const T3 = await mulM(s, T2, T);
  const twoT = shlM(T, 1);
  const cubic = subM(addM(T3, twoT), addM(T2, shlM(T2, 1))); // T^3 - 3T^2 + 2T = T(T-1)(T-2)
  return addM(subM(twoT, T2), timesGamma(s, cubic));
}

/** Steps 2-4 on step 1's sharing (exported for tests that make a party deviate in step 1). */
export async function xorPairBits(s: MalSession, t: Rep): Promise<MShare> {
  return parityM(s, await macOfBody(s, t)); // macOfBody registers [T] for the MAC check
}

/**
 * n uniformly random MACed bits unknown to any single party. Verified by
 * the batched MAC check (registered values), not before they are returned:
 * release nothing derived from them before macCheck. Cost randBitsCost(n).
 */
export function randBitsM(s: MalSession, n: number): Promise<MShare> {
  return s.guard('mal.randBits', async () => {
    assert(Number.isInteger(n) && n >= 1, 'E_SHAPE', `malicious.randBits: the number of bits must be a positive integer, got ${n}`, { party: s.party, step: 'mal.randBits' });
    return xorPairBits(s, pairBits(s.ctx, n));
  });
}
