/**
 * The comparison's last product folded into BitLT's carry tree (compare.ts
 * steps 3-4), so that MSB, DReLU and v · DReLU(x) end with the tree's last
 * level instead of one more mulM round.
 *
 * Notation as in compare.ts (Escudero et al. 2020 §5, Damgård et al. S&P
 * 2019 §5; BitLT: Catrina and de Hoogh 2010 §3): c = x + r opened, B =
 * b_{ell-1} the mask's bit ell - 1, t = c_{ell-1} XOR B = c' + sigma B with
 * the public c' = c_{ell-1} and sigma = 1 - 2 c', lt = BitLT(c mod 2^(ell-1),
 * r mod 2^(ell-1)) = G of the tree's root, MSB = t XOR lt = t + (1 - 2t) lt,
 * v DReLU(x) = v (1 - t) - u lt with u = (1 - 2t) v (timesDreluBody).
 *
 * The root's G is G_top + P_top G_rest: every term holds the top block's
 * G_T or P_T. Scaling the top block's (G_T, P_T) by a factor u scales the
 * root by u (by induction over the levels: G = u G_hi + (u P_hi) G_lo,
 * P = (u P_hi) P_lo), so the tree returns u lt directly, if the scaled top
 * block exists when the tree's first level starts. Here it is local:
 *
 *  - the top block X of the mask's ell bits (bit-lt-quads.ts
 *    bitLtBlockSizes(ell), 2 to 4 bits) holds B and T = X minus B, the top
 *    block of BitLT's m = ell - 1 bits; G_T = sum_S kg_S r_S and
 *    P_T = sum_S kp_S r_S over S in T with public coefficients (the radix-4
 *    first level), so (1 - 2t) Q = sigma sum_S k_S (r_S - 2 r_{S+B}) for Q in
 *    {G_T, P_T}: signed sums of X's products (made with the mask: every
 *    product of 2 or more bits of X);
 *  - for a payload v (ReLU's x, MaxPool's a - b, argmax's two), eps = v + rho
 *    is opened in the same checked opening as c (open.ts openM: one round,
 *    the share from one holder checked against the other's hash before eps
 *    is used) with rho a fresh random MACed element, uniform over Z_2^128
 *    (eps says nothing about v), and u Q = eps [(1 - 2t) Q] - sigma sum_S k_S
 *    (rho r_S - 2 rho r_{S+B}), the products rho r_S (S in X, non-empty) made
 *    with the mask (`makeFoldProducts`): local. v t = c' v + sigma (eps B -
 *    rho B) is local too.
 *
 * For k payloads the top block is k copies (each scaled by its u) laid end
 * to end; bit-lt.ts carryTree takes the top pair's products with k copies of
 * the block below. Results equal the unfolded ones as ring values (the same
 * polynomial identities; bits are 0/1).
 *
 * Soundness: eps is opened with openM (checked before use, as c) and
 * masked by a fresh rho over the whole ring, used once; everything else is
 * local on MACed values made before c and eps exist, verified by the
 * batched MAC check before any output (SPDZ_2k), and only their values mod
 * 2^k matter. Cost: the opening of k n more elements (48 bytes each) in the
 * opening's round; offline k n randomMacced and k n (2^|X| - 1) products
 * (one mulM, after the block products: `foldProductsCostM`); online the
 * final mulM (96 k n bytes and a round) is gone, the top pair's ANDs are
 * taken k times (bit-lt.ts treeLevels).
 */
import type { Cost } from '../primitives/cost.js';
import { alloc128, mul128, type Vec128 } from './ring128.js';
import { add128Kernels, blockComb128Kernels, mul128Kernels, sub128Kernels } from './gemm128.js';
import { allocM, type MShare } from './rep.js';
import { mulCostM, mulM } from './product.js';
import { combSignedM } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import { bitLtBlockSizes, blockTable, monomialRow, monomialSource, type Block } from './bit-lt-quads.js';
import type { MalSession } from './session.js';

/** |X|: the size of the top block of the mask's ell bits. */
export const foldTopSize = (ell: number): number => { const L = bitLtBlockSizes(ell); return L[L.length - 1]!; };
/** The products rho r_S per payload and element: every non-empty S in X. */
export const foldProducts = (ell: number): number => (1 << foldTopSize(ell)) - 1;
export const foldProductsCostM = (n: number, ell: number, k: number): Cost => (k > 0 ? mulCostM(n * k * foldProducts(ell)) : { rounds: 0, bytes: 0 });

/**
 * rho_p r_S for every payload p < k and non-empty S in X (payload-major,
 * then S = 1 .. 2^|X| - 1, rows of n), from the mask's bits b (ell n,
 * bit-major), their block products w (makeBitLtProducts on ell bits) and
 * rho (k n). Input-independent. Cost foldProductsCostM(n, ell, k).
 */
export function makeFoldProducts(s: MalSession, b: MShare, w: MShare, rho: MShare, ell: number, n: number, k: number): Promise<MShare> {
  const L = bitLtBlockSizes(ell), j = L.length - 1, z = L[j]!;
  const lefts: MShare[] = [], rights: MShare[] = [];
  for (let p = 0; p < k; p++) for (let S = 1; S < 1 << z; S++) { lefts.push(sliceM(rho, p * n, (p + 1) * n)); rights.push(monomialRow(b, w, L, n, j, S)); }
  return mulM(s, concatM(lefts), concatM(rights));
}

/** [eps ⊙ x] for a public vector eps (n elements): each share and MAC vector times eps elementwise (local). */
export function mulPublicVecM(s: MalSession, x: MShare, eps: Vec128): MShare {
  const k = s.ctx.kernels, out = allocM(x.n);
  const times = (v: Vec128, o: Vec128): Vec128 => (k?.mul128 ? mul128Kernels(k, eps, v, o) : mul128(eps, v, o));
  times(x.x.a, out.x.a); times(x.x.b, out.x.b); times(x.m.a, out.m.a); times(x.m.b, out.m.b);
  return out;
}

/** The payloads' part of the mask and their opened eps_p = v_p + rho_p. */
export interface FoldPayloads { readonly eps: readonly Vec128[]; readonly rho: MShare; readonly wr: MShare }

/**
 * The coefficient tables of foldedTop for a top block of z = zT + 1 bits,
 * per public pattern pt = a | c' << zT (a: bit i = NOT c_i of T's zT bits,
 * as bit-lt-quads.ts; c' = c_{ell-1}, sigma = 1 - 2c'), with sk_S =
 * sigma k_S (k_S: T's G or P polynomial for a, bit-lt-quads.ts blockTable):
 *  - `d`, width 2^z over X's monomials M (0 the constant): sk_M for M < B,
 *    -sk_{M - B} for M >= B (B = 2^zT, X's bit B): the sum is A - Bq;
 *  - `h`, width B + 1, slot S + 1 = sk_S (slot 0, the constant, unused):
 *    Bq = sum_S sk_S r_{S+B} with rows r_{S+B}, and the payload's two sums
 *    sum_S sk_S rho r_S and sum_S sk_S rho r_{S+B} with those rows.
 * Only signs in {-1, 0, 1} (bit-lt-quads.ts asserts T's coefficients are).
 */
function foldTables(zT: number, which: 'g' | 'p'): { d: Int8Array; h: Int8Array } {
  const key = `${zT}:${which}`, kept = FOLD_TABLES.get(key);
  if (kept) return kept;
  const Bm = 1 << zT, wd = 2 * Bm, wh = Bm + 1, patterns = 2 * Bm;
  const d = new Int8Array(patterns * wd), h = new Int8Array(patterns * wh);
  for (let pt = 0; pt < patterns; pt++) {
    const a = pt & (Bm - 1), sigma = 1 - 2 * (pt >> zT), k = blockTable(zT, a)[which];
    for (let S = 0; S < Bm; S++) {
      const sk = sigma * k[S]!;
      d[pt * wd + S] = sk; d[pt * wd + Bm + S] = -sk; h[pt * wh + S + 1] = sk;
    }
  }
  const t = { d, h };
  FOLD_TABLES.set(key, t);
  return t;
}
const FOLD_TABLES = new Map<string, { d: Int8Array; h: Int8Array }>();

/**
 * The top block of BitLT's tree scaled by (1 - 2t) (no payloads: MSB) or by
 * u_p = (1 - 2t) v_p for each payload (k copies end to end), from the public
 * bits c of BitLT (ell - 1 rows), the public c' = c_{ell-1} (cTop), the
 * mask's bits b (ell rows) and block products w. Local.
 *
 * Per share vector (value x_i, x_{i+1}, MAC shares) each signed sum is one
 * pass of gemm128.ts blockComb128Kernels (native when present, else its TS
 * loop: the same bits), each element's coefficients the row of foldTables
 * for its pattern pt = a | c' << zT, the rows read in place (no copy):
 * D = (A - Bq) - Bq = (1 - 2t) Q; for payload p,
 * u_p Q = eps_p D - Rp + 2 RBp with Rp = sum_S sk_S rho_p r_S (r_0 = 1)
 * and RBp = sum_S sk_S rho_p r_{S+B}, all k payloads in one pass (rows of
 * the pass). The same ring values as the term-by-term sums they replace
 * (compare-fold.test.ts checks them bit for bit).
 */
export function foldedTop(s: MalSession, c: Uint8Array, cTop: Uint8Array, b: MShare, w: MShare, ell: number, n: number, pay?: FoldPayloads): Block {
  const L = bitLtBlockSizes(ell), j = L.length - 1, z = L[j]!, zT = z - 1, Bm = 1 << zT, kk = s.ctx.kernels, start = ell - z;
  const kp = pay ? pay.eps.length : 0, per = 2 * Bm - 1;
  // The pattern pt of each element (and its copy for each payload: the payload pass's rows).
  const pat = new Uint8Array(Math.max(kp, 1) * n);
  for (let e = 0; e < n; e++) {
    let a = 0;
    for (let i = 0; i < zT; i++) a |= (1 - c[(start + i) * n + e]!) << i;
    pat[e] = a | (cTop[e]! << zT);
  }
  for (let p = 1; p < kp; p++) pat.copyWithin(p * n, 0, n);
  // Sources (bit-lt-quads.ts monomialSource: x0 = b, x1 = w): slot M = monomial M of X for D's first sum, slot S + 1 = r_{S+B} for Bq.
  const srcD = new Uint32Array(3 * 2 * Bm), srcB = new Uint32Array(3 * (Bm + 1));
  for (let M = 1; M < 2 * Bm; M++) { const [x, o] = monomialSource(L, n, j, M); srcD[3 * M] = x; srcD[3 * M + 1] = o; srcD[3 * M + 2] = n; }
  for (let S = 0; S < Bm; S++) { const [x, o] = monomialSource(L, n, j, S | Bm); srcB[3 * S + 3] = x; srcB[3 * S + 4] = o; srcB[3 * S + 5] = n; }
  // The payloads' sources (x0 = rho, x1 = rho r_S from makeFoldProducts): row p of slot S + 1 is rho_p r_S (rho_p for S = 0), of RB's rho_p r_{S+B}.
  const srcR = new Uint32Array(3 * (Bm + 1)), srcRB = new Uint32Array(3 * (Bm + 1));
  for (let S = 0; S < Bm; S++) {
    srcR.set(S === 0 ? [0, 0, n] : [1, (S - 1) * n, per * n], 3 * S + 3);
    srcRB.set([1, (S + Bm - 1) * n, per * n], 3 * S + 3);
  }
  const zero = alloc128(1), one = new Uint32Array([1, 0, 0, 0]) as Vec128;
  // The constant (monomial 0) per share vector: 1 on share x_0 (P0's a, P2's b), the key share on the MAC shares.
  const consts = [s.party === 0 ? one : zero, s.party === 2 ? one : zero, s.alpha.a, s.alpha.b];
  const parts = (x: MShare): Vec128[] => [x.x.a, x.x.b, x.m.a, x.m.b];
  const [bs, ws] = [parts(b), parts(w)];
  const scaled = (which: 'g' | 'p'): MShare => {
    const { d, h } = foldTables(zT, which);
    // The result's four vectors in one buffer (rep.ts allocM); scratch vectors reused across the share vectors
    // (blockComb128 writes every element of its output).
    const res = allocM(Math.max(kp, 1) * n), o = parts(res);
    const Bq = alloc128(n), D = pay ? alloc128(n) : undefined, R = pay ? alloc128(kp * n) : undefined, RB = pay ? alloc128(kp * n) : undefined;
    for (let q = 0; q < 4; q++) {
      const Dq = D ?? o[q]!;
      blockComb128Kernels(kk, Dq, bs[q]!, ws[q]!, pat.subarray(0, n), d, 2 * Bm, srcD, n, consts[q]!);
      blockComb128Kernels(kk, Bq, bs[q]!, ws[q]!, pat.subarray(0, n), h, Bm + 1, srcB, n, zero);
      sub128Kernels(kk, Dq, Bq, Dq); // (A - Bq) - Bq
      if (!pay) continue;
      const rhos = parts(pay.rho), wrs = parts(pay.wr), out = o[q]!;
      blockComb128Kernels(kk, R!, rhos[q]!, wrs[q]!, pat, h, Bm + 1, srcR, n, zero);
      blockComb128Kernels(kk, RB!, rhos[q]!, wrs[q]!, pat, h, Bm + 1, srcRB, n, zero);
      pay.eps.forEach((eps, p) => { mul128Kernels(kk, eps, Dq, out.subarray(4 * p * n, 4 * (p + 1) * n) as Vec128); });
      sub128Kernels(kk, out, R!, out);
      add128Kernels(kk, out, RB!, out);
      add128Kernels(kk, out, RB!, out);
    }
    return res;
  };
  return { g: scaled('g'), p: j > 0 ? scaled('p') : null };
}

/**
 * v_p DReLU(x) = v_p (1 - t) - root_p with v_p t = c' v_p + sigma (eps_p B - rho_p B)
 * (local; root_p = u_p lt from the tree with foldedTop's block).
 */
export function foldPayload(s: MalSession, v: MShare, cTop: Uint8Array, B: MShare, eps: Vec128, rhoB: MShare, root: MShare): MShare {
  const n = v.n, minus = new Int8Array(n).fill(-1);
  const oneMinusC = new Int8Array(n), sigma = new Int8Array(n), negSigma = new Int8Array(n);
  for (let e = 0; e < n; e++) { const c = cTop[e]!; oneMinusC[e] = 1 - c; sigma[e] = 1 - 2 * c; negSigma[e] = 2 * c - 1; }
  const E = mulPublicVecM(s, B, eps);
  return combSignedM(s.party, s.alpha, n, [{ x: v, k: oneMinusC }, { x: E, k: negSigma }, { x: rhoB, k: sigma }, { x: root, k: minus }], undefined, s.ctx.kernels);
}
