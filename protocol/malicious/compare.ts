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
 *     (product.ts randomMacced; with rho_p for each of k payloads), the
 *     products of the bits of each block of b_0..b_{ell-1} (blocks of 4
 *     from bit 0, the top one of 2 to 4 bits holding b_{ell-1}; two mulM:
 *     bit-lt-quads.ts makeBitLtProducts) that make BitLT's first level
 *     local in radix 4 and its top block scalable, and for payloads the
 *     products rho_p r_S of the top block (one mulM, compare-fold.ts):
 *     compareMaskM, input-independent, so it may be made ahead for several
 *     comparisons (the optional `mask`).
 *     [r] = 2^ell [r'] + sum_i 2^i [b_i] (local). r mod 2^ell is uniform and
 *     known bit by bit as shares; 2^ell r' masks the bits of x above ell
 *     (the SPDZ_2k slack) over the whole ring.
 *  2. c = open(x + r) (open.ts openM, all 128 bits: uniform, as x + r is
 *     masked over the whole ring; checked, and logged for the MAC check),
 *     with eps_p = v_p + rho_p of each payload in the same opening.
 *  3. lt = BitLT(c mod 2^(ell-1), r mod 2^(ell-1)) on the public bits of c
 *     and the shared bits b_0..b_{ell-2} (bit-lt.ts): the borrow into bit
 *     ell - 1 of c - r.
 *  4. MSB(x) = c_{ell-1} XOR b_{ell-1} XOR lt: with t = c_{ell-1} XOR b_{ell-1}
 *     (local: c is public), [msb] = t + (1 - 2t) lt, the product folded into
 *     step 3: the tree's top block is scaled by (1 - 2t) (compare-fold.ts),
 *     so the tree returns (1 - 2t) lt; no mulM after it.
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
 * fixed-point value uses), computed as x (1 - t) - u lt with u = (1 - 2t) x
 * (timesDreluBody): u lt is the root of the tree with its top block scaled
 * by u, x t is local, both from eps = x + rho (compare-fold.ts): ReLU has
 * the rounds of the MSB.
 *
 * Cost (msbCostM): the mask (compareMaskCostM(n, ell, k): randBitsCost(n
 * ell), macOfCost(n (1 + k)), the block products (88 per element for ell =
 * 32, 176 for 64; 2 rounds), k (2^|X| - 1) fold products), then
 * timesDreluOnlineCostM: the opening of n (1 + k) elements (openCost), the
 * tree from the ceil(ell / 4) blocks (the top one max(k, 1) times wide).
 * Sequential, so rounds add up: MSB at ell = 32 3 + 1 + 2 + 1 + 3 = 10
 * rounds and 17,280 bytes per element (plus 96 per call), 4 rounds and
 * 1,104 bytes of it after the mask (6 and 2,640 in radix 2 with the final
 * mulM); ReLU 11 rounds, 18,816 bytes, 4 rounds and 1,152 bytes after the
 * mask (6 and 2,736 before); ell = 64: MSB 11, 34,848 (5 and 2,544 after
 * the mask), ReLU 12, 36,384 (5 and 2,592). Most of it is offline: the
 * random bits (randBitsCost: 240 bytes each) and the products (ReLU at
 * ell = 32: 103, 9,888 bytes); a packed binary domain would cut most of it.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { alloc128, type Vec128 } from './ring128.js';
import { matmul128Gemm } from './gemm128.js';
import { addM, type MShare } from './rep.js';
import { macOfCost, mulCostM, randomMacced } from './product.js';
import { openCost, openM } from './open.js';
import { carryTree, treeLevels } from './bit-lt.js';
import { bitLtBlockSizes, bitLtProductsCostM, layoutProducts, makeBitLtProducts, quadLevel } from './bit-lt-quads.js';
import { foldedTop, foldPayload, foldProducts, foldProductsCostM, foldTopSize, makeFoldProducts } from './compare-fold.js';
import { bitOf, notM, xorPublicM } from './bit-ops.js';
import { addShl128Into, concatM, sliceM } from './mvec.js';
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
  /** The payloads the mask serves (0 for MSB / DReLU, 1 for ReLU, 2 for argmax): rho and wr hold k n and k n (2^|X| - 1) elements. */
  readonly k: number;
  readonly b: MShare;
  readonly rp: MShare;
  /** The products of the bits of each block of b_0..b_{ell-1} (bit-lt-quads.ts makeBitLtProducts on ell bits): BitLT's first level and its scaled top block, precomputed. */
  readonly w: MShare;
  /** rho_p: the payloads' masks (compare-fold.ts), k rows of n. */
  readonly rho: MShare;
  /** rho_p r_S for the non-empty S in the top block X (compare-fold.ts makeFoldProducts). */
  readonly wr: MShare;
  spent: boolean;
}

export const compareMaskCostM = (n: number, ell: number, k = 1): Cost => addCost(randBitsCost(n * ell), macOfCost(n * (1 + k)), bitLtProductsCostM(n, ell), foldProductsCostM(n, ell, k));
/** The tree's cost after the opening: from the blocks of ell - 1 bits, the top one max(k, 1) times wide. */
const treeCostM = (n: number, ell: number, k: number): Cost => addCost({ rounds: 0, bytes: 0 }, ...treeLevels(bitLtBlockSizes(ell).length, Math.max(1, k)).map((a) => mulCostM(n * a)));
/** v_p · DReLU(x) for k payloads after the mask (timesDreluBody; k = 0: msbM): the opening of c and the k eps_p, the tree. */
export const timesDreluOnlineCostM = (n: number, ell: number, k: number): Cost => addCost(openCost(n * (1 + k)), treeCostM(n, ell, k));
/** The cost of msbM given its mask (steps 2-4). */
export const msbOnlineCostM = (n: number, ell: number): Cost => timesDreluOnlineCostM(n, ell, 0);
export const msbCostM = (n: number, ell: number): Cost => addCost(compareMaskCostM(n, ell, 0), msbOnlineCostM(n, ell));
export const dreluCostM = msbCostM;
export const reluOnlineCostM = (n: number, ell: number): Cost => timesDreluOnlineCostM(n, ell, 1);
export const reluCostM = (n: number, ell: number): Cost => addCost(compareMaskCostM(n, ell, 1), reluOnlineCostM(n, ell));

function checkEll(s: MalSession, op: string, ell: number): void {
  assert(Number.isInteger(ell) && ell >= 2 && ell <= MAX_COMPARE_BITS, 'E_BAD_ARGUMENT',
    `malicious.${op}: the comparison width ell must be an integer in [2, ${MAX_COMPARE_BITS}], got ${ell}`, { party: s.party, step: `mal.${op}` });
}

/** Step 1's random part without its own step (made inline). */
async function compareMaskBody(s: MalSession, n: number, ell: number, k: number): Promise<CompareMask> {
  const b = await randBitsM(s, n * ell);
  const rr = await randomMacced(s, n * (1 + k));
  const rp = sliceM(rr, 0, n), rho = sliceM(rr, n, n * (1 + k));
  const w = await makeBitLtProducts(s, b, ell);
  const wr = k > 0 ? await makeFoldProducts(s, b, w, rho, ell, n, k) : sliceM(b, 0, 0);
  return { n, ell, k, b, rp, w, rho, wr, spent: false };
}

// A request without k (a plan written as [ell]) has one payload, compareMaskM's default.
registerMaskMaker('compare', (s, n, [ell, k]) => s.guard('mal.compareMask', () => compareMaskBody(s, n, ell!, k ?? 1)), (n, [ell, k]) => compareMaskCostM(n, ell!, k ?? 1));

/**
 * Step 1 (random part): the masks of n comparisons of width ell with k
 * payloads each (0: MSB / DReLU; 1: ReLU, MaxPool; 2: argmax), from the
 * session's mask source when it has one (mask-source.ts: kind 'compare',
 * parameters ell, k), else made here. Cost compareMaskCostM(n, ell, k) (0 from a pool).
 */
export function compareMaskM(s: MalSession, n: number, ell: number, k = 1): Promise<CompareMask> {
  return s.guard('mal.compareMask', async () => {
    checkEll(s, 'compareMask', ell);
    assert(Number.isInteger(k) && k >= 0 && k <= 4, 'E_BAD_ARGUMENT', `malicious.compareMask: payloads per comparison must be an integer in [0, 4], got ${k}`, { party: s.party, step: 'mal.compareMask' });
    return takeMask(s, { kind: 'compare', n, params: [ell, k] }, () => compareMaskBody(s, n, ell, k));
  });
}

/** Elements [from, to) of a mask (its own, unspent mask: the caller gives each part to one comparison). */
export function sliceMask(mask: CompareMask, from: number, to: number): CompareMask {
  const { n, ell, k } = mask;
  const rows = (x: MShare, r: number) => concatM(Array.from({ length: r }, (_, i) => sliceM(x, i * n + from, i * n + to)));
  return { n: to - from, ell, k, b: rows(mask.b, ell), rp: sliceM(mask.rp, from, to), w: rows(mask.w, layoutProducts(bitLtBlockSizes(ell))), rho: rows(mask.rho, k), wr: rows(mask.wr, k * foldProducts(ell)), spent: false };
}

/** The row (2^0, 2^1, .., 2^(ell-1)) of Z_2^128 (1 x ell), kept per ell. */
const POWERS = new Map<number, Vec128>();
function powersOf2(ell: number): Vec128 {
  let v = POWERS.get(ell);
  if (!v) {
    v = alloc128(ell);
    for (let i = 0; i < ell; i++) v[4 * i + (i >>> 5)] = 2 ** (i & 31);
    POWERS.set(ell, v);
  }
  return v;
}

/**
 * Step 1's local part: [2^ell r' + sum_i 2^i b_i] on each share and MAC
 * vector, the sum over the bits (bit-major: the ell rows of n) as one
 * 1 x ell by ell x n product with the public powers of 2 (gemm128.ts
 * matmul128Gemm: native when present), then 2^ell r' added as a shift
 * (mvec.ts addShl128Into). The same ring value as Horner's rule over the
 * bits (acc = 2 acc + b_i from acc = r'), all mod 2^128.
 */
function maskOf(s: MalSession, rp: MShare, b: MShare, ell: number): MShare {
  const n = rp.n, k = s.ctx.kernels, pw = powersOf2(ell);
  const one = (bits: Vec128, r: Vec128): Vec128 => addShl128Into(matmul128Gemm(k, pw, bits.subarray(0, 4 * ell * n) as Vec128, 1, ell, n, alloc128(n)), r, ell);
  return { n, x: { a: one(b.x.a, rp.x.a), b: one(b.x.b, rp.x.b) }, m: { a: one(b.m.a, rp.m.a), b: one(b.m.b, rp.m.b) } };
}

/**
 * Steps 1-4 (step 1 only when no mask is given) for k payloads vs: t (step 4's
 * t = c_{ell-1} XOR b_{ell-1}), the tree's root (compare-fold.ts: (1 - 2t) lt
 * for k = 0, u_p lt for each payload otherwise) and the payloads' eps.
 */
async function maskedCompare(s: MalSession, x: MShare, ell: number, vs: MShare[], mask: CompareMask | undefined): Promise<{ t: MShare; root: MShare; cTop: Uint8Array; eps: Vec128[]; m: CompareMask }> {
  const n = x.n, k = vs.length;
  if (mask) {
    assert(mask.n === n && mask.ell === ell && mask.k >= k && !mask.spent, 'E_BAD_ARGUMENT', `malicious.msb: the mask is for ${mask.n} comparisons of width ${mask.ell} with ${mask.k} payloads${mask.spent ? ', already used' : ''}; need ${n} of width ${ell} with ${k}, unused`, { party: s.party, step: 'mal.msb' });
  }
  // Step 1: the mask r = 2^ell r' + sum 2^i b_i (and rho_p for the payloads).
  const m = mask ?? await compareMaskM(s, n, ell, k);
  m.spent = true;
  const { b, rp, w } = m;
  // Step 2: c = open(x + r), with eps_p = open(v_p + rho_p) in the same checked opening (compare-fold.ts).
  const opened = await openM(s, concatM([addM(x, maskOf(s, rp, b, ell), s.ctx.kernels), ...vs.map((v, p) => addM(v, sliceM(m.rho, p * n, (p + 1) * n), s.ctx.kernels))]));
  const c = opened.subarray(0, 4 * n) as Vec128;
  const eps = vs.map((_, p) => opened.subarray(4 * n * (1 + p), 4 * n * (2 + p)) as Vec128);
  // Step 3: lt = [c mod 2^(ell-1) < r mod 2^(ell-1)] on the public bits c_0..c_{ell-2} (bit-major), its top block
  // scaled (compare-fold.ts), so that the tree returns (1 - 2t) lt or u_p lt; t = c_{ell-1} XOR b_{ell-1} (local).
  const cBits = new Uint8Array(n * (ell - 1));
  for (let e = 0; e < n; e++) {
    const lo = c[4 * e]!, hi = c[4 * e + 1]!; // bits 0..63 (ell <= 64), as bitOf reads them
    for (let i = 0; i < ell - 1; i++) cBits[i * n + e] = (i < 32 ? lo >>> i : hi >>> (i - 32)) & 1;
  }
  const cTop = bitOf(c, ell - 1);
  const t = xorPublicM(s.party, s.alpha, sliceM(b, (ell - 1) * n, ell * n), cTop, s.ctx.kernels);
  const L = bitLtBlockSizes(ell);
  const lower = quadLevel(s, cBits, b, w, ell - 1, L, L.length - 1);
  const pay = k > 0 ? { eps, rho: m.rho, wr: m.wr } : undefined;
  const root = await carryTree(s, [...lower, foldedTop(s, cBits, cTop, b, w, ell, n, pay)], n);
  return { t, root, cTop, eps, m };
}

/** Steps 1-4 without their own step: [MSB(x)] = t XOR lt = t + (1 - 2t) lt, the second term the tree's root (no mulM after BitLT). */
export async function msbBody(s: MalSession, x: MShare, ell: number, mask?: CompareMask): Promise<MShare> {
  const { t, root } = await maskedCompare(s, x, ell, [], mask);
  return addM(t, root, s.ctx.kernels);
}

/**
 * [v_j · DReLU(x)] for payload vectors v_j of x's length, without a step of
 * their own (reluM: v = x; maxpool.ts: v = a - b; argmax.ts: also the index
 * difference). DReLU = 1 - (t XOR lt) = (1 - t) - lt (1 - 2t), so
 * v DReLU = v (1 - t) - u lt with u = (1 - 2t) v: u lt is the root of the tree
 * with its top block scaled by u and v t is local (compare-fold.ts, from
 * eps = v + rho opened with c): no mulM after BitLT. Cost
 * timesDreluOnlineCostM(n, ell, k) after the mask (a mask with k or more payloads).
 */
export async function timesDreluBody(s: MalSession, x: MShare, ell: number, vs: MShare[], mask?: CompareMask): Promise<MShare[]> {
  const n = x.n, k = vs.length;
  assert(k >= 1 && vs.every((v) => v.n === n), 'E_SHAPE', `malicious.timesDrelu: payloads of ${vs.map((v) => v.n).join(', ')} elements for ${n} comparisons`, { party: s.party, step: 'mal.relu' });
  const { root, cTop, eps, m } = await maskedCompare(s, x, ell, vs, mask);
  const Bm = 1 << (foldTopSize(ell) - 1), per = foldProducts(ell), B = sliceM(m.b, (ell - 1) * n, ell * n);
  return vs.map((v, p) => foldPayload(s, v, cTop, B, eps[p]!, sliceM(m.wr, (p * per + Bm - 1) * n, (p * per + Bm) * n), sliceM(root, p * n, (p + 1) * n)));
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
