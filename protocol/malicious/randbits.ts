/**
 * Random MACed bits for the malicious mode: n values b in {0, 1}, uniform
 * and unknown to any single party, as MACed replicated sharings over
 * Z_2^128 (bits are arithmetic values equal to 0 or 1; docs/MALICIOUS.md).
 *
 * Construction: the XOR of three bits, one per pair of parties, each drawn
 * from that pair's PRG. This is the honest-majority way of making a random
 * shared bit from replicated sharing (the three shares of a random binary
 * replicated sharing, XORed in the arithmetic domain: the daBit/edaBit
 * generation for replicated secret sharing of Escudero, Ghosh, Keller,
 * Rachuri, Scholl, CRYPTO 2020, and of Rotaru and Wood, INDOCRYPT 2019),
 * with the MACs and products of SPDZ-wise replicated sharing (Dalskov,
 * Escudero, Keller, PoPETs 2020, Pi_Mult) and AND = product,
 * XOR(a, b) = a + b - 2ab (Damgard et al., S&P 2019, bits over Z_2^k):
 *
 *  1. Pair bits: share t_j (j = 0, 1, 2) of the replicated sharing is held
 *     by P_j and P_{j-1} and drawn from their common PRG (rep.ts convention:
 *     t_0 from s02, t_1 from s01, t_2 from s12), one bit per element. [t_j]
 *     is the replicated sharing whose share j is t_j and whose other two
 *     shares are 0: both holders have it with no message.
 *  2. MACs: [alpha t_j] for the three sharings at once (product.ts macOf:
 *     one resharing of 3n words).
 *  3. [d] = [t_0] XOR [t_1] = [t_0] + [t_1] - 2 [t_0 t_1] (one mulM).
 *  4. [b] = [d] XOR [t_2] = [d] + [t_2] - 2 [d t_2] (one mulM).
 *
 * Privacy: party P_i knows t_i and t_{i+1} (its two shares) but not
 * t_{i+2}, which comes from the seed of P_{i+1} and P_{i+2}, dealt before
 * and independent of P_i's view; so b = t_0 XOR t_1 XOR t_2 is uniform to
 * P_i. Every message it receives is a resharing masked by a fresh zero
 * sharing (Araki et al. 2016), uniform whatever the bits.
 *
 * Correctness against a cheater (which check, and why mod 2^k is enough):
 * each t_j has an honest holder (at most one party cheats), and the value
 * of [t_j] is the honest holder's copy, exactly 0 or 1 in Z_2^128; it is a
 * bit by construction, no opening of b(1 - b) is needed. A cheater can only
 * compute with another copy or send other resharings: additive errors on
 * the MACed outputs of steps 2-4, which are registered with the session and
 * verified by the **batched MAC check** (mac-check.ts), not before they are
 * returned. The check guarantees them modulo 2^k (k = 64, SPDZ_2k Thm. 1), so
 * after it has passed b is 0 or 1 mod 2^k; its high 64 bits may carry an
 * undetectable multiple of 2^64. That is enough: every consumer (trunc.ts,
 * the comparisons) uses bits only in linear combinations and products whose
 * result is read mod 2^k, and opens only values masked over the whole ring.
 * So: nothing derived from these bits may leave the parties before macCheck.
 *
 * The bits do not depend on any input: call randBitsM ahead of the input
 * (a later offline phase can batch them; see trunc.ts truncMaskM).
 *
 * Cost: 3 rounds; macOf of 3n words (144 n bytes) and two products of n
 * elements (2 x 96 n): 336 n bytes in all. A packed binary domain (or
 * edaBits with cut-and-choose) would be cheaper per bit; not built.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import type { PartyContext } from '../context.js';
import { alloc128, scalar128, type Vec128 } from './ring128.js';
import { addM, mulPublicM, next, prev, subM, type MShare, type Rep } from './rep.js';
import { macOfBody, macOfCost, mulCostM, mulM } from './product.js';
import { sliceM } from './mvec.js';
import type { MalSession } from './session.js';

export const randBitsCost = (n: number): Cost => addCost(macOfCost(3 * n), mulCostM(n), mulCostM(n));

/** n bits from a PRG stream (packed bytes), as elements 0/1 of Z_2^128 at positions `off` of a 3n-element vector. */
function bitsInto(bytes: Uint8Array, out: Vec128, off: number, n: number): void {
  for (let e = 0; e < n; e++) out[4 * (off + e)] = (bytes[e >>> 3]! >>> (e & 7)) & 1;
}

/**
 * Step 1 (local): this party's parts of the three pair-bit sharings, as one
 * replicated sharing of 3n elements, block j (elements jn..jn+n) = [t_j].
 * Party i holds shares i (its a) and i+1 (its b); it draws t_i from the PRG
 * it shares with P_{i-1} and t_{i+1} from the one it shares with P_{i+1},
 * in that order (the other holder of each seed draws the same bytes).
 */
export function pairBits(ctx: Pick<PartyContext, 'party' | 'pairPrg'>, n: number): Rep {
  const i = ctx.party;
  const bytes = Math.ceil(n / 8);
  const tA = ctx.pairPrg(prev(i)).bytes(bytes);
  const tB = ctx.pairPrg(next(i)).bytes(bytes);
  const a = alloc128(3 * n), b = alloc128(3 * n);
  bitsInto(tA, a, i * n, n); // share i is t_i: nonzero only in block i
  bitsInto(tB, b, next(i) * n, n); // share i+1 is t_{i+1}: nonzero only in block i+1
  return { a, b };
}

/** XOR of MACed bits: a + b - 2ab (one mulM). */
async function xorM(s: MalSession, a: MShare, b: MShare): Promise<MShare> {
  const ab = await mulM(s, a, b);
  return subM(addM(a, b), mulPublicM(ab, scalar128(2n)));
}

/** Steps 3-4 on the MACed pair bits of step 2 (3n elements, block j = [t_j]): two products. */
export async function xorMaccedPairBits(s: MalSession, tm: MShare, n: number): Promise<MShare> {
  const d = await xorM(s, sliceM(tm, 0, n), sliceM(tm, n, 2 * n)); // step 3
  return xorM(s, d, sliceM(tm, 2 * n, 3 * n)); // step 4
}

/** Steps 2-4 on step 1's sharings (exported for tests that make a party deviate in step 1). */
export async function xorPairBits(s: MalSession, t: Rep, n: number): Promise<MShare> {
  const tm = await macOfBody(s, t); // step 2 (registered for the MAC check)
  return xorMaccedPairBits(s, tm, n);
}

/**
 * n uniformly random MACed bits unknown to any single party. Verified by
 * the batched MAC check (registered values), not before they are returned:
 * release nothing derived from them before macCheck. Cost randBitsCost(n).
 */
export function randBitsM(s: MalSession, n: number): Promise<MShare> {
  return s.guard('mal.randBits', async () => {
    assert(Number.isInteger(n) && n >= 1, 'E_SHAPE', `malicious.randBits: the number of bits must be a positive integer, got ${n}`, { party: s.party, step: 'mal.randBits' });
    return xorPairBits(s, pairBits(s.ctx, n), n);
  });
}
