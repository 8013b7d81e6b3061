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
import { add128Kernels, mul128Kernels, mulScalar128Kernels } from './gemm128.js';
import { macPublic, type MShare, type Rep, type ScalarKernels } from './rep.js';

/** Elements idx[j] of x, in that order (copies); idx[j] = -1 takes element 0 of `fill` (a one-element MACed public constant). */
export function gatherM(x: MShare, idx: Int32Array, fill?: MShare): MShare {
  const n = idx.length;
  const out = { n, x: { a: alloc128(n), b: alloc128(n) }, m: { a: alloc128(n), b: alloc128(n) } };
  const pairs: [Uint32Array, Uint32Array, Uint32Array | undefined][] = [
    [x.x.a, out.x.a, fill?.x.a], [x.x.b, out.x.b, fill?.x.b], [x.m.a, out.m.a, fill?.m.a], [x.m.b, out.m.b, fill?.m.b],
  ];
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    assert(i < x.n && (i >= 0 || (i === -1 && fill !== undefined && fill.n === 1)), 'E_SHAPE', `malicious.gather: index ${i} of ${x.n} elements${fill ? '' : ' (no fill value)'}`);
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

/** One term of a signed combination: element e of x times the public k[e] in {-1, 0, 1}. */
export interface SignedTerm { readonly x: MShare; readonly k: Int8Array }

/** acc[e] += k[e] v[e] mod 2^128 for k[e] in {-1, 0, 1}, over the 4 words of each element (carries and borrows by hand). */
function accSigned(acc: Uint32Array, v: Uint32Array, k: Int8Array): void {
  for (let e = 0; e < k.length; e++) {
    const c = k[e]!;
    if (c === 0) continue;
    const o = 4 * e;
    if (c > 0) {
      let t = acc[o]! + v[o]!;
      acc[o] = t;
      t = acc[o + 1]! + v[o + 1]! + (t > 0xffffffff ? 1 : 0);
      acc[o + 1] = t;
      t = acc[o + 2]! + v[o + 2]! + (t > 0xffffffff ? 1 : 0);
      acc[o + 2] = t;
      acc[o + 3] = acc[o + 3]! + v[o + 3]! + (t > 0xffffffff ? 1 : 0);
    } else {
      let t = acc[o]! - v[o]!;
      acc[o] = t;
      t = acc[o + 1]! - v[o + 1]! - (t < 0 ? 1 : 0);
      acc[o + 1] = t;
      t = acc[o + 2]! - v[o + 2]! - (t < 0 ? 1 : 0);
      acc[o + 2] = t;
      acc[o + 3] = acc[o + 3]! - v[o + 3]! - (t < 0 ? 1 : 0);
    }
  }
}

/** acc[e] += c[e] (a small public integer in {-1, 0, 1}) at word 0 of the 4 words (in place). */
function accConstant(acc: Uint32Array, c: Int8Array): void {
  const one = new Uint32Array([1, 0, 0, 0]), minus = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  for (let e = 0; e < c.length; e++) {
    if (c[e] === 0) continue;
    const v = c[e]! > 0 ? one : minus, o = 4 * e;
    let t = acc[o]! + v[0]!;
    acc[o] = t;
    t = acc[o + 1]! + v[1]! + (t > 0xffffffff ? 1 : 0);
    acc[o + 1] = t;
    t = acc[o + 2]! + v[2]! + (t > 0xffffffff ? 1 : 0);
    acc[o + 2] = t;
    acc[o + 3] = acc[o + 3]! + v[3]! + (t > 0xffffffff ? 1 : 0);
  }
}

/** acc[e] += c[e] key for c[e] in {-1, 0, 1} and one MAC-key share `key` (a 1-element vector). */
function accKey(acc: Uint32Array, key: Vec128, c: Int8Array): void {
  const t = new Uint32Array(acc.length);
  for (let e = 0; e < c.length; e++) if (c[e] !== 0) t.set(key, 4 * e);
  accSigned(acc, t, c);
}

/** The coefficients k[e] in {-1, 0, 1} as elements of Z_2^128 (1, 0, 2^128 - 1). */
function coefVec(k: Int8Array): Vec128 {
  const v = alloc128(k.length);
  for (let e = 0; e < k.length; e++) {
    const c = k[e]!;
    if (c === 1) v[4 * e] = 1;
    else if (c === -1) { const o = 4 * e; v[o] = 0xffffffff; v[o + 1] = 0xffffffff; v[o + 2] = 0xffffffff; v[o + 3] = 0xffffffff; }
  }
  return v;
}

/** The kernels combSignedM may run on: the native Z_2^128 products and sums (gemm128.ts), else its own TS loop. */
export type CombKernels = Pick<RingKernels, 'mul' | 'add' | 'mul128' | 'mulScalar128' | 'add128'>;

/**
 * [sum_t k_t[e] x_t[e] + c[e]] per element, for public k_t[e] and c[e] in
 * {-1, 0, 1} (local): BitLT's leaves and first level, and the AND / XOR of a
 * shared bit with public bits, in one pass per share vector and term (with
 * native Z_2^128 kernels: k_t as ring elements, one mul128 and one add128
 * over the whole vector; without them a TS loop that adds or subtracts each
 * element), no fresh vector per term. The constant goes on share x_0 (P0's
 * a, P2's b) and c alpha on the MAC shares, as rep.ts addPublicM; the result
 * is the same ring value as the chain of selections, sums and public
 * additions it replaces, bit for bit, on either path (bit-ops.test.ts).
 */
export function combSignedM(party: PartyId, alpha: Rep, n: number, terms: readonly SignedTerm[], c?: Int8Array, kernels?: CombKernels): MShare {
  for (const t of terms) assert(t.x.n === n && t.k.length === n, 'E_SHAPE', `malicious.combSigned: a term of ${t.x.n} elements with ${t.k.length} coefficients, expected ${n}`);
  assert(!c || c.length === n, 'E_SHAPE', `malicious.combSigned: ${c?.length} constants for ${n} elements`);
  const out = { n, x: { a: alloc128(n), b: alloc128(n) }, m: { a: alloc128(n), b: alloc128(n) } };
  const outs = [out.x.a, out.x.b, out.m.a, out.m.b];
  if (kernels?.mul128 && kernels.add128 && kernels.mulScalar128) {
    const tmp = alloc128(n);
    terms.forEach((t, q) => {
      const kv = coefVec(t.k);
      [t.x.x.a, t.x.x.b, t.x.m.a, t.x.m.b].forEach((src, h) => {
        if (q === 0) mul128Kernels(kernels, kv, src, outs[h]!);
        else add128Kernels(kernels, outs[h]!, mul128Kernels(kernels, kv, src, tmp), outs[h]!);
      });
    });
    if (c) {
      const cv = coefVec(c);
      if (party === 0) add128Kernels(kernels, out.x.a, cv, out.x.a);
      if (party === 2) add128Kernels(kernels, out.x.b, cv, out.x.b);
      add128Kernels(kernels, out.m.a, mulScalar128Kernels(kernels, cv, alpha.a, tmp), out.m.a);
      add128Kernels(kernels, out.m.b, mulScalar128Kernels(kernels, cv, alpha.b, tmp), out.m.b);
    }
    return out;
  }
  for (const t of terms) [t.x.x.a, t.x.x.b, t.x.m.a, t.x.m.b].forEach((src, h) => accSigned(outs[h]!, src, t.k));
  if (c) {
    if (party === 0) accConstant(out.x.a, c);
    if (party === 2) accConstant(out.x.b, c);
    accKey(out.m.a, alpha.a, c);
    accKey(out.m.b, alpha.b, c);
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
