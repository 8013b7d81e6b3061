/**
 * Packed replicated 2-out-of-3 sharing over Z_2 (Araki, Furukawa, Lindell,
 * Nof, Ohara, CCS 2016, with XOR for +; the binary domain of ABY3,
 * Mohassel and Rindal, CCS 2018): x = x_0 XOR x_1 XOR x_2 and party i
 * holds (x_i, x_{i+1}), as the arithmetic rep.ts does.
 *
 * Layout: a `BShare` holds `planes` bit vectors ("planes") of n bits each,
 * bit e of a plane is element e. A plane is packed 64 bits per u64 word,
 * stored as two little-endian u32 lanes (JavaScript's bitwise operators are
 * 32-bit; the bytes on the wire are those of the u64 words), and padded to
 * whole words: W = ceil(n / 64) words per plane. The comparisons keep bit i
 * of all n elements in plane i (bit slicing), so the ANDs of one level of a
 * circuit over every element and bit position are one vector operation and
 * one message. Padding bits are computed like the others and never read.
 *
 * XOR, NOT and AND with a public vector are local (this file). The AND of
 * two shared vectors is and.ts; checked openings are open.ts. Nothing in
 * this file communicates.
 *
 * Pair PRGs: as rep.ts: share x_j is drawn from the seed of its holders
 * P_{j-1} and P_j; party i draws x_i from pairPrg(i - 1), then x_{i+1}
 * from pairPrg(i + 1), always both, in that order.
 */
import { randomBytes } from 'node:crypto';
import type { PartyContext } from '../../context.js';
import { assert, MpcError } from '../../errors.js';
import type { PartyId } from '../../ring/types.js';
import { next, prev } from '../rep.js';

/** Bytes of one packed word on the wire. */
export const WORD_BYTES_B = 8;

/** Packed u64 words per plane of n bits. */
export const wordsOf = (n: number): number => Math.ceil(n / 64);

/** One party's part of a packed replicated binary sharing: a = x_i, b = x_{i+1}, each planes x W words (2 u32 lanes per word). */
export interface BShare {
  readonly n: number;
  readonly planes: number;
  readonly a: Uint32Array;
  readonly b: Uint32Array;
}

/** u32 lanes of one plane of n bits. */
export const lanesOf = (n: number): number => 2 * wordsOf(n);

export function allocB(n: number, planes: number): BShare {
  const l = lanesOf(n) * planes;
  return { n, planes, a: new Uint32Array(l), b: new Uint32Array(l) };
}

function same(op: string, x: BShare, y: BShare): void {
  assert(x.n === y.n && x.planes === y.planes, 'E_SHAPE', `malicious.binary.${op}: ${x.planes} x ${x.n} and ${y.planes} x ${y.n} bits`);
}

/** [x XOR y]: local. */
export function xorB(x: BShare, y: BShare): BShare {
  same('xor', x, y);
  const out = allocB(x.n, x.planes);
  for (let i = 0; i < x.a.length; i++) { out.a[i] = x.a[i]! ^ y.a[i]!; out.b[i] = x.b[i]! ^ y.b[i]!; }
  return out;
}

/** [x XOR c] for a public packed vector c (x's layout): c goes into share x_0 (P0's a, P2's b), as rep.ts addPublicM. */
export function xorPublicB(party: PartyId, x: BShare, c: Uint32Array): BShare {
  assert(c.length === x.a.length, 'E_SHAPE', `malicious.binary.xorPublic: ${c.length} lanes for ${x.a.length}`);
  const a = x.a.slice(), b = x.b.slice();
  if (party === 0) for (let i = 0; i < a.length; i++) a[i]! ^= c[i]!;
  if (party === 2) for (let i = 0; i < b.length; i++) b[i]! ^= c[i]!;
  return { n: x.n, planes: x.planes, a, b };
}

/** [NOT x]: XOR with all ones. */
export const notB = (party: PartyId, x: BShare): BShare => xorPublicB(party, x, new Uint32Array(x.a.length).fill(0xffffffff));

/** [x AND c] for a public packed vector c: both shares ANDed with c (local). */
export function andPublicB(x: BShare, c: Uint32Array): BShare {
  assert(c.length === x.a.length, 'E_SHAPE', `malicious.binary.andPublic: ${c.length} lanes for ${x.a.length}`);
  const a = new Uint32Array(x.a.length), b = new Uint32Array(x.a.length);
  for (let i = 0; i < a.length; i++) { a[i] = x.a[i]! & c[i]!; b[i] = x.b[i]! & c[i]!; }
  return { n: x.n, planes: x.planes, a, b };
}

/** Planes [from, to) of x (copies). */
export function planesB(x: BShare, from: number, to: number): BShare {
  assert(from >= 0 && to <= x.planes && from <= to, 'E_SHAPE', `malicious.binary.planes: [${from}, ${to}) of ${x.planes}`);
  const l = lanesOf(x.n);
  return { n: x.n, planes: to - from, a: x.a.slice(l * from, l * to), b: x.b.slice(l * from, l * to) };
}

/** The planes of several sharings of the same n, end to end (one message for all of them). */
export function concatB(xs: readonly BShare[]): BShare {
  const n = xs[0]!.n, planes = xs.reduce((t, x) => t + x.planes, 0);
  const out = allocB(n, planes);
  let o = 0;
  for (const x of xs) {
    assert(x.n === n, 'E_SHAPE', `malicious.binary.concat: ${x.n} and ${n} bits per plane`);
    out.a.set(x.a, o); out.b.set(x.b, o); o += x.a.length;
  }
  return out;
}

/** Sharings of any layout as one plane of whole words, end to end (their lanes concatenated). */
export function concatWordsB(xs: readonly BShare[]): BShare {
  const lanes = xs.reduce((t, x) => t + x.a.length, 0);
  const out: BShare = { n: 32 * lanes, planes: 1, a: new Uint32Array(lanes), b: new Uint32Array(lanes) };
  let o = 0;
  for (const x of xs) { out.a.set(x.a, o); out.b.set(x.b, o); o += x.a.length; }
  return out;
}

/** The words of x (one plane viewed as words) at the indices idx, in that order: a sharing of idx.length words (64 idx.length bits, one plane). */
export function gatherWordsB(x: BShare, idx: Int32Array | number[]): BShare {
  const out = allocB(64 * idx.length, 1);
  for (let j = 0; j < idx.length; j++) {
    const w = idx[j]!;
    out.a[2 * j] = x.a[2 * w]!; out.a[2 * j + 1] = x.a[2 * w + 1]!;
    out.b[2 * j] = x.b[2 * w]!; out.b[2 * j + 1] = x.b[2 * w + 1]!;
  }
  return out;
}

/** x's lanes as one plane of whole words (the same bits; for protocols that treat words as units: triples.ts, verify.ts). */
export const asWordsB = (x: BShare): BShare => ({ n: 32 * x.a.length, planes: 1, a: x.a, b: x.b });

/** n random bits per plane from the pair PRGs: (x_i, x_{i+1}) = (pairPrg(i - 1), pairPrg(i + 1)) draws; nobody knows x. */
export function randomB(ctx: Pick<PartyContext, 'party' | 'pairPrg'>, n: number, planes = 1): BShare {
  const out = allocB(n, planes);
  ctx.pairPrg(prev(ctx.party)).fill(new Uint8Array(out.a.buffer));
  ctx.pairPrg(next(ctx.party)).fill(new Uint8Array(out.b.buffer));
  return out;
}

/**
 * The binary three-party zero sharing (Araki et al. §2.2): alpha_i =
 * F(s_{i-1,i}) XOR F(s_{i,i+1}); alpha_0 XOR alpha_1 XOR alpha_2 = 0. The same
 * draws as randomB (so each seed's two holders stay in step).
 */
export function zeroShareB(ctx: Pick<PartyContext, 'party' | 'pairPrg'>, lanes: number): Uint32Array {
  const a = new Uint32Array(lanes), b = new Uint32Array(lanes);
  ctx.pairPrg(prev(ctx.party)).fill(new Uint8Array(a.buffer));
  ctx.pairPrg(next(ctx.party)).fill(new Uint8Array(b.buffer));
  for (let i = 0; i < lanes; i++) a[i]! ^= b[i]!;
  return a;
}

/** Pack 0/1 bytes (one per element) into one plane. */
export function packBits(bits: Uint8Array): Uint32Array {
  const out = new Uint32Array(lanesOf(bits.length));
  for (let e = 0; e < bits.length; e++) out[e >>> 5]! |= (bits[e]! & 1) << (e & 31);
  return out;
}

/** Bit e of plane p of a packed vector (n bits per plane). */
export const bitAt = (v: Uint32Array, n: number, p: number, e: number): number => (v[lanesOf(n) * p + (e >>> 5)]! >>> (e & 31)) & 1;

/** Dealer side (tests): the three parties' parts of a fresh sharing of the packed planes v. */
export function shareB(v: Uint32Array, n: number, planes: number): [BShare, BShare, BShare] {
  assert(v.length === lanesOf(n) * planes, 'E_SHAPE', `malicious.binary.share: ${v.length} lanes for ${planes} x ${n} bits`);
  const s0 = new Uint32Array(randomBytes(4 * v.length).buffer), s1 = new Uint32Array(randomBytes(4 * v.length).buffer);
  const s2 = v.map((w, i) => w ^ s0[i]! ^ s1[i]!);
  const s = [s0, s1, s2];
  return ([0, 1, 2] as const).map((i) => ({ n, planes, a: s[i]!.slice(), b: s[(i + 1) % 3]!.slice() })) as [BShare, BShare, BShare];
}

/** Reconstruct from the three parts, checking that the two copies of every share agree (E_INTEGRITY otherwise): tests. */
export function reconstructB(parts: readonly [BShare, BShare, BShare]): Uint32Array {
  for (let i = 0; i < 3; i++) {
    const b = parts[i]!.b, a = parts[(i + 1) % 3]!.a;
    if (b.length !== a.length || b.some((w, j) => w !== a[j])) throw new MpcError('E_INTEGRITY', `malicious.binary.reconstruct: the two copies of share x_${(i + 1) % 3} disagree`, {});
  }
  return parts[0].a.map((w, j) => w ^ parts[1].a[j]! ^ parts[2].a[j]!);
}
