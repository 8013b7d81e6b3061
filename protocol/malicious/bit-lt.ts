/**
 * BitLT of a PUBLIC m-bit value c with a SHARED m-bit value r given by its
 * MACed bits r_0..r_{m-1}: the MACed bit [c < r], for n elements at once
 * (Catrina and de Hoogh, SCN 2010, §3 "BitLT", evaluated as a carry-lookahead
 * tree, the logarithmic-depth variant; in the ring setting as in Damgård,
 * Escudero, Frederiksen, Keller, Scholl, Volgushev, S&P 2019, §4 "bitwise
 * comparison").
 *
 * c < r exactly when r + (2^m - 1 - c) >= 2^m, i.e. when the addition of r
 * and the complement ~c carries out of bit m - 1. With c public:
 *
 *  1. Leaves (local): generate g_i = r_i AND NOT c_i, propagate
 *     p_i = r_i XOR NOT c_i, for i = 0..m-1 (an AND / XOR with a public
 *     bit: bit-ops.ts). g_i and p_i are never both 1.
 *  2. Levels: adjacent blocks (lo, hi) combine into
 *     G = G_hi + P_hi G_lo (an OR of exclusive terms: a sum),
 *     P = P_hi P_lo; the lowest block's P is never used and not computed;
 *     an odd top block goes up unchanged. All ANDs of a level, of every
 *     element, are one mulM call: ceil(log2 m) rounds. With the products
 *     r_{2j+1} r_{2j} given (`pairs`, made with the mask before c is known:
 *     compare.ts), level 1 is local (firstLevel): one round fewer.
 *  3. [c < r] = G of the single block left (the carry out).
 *
 * Layout: c and r are bit-major, bit i of element e at index i n + e.
 * Bits are MACed values equal to 0 or 1 mod 2^k only (docs/MALICIOUS.md):
 * every step is a ring operation, so the output is the right bit mod 2^k.
 *
 * Cost (bitLtCostM): ceil(log2 m) rounds; sum over levels of (2q - 1) ANDs
 * per element for q pairs in the level (2m - 2 - levels or so: 118 ANDs for
 * m = 63, 55 for m = 31), 96 bytes per AND (mulCostM); with `pairs`, the
 * levels from the second (bitLtCostM(n, m, true): 26 ANDs for m = 31).
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { addM, type MShare } from './rep.js';
import { mulCostM, mulM } from './product.js';
import { andPublicM, combSignedM, xorPublicM } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import type { MalSession } from './session.js';

/** The ANDs per element of each level of the tree for m bits (the cost model and the protocol use the same walk). */
export function bitLtLevels(m: number): number[] {
  const ands: number[] = [];
  for (let c = m; c > 1; c = Math.ceil(c / 2)) ands.push(2 * Math.floor(c / 2) - 1);
  return ands;
}

/** Declared cost of bitLtM on n elements of m bits. */
export function bitLtCostM(n: number, m: number, pairs = false, side = 0): Cost {
  const levels = bitLtLevels(m).slice(pairs ? 1 : 0).map((a) => n * a);
  if (side > 0) {
    if (levels.length > 0) levels[0]! += side;
    else levels.push(side);
  }
  return addCost({ rounds: 0, bytes: 0 }, ...levels.map((k) => mulCostM(k)));
}

interface Block { g: MShare; p: MShare | null }

/**
 * Level 1 from precomputed products w_j = r_{2j+1} r_{2j} of the shared bits
 * (input-independent, so made with the mask: compare.ts). With u = r_hi,
 * v = r_lo, a = NOT c_hi, b = NOT c_lo public:
 *   P_hi G_lo = b (a v + (1 - 2a) w),
 *   P_hi P_lo = ab + a(1 - 2b) v + b(1 - 2a) u + (1 - 2a)(1 - 2b) w,
 * and G = g_hi + P_hi G_lo: all local, one AND per pair instead of two.
 */
function firstLevel(s: MalSession, c: Uint8Array, r: MShare, w: MShare, n: number, q: number): Block[] {
  // Every pair at once: U = the high bits r_{2j+1}, V = the low bits r_{2j} (j < q, pair-major), W = the w_j.
  const N = q * n, k = s.ctx.kernels;
  const rows = (odd: number): MShare => concatM(Array.from({ length: q }, (_, j) => sliceM(r, (2 * j + odd) * n, (2 * j + odd + 1) * n)));
  const U = rows(1), V = rows(0), W = sliceM(w, 0, N);
  const ka = new Int8Array(N), kab = new Int8Array(N), kbw = new Int8Array(N), kpv = new Int8Array(N), kpu = new Int8Array(N), kpw = new Int8Array(N);
  for (let j = 0; j < q; j++) {
    const hi = (2 * j + 1) * n, lo = 2 * j * n;
    for (let e = 0; e < n; e++) {
      const a = 1 - c[hi + e]!, b = 1 - c[lo + e]!, i = j * n + e;
      ka[i] = a; kab[i] = a * b; kbw[i] = b * (1 - 2 * a);
      kpv[i] = a * (1 - 2 * b); kpu[i] = b * (1 - 2 * a); kpw[i] = (1 - 2 * a) * (1 - 2 * b);
    }
  }
  // G = a u + P_hi G_lo = a u + b a v + b (1 - 2a) w (bit-ops.ts combSignedM: one pass per share vector and term).
  const G = combSignedM(s.party, s.alpha, N, [{ x: U, k: ka }, { x: V, k: kab }, { x: W, k: kbw }], undefined, k);
  // P = ab + a(1 - 2b) v + b(1 - 2a) u + (1 - 2a)(1 - 2b) w, for the pairs above the lowest (j >= 1).
  const up = (x: MShare): MShare => sliceM(x, n, N);
  const P = combSignedM(s.party, s.alpha, N - n, [{ x: up(V), k: kpv.subarray(n) }, { x: up(U), k: kpu.subarray(n) }, { x: up(W), k: kpw.subarray(n) }], kab.subarray(n), k);
  return Array.from({ length: q }, (_, j) => ({ g: sliceM(G, j * n, (j + 1) * n), p: j === 0 ? null : sliceM(P, (j - 1) * n, j * n) }));
}

/** The number of precomputed level-1 products per element for m bits (pairs of adjacent bits). */
export const bitLtPairs = (m: number): number => Math.floor(m / 2);

/**
 * [c < r] per element (see the header). c: m n public bits (0/1 bytes),
 * r: m n MACed bits, both bit-major. With `pairs` (the products
 * r_{2j+1} r_{2j}, j < floor(m/2), bit-major), level 1 is local.
 * Cost bitLtCostM(n, m) (bitLtCostM(n, m, true) with pairs).
 */
export function bitLtM(s: MalSession, c: Uint8Array, r: MShare, m: number, pairs?: MShare): Promise<MShare> {
  return s.guard('mal.bitLt', async () => (await bitLtBody(s, c, r, m, pairs)).lt);
}

/**
 * bitLtM without its own step, with an optional side product: the
 * elementwise product side[0] · side[1] rides in the first mulM of the tree
 * (no round of its own; a separate mulM when the tree has no online level).
 * compare.ts uses it for x · t, so that x · DReLU(x) needs one round after
 * BitLT instead of two. Cost bitLtCostM(n, m, pairs, side[0].n).
 */
export async function bitLtBody(s: MalSession, c: Uint8Array, r: MShare, m: number, pairs?: MShare, side?: [MShare, MShare]): Promise<{ lt: MShare; side?: MShare }> {
  assert(Number.isInteger(m) && m >= 1 && r.n % m === 0 && c.length === r.n, 'E_SHAPE', `malicious.bitLt: ${c.length} public and ${r.n} shared bits for ${m}-bit values`, { party: s.party, step: 'mal.bitLt' });
  const n = r.n / m;
  assert(!pairs || pairs.n === bitLtPairs(m) * n, 'E_SHAPE', `malicious.bitLt: ${pairs?.n} precomputed products, expected ${bitLtPairs(m) * n}`, { party: s.party, step: 'mal.bitLt' });
  assert(!side || side[0].n === side[1].n, 'E_SHAPE', `malicious.bitLt: side operands of ${side?.[0].n} and ${side?.[1].n} elements`, { party: s.party, step: 'mal.bitLt' });
  // Step 1: leaves. NOT c_i per element; g_i = r_i AND NOT c_i, p_i = r_i XOR NOT c_i.
  // With pairs, level 1 comes from them (firstLevel) and only an odd top bit needs its leaf.
  const leaf = (i: number): Block => {
    const ri = sliceM(r, i * n, (i + 1) * n);
    const notC = c.subarray(i * n, (i + 1) * n).map((b) => 1 - b);
    return { g: andPublicM(ri, notC, s.ctx.kernels), p: i === 0 ? null : xorPublicM(s.party, s.alpha, ri, notC, s.ctx.kernels) };
  };
  let blocks: Block[] = [];
  if (pairs && m > 1) {
    blocks = firstLevel(s, c, r, pairs, n, bitLtPairs(m));
    if (m % 2 === 1) blocks.push(leaf(m - 1));
  } else {
    for (let i = 0; i < m; i++) blocks.push(leaf(i));
  }
  let sideOut: MShare | undefined;
  if (side && blocks.length === 1) sideOut = await mulM(s, side[0], side[1]);
  // Step 2: one mulM per level: [P_hi for every pair | P_hi for pairs above the lowest (| side[0])] * [G_lo | P_lo (| side[1])].
  while (blocks.length > 1) {
    const q = Math.floor(blocks.length / 2);
    const left: MShare[] = [], right: MShare[] = [];
    for (let j = 0; j < q; j++) { left.push(blocks[2 * j + 1]!.p!); right.push(blocks[2 * j]!.g); }
    for (let j = 1; j < q; j++) { left.push(blocks[2 * j + 1]!.p!); right.push(blocks[2 * j]!.p!); }
    const withSide = side !== undefined && sideOut === undefined;
    if (withSide) { left.push(side[0]); right.push(side[1]); }
    const prod = await mulM(s, concatM(left), concatM(right));
    if (withSide) sideOut = sliceM(prod, (2 * q - 1) * n, prod.n);
    // G = G_hi + P_hi G_lo for every pair in one sum (the G_hi laid end to end).
    const G = addM(concatM(Array.from({ length: q }, (_, j) => blocks[2 * j + 1]!.g)), sliceM(prod, 0, q * n), s.ctx.kernels);
    const next: Block[] = [];
    for (let j = 0; j < q; j++) next.push({ g: sliceM(G, j * n, (j + 1) * n), p: j === 0 ? null : sliceM(prod, (q + j - 1) * n, (q + j) * n) });
    if (blocks.length % 2 === 1) next.push(blocks[blocks.length - 1]!);
    blocks = next;
  }
  // Step 3: the carry out.
  return sideOut ? { lt: blocks[0]!.g, side: sideOut } : { lt: blocks[0]!.g };
}
