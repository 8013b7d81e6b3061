/**
 * The most significant bit of x mod 2^ell in the binary domain, by A2B
 * without a mask: splitting, a carry-save layer and a carry tree (bit
 * decomposition of ABY3, Mohassel and Rindal, CCS 2018, §5.3, where each
 * replicated share is input to a binary adder by the parties that hold it;
 * MP-SPDZ's split-based conversion, `split` for replicated rings,
 * Dalskov, Escudero, Keller, PoPETs 2020; Escudero, Ghosh, Keller,
 * Rachuri, Scholl, CRYPTO 2020, for the malicious setting; the carry
 * tree of Catrina and de Hoogh, SCN 2010, BitLT's prefix carries, over Z_2):
 *
 *  1. Split (local): x = x_0 + x_1 + x_2 mod 2^128, and share x_j is held by
 *     P_j (its a) and P_{j-1} (its b). X_j = bits of x_j mod 2^ell is a
 *     binary replicated sharing with component j = bits(x_j) and the other
 *     two 0: party i holds (bits(x_i), 0) of X_i, (0, bits(x_{i+1})) of
 *     X_{i+1} and (0, 0) of X_{i+2}. No message.
 *  2. Carry-save (one AND per bit, bits 0..ell-2): s = X_0 XOR X_1 XOR X_2,
 *     k = MAJ(X_0, X_1, X_2) = ((X_0 XOR X_2) AND (X_1 XOR X_2)) XOR X_2;
 *     x mod 2^ell = s + 2k mod 2^ell.
 *  3. Carry into bit ell-1 of s + 2k: positions q = 1..ell-2 with
 *     g_q = s_q AND k_{q-1}, p_q = s_q XOR k_{q-1} (position 0 generates no
 *     carry: bit 0 of 2k is 0). One AND for all g.
 *  4. Carry tree: blocks combined in pairs, (G, P) = (G_hi XOR (P_hi AND
 *     G_lo), P_hi AND P_lo), one AND call per level for every pair; the
 *     block holding position 1 needs no P. ceil(log2(ell - 2)) levels.
 *  5. MSB = s_{ell-1} XOR k_{ell-2} XOR G (local).
 *
 * Only bits 0..ell-1 of the x_j are read, so an error in a multiple of
 * 2^k (k = 64 >= ell), which the MAC check cannot see, changes nothing.
 * The two copies of x_j: an honest holder's copy is what every check and
 * opening uses (the arithmetic open.ts reads one copy against the other's
 * hash, and the MAC check's opening of its combination likewise), so the
 * honest copies define the MAC-verified x; a cheater that splits another
 * copy of its share only changes what it sends in steps 2-4, an additive
 * error on the ANDs, caught by verify.ts. Nothing is opened here.
 *
 * Cost for n elements, w = ceil(n / 64) words per plane: 2 + ceil(log2(ell
 * - 2)) rounds (1 for ell = 2, 2 for ell = 3); ANDs (ell - 1) w + (ell - 2)
 * w + the tree's (`msbBitsCostB`), 24 bytes per AND word.
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import { assert } from '../../errors.js';
import type { MShare } from '../rep.js';
import type { MalSession } from '../session.js';
import { andBody, andCostB } from './and.js';
import { allocB, concatB, lanesOf, planesB, xorB, type BShare } from './bshare.js';
import { bitPlanes } from './planes.js';

/** ell bit planes of the low ell bits of the elements of v (a Vec128 share vector): planes.ts (a bit-matrix transpose per 32 elements). */
export { bitPlanes };

/** Step 1: this party's parts of X_0, X_1, X_2 (ell planes each). */
export function splitB(s: MalSession, x: MShare, ell: number): [BShare, BShare, BShare] {
  const n = x.n, out = [allocB(n, ell), allocB(n, ell), allocB(n, ell)] as [BShare, BShare, BShare];
  const i = s.party;
  out[i] = { n, planes: ell, a: bitPlanes(x.x.a, n, ell), b: new Uint32Array(lanesOf(n) * ell) };
  out[(i + 1) % 3] = { n, planes: ell, a: new Uint32Array(lanesOf(n) * ell), b: bitPlanes(x.x.b, n, ell) };
  return out;
}

/** The tree's pairs per level for m positions: [pairs, P products] per level (the lowest block needs no P). */
function treeLevels(m: number): [number, number][] {
  const levels: [number, number][] = [];
  for (let q = m; q > 1; q = Math.ceil(q / 2)) {
    const pairs = Math.floor(q / 2);
    levels.push([pairs, pairs - 1]);
  }
  return levels;
}

export function msbBitsCostB(n: number, ell: number): Cost {
  assert(ell >= 2, 'E_BAD_ARGUMENT', `malicious.binary.msb: ell = ${ell} (at least 2)`);
  let c = andCostB(n, ell - 1);
  if (ell === 2) return c;
  c = addCost(c, andCostB(n, ell - 2));
  for (const [pairs, ps] of treeLevels(ell - 2)) c = addCost(c, andCostB(n, pairs + ps));
  return c;
}

/**
 * MSB of x mod 2^ell as one binary plane (steps 1-5); the ANDs are recorded for verification (verify.ts). Cost
 * msbBitsCostB(n, ell). `alongside`: runs in the round of the first AND (and.ts andBody).
 */
export async function msbBitsBody(s: MalSession, x: MShare, ell: number, alongside?: () => void): Promise<BShare> {
  assert(Number.isInteger(ell) && ell >= 2 && ell <= 64, 'E_BAD_ARGUMENT', `malicious.binary.msb: ell = ${ell} (2 to 64)`, { party: s.party });
  const [X0, X1, X2] = splitB(s, x, ell);
  const sAll = xorB(xorB(X0, X1), X2);
  // Step 2: carry-save on bits 0..ell-2.
  const lo = (v: BShare) => planesB(v, 0, ell - 1);
  const c2 = lo(X2);
  const k = xorB(await andBody(s, xorB(lo(X0), c2), xorB(lo(X1), c2), alongside), c2);
  const top = xorB(planesB(sAll, ell - 1, ell), planesB(k, ell - 2, ell - 1));
  if (ell === 2) return top;
  // Step 3: generate and propagate of positions 1..ell-2 (plane q - 1 for position q).
  const u = planesB(sAll, 1, ell - 1), v = planesB(k, 0, ell - 2);
  const g = await andBody(s, u, v), p = xorB(u, v);
  // Step 4: the tree, lowest block first.
  let G: BShare[] = Array.from({ length: ell - 2 }, (_, q) => planesB(g, q, q + 1));
  let P: BShare[] = Array.from({ length: ell - 2 }, (_, q) => planesB(p, q, q + 1));
  while (G.length > 1) {
    const pairs = Math.floor(G.length / 2);
    const left: BShare[] = [], right: BShare[] = [];
    for (let j = 0; j < pairs; j++) { left.push(P[2 * j + 1]!); right.push(G[2 * j]!); }
    for (let j = 1; j < pairs; j++) { left.push(P[2 * j + 1]!); right.push(P[2 * j]!); }
    const prod = await andBody(s, concatB(left), concatB(right));
    const nG: BShare[] = [], nP: BShare[] = [];
    for (let j = 0; j < pairs; j++) {
      nG.push(xorB(G[2 * j + 1]!, planesB(prod, j, j + 1)));
      nP.push(j === 0 ? P[0]! : planesB(prod, pairs + j - 1, pairs + j)); // block 0's P is never read
    }
    if (G.length % 2 === 1) { nG.push(G[G.length - 1]!); nP.push(P[P.length - 1]!); }
    G = nG; P = nP;
  }
  // Step 5.
  return xorB(top, G[0]!);
}

/** MSB of x mod 2^ell (2 <= ell <= 64) as a binary sharing, not yet verified (verify.ts runs at the MAC check). Cost msbBitsCostB(n, ell). */
export function msbBitsB(s: MalSession, x: MShare, ell: number): Promise<BShare> {
  return s.guard('mal.bin.msb', () => msbBitsBody(s, x, ell));
}
