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
 *     element, are one mulM call: ceil(log2 m) rounds. With the products of
 *     the bits of each block of 4 given (`products`, made with the mask
 *     before c is known: compare.ts, bit-lt-quads.ts makeBitLtProducts),
 *     the tree starts from the ceil(m / 4) blocks' G and P, computed
 *     locally (bit-lt-quads.ts quadLevel, radix 4): two levels of the
 *     radix-2 tree without a round, ceil(log2 ceil(m / 4)) rounds.
 *  3. [c < r] = G of the single block left (the carry out).
 *
 * Layout: c and r are bit-major, bit i of element e at index i n + e.
 * Bits are MACed values equal to 0 or 1 mod 2^k only (docs/MALICIOUS.md):
 * every step is a ring operation, so the output is the right bit mod 2^k.
 *
 * Cost (bitLtCostM): ceil(log2 m) rounds; sum over levels of (2q - 1) ANDs
 * per element for q pairs in the level (2m - 2 - levels or so: 118 ANDs for
 * m = 63, 55 for m = 31), 96 bytes per AND (mulCostM); with `products`,
 * the tree from ceil(m / 4) blocks (bitLtCostM(n, m, true): 3 rounds and 11
 * ANDs for m = 31, 4 rounds and 26 ANDs for m = 63).
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { allocM, type MShare } from './rep.js';
import { add128Kernels } from './gemm128.js';
import { mulCostM, mulM } from './product.js';
import { andPublicM, xorPublicM } from './bit-ops.js';
import { bitLtBlockSizes, quadLevel, type Block } from './bit-lt-quads.js';
import { sliceM } from './mvec.js';
import type { MalSession } from './session.js';

/**
 * The ANDs (in units of n) of each online level of the tree from `blocks`
 * blocks, the top one `w` times wide (carryTree; the cost model and the
 * protocol use the same walk).
 */
export function treeLevels(blocks: number, w = 1): number[] {
  const ands: number[] = [];
  let widths = Array.from({ length: blocks }, (_, j) => (j === blocks - 1 ? w : 1));
  while (widths.length > 1) {
    const q = Math.floor(widths.length / 2);
    let a = 0;
    const next: number[] = [];
    for (let j = 0; j < q; j++) { a += widths[2 * j + 1]! * (j === 0 ? 1 : 2); next.push(widths[2 * j + 1]!); }
    if (widths.length % 2 === 1) next.push(widths[widths.length - 1]!);
    ands.push(a);
    widths = next;
  }
  return ands;
}
/** The ANDs per element of each level for m bits from the leaves (no precomputed products). */
export const bitLtLevels = (m: number): number[] => treeLevels(m);

/** Declared cost of bitLtM on n elements of m bits (with the blocks' products given: the tree from bitLtBlockSizes(m).length blocks). */
export function bitLtCostM(n: number, m: number, products = false): Cost {
  return addCost({ rounds: 0, bytes: 0 }, ...treeLevels(products ? bitLtBlockSizes(m).length : m).map((a) => mulCostM(n * a)));
}

/**
 * [c < r] per element (see the header). c: m n public bits (0/1 bytes),
 * r: m n MACed bits, both bit-major. With `products` (bit-lt-quads.ts
 * makeBitLtProducts of r), the first level is local in radix 4.
 * Cost bitLtCostM(n, m) (bitLtCostM(n, m, true) with products).
 */
export function bitLtM(s: MalSession, c: Uint8Array, r: MShare, m: number, products?: MShare): Promise<MShare> {
  return s.guard('mal.bitLt', () => bitLtBody(s, c, r, m, products));
}

/**
 * Step 2 on blocks given bottom first: one mulM per level, [P_hi for every
 * pair | P_hi for the pairs above the lowest] * [G_lo | P_lo]. The top block
 * may be w times wider than the others (w copies of it, each scaled by
 * another factor: compare-fold.ts); its pair's products are then taken with
 * w copies of the block below. Returns the single block's G (w n wide when
 * the top was). Cost: treeLevels(blocks, w) ANDs of n per level.
 */
export async function carryTree(s: MalSession, blocks: Block[], n: number): Promise<MShare> {
  const k = s.ctx.kernels;
  while (blocks.length > 1) {
    const q = Math.floor(blocks.length / 2);
    const width = (j: number): number => blocks[2 * j + 1]!.g.n / n;
    // [P_hi for every pair | P_hi above the lowest] and [G_lo (w copies) | P_lo (w copies)], each gathered into one
    // buffer (rep.ts allocM), no intermediate copies.
    const lefts: [MShare, number][] = [], rights: [MShare, number][] = [];
    for (let j = 0; j < q; j++) { lefts.push([blocks[2 * j + 1]!.p!, 1]); rights.push([blocks[2 * j]!.g, width(j)]); }
    for (let j = 1; j < q; j++) { lefts.push([blocks[2 * j + 1]!.p!, 1]); rights.push([blocks[2 * j]!.p!, width(j)]); }
    const prod = await mulM(s, gather(lefts), gather(rights));
    // G = G_hi + P_hi G_lo for every pair, into one buffer (the G_hi laid end to end); the P_hi P_lo after them in prod.
    const gw = Array.from({ length: q }, (_, j) => width(j) * n), gTotal = gw.reduce((t, v) => t + v, 0);
    const G = allocM(gTotal);
    const next: Block[] = [];
    let og = 0, op = gTotal;
    for (let j = 0; j < q; j++) {
      const hi = blocks[2 * j + 1]!.g, pg = sliceM(prod, og, og + gw[j]!), out = sliceM(G, og, og + gw[j]!);
      add128Kernels(k, hi.x.a, pg.x.a, out.x.a); add128Kernels(k, hi.x.b, pg.x.b, out.x.b);
      add128Kernels(k, hi.m.a, pg.m.a, out.m.a); add128Kernels(k, hi.m.b, pg.m.b, out.m.b);
      next.push({ g: out, p: j === 0 ? null : sliceM(prod, op, op + gw[j]!) });
      og += gw[j]!;
      if (j > 0) op += gw[j]!;
    }
    if (blocks.length % 2 === 1) next.push(blocks[blocks.length - 1]!);
    blocks = next;
  }
  // Step 3: the carry out.
  return blocks[0]!.g;
}

/** The parts end to end, part x repeated `times` times (copied into one allocM). */
function gather(parts: readonly [MShare, number][]): MShare {
  const out = allocM(parts.reduce((t, [x, w]) => t + x.n * w, 0));
  let o = 0;
  for (const [x, w] of parts) {
    for (let r = 0; r < w; r++) {
      out.x.a.set(x.x.a, o); out.x.b.set(x.x.b, o); out.m.a.set(x.m.a, o); out.m.b.set(x.m.b, o);
      o += 4 * x.n;
    }
  }
  return out;
}

/**
 * bitLtM without its own step. Cost bitLtCostM(n, m, products given).
 */
export async function bitLtBody(s: MalSession, c: Uint8Array, r: MShare, m: number, products?: MShare): Promise<MShare> {
  assert(Number.isInteger(m) && m >= 1 && r.n % m === 0 && c.length === r.n, 'E_SHAPE', `malicious.bitLt: ${c.length} public and ${r.n} shared bits for ${m}-bit values`, { party: s.party, step: 'mal.bitLt' });
  const n = r.n / m;
  // Step 1: leaves. NOT c_i per element; g_i = r_i AND NOT c_i, p_i = r_i XOR NOT c_i.
  // With the products, the blocks of 4 come from them (bit-lt-quads.ts quadLevel, which checks their number).
  const leaf = (i: number): Block => {
    const ri = sliceM(r, i * n, (i + 1) * n);
    const notC = c.subarray(i * n, (i + 1) * n).map((b) => 1 - b);
    return { g: andPublicM(ri, notC, s.ctx.kernels), p: i === 0 ? null : xorPublicM(s.party, s.alpha, ri, notC, s.ctx.kernels) };
  };
  const blocks: Block[] = products ? quadLevel(s, c, r, products, m) : Array.from({ length: m }, (_, i) => leaf(i));
  return carryTree(s, blocks, n);
}
