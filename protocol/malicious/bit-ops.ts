/**
 * Local helpers for MACed bits and for element ranges of MACed vectors (the
 * comparison protocols bit-lt.ts, compare.ts, maxpool.ts).
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
import { addPublicM, type MShare, type Rep, type ScalarKernels } from './rep.js';

const sliceRep = (r: Rep, from: number, to: number): Rep => ({ a: r.a.subarray(4 * from, 4 * to) as Vec128, b: r.b.subarray(4 * from, 4 * to) as Vec128 });

/** Elements [from, to) of x (views, not copies). */
export function sliceM(x: MShare, from: number, to: number): MShare {
  assert(from >= 0 && from <= to && to <= x.n, 'E_SHAPE', `malicious.slice: [${from}, ${to}) of ${x.n} elements`);
  return { n: to - from, x: sliceRep(x.x, from, to), m: sliceRep(x.m, from, to) };
}

/** The elements of several MACed vectors one after the other (copies). */
export function concatM(xs: readonly MShare[]): MShare {
  const n = xs.reduce((t, v) => t + v.n, 0);
  const out = { n, x: { a: alloc128(n), b: alloc128(n) }, m: { a: alloc128(n), b: alloc128(n) } };
  let o = 0;
  for (const v of xs) {
    out.x.a.set(v.x.a, 4 * o); out.x.b.set(v.x.b, 4 * o);
    out.m.a.set(v.m.a, 4 * o); out.m.b.set(v.m.b, 4 * o);
    o += v.n;
  }
  return out;
}

/** Elements idx[j] of x, in that order (copies); idx[j] = -1 takes element 0 of `fill` (a one-element MACed public constant). */
export function gatherM(x: MShare, idx: Int32Array, fill?: MShare): MShare {
  const n = idx.length;
  const out = { n, x: { a: alloc128(n), b: alloc128(n) }, m: { a: alloc128(n), b: alloc128(n) } };
  const parts: [keyof MShare & ('x' | 'm'), 'a' | 'b'][] = [['x', 'a'], ['x', 'b'], ['m', 'a'], ['m', 'b']];
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    const src = i < 0 ? fill : x;
    assert(src !== undefined && (i < 0 ? 0 : i) < src.n, 'E_SHAPE', `malicious.gather: index ${i} of ${x.n} elements`);
    const e = i < 0 ? 0 : i;
    for (const [q, h] of parts) out[q][h].set(src[q][h].subarray(4 * e, 4 * e + 4), 4 * j);
  }
  return out;
}

/** e at word 0 of every element where bit[j] is 1 (the public vector "bit" as ring elements). */
function publicBits(bit: Uint8Array): Vec128 {
  const v = alloc128(bit.length);
  for (let j = 0; j < bit.length; j++) v[4 * j] = bit[j]! & 1;
  return v;
}

/** -v[j] in place where flip[j] is 1 (two's complement over the 4 words). */
function negWhere(v: Vec128, flip: Uint8Array): void {
  for (let j = 0; j < flip.length; j++) {
    if (!flip[j]) continue;
    const o = 4 * j;
    // -v = ~v + 1
    let carry = 1;
    for (let w = 0; w < 4; w++) {
      const t = (~v[o + w]! >>> 0) + carry;
      v[o + w] = t;
      carry = t > 0xffffffff ? 1 : 0;
    }
  }
}

function copyM(x: MShare): MShare {
  return { n: x.n, x: { a: x.x.a.slice() as Vec128, b: x.x.b.slice() as Vec128 }, m: { a: x.m.a.slice() as Vec128, b: x.m.b.slice() as Vec128 } };
}

/** [b XOR c] for a shared bit b and a public bit c per element: b where c = 0, 1 - b where c = 1 (local). */
export function xorPublicM(party: PartyId, alpha: Rep, b: MShare, c: Uint8Array, kernels?: ScalarKernels): MShare {
  assert(c.length === b.n, 'E_SHAPE', `malicious.xorPublic: ${c.length} public bits for ${b.n} elements`);
  const out = copyM(b);
  for (const v of [out.x.a, out.x.b, out.m.a, out.m.b]) negWhere(v, c);
  return addPublicM(party, alpha, out, publicBits(c), kernels);
}

/** [b AND c] for a shared bit b and a public bit c per element: b where c = 1, 0 where c = 0 (local). */
export function andPublicM(b: MShare, c: Uint8Array): MShare {
  assert(c.length === b.n, 'E_SHAPE', `malicious.andPublic: ${c.length} public bits for ${b.n} elements`);
  const out = copyM(b);
  for (let j = 0; j < c.length; j++) {
    if (c[j]) continue;
    for (const v of [out.x.a, out.x.b, out.m.a, out.m.b]) v.fill(0, 4 * j, 4 * j + 4);
  }
  return out;
}

/** [1 - b] (NOT of a shared bit; also 1 - MSB = DReLU). */
export function notM(party: PartyId, alpha: Rep, b: MShare, kernels?: ScalarKernels): MShare {
  return xorPublicM(party, alpha, b, new Uint8Array(b.n).fill(1), kernels);
}

/** Bit i (0..63) of the low 64 bits of each element of an opened vector, as 0/1 bytes. */
export function bitOf(c: Vec128, i: number): Uint8Array {
  assert(i >= 0 && i < 64, 'E_BAD_ARGUMENT', `malicious.bitOf: bit ${i} is not in the low 64 bits`);
  const n = len128(c), out = new Uint8Array(n), w = i >>> 5, sh = i & 31;
  for (let e = 0; e < n; e++) out[e] = (c[4 * e + w]! >>> sh) & 1;
  return out;
}
