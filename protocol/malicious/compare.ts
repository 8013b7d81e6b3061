/**
 * MSB, DReLU and ReLU of MACed fixed-point values in the malicious mode, by
 * bit decomposition of a masked value with edaBit-style masks (Escudero,
 * Ghosh, Keller, Rachuri, Scholl, CRYPTO 2020, §5 "LTZ" with edaBits; the
 * ring form of the MSB is Damgård, Escudero, Frederiksen, Keller, Scholl,
 * Volgushev, S&P 2019, §5 "comparison"; the bitwise comparison is Catrina
 * and de Hoogh's BitLT, bit-lt.ts). ReLU = x · DReLU(x) as in Dalskov,
 * Escudero, Keller, PoPETs 2020, §4 (and Falcon, Wagh et al. 2021, §3).
 *
 * msbM, for x with |x| < 2^(ell-1) (as a signed value mod 2^k), ell <= k:
 *
 *  1. Mask: ell random MACed bits b_0..b_{ell-1} (randbits.ts randBitsM:
 *     verified by the batched MAC check, 0/1 mod 2^k), a random MACed r'
 *     (product.ts randomMacced) and the products of the bits of each block
 *     of 4 of b_0..b_{ell-2} (two mulM: bit-lt-quads.ts makeBitLtProducts)
 *     that make BitLT's first level local in radix 4:
 *     compareMaskM, input-independent, so it may be made ahead for several
 *     comparisons (the optional `mask`).
 *     [r] = 2^ell [r'] + sum_i 2^i [b_i] (local). r mod 2^ell is uniform and
 *     known bit by bit as shares; 2^ell r' masks the bits of x above ell
 *     (the SPDZ_2k slack) over the whole ring.
 *  2. c = open(x + r) (open.ts openM, all 128 bits: uniform, as x + r is
 *     masked over the whole ring; checked, and logged for the MAC check).
 *  3. lt = BitLT(c mod 2^(ell-1), r mod 2^(ell-1)) on the public bits of c
 *     and the shared bits b_0..b_{ell-2} (bit-lt.ts): the borrow into bit
 *     ell - 1 of c - r.
 *  4. MSB(x) = c_{ell-1} XOR b_{ell-1} XOR lt: with t = c_{ell-1} XOR b_{ell-1}
 *     (local: c is public), [msb] = t + lt - 2 t lt (one mulM).
 *
 * Why it is right (and why only the low bits matter): x mod 2^ell =
 * (c - r) mod 2^ell, and bit ell - 1 of a difference is c_{ell-1} XOR
 * r_{ell-1} XOR borrow, the borrow being [c mod 2^(ell-1) < r mod 2^(ell-1)].
 * For |x| < 2^(ell-1) that bit is the sign. Only c mod 2^ell and the bits
 * b_i mod 2^k are used, and x + r is correct mod 2^k >= 2^ell, so an
 * adversary's errors in multiples of 2^k (which the MAC check cannot see)
 * change nothing; every other error is caught by the MAC check (SPDZ_2k).
 *
 * dreluM = 1 - msbM (local). reluM = x · DReLU(x), correct mod 2^k (all the
 * fixed-point value uses), computed as (x - x t) - lt (x - 2 x t) with x t
 * inside BitLT's first online mulM (timesDreluBody): one mulM after BitLT,
 * as the MSB's step 4, so ReLU has the rounds of the MSB.
 *
 * Cost (msbCostM): the mask (compareMaskCostM: randBitsCost(n ell),
 * macOfCost(n), floor((ell - 1) / 2) ANDs), then msbOnlineCostM: the opening
 * (openCost(n)), BitLT on ell - 1 bits from its blocks of 4 (bitLtCostM
 * with products), one mulM. Sequential, so rounds add up: for ell = 32,
 * 6 + 1 + 3 + 1 = 11 rounds and 16,704 bytes per element (plus 96 per call),
 * 5 rounds and 1,200 bytes of it after the mask (6 and 2,640 in radix 2);
 * ell = 64: 12 rounds, 34,272 bytes (6 and 2,640 after the mask; 7 and
 * 5,616 in radix 2). ReLU: the same rounds and 96 bytes
 * more. Most of it is offline: the random bits (randBitsCost: 240 bytes
 * each) and the block products (81 for ell = 32: 7,776 bytes); a packed
 * binary domain would cut most of it.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import type { Vec128 } from './ring128.js';
import { add128Kernels } from './gemm128.js';
import { addM, subM, type MShare, type Rep } from './rep.js';
import { macOfCost, mulCostM, mulM, randomMacced } from './product.js';
import { openCost, openM } from './open.js';
import { bitLtBody, bitLtCostM } from './bit-lt.js';
import { bitLtProducts, bitLtProductsCostM, makeBitLtProducts } from './bit-lt-quads.js';
import { bitOf, notM, xorPublicM } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import { randBitsCost, randBitsM } from './randbits.js';
import type { MalSession } from './session.js';
import { registerMaskMaker, takeMask } from './mask-source.js';

/** k: the bits of a value the MAC check guarantees (ring128.ts: k = 64, s = 64). The comparison width ell is at most this. */
export const MAX_COMPARE_BITS = 64;

/**
 * Step 1's random part for n comparisons of width ell: the bits b (ell n,
 * bit-major: bit i of element e at i n + e) and r'. Input-independent, so a
 * caller may make the masks of several comparisons in one call ahead
 * (maxpool.ts does, for all its levels). Use a mask ONCE: two openings
 * with one mask reveal the difference of the inputs (msbM refuses a spent one).
 */
export interface CompareMask {
  readonly n: number;
  readonly ell: number;
  readonly b: MShare;
  readonly rp: MShare;
  /** The products of the bits of each block of 4 of b_0..b_{ell-2} (bit-lt-quads.ts makeBitLtProducts, bitLtProducts(ell - 1) rows of n): BitLT's first level, precomputed. */
  readonly w: MShare;
  spent: boolean;
}

export const compareMaskCostM = (n: number, ell: number): Cost => addCost(randBitsCost(n * ell), macOfCost(n), bitLtProductsCostM(n, ell - 1));
/** The cost of msbM given its mask (steps 2-4). */
export const msbOnlineCostM = (n: number, ell: number): Cost => addCost(openCost(n), bitLtCostM(n, ell - 1, true), mulCostM(n));
export const msbCostM = (n: number, ell: number): Cost => addCost(compareMaskCostM(n, ell), msbOnlineCostM(n, ell));
export const dreluCostM = msbCostM;
/** v_j · DReLU(x) for k payloads after the mask (timesDreluBody): the opening, BitLT with the k n products v t in its first online level, one mulM of k n. */
export const timesDreluOnlineCostM = (n: number, ell: number, k: number): Cost => addCost(openCost(n), bitLtCostM(n, ell - 1, true, k * n), mulCostM(k * n));
export const reluOnlineCostM = (n: number, ell: number): Cost => timesDreluOnlineCostM(n, ell, 1);
export const reluCostM = (n: number, ell: number): Cost => addCost(compareMaskCostM(n, ell), reluOnlineCostM(n, ell));

function checkEll(s: MalSession, op: string, ell: number): void {
  assert(Number.isInteger(ell) && ell >= 2 && ell <= MAX_COMPARE_BITS, 'E_BAD_ARGUMENT',
    `malicious.${op}: the comparison width ell must be an integer in [2, ${MAX_COMPARE_BITS}], got ${ell}`, { party: s.party, step: `mal.${op}` });
}

/** Step 1's random part without its own step (made inline). */
async function compareMaskBody(s: MalSession, n: number, ell: number): Promise<CompareMask> {
  const b = await randBitsM(s, n * ell);
  const rp = await randomMacced(s, n);
  const w = await makeBitLtProducts(s, sliceM(b, 0, (ell - 1) * n), ell - 1);
  return { n, ell, b, rp, w, spent: false };
}

registerMaskMaker('compare', (s, n, [ell]) => s.guard('mal.compareMask', () => compareMaskBody(s, n, ell!)), (n, [ell]) => compareMaskCostM(n, ell!));

/**
 * Step 1 (random part): the masks of n comparisons of width ell, from the
 * session's mask source when it has one (mask-source.ts: kind 'compare',
 * parameter ell), else made here. Cost compareMaskCostM(n, ell) (0 from a pool).
 */
export function compareMaskM(s: MalSession, n: number, ell: number): Promise<CompareMask> {
  return s.guard('mal.compareMask', async () => {
    checkEll(s, 'compareMask', ell);
    return takeMask(s, { kind: 'compare', n, params: [ell] }, () => compareMaskBody(s, n, ell));
  });
}

/** Elements [from, to) of a mask (its own, unspent mask: the caller gives each part to one comparison). */
export function sliceMask(mask: CompareMask, from: number, to: number): CompareMask {
  const { n, ell } = mask;
  const rows = (x: MShare, k: number) => concatM(Array.from({ length: k }, (_, i) => sliceM(x, i * n + from, i * n + to)));
  return { n: to - from, ell, b: rows(mask.b, ell), rp: sliceM(mask.rp, from, to), w: rows(mask.w, bitLtProducts(ell - 1)), spent: false };
}

/**
 * Step 1's local part: [2^ell r' + sum_i 2^i b_i] by Horner's rule, acc = 2 acc + b_i from
 * acc = r' down the bits (bit-major), two sums per bit on each share and MAC vector on the
 * context's kernels (gemm128.ts add128Kernels), in place.
 */
function maskOf(s: MalSession, rp: MShare, b: MShare, ell: number): MShare {
  const n = rp.n, k = s.ctx.kernels;
  const acc: Rep[] = [rp.x, rp.m].map((r) => ({ a: r.a.slice() as Vec128, b: r.b.slice() as Vec128 }));
  for (let i = ell - 1; i >= 0; i--) {
    const bi = sliceM(b, i * n, (i + 1) * n);
    [bi.x, bi.m].forEach((src, q) => {
      for (const h of ['a', 'b'] as const) {
        const v = acc[q]![h];
        add128Kernels(k, v, v, v);
        add128Kernels(k, v, src[h], v);
      }
    });
  }
  return { n, x: acc[0]!, m: acc[1]! };
}

/** Steps 1-3 (step 1 only when no mask is given): t = c_{ell-1} XOR b_{ell-1} and lt, with BitLT's optional side product. */
async function maskedCompare(s: MalSession, x: MShare, ell: number, mask: CompareMask | undefined, side?: (t: MShare) => [MShare, MShare]): Promise<{ t: MShare; lt: MShare; side?: MShare }> {
  const n = x.n;
  if (mask) {
    assert(mask.n === n && mask.ell === ell && !mask.spent, 'E_BAD_ARGUMENT', `malicious.msb: the mask is for ${mask.n} comparisons of width ${mask.ell}${mask.spent ? ', already used' : ''}; need ${n} of width ${ell}, unused`, { party: s.party, step: 'mal.msb' });
  }
  // Step 1: the mask r = 2^ell r' + sum 2^i b_i.
  const { b, rp, w } = mask ?? await compareMaskM(s, n, ell);
  if (mask) mask.spent = true;
  // Step 2: c = open(x + r).
  const c = await openM(s, addM(x, maskOf(s, rp, b, ell), s.ctx.kernels));
  // Step 3: lt = [c mod 2^(ell-1) < r mod 2^(ell-1)], on the public bits c_0..c_{ell-2} (bit-major); t = c_{ell-1} XOR b_{ell-1} (local).
  const cBits = new Uint8Array(n * (ell - 1));
  for (let i = 0; i < ell - 1; i++) cBits.set(bitOf(c, i), i * n);
  const t = xorPublicM(s.party, s.alpha, sliceM(b, (ell - 1) * n, ell * n), bitOf(c, ell - 1), s.ctx.kernels);
  const r = await bitLtBody(s, cBits, sliceM(b, 0, (ell - 1) * n), ell - 1, w, side?.(t));
  return { t, ...r };
}

/** Steps 1-4 without their own step: [MSB(x)] = t XOR lt = t + lt - 2 t lt (one mulM after BitLT). */
export async function msbBody(s: MalSession, x: MShare, ell: number, mask?: CompareMask): Promise<MShare> {
  const { t, lt } = await maskedCompare(s, x, ell, mask);
  const tl = await mulM(s, t, lt);
  const k = s.ctx.kernels;
  return subM(addM(t, lt, k), addM(tl, tl, k), k);
}

/**
 * [v_j · DReLU(x)] for payload vectors v_j of x's length, without a step of
 * their own (reluM: v = x; maxpool.ts: v = a - b; argmax.ts: also the index
 * difference). DReLU = 1 - (t XOR lt) = (1 - t) - lt (1 - 2t), so
 * v DReLU = (v - v t) - lt · (v - 2 v t): the products v t ride in BitLT's
 * first online mulM (bit-lt.ts bitLtBody's side product) and lt · (v - 2vt)
 * is one mulM after BitLT: one round fewer than DReLU then a product, the
 * same bytes. Cost timesDreluOnlineCostM(n, ell, k) after the mask.
 */
export async function timesDreluBody(s: MalSession, x: MShare, ell: number, vs: MShare[], mask?: CompareMask): Promise<MShare[]> {
  const n = x.n, k = vs.length;
  assert(k >= 1 && vs.every((v) => v.n === n), 'E_SHAPE', `malicious.timesDrelu: payloads of ${vs.map((v) => v.n).join(', ')} elements for ${n} comparisons`, { party: s.party, step: 'mal.relu' });
  const V = concatM(vs);
  const { lt, side: vt } = await maskedCompare(s, x, ell, mask, (t) => [V, concatM(vs.map(() => t))]);
  const kk = s.ctx.kernels;
  const u = subM(V, addM(vt!, vt!, kk), kk);
  const ltu = await mulM(s, concatM(vs.map(() => lt)), u);
  const y = subM(subM(V, vt!, kk), ltu, kk);
  return vs.map((_, j) => sliceM(y, j * n, (j + 1) * n));
}

/** [MSB(x)]: the MACed bit 1 iff x < 0, for |x| < 2^(ell-1). Cost msbCostM(n, ell) (msbOnlineCostM with a mask). */
export function msbM(s: MalSession, x: MShare, ell: number, mask?: CompareMask): Promise<MShare> {
  return s.guard('mal.msb', async () => {
    checkEll(s, 'msb', ell);
    return msbBody(s, x, ell, mask);
  });
}

/** [DReLU(x)] = 1 - MSB(x): 1 iff x >= 0, for |x| < 2^(ell-1). Cost dreluCostM(n, ell). */
export function dreluM(s: MalSession, x: MShare, ell: number, mask?: CompareMask): Promise<MShare> {
  return s.guard('mal.drelu', async () => {
    checkEll(s, 'drelu', ell);
    return notM(s.party, s.alpha, await msbBody(s, x, ell, mask), s.ctx.kernels);
  });
}

/** [ReLU(x)] = x · DReLU(x), for |x| < 2^(ell-1) (exact mod 2^k). Cost reluCostM(n, ell) (reluOnlineCostM with a mask). */
export function reluM(s: MalSession, x: MShare, ell: number, mask?: CompareMask): Promise<MShare> {
  return s.guard('mal.relu', async () => {
    checkEll(s, 'relu', ell);
    return (await timesDreluBody(s, x, ell, [x], mask))[0]!;
  });
}
