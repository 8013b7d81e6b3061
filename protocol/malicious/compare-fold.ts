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
import { mul128Kernels } from './gemm128.js';
import { addM, subM, type MShare, type Rep } from './rep.js';
import { mulCostM, mulM } from './product.js';
import { combSignedM, type SignedTerm } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import { bitLtBlockSizes, blockCoefs, monomialRow, type Block } from './bit-lt-quads.js';
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
  const k = s.ctx.kernels, e = eps.slice() as Vec128;
  const times = (v: Vec128): Vec128 => (k?.mul128 ? mul128Kernels(k, e, v, alloc128(x.n)) : mul128(e, v, alloc128(x.n)));
  const rep = (r: Rep): Rep => ({ a: times(r.a), b: times(r.b) });
  return { n: x.n, x: rep(x.x), m: rep(x.m) };
}

/** The payloads' part of the mask and their opened eps_p = v_p + rho_p. */
export interface FoldPayloads { readonly eps: readonly Vec128[]; readonly rho: MShare; readonly wr: MShare }

/**
 * The top block of BitLT's tree scaled by (1 - 2t) (no payloads: MSB) or by
 * u_p = (1 - 2t) v_p for each payload (k copies end to end), from the public
 * bits c of BitLT (ell - 1 rows), the public c' = c_{ell-1} (cTop), the
 * mask's bits b (ell rows) and block products w. Local.
 */
export function foldedTop(s: MalSession, c: Uint8Array, cTop: Uint8Array, b: MShare, w: MShare, ell: number, n: number, pay?: FoldPayloads): Block {
  const L = bitLtBlockSizes(ell), j = L.length - 1, z = L[j]!, zT = z - 1, Bm = 1 << zT, kk = s.ctx.kernels;
  const co = blockCoefs(c, n, ell - z, zT);
  const sigma = Int8Array.from(cTop, (v) => 1 - 2 * v);
  const row = (S: number): MShare => monomialRow(b, w, L, n, j, S);
  const comb = (terms: SignedTerm[], c0?: Int8Array): MShare => combSignedM(s.party, s.alpha, n, terms, c0, kk);
  const scaled = (kq: Int8Array[]): MShare[] => {
    const sk = kq.map((v) => v.map((x, e) => x * sigma[e]!));
    const nz = (S: number): boolean => sk[S]!.some((v) => v !== 0);
    const subsets = Array.from({ length: Bm }, (_, S) => S).filter(nz);
    // D = (1 - 2t) Q = sum_S sigma k_S r_S - 2 sum_S sigma k_S r_{S+B} (r_{0} = 1: the constant).
    const A = comb(subsets.filter((S) => S > 0).map((S) => ({ x: row(S), k: sk[S]! })), sk[0]);
    const Bq = comb(subsets.map((S) => ({ x: row(S | Bm), k: sk[S]! })));
    const D = subM(A, addM(Bq, Bq, kk), kk);
    if (!pay) return [D];
    return pay.eps.map((eps, p) => {
      const rr = (S: number): MShare => (S === 0 ? sliceM(pay.rho, p * n, (p + 1) * n) : sliceM(pay.wr, ((p * (2 * Bm - 1)) + S - 1) * n, ((p * (2 * Bm - 1)) + S) * n));
      const R = comb(subsets.map((S) => ({ x: rr(S), k: sk[S]! })));
      const RB = comb(subsets.map((S) => ({ x: rr(S | Bm), k: sk[S]! })));
      return subM(mulPublicVecM(s, D, eps), subM(R, addM(RB, RB, kk), kk), kk);
    });
  };
  return { g: concatM(scaled(co.kg)), p: j > 0 ? concatM(scaled(co.kp)) : null };
}

/**
 * v_p DReLU(x) = v_p (1 - t) - root_p with v_p t = c' v_p + sigma (eps_p B - rho_p B)
 * (local; root_p = u_p lt from the tree with foldedTop's block).
 */
export function foldPayload(s: MalSession, v: MShare, cTop: Uint8Array, B: MShare, eps: Vec128, rhoB: MShare, root: MShare): MShare {
  const n = v.n, minus = new Int8Array(n).fill(-1);
  const oneMinusC = Int8Array.from(cTop, (c) => 1 - c), sigma = Int8Array.from(cTop, (c) => 1 - 2 * c), negSigma = sigma.map((x) => -x);
  const E = mulPublicVecM(s, B, eps);
  return combSignedM(s.party, s.alpha, n, [{ x: v, k: oneMinusC }, { x: E, k: negSigma }, { x: rhoB, k: sigma }, { x: root, k: minus }], undefined, s.ctx.kernels);
}
