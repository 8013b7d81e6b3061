/**
 * The truncation mask of the malicious mode (trunc.ts: r, r' = (r mod 2^m)
 * >> f and the top bit r_{m-1}, m = ell + 1) from the pair PRGs, edaBit
 * style: the components of a random replicated sharing are split into bits
 * and added by a binary circuit (the "split" conversion of ABY3, Mohassel
 * and Rindal, CCS 2018, §5.3, and of Dalskov, Escudero, Keller, PoPETs
 * 2020; edaBits from the parties' own random values, Escudero, Ghosh,
 * Keller, Rachuri, Scholl, CRYPTO 2020, §5, here with the values taken
 * from the pair PRGs so that no input needs checking), and only the five
 * carry bits the mask needs go back to the arithmetic domain with daBits
 * (instead of the m random bits of before). docs/MALICIOUS.md, "Truncation
 * masks from the pair PRGs", has the proof.
 *
 *  1. Components (local): [U] = randomRep, u_j from the PRG of P_j and
 *     P_{j-1}, uniform in Z_2^128; r = U. With ~u_j = u_j mod 2^m, every
 *     holder of u_j computes v_j = ~u_j >> f: [V] = sum_j v_j.
 *  2. MAC (one resharing, product.ts macOf): [U], [V] and the sums T of
 *     the 5 n daBits' pair bits (dabit.ts steps 1-2).
 *  3. daBits' arithmetic part: b = T mod 2 (randbits.ts parityM: two products).
 *  4. Split (local): X_j = bits 0..m-1 of ~u_j, component j only.
 *  5. Carry-save (1 AND round, m planes): s = X_0 ^ X_1 ^ X_2,
 *     k = MAJ(X_0, X_1, X_2); S = sum_j ~u_j = s + 2k.
 *  6. Generate / propagate of A = s + 2 (k mod 2^(m-1)) at positions
 *     q = 1..m-1: g_q = s_q k_{q-1}, p_q = s_q ^ k_{q-1} (1 AND round).
 *  7. Carry trees (Catrina and de Hoogh, SCN 2010, prefix carries; as
 *     binary/a2b.ts) over positions 1..f-1 (carry C_f into position f) and
 *     f..m-2 (its G and P), level by level in one AND round per level.
 *  8. C_{m-1} = G_B ^ P_B C_f, then C_m = g_{m-1} ^ p_{m-1} C_{m-1} (one AND
 *     round each; the first is free for f = 1, where C_f = 0).
 *  9. The five bits: k_{f-1}, C_f, k_{m-1}, C_m and
 *     t = s_{m-1} ^ k_{m-2} ^ C_{m-1}; the ANDs of steps 5-8 verified now
 *     against fresh cut-and-choose triples (binary/verify.ts, triples.ts).
 * 10. B2A (binary/compare-bin.ts step 2): e = bits ^ daBits opened
 *     (checked), [bit] = e + [d] - 2 e [d] (local).
 * 11. (local) kappa = k_{f-1} + C_f = floor(sum_j (~u_j mod 2^f) / 2^f),
 *     q = k_{m-1} + C_m = floor(S / 2^m), top = t = bit m-1 of S mod 2^m;
 *     [r'] = [V] + [kappa] - 2^(m-f) [q] = ((r mod 2^m) >> f), exactly.
 *
 * Why r' is exact: r mod 2^m = S - 2^m q, so (r mod 2^m) >> f =
 * floor(S / 2^f) - 2^(m-f) q, and floor(S / 2^f) = sum_j floor(~u_j / 2^f)
 * + floor(sum_j (~u_j mod 2^f) / 2^f) = V + kappa. The mask (r, r', top)
 * therefore has exactly the distribution of the mask made from m random bits
 * (r uniform in Z_2^128, r' and top functions of it): trunc.ts's online
 * part, its error (floor or floor + 1) and its proofs are unchanged.
 *
 * Checks: the ANDs of steps 5-8 are verified in step 9, before any bit is
 * used (E_INTEGRITY on an additive error: another copy of a component in
 * the split, or a wrong AND message); the B2A opening is checked (one
 * holder's share against the other's hash); [U], [V] and the daBits are
 * MACed values, verified by the batched MAC check: release nothing derived
 * from the mask before macCheck, as for every malicious primitive. Each u_j
 * has an honest holder, whose copy defines U, V and the bits alike. Only
 * bits 0..m-1 <= 63 of the components are read, and U, V, kappa, q enter
 * r' with weights below 2^64: errors in multiples of 2^64 change nothing.
 * Privacy: every received message is a resharing masked by a zero sharing
 * or a triple opening, and e is masked by daBits no party knows; the
 * carries are never opened, so r stays uniform given a party's view.
 *
 * Cost (truncMaskSplitCostM): macOf of 7 n words, two products of 5 n, the
 * AND rounds of steps 5-8 (24 bytes per AND word), the opening of 5 planes,
 * the triples for the ANDs (verifyInlineCostB). For ell = 48, f = 13 and
 * large n: 18 rounds and 2,200 bytes per element (the random-bit mask: 3
 * rounds, 11,808 bytes); for a few elements more than the random bits (64
 * elements per binary word, triples padded): trunc.ts usesSplitMask picks.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import type { MShare, Rep } from './rep.js';
import { alloc128, type Vec128 } from './ring128.js';
import { addM, randomRep, subM } from './rep.js';
import { macOfBody, macOfCost, mulCostM } from './product.js';
import { pairBits, parityM } from './randbits.js';
import { concatM, concatReps, shlM, sliceM } from './mvec.js';
import type { MalSession } from './session.js';
import { xorPublicM } from './bit-ops.js';
import { andBody, andCostB } from './binary/and.js';
import { bitPlanes } from './binary/a2b.js';
import { allocB, bitAt, concatB, concatWordsB, lanesOf, planesB, wordsOf, xorB, type BShare } from './binary/bshare.js';
import { packLow } from './binary/dabit.js';
import { openBodyB, openCostB } from './binary/open.js';
import { binaryState, type PendingAnd } from './binary/state.js';
import { makeTriplesBody } from './binary/triples.js';
import { verifyInlineCostB } from './binary/verify.js';

/** The mask's shared values (trunc.ts TruncMask without its bookkeeping). */
export interface SplitMask { readonly r: MShare; readonly rShift: MShare; readonly top: MShare }

/** Bits converted per element (step 9). */
const BITS = 5;

/** (v mod 2^m) >> f of each element of a Vec128 component (reads the low m <= 64 bits only). */
export function lowShift(v: Vec128, n: number, m: number, f: number): Vec128 {
  const out = alloc128(n);
  for (let e = 0; e < n; e++) {
    let lo = v[4 * e]!, hi = v[4 * e + 1]!;
    if (m <= 32) { lo = m === 32 ? lo : lo & ((1 << m) - 1); hi = 0; } else if (m < 64) hi &= 2 ** (m - 32) - 1;
    if (f < 32) { out[4 * e] = ((lo >>> f) | (hi << (32 - f))) >>> 0; /* 1 <= f < 32 here */ out[4 * e + 1] = hi >>> f; } else out[4 * e] = hi >>> (f - 32);
  }
  return out;
}

/** Tree levels of a segment of len blocks: [pairs, P products] per level; the lowest block's P only with lowP. */
function segLevels(len: number, lowP: boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let q = len; q > 1; q = Math.ceil(q / 2)) { const pairs = Math.floor(q / 2); out.push([pairs, lowP ? pairs : pairs - 1]); }
  return out;
}

/** AND planes per round of steps 5-8 (the cost and the verification are sized from it). */
export function andPlanes(m: number, f: number): number[] {
  const A = segLevels(f - 1, false), B = segLevels(m - 1 - f, true), rounds = [m, m - 1];
  for (let l = 0; l < Math.max(A.length, B.length); l++) rounds.push((A[l] ? A[l]![0] + A[l]![1] : 0) + (B[l] ? B[l]![0] + B[l]![1] : 0));
  if (f >= 2) rounds.push(1);
  rounds.push(1);
  return rounds;
}

export function truncMaskSplitCostM(n: number, f: number, ell: number): Cost {
  const m = ell + 1, planes = andPlanes(m, f);
  let c = addCost(macOfCost((2 + BITS) * n), mulCostM(BITS * n), mulCostM(BITS * n));
  for (const p of planes) c = addCost(c, andCostB(n, p));
  const words = wordsOf(n) * planes.reduce((t, p) => t + p, 0);
  return addCost(c, verifyInlineCostB(words), openCostB(BITS * wordsOf(n)));
}

/**
 * andBody, its record then moved from the session's pending ANDs into `into` (found by identity; given: this
 * mask's own list, checked by verifyOwn; absent: left pending for the next MAC check). Never empties the
 * session's list: ANDs made before stay there, visible to any MAC check.
 */
async function andInto(s: MalSession, x: BShare, y: BShare, into?: PendingAnd[]): Promise<BShare> {
  const z = await andBody(s, x, y);
  if (into) {
    const pending = binaryState(s).pending;
    for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.z === z) { into.push(...pending.splice(i, 1)); break; }
  }
  return z;
}

/** Step 9: exactly the ANDs `ands` checked against triples made now, in the triples' own rounds (verifyInlineCostB); the session's stock is not used. */
async function verifyOwn(s: MalSession, ands: readonly PendingAnd[]): Promise<void> {
  if (ands.length === 0) return;
  const words = ands.reduce((t, p) => t + p.z.a.length / 2, 0);
  const x = concatWordsB(ands.map((p) => p.x)), y = concatWordsB(ands.map((p) => p.y)), z = concatWordsB(ands.map((p) => p.z));
  await makeTriplesBody(s, words, { x, y, z, words });
}

interface Seg { G: BShare[]; P: BShare[]; readonly lowP: boolean }

/** Step 7: the segments' trees, one AND call per level for all of them; each segment ends with one block (G[0], P[0]). */
async function trees(s: MalSession, segs: Seg[], into?: PendingAnd[]): Promise<void> {
  while (segs.some((g) => g.G.length > 1)) {
    const left: BShare[] = [], right: BShare[] = [], plan: { g: Seg; pairs: number; p0: number; off: number }[] = [];
    for (const g of segs) {
      if (g.G.length <= 1) continue;
      const pairs = Math.floor(g.G.length / 2), p0 = g.lowP ? 0 : 1, off = left.length;
      for (let j = 0; j < pairs; j++) { left.push(g.P[2 * j + 1]!); right.push(g.G[2 * j]!); }
      for (let j = p0; j < pairs; j++) { left.push(g.P[2 * j + 1]!); right.push(g.P[2 * j]!); }
      plan.push({ g, pairs, p0, off });
    }
    const prod = await andInto(s, concatB(left), concatB(right), into);
    for (const { g, pairs, p0, off } of plan) {
      const nG: BShare[] = [], nP: BShare[] = [];
      for (let j = 0; j < pairs; j++) {
        nG.push(xorB(g.G[2 * j + 1]!, planesB(prod, off + j, off + j + 1)));
        const at = off + pairs + j - p0;
        nP.push(j < p0 ? g.P[0]! : planesB(prod, at, at + 1)); // block 0's P is never read when !lowP
      }
      if (g.G.length % 2 === 1) { nG.push(g.G[g.G.length - 1]!); nP.push(g.P[g.P.length - 1]!); }
      g.G = nG; g.P = nP;
    }
  }
}

/**
 * Steps 4-8 on the components u (this party's two): the five bit planes of step 9, the ANDs recorded in `into`
 * (splitMaskFrom's own list), else in the session's pending ANDs (exported for the view test's leaky variant).
 */
export async function carryBitsB(s: MalSession, u: Rep, n: number, m: number, f: number, into?: PendingAnd[]): Promise<BShare> {
  const L = lanesOf(n), zero = () => new Uint32Array(L * m);
  const X: BShare[] = [allocB(n, m), allocB(n, m), allocB(n, m)];
  X[s.party] = { n, planes: m, a: bitPlanes(u.a, n, m), b: zero() }; // step 4
  X[(s.party + 1) % 3] = { n, planes: m, a: zero(), b: bitPlanes(u.b, n, m) };
  const sAll = xorB(xorB(X[0]!, X[1]!), X[2]!);
  const k = xorB(await andInto(s, xorB(X[0]!, X[2]!), xorB(X[1]!, X[2]!), into), X[2]!); // step 5
  const hi = planesB(sAll, 1, m), lo = planesB(k, 0, m - 1); // position q at plane q - 1
  const g = await andInto(s, hi, lo, into), p = xorB(hi, lo); // step 6
  const blocks = (from: number, to: number): Seg => ({ G: range(from, to).map((q) => planesB(g, q - 1, q)), P: range(from, to).map((q) => planesB(p, q - 1, q)), lowP: false });
  const A = blocks(1, f), B = { ...blocks(f, m - 1), lowP: true };
  await trees(s, f >= 2 ? [A, B] : [B], into); // step 7
  const Cf = f >= 2 ? A.G[0]! : allocB(n, 1);
  const Cm1 = f >= 2 ? xorB(B.G[0]!, await andInto(s, B.P[0]!, Cf, into)) : B.G[0]!; // step 8
  const Cm = xorB(planesB(g, m - 2, m - 1), await andInto(s, planesB(p, m - 2, m - 1), Cm1, into));
  const t = xorB(xorB(planesB(sAll, m - 1, m), planesB(k, m - 2, m - 1)), Cm1);
  return concatB([planesB(k, f - 1, f), Cf, planesB(k, m - 1, m), Cm, t]); // step 9
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * Steps 1-11 on given components u (exported for the tests, which pass chosen components to reach every carry);
 * the mask makers pass randomRep. The ANDs are verified here, before return, with triples made here (kept in a
 * list of this call's own: the session's pending ANDs and triple stock are never touched). Cost truncMaskSplitCostM(n, f, ell).
 */
export async function splitMaskFrom(s: MalSession, u: Rep, n: number, f: number, ell: number): Promise<SplitMask> {
  const m = ell + 1;
  const V: Rep = { a: lowShift(u.a, n, m, f), b: lowShift(u.b, n, m, f) }; // step 1
  const t = pairBits(s.ctx, BITS * n);
  const macced = await macOfBody(s, concatReps([u, V, t])); // step 2
  const U = concatM([sliceM(macced, 0, n)]), Vm = sliceM(macced, n, 2 * n); // U copied: the mask is kept (the pool), not the 7 n words of macced
  const dArith = await parityM(s, sliceM(macced, 2 * n, (2 + BITS) * n)); // step 3
  // Steps 4-8, their ANDs in a list of this call's own (never the session's pending ANDs, which another chain's MAC
  // check must still see), then step 9: exactly these ANDs verified against fresh triples.
  const mine: PendingAnd[] = [];
  const bits = await carryBitsB(s, u, n, m, f, mine);
  await verifyOwn(s, mine);
  const dBin = concatB(range(0, BITS).map((i) => ({ n, planes: 1, a: packLow(t.a.subarray(4 * i * n, 4 * (i + 1) * n), n), b: packLow(t.b.subarray(4 * i * n, 4 * (i + 1) * n), n) })));
  const e = await openBodyB(s, xorB(bits, dBin)); // step 10
  const arith = range(0, BITS).map((i) => {
    const pub = new Uint8Array(n);
    for (let j = 0; j < n; j++) pub[j] = bitAt(e, n, i, j);
    return xorPublicM(s.party, s.alpha, sliceM(dArith, i * n, (i + 1) * n), pub, s.ctx.kernels);
  });
  const kr = s.ctx.kernels; // step 11
  const kappa = addM(arith[0]!, arith[1]!, kr), q = addM(arith[2]!, arith[3]!, kr);
  const rShift = subM(addM(Vm, kappa, kr), shlM(q, m - f), kr);
  return { r: U, rShift, top: arith[4]! };
}

/** The mask of trunc.ts from fresh pair-PRG components. Cost truncMaskSplitCostM(n, f, ell). */
export const splitMask = (s: MalSession, n: number, f: number, ell: number): Promise<SplitMask> => splitMaskFrom(s, randomRep(s.ctx, n), n, f, ell);
