/**
 * BitLT's first level in radix 4, local, from precomputed products of the
 * shared bits (Catrina and de Hoogh, SCN 2010, §3: BitLT as a prefix
 * carry computation, with the products of the mask's bits made in the
 * preprocessing as in their PreMul / Damgård, Fitzi, Kiltz, Nielsen, Toft,
 * TCC 2006, §4 "unbounded fan-in" products; in the ring setting with MACed
 * bits, Damgård, Escudero, Frederiksen, Keller, Scholl, Volgushev, S&P 2019,
 * §4). bit-lt.ts runs the tree from the blocks this file returns.
 *
 * The m bits r_0..r_{m-1} are cut into blocks of 4 (bits 4j..4j+3), the
 * top block holding the m mod 4 bits left (1 to 3) when m is not a
 * multiple of 4. For one block, with the public a_i = NOT c_i, the leaves
 * are g_i = a_i r_i and p_i = a_i + (1 - 2 a_i) r_i (bit-lt.ts step 1), and
 * the block's generate and propagate are
 *   G = g_3 + p_3 g_2 + p_3 p_2 g_1 + p_3 p_2 p_1 g_0,  P = p_3 p_2 p_1 p_0,
 * multilinear polynomials in the block's bits whose coefficients depend on
 * the public a_i only, each in {-1, 0, 1} (a monomial of G comes from the
 * one term whose g_i has its lowest bit; each p_j contributes 1, r_j or
 * 1 - r_j). So with every product r_S = prod_{i in S} r_i of two or more
 * bits of a block made ahead (`makeBitLtProducts`: 11 per block of 4, 4 for
 * a block of 3, 1 for a pair; input-independent, made with the mask before c
 * is known, verified like every product by the batched MAC check), G and P
 * are signed sums of the 15 r_S with public coefficients (`quadLevel`,
 * gemm128.ts blockComb128Kernels: per element, the row of a coefficient
 * table picked by the block's public pattern, only its non-zero terms; the
 * products laid out monomial by monomial so a product's rows of all blocks
 * of 4 are contiguous): local. The tree then starts from ceil(m / 4)
 * blocks instead of ceil(m / 2): one mulM round fewer for m = 31 (8 blocks:
 * 3 rounds) and m = 63 (16 blocks: 4 rounds), and fewer ANDs online (11 per
 * element for m = 31 instead of 26).
 *
 * Soundness: nothing new is opened and no message is added online; the
 * first level was already a local function of precomputed MACed products
 * (the pairs of the radix-2 version), now of more of them. Every r_S is a
 * MACed value made by mulM from MACed bits; an error in one (an additive
 * error of a cheating party in the product's resharing) is caught by the
 * MAC check before any output is released (SPDZ_2k), and before that it
 * only changes secret-shared values, every later opening being masked over
 * the whole ring (compare.ts, trunc.ts). Only ring operations on the bits
 * mod 2^k are used, so errors in multiples of 2^k change nothing.
 *
 * Cost (bitLtProductsCostM): offline, with the mask: one mulM of the pairs
 * (6 per block of 4, 3 per block of 3, 1 per pair), then one mulM of the
 * triples and the quadruple (r_S = r_{S minus its top bit} r_top, r_0123 =
 * r_01 r_23: 5 per block of 4, 1 per block of 3): 2 rounds (1 when the
 * blocks are pairs at most), 96 bytes per product: 81 products (7,776
 * bytes) per element for m = 31, 169 (16,224 bytes) for m = 63, against 15
 * and 31 pairs in radix 2. Online: local.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { allocM, type MShare } from './rep.js';
import { mulCostM, mulM } from './product.js';
import { blockComb128Kernels } from './gemm128.js';
import { alloc128, type Vec128 } from './ring128.js';

import { concatM, sliceM } from './mvec.js';
import type { MalSession } from './session.js';

/** The block width of the first level. */
export const BITLT_RADIX = 4;

const popcount = (x: number): number => { let c = 0; for (let v = x; v; v &= v - 1) c++; return c; };
/** The monomials kept per block of `size` bits: bit sets (bitmasks over the block's bits) of 2 or more bits, in increasing order. */
const productMasks = (size: number): number[] => Array.from({ length: 1 << size }, (_, S) => S).filter((S) => popcount(S) >= 2);
const PRODUCT_MASKS = [0, 1, 2, 3, 4].map(productMasks);

/**
 * The sizes of the blocks of L bits from bit 0: blocks of 4, the top block
 * holding the L mod 4 bits left; when that would be a single bit (L = 4q + 1,
 * L > 1) the top two blocks hold 3 and 2 bits, so that the top block always
 * has at least 2 bits (compare.ts scales the top block of the comparison's
 * BitLT by its bit ell - 1: compare-fold.ts).
 */
export function bitLtBlockSizes(L: number): number[] {
  const q = Math.floor(L / BITLT_RADIX), rem = L % BITLT_RADIX;
  if (rem === 1 && q > 0) return [...Array.from({ length: q - 1 }, () => BITLT_RADIX), 3, 2];
  const sizes: number[] = Array.from({ length: q }, () => BITLT_RADIX);
  if (rem) sizes.push(rem);
  return sizes;
}

/** Precomputed products per element for m bits (the layout of `makeBitLtProducts`). */
export const bitLtProducts = (m: number): number => layoutProducts(bitLtBlockSizes(m));
/** Precomputed products per element for a layout of blocks. */
export const layoutProducts = (layout: readonly number[]): number => layout.reduce((t, z) => t + PRODUCT_MASKS[z]!.length, 0);

/** Products of 2 bits and of 3 or 4 bits per element (the two offline rounds). */
function productsByRound(m: number): [number, number] {
  let two = 0, more = 0;
  for (const z of bitLtBlockSizes(m)) for (const S of PRODUCT_MASKS[z]!) { if (popcount(S) === 2) two++; else more++; }
  return [two, more];
}

/** The declared cost of makeBitLtProducts on n elements of m bits. */
export function bitLtProductsCostM(n: number, m: number): Cost {
  const [two, more] = productsByRound(m);
  return addCost({ rounds: 0, bytes: 0 }, ...[two, more].filter((k) => k > 0).map((k) => mulCostM(n * k)));
}

/**
 * The products r_S of the bits of each block (|S| >= 2) for n elements of
 * m bits (r bit-major: bit i of element e at i n + e), block by block from
 * bit 0, in `productMasks` order within a block, each a row of n elements.
 * Input-independent (made with the mask). Cost bitLtProductsCostM(n, m).
 */
export async function makeBitLtProducts(s: MalSession, r: MShare, m: number): Promise<MShare> {
  assert(Number.isInteger(m) && m >= 1 && r.n % m === 0, 'E_SHAPE', `malicious.bitLtProducts: ${r.n} shared bits for ${m}-bit values`, { party: s.party, step: 'mal.bitLt' });
  const n = r.n / m, sizes = bitLtBlockSizes(m);
  const starts = sizes.map((_, j) => sizes.slice(0, j).reduce((t, z) => t + z, 0));
  const bit = (j: number, i: number): MShare => sliceM(r, (starts[j]! + i) * n, (starts[j]! + i + 1) * n);
  const top = (S: number): number => 31 - Math.clz32(S);
  // Round 1: r_a r_b for every pair {a < b} of every block.
  const pairAt = new Map<string, number>(), lefts: MShare[] = [], rights: MShare[] = [];
  sizes.forEach((z, j) => PRODUCT_MASKS[z]!.filter((S) => popcount(S) === 2).forEach((S) => {
    pairAt.set(`${j}:${S}`, lefts.length); lefts.push(bit(j, top(S))); rights.push(bit(j, top(S & ~(1 << top(S)))));
  }));
  if (lefts.length === 0) return sliceM(r, 0, 0);
  const pairs = await mulM(s, concatM(lefts), concatM(rights));
  const pair = (j: number, S: number): MShare => { const q = pairAt.get(`${j}:${S}`)!; return sliceM(pairs, q * n, (q + 1) * n); };
  // Round 2: r_S = r_{S - top} r_top for |S| = 3, r_0123 = r_01 r_23.
  const moreAt = new Map<string, number>(), l2: MShare[] = [], r2: MShare[] = [];
  sizes.forEach((z, j) => PRODUCT_MASKS[z]!.filter((S) => popcount(S) > 2).forEach((S) => {
    moreAt.set(`${j}:${S}`, l2.length);
    if (popcount(S) === 3) { l2.push(pair(j, S & ~(1 << top(S)))); r2.push(bit(j, top(S))); } else { l2.push(pair(j, 0b0011)); r2.push(pair(j, 0b1100)); }
  }));
  const more = l2.length > 0 ? await mulM(s, concatM(l2), concatM(r2)) : undefined;
  const rowOf = (j: number, S: number): MShare => {
    if (popcount(S) === 2) return pair(j, S);
    const q = moreAt.get(`${j}:${S}`)!;
    return sliceM(more!, q * n, (q + 1) * n);
  };
  // Layout (productOffset): the leading blocks of 4 monomial by monomial (row S of blocks 0..F-1 contiguous), then the smaller blocks' rows block by block.
  const F = fullBlocks(sizes), rows: MShare[] = [];
  for (const S of PRODUCT_MASKS[BITLT_RADIX]!) for (let j = 0; j < F; j++) rows.push(rowOf(j, S));
  for (let j = F; j < sizes.length; j++) for (const S of PRODUCT_MASKS[sizes[j]!]!) rows.push(rowOf(j, S));
  return concatM(rows);
}

/** The number of leading blocks of 4 in a layout. */
const fullBlocks = (layout: readonly number[]): number => { let F = 0; while (F < layout.length && layout[F] === BITLT_RADIX) F++; return F; };

/** The row of the product r_S of block j (|S| >= 2) in makeBitLtProducts' layout, in elements / n. */
function productOffset(layout: readonly number[], j: number, S: number): number {
  const F = fullBlocks(layout);
  if (j < F) return monomialIndex(BITLT_RADIX, S) * F + j;
  return PRODUCT_MASKS[BITLT_RADIX]!.length * F + layoutProducts(layout.slice(F, j)) + monomialIndex(layout[j]!, S);
}

/** out[S | T] += A[S] B[T] for multilinear polynomials in disjoint bits (coefficients indexed by monomial bitmask). */
function polyMul(A: Int8Array, B: Int8Array): Int8Array {
  const out = new Int8Array(A.length);
  for (let S = 0; S < A.length; S++) if (A[S]) for (let T = 0; T < B.length; T++) if (B[T] && (S & T) === 0) out[S | T] += A[S]! * B[T]!;
  return out;
}

/** G and P of a block of `size` bits as polynomials in its bits, for the public pattern a (bit i = NOT c_i): G = g_hi + P_hi g_lo from the top bit down. */
function blockPolys(size: number, a: number): { g: Int8Array; p: Int8Array } {
  const len = 1 << size;
  const leafG = (i: number): Int8Array => { const v = new Int8Array(len); v[1 << i] = (a >> i) & 1; return v; };
  const leafP = (i: number): Int8Array => { const v = new Int8Array(len), ai = (a >> i) & 1; v[0] = ai; v[1 << i] = 1 - 2 * ai; return v; };
  let g = leafG(size - 1), p = leafP(size - 1);
  for (let i = size - 2; i >= 0; i--) {
    const pg = polyMul(p, leafG(i));
    g = g.map((v, S) => v + pg[S]!);
    p = polyMul(p, leafP(i));
  }
  for (const v of [...g, ...p]) assert(v >= -1 && v <= 1, 'E_INTERNAL', 'malicious.bitLt: a block coefficient outside {-1, 0, 1}');
  return { g, p };
}
/** The non-zero coefficients of a polynomial over its monomials S >= 1: S and the sign, as two lists. */
function nonZero(v: Int8Array): { S: number[]; k: number[] } {
  const S: number[] = [], k: number[] = [];
  for (let i = 1; i < v.length; i++) if (v[i] !== 0) { S.push(i); k.push(v[i]!); }
  return { S, k };
}
/** TABLES[size][a]: the block's polynomials for every public pattern (g[0] = 0; p[0] = prod a_i in {0, 1}), with their non-zero terms. */
const TABLES = [0, 1, 2, 3, 4].map((z) => Array.from({ length: 1 << z }, (_, a) => {
  const t = z === 0 ? { g: new Int8Array(1), p: new Int8Array(1) } : blockPolys(z, a);
  return { ...t, gt: nonZero(t.g), pt: nonZero(t.p) };
}));

/** COEFS[size]: G's and P's coefficients of every pattern, pattern-major (row a: the 1 << size monomials of TABLES[size][a]). */
const COEFS = TABLES.map((rows) => ({
  g: Int8Array.from(rows.flatMap((t) => Array.from(t.g))),
  p: Int8Array.from(rows.flatMap((t) => Array.from(t.p))),
}));

export const ONE = new Uint32Array([1, 0, 0, 0]);
/** A block's polynomials and their non-zero terms for a block of `size` bits and the public pattern a (bit i = NOT c_i). */
export const blockTable = (size: number, a: number) => TABLES[size]![a]!;

export interface Block { g: MShare; p: MShare | null }

/** Bit S of a block as a mask index: the monomials of a block of `size` bits, in the order of makeBitLtProducts. */
export const monomialIndex = (size: number, S: number): number => PRODUCT_MASKS[size]!.indexOf(S);

/**
 * The row (n elements) of monomial S (a bitmask over block j's bits, S != 0)
 * of the layout: a bit of `bits` (bit-major) for one bit, else the product
 * r_S from w (makeBitLtProducts on that layout).
 */
export function monomialRow(bits: MShare, w: MShare, layout: readonly number[], n: number, j: number, S: number): MShare {
  const [src, o] = monomialSource(layout, n, j, S);
  return sliceM(src === 0 ? bits : w, o, o + n);
}

/** Where monomialRow's row lies: 0 and its first element in `bits` for a single bit, 1 and its first element in w for a product. */
export function monomialSource(layout: readonly number[], n: number, j: number, S: number): [0 | 1, number] {
  const start = layout.slice(0, j).reduce((t, z) => t + z, 0);
  if (popcount(S) === 1) return [0, (start + 31 - Math.clz32(S)) * n];
  return [1, productOffset(layout, j, S) * n];
}

/**
 * The coefficients of a block's G and P over its monomials (index S, 0 the
 * constant), per element, for the block of `size` bits from bit `start` of
 * the public bits c (bit-major, n per bit): kg[S][e], kp[S][e] in {-1, 0, 1}.
 */
export function blockCoefs(c: Uint8Array, n: number, start: number, size: number): { kg: Int8Array[]; kp: Int8Array[] } {
  const len = 1 << size;
  const kg = Array.from({ length: len }, () => new Int8Array(n)), kp = Array.from({ length: len }, () => new Int8Array(n));
  for (let e = 0; e < n; e++) {
    let a = 0;
    for (let i = 0; i < size; i++) a |= (1 - c[(start + i) * n + e]!) << i;
    const t = TABLES[size]![a]!;
    for (let q = 0; q < t.gt.S.length; q++) kg[t.gt.S[q]!]![e] = t.gt.k[q]!;
    for (let q = 0; q < t.pt.S.length; q++) kp[t.pt.S[q]!]![e] = t.pt.k[q]!;
    kp[0]![e] = t.p[0]!;
  }
  return { kg, kp };
}

/**
 * The blocks' [G] and [P] (P of the lowest block is never used: null) for
 * the m bits of c (m n bytes, bit-major) and of `bits` (its first m n
 * elements), with the products w of `layout` (makeBitLtProducts; default
 * bitLtBlockSizes(m); a layout of m + 1 bits, as compare.ts makes, is cut
 * to m): local signed sums over the monomials, the coefficients of each
 * element the row of COEFS for its block's public pattern (gemm128.ts
 * blockComb128Kernels: one pass per share vector for G and one for P, on the
 * native kernel when present; a single bit's rows and each product's rows
 * read in place, no copy), the leading blocks of 4 all at once, each
 * smaller block apart. Blocks from `upTo` on are left out (compare-fold.ts
 * makes the top).
 */
export function quadLevel(s: MalSession, c: Uint8Array, bits: MShare, w: MShare, m: number, layout: readonly number[] = bitLtBlockSizes(m), upTo = layout.length): Block[] {
  const n = c.length / m, kk = s.ctx.kernels;
  assert(w.n === layoutProducts(layout) * n && bits.n >= m * n, 'E_SHAPE', `malicious.bitLt: ${w.n} precomputed products, expected ${layoutProducts(layout) * n}`, { party: s.party, step: 'mal.bitLt' });
  const starts = layout.map((_, j) => layout.slice(0, j).reduce((t, z) => t + z, 0));
  const sizes = layout.map((z, j) => Math.min(z, m - starts[j]!));
  const F = Math.min(upTo, fullBlocks(sizes));
  const groups: number[][] = F > 0 ? [Array.from({ length: F }, (_, j) => j)] : [];
  for (let j = F; j < upTo; j++) groups.push([j]);
  const out: Block[] = [];
  const zero = alloc128(1), one = new Uint32Array([1, 0, 0, 0]) as Vec128;
  // The constant (P's monomial 0) per share vector: 1 on share x_0 (P0's a, P2's b), the key share on the MAC shares.
  const consts = [s.party === 0 ? one : zero, s.party === 2 ? one : zero, s.alpha.a, s.alpha.b];
  for (const J of groups) {
    const j0 = J[0]!, z = sizes[j0]!, len = 1 << z, N = J.length * n;
    // The public pattern a (bit i = NOT c_i) of each block and element: the row of the coefficient tables.
    const pat = new Uint8Array(N);
    for (let jj = 0; jj < J.length; jj++) {
      const start = starts[j0 + jj]!;
      for (let e = 0; e < n; e++) {
        let a = 0;
        for (let i = 0; i < z; i++) a |= (1 - c[(start + i) * n + e]!) << i;
        pat[jj * n + e] = a;
      }
    }
    // Rows, no copy: a product's rows of the group are contiguous (productOffset, stride n); a single bit's are every
    // BITLT_RADIX bits of the bit-major `bits` (stride 4n; the group's blocks are of 4, contiguous).
    const src = new Uint32Array(3 * len);
    for (let S = 1; S < len; S++) {
      const single = popcount(S) === 1;
      src[3 * S] = single ? 0 : 1;
      src[3 * S + 1] = single ? (starts[j0]! + 31 - Math.clz32(S)) * n : productOffset(layout, j0, S) * n;
      src[3 * S + 2] = single ? BITLT_RADIX * n : n;
    }
    // G and P of every block of the group, per share vector, in one pass each (gemm128.ts blockComb128Kernels).
    const sum = (coef: Int8Array, withConst: boolean): MShare => {
      const v = [bits.x.a, bits.x.b, bits.m.a, bits.m.b], x = [w.x.a, w.x.b, w.m.a, w.m.b];
      const res = allocM(N), o = [res.x.a, res.x.b, res.m.a, res.m.b];
      if (N > 0) for (let h = 0; h < 4; h++) blockComb128Kernels(kk, o[h]!, v[h]!, x[h]!, pat, coef, len, src, n, withConst ? consts[h]! : zero);
      return res;
    };
    const G = sum(COEFS[z]!.g, false);
    // P for the blocks above the lowest (block 0's, when in the group, is made and dropped).
    const P = J.some((j) => j > 0) ? sum(COEFS[z]!.p, true) : null;
    J.forEach((j, jj) => { out[j] = { g: sliceM(G, jj * n, (jj + 1) * n), p: j === 0 ? null : sliceM(P!, jj * n, (jj + 1) * n) }; });
  }
  return out;
}
