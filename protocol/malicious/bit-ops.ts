/**
 * Local helpers for MACed bits, and gathering elements of MACed vectors
 * (the comparison protocols bit-lt.ts, compare.ts, maxpool.ts; slicing and
 * concatenating are in mvec.ts).
 *
 * Bits in the malicious mode are MACed arithmetic values of Z_2^128 equal to
 * 0 or 1 mod 2^k (docs/MALICIOUS.md, "Bits"): AND is the verified product
 * (product.ts mulM), XOR(a, b) = a + b - 2ab, NOT a = 1 - a, and the XOR or
 * AND with a PUBLIC bit is linear, hence local, here. Nothing in this file
 * communicates; every function is the same at the three parties.
 */
import { assert } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { alloc128, len128, type Vec128 } from './ring128.js';
import type { RingKernels } from '../kernels/types.js';
import { signedSum128Kernels } from './gemm128.js';
import { allocM, macPublic, type MShare, type Rep, type ScalarKernels } from './rep.js';

/** Elements idx[j] of x, in that order (copies); idx[j] = -1 takes element 0 of `fill` (a one-element MACed public constant). */
export function gatherM(x: MShare, idx: Int32Array, fill?: MShare): MShare {
  const n = idx.length;
  const out = allocM(n);
  const pairs: [Uint32Array, Uint32Array, Uint32Array | undefined][] = [
    [x.x.a, out.x.a, fill?.x.a], [x.x.b, out.x.b, fill?.x.b], [x.m.a, out.m.a, fill?.m.a], [x.m.b, out.m.b, fill?.m.b],
  ];
  const fillOk = fill !== undefined && fill.n === 1;
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    // The message only on failure: a template string per element was most of this function's time.
    if (!(i < x.n && (i >= 0 || (i === -1 && fillOk)))) assert(false, 'E_SHAPE', `malicious.gather: index ${i} of ${x.n} elements${fill ? '' : ' (no fill value)'}`);
  }
  for (const [src, dst, f] of pairs) {
    for (let j = 0; j < n; j++) {
      const i = idx[j]!, o = 4 * j;
      const v = i < 0 ? f! : src, e = i < 0 ? 0 : 4 * i;
      dst[o] = v[e]!; dst[o + 1] = v[e + 1]!; dst[o + 2] = v[e + 2]!; dst[o + 3] = v[e + 3]!;
    }
  }
  return out;
}

/**
 * [v] for a public vector v that every party knows from the protocol itself
 * (a padding constant, class indices): value on share x_0 (P0's a, P2's b),
 * MAC alpha v; local, not added to the view (unlike input.ts publicM, for
 * values that could differ between parties).
 */
export function constantM(party: PartyId, alpha: Rep, v: Vec128, kernels?: ScalarKernels): MShare {
  const zero = alloc128(len128(v));
  return { n: len128(v), x: { a: party === 0 ? v.slice() as Vec128 : zero, b: party === 2 ? v.slice() as Vec128 : zero.slice() as Vec128 }, m: macPublic(alpha, v, kernels) };
}

/**
 * One term of a signed combination: element o of the term, x at row
 * floor(o / len), column o mod len (rows `stride` elements apart; default
 * one row: len = stride = the combination's n), times the public k[o] in
 * {-1, 0, 1}. Rows let a term read the same bit of several blocks of a
 * bit-major vector without a copy (bit-lt-quads.ts quadLevel).
 */
export interface SignedTerm { readonly x: MShare; readonly k: Int8Array; readonly len?: number; readonly stride?: number }

/** The Z_2^128 element 1 (the constant's term: stride 0 reads it for every element). */
const ONE128 = new Uint32Array([1, 0, 0, 0]) as Vec128;

/** The kernels combSignedM may run on: the native signed sums (gemm128.ts signedSum128Kernels), else its TS loop. */
export type CombKernels = Pick<RingKernels, 'signedSum128'>;

/**
 * [sum_t k_t[e] x_t[e] + c[e]] per element, for public k_t[e] and c[e] in
 * {-1, 0, 1} (local): BitLT's leaves and first level, and the AND / XOR of a
 * shared bit with public bits. One signed sum per share vector and term
 * (gemm128.ts signedSum128Kernels: native when present, one add or
 * subtract per non-zero coefficient, no product, no fresh vector per term);
 * the constant is a term too, on share x_0 (P0's a, P2's b) as 1 and on the
 * MAC shares as the key share alpha (stride 0: one element read for all),
 * as rep.ts addPublicM. The result is the same ring value as the chain of
 * selections, sums and public additions it replaces, bit for bit, on either
 * path (bit-ops.test.ts).
 */
export function combSignedM(party: PartyId, alpha: Rep, n: number, terms: readonly SignedTerm[], c?: Int8Array, kernels: CombKernels = {}): MShare {
  for (const t of terms) {
    const len = t.len ?? n, stride = t.stride ?? len, rows = len === 0 ? 0 : n / len;
    // (messages built only on failure: this runs for every term of every comparison)
    if (!(t.k.length === n && Number.isInteger(rows) && (n === 0 || (len >= 1 && stride >= 0 && t.x.n >= (rows - 1) * stride + len)))) {
      assert(false, 'E_SHAPE', `malicious.combSigned: a term of ${t.x.n} elements (rows of ${len}, stride ${stride}) with ${t.k.length} coefficients, expected ${n}`);
    }
  }
  if (c && c.length !== n) assert(false, 'E_SHAPE', `malicious.combSigned: ${c.length} constants for ${n} elements`);
  const out = allocM(n);
  if (n === 0) return out;
  for (const t of terms) {
    const len = t.len ?? n, stride = t.stride ?? len;
    signedSum128Kernels(kernels, out.x.a, t.x.x.a, t.k, len, stride);
    signedSum128Kernels(kernels, out.x.b, t.x.x.b, t.k, len, stride);
    signedSum128Kernels(kernels, out.m.a, t.x.m.a, t.k, len, stride);
    signedSum128Kernels(kernels, out.m.b, t.x.m.b, t.k, len, stride);
  }
  if (c) {
    if (party === 0) signedSum128Kernels(kernels, out.x.a, ONE128, c, 1, 0);
    if (party === 2) signedSum128Kernels(kernels, out.x.b, ONE128, c, 1, 0);
    signedSum128Kernels(kernels, out.m.a, alpha.a, c, 1, 0);
    signedSum128Kernels(kernels, out.m.b, alpha.b, c, 1, 0);
  }
  return out;
}

/** [b XOR c] for a shared bit b and a public bit c per element: b where c = 0, 1 - b where c = 1 (local). */
export function xorPublicM(party: PartyId, alpha: Rep, b: MShare, c: Uint8Array, kernels?: CombKernels): MShare {
  assert(c.length === b.n, 'E_SHAPE', `malicious.xorPublic: ${c.length} public bits for ${b.n} elements`);
  const k = new Int8Array(b.n), one = new Int8Array(b.n);
  for (let e = 0; e < b.n; e++) { const ce = c[e]! & 1; k[e] = ce ? -1 : 1; one[e] = ce; }
  return combSignedM(party, alpha, b.n, [{ x: b, k }], one, kernels);
}

/** [b AND c] for a shared bit b and a public bit c per element: b where c = 1, 0 where c = 0 (local). */
export function andPublicM(b: MShare, c: Uint8Array, kernels?: CombKernels): MShare {
  assert(c.length === b.n, 'E_SHAPE', `malicious.andPublic: ${c.length} public bits for ${b.n} elements`);
  const k = new Int8Array(b.n);
  for (let e = 0; e < b.n; e++) k[e] = c[e]! ? 1 : 0;
  return combSignedM(0, NO_KEY, b.n, [{ x: b, k }], undefined, kernels);
}

/** No constant term: the key is not read. */
const NO_KEY: Rep = { a: alloc128(1), b: alloc128(1) };

/** [1 - b] (NOT of a shared bit; also 1 - MSB = DReLU). */
export function notM(party: PartyId, alpha: Rep, b: MShare, kernels?: CombKernels): MShare {
  return xorPublicM(party, alpha, b, new Uint8Array(b.n).fill(1), kernels);
}

/** Bit i (0..63) of the low 64 bits of each element of an opened vector, as 0/1 bytes. */
export function bitOf(c: Vec128, i: number): Uint8Array {
  assert(i >= 0 && i < 64, 'E_BAD_ARGUMENT', `malicious.bitOf: bit ${i} is not in the low 64 bits`);
  const n = len128(c), out = new Uint8Array(n), w = i >>> 5, sh = i & 31;
  for (let e = 0; e < n; e++) out[e] = (c[4 * e + w]! >>> sh) & 1;
  return out;
}
