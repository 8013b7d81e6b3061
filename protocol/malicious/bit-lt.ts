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
import { addSmallPublicM, andPublicM, signedSelectM, xorPublicM } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import type { MalSession } from './session.js';

/** The ANDs per element of each level of the tree for m bits (the cost model and the protocol use the same walk). */
export function bitLtLevels(m: number): number[] {
  const ands: number[] = [];
  for (let c = m; c > 1; c = Math.ceil(c / 2)) ands.push(2 * Math.floor(c / 2) - 1);
  return ands;
}

/** Declared cost of bitLtM on n elements of m bits. */
export const bitLtCostM = (n: number, m: number, pairs = false): Cost =>
  addCost({ rounds: 0, bytes: 0 }, ...bitLtLevels(m).slice(pairs ? 1 : 0).map((a) => mulCostM(n * a)));

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
  const out: Block[] = [];
  for (let j = 0; j < q; j++) {
    const u = sliceM(r, (2 * j + 1) * n, (2 * j + 2) * n), v = sliceM(r, 2 * j * n, (2 * j + 1) * n), wj = sliceM(w, j * n, (j + 1) * n);
    const a = Int8Array.from({ length: n }, (_, e) => 1 - c[(2 * j + 1) * n + e]!), b = Int8Array.from({ length: n }, (_, e) => 1 - c[2 * j * n + e]!);
    const k = (f: (ae: number, be: number) => number) => Int8Array.from({ length: n }, (_, e) => f(a[e]!, b[e]!));
    // P_hi G_lo = b a v + b (1 - 2a) w; G = a u + P_hi G_lo.
    const g = addM(addM(signedSelectM(u, a), signedSelectM(v, k((ae, be) => be * ae))), signedSelectM(wj, k((ae, be) => be * (1 - 2 * ae))));
    // P = ab + a(1 - 2b) v + b(1 - 2a) u + (1 - 2a)(1 - 2b) w (not for the lowest pair).
    const p = j === 0 ? null : addSmallPublicM(s.party, s.alpha,
      addM(addM(signedSelectM(v, k((ae, be) => ae * (1 - 2 * be))), signedSelectM(u, k((ae, be) => be * (1 - 2 * ae)))), signedSelectM(wj, k((ae, be) => (1 - 2 * ae) * (1 - 2 * be)))),
      k((ae, be) => ae * be), s.ctx.kernels);
    out.push({ g, p });
  }
  return out;
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
  return s.guard('mal.bitLt', async () => {
    assert(Number.isInteger(m) && m >= 1 && r.n % m === 0 && c.length === r.n, 'E_SHAPE', `malicious.bitLt: ${c.length} public and ${r.n} shared bits for ${m}-bit values`, { party: s.party, step: 'mal.bitLt' });
    const n = r.n / m;
    assert(!pairs || pairs.n === bitLtPairs(m) * n, 'E_SHAPE', `malicious.bitLt: ${pairs?.n} precomputed products, expected ${bitLtPairs(m) * n}`, { party: s.party, step: 'mal.bitLt' });
    // Step 1: leaves. NOT c_i per element; g_i = r_i AND NOT c_i, p_i = r_i XOR NOT c_i.
    let blocks: Block[] = [];
    for (let i = 0; i < m; i++) {
      const ri = sliceM(r, i * n, (i + 1) * n);
      const notC = c.subarray(i * n, (i + 1) * n).map((b) => 1 - b);
      blocks.push({ g: andPublicM(ri, notC), p: i === 0 ? null : xorPublicM(s.party, s.alpha, ri, notC, s.ctx.kernels) });
    }
    if (pairs && m > 1) {
      const q = bitLtPairs(m);
      const next = firstLevel(s, c, r, pairs, n, q);
      if (m % 2 === 1) next.push(blocks[m - 1]!);
      blocks = next;
    }
    // Step 2: one mulM per level: [P_hi for every pair | P_hi for pairs above the lowest] * [G_lo | P_lo].
    while (blocks.length > 1) {
      const q = Math.floor(blocks.length / 2);
      const left: MShare[] = [], right: MShare[] = [];
      for (let j = 0; j < q; j++) { left.push(blocks[2 * j + 1]!.p!); right.push(blocks[2 * j]!.g); }
      for (let j = 1; j < q; j++) { left.push(blocks[2 * j + 1]!.p!); right.push(blocks[2 * j]!.p!); }
      const prod = await mulM(s, concatM(left), concatM(right));
      const next: Block[] = [];
      for (let j = 0; j < q; j++) {
        const hi = blocks[2 * j + 1]!;
        next.push({
          g: addM(hi.g, sliceM(prod, j * n, (j + 1) * n)),
          p: j === 0 ? null : sliceM(prod, (q + j - 1) * n, (q + j) * n),
        });
      }
      if (blocks.length % 2 === 1) next.push(blocks[blocks.length - 1]!);
      blocks = next;
    }
    // Step 3: the carry out.
    return blocks[0]!.g;
  });
}
