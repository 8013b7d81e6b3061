/**
 * Shape helpers for MACed vectors (local, no communication): slicing a
 * block of elements out of an MShare and concatenating MShares, so that
 * several vectors can share one message (one product, one opening); and
 * multiplication by a public power of 2 as a shift.
 */
import { assert } from '../errors.js';
import { alloc128, len128, type Vec128 } from './ring128.js';
import { allocM, type MShare, type Rep } from './rep.js';

const sliceRep = (r: Rep, from: number, to: number): Rep => ({
  a: r.a.subarray(4 * from, 4 * to) as Vec128,
  b: r.b.subarray(4 * from, 4 * to) as Vec128,
});

/** Elements [from, to) of x (views, not copies). */
export function sliceM(x: MShare, from: number, to: number): MShare {
  assert(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= x.n, 'E_SHAPE', `malicious.slice: [${from}, ${to}) is not inside ${x.n} elements`);
  return { n: to - from, x: sliceRep(x.x, from, to), m: sliceRep(x.m, from, to) };
}

function concatVec(vs: Vec128[]): Vec128 {
  const out = alloc128(vs.reduce((t, v) => t + v.length / 4, 0));
  let o = 0;
  for (const v of vs) { out.set(v, o); o += v.length; }
  return out;
}

const concatRep = (rs: Rep[]): Rep => ({ a: concatVec(rs.map((r) => r.a)), b: concatVec(rs.map((r) => r.b)) });

/** The elements of xs one after the other (copied). */
export function concatM(xs: MShare[]): MShare {
  const out = allocM(xs.reduce((t, x) => t + x.n, 0));
  let o = 0;
  for (const x of xs) {
    out.x.a.set(x.x.a, o); out.x.b.set(x.x.b, o); out.m.a.set(x.m.a, o); out.m.b.set(x.m.b, o);
    o += 4 * x.n;
  }
  return out;
}

/** Concatenate plain replicated sharings (no MAC). */
export const concatReps = concatRep;

/**
 * out = v << j mod 2^128 (0 <= j < 128); `out` (v's length) defaults to a fresh vector. Every word of out is
 * written (those below j / 32 with 0), high word first, so out may hold anything before, or be v itself.
 */
export function shl128(v: Vec128, j: number, out: Vec128 = alloc128(len128(v))): Vec128 {
  const q = j >>> 5, r = j & 31;
  for (let e = 0; e < v.length; e += 4) {
    for (let w = 3; w >= q; w--) {
      const lo = v[e + w - q]!;
      const below = r === 0 || w - q - 1 < 0 ? 0 : v[e + w - q - 1]! >>> (32 - r);
      out[e + w] = ((lo << r) | below) >>> 0;
    }
    for (let w = q - 1; w >= 0; w--) out[e + w] = 0;
  }
  return out;
}

/** [x << j] = [2^j x] (value and MAC shares), local: multiplication by a public power of 2 without a product (into one allocM). */
export function shlM(x: MShare, j: number): MShare {
  const out = allocM(x.n);
  shl128(x.x.a, j, out.x.a); shl128(x.x.b, j, out.x.b); shl128(x.m.a, j, out.m.a); shl128(x.m.b, j, out.m.b);
  return out;
}


/** acc += v << j mod 2^128, elementwise, in place (no temporary vector). */
export function addShl128Into(acc: Vec128, v: Vec128, j: number): Vec128 {
  const q = j >>> 5, r = j & 31;
  for (let e = 0; e < v.length; e += 4) {
    let carry = 0;
    for (let w = 0; w < 4; w++) {
      const lo = w - q >= 0 ? v[e + w - q]! : 0;
      const below = r === 0 || w - q - 1 < 0 ? 0 : v[e + w - q - 1]! >>> (32 - r);
      const t = acc[e + w]! + (((lo << r) | below) >>> 0) + carry;
      acc[e + w] = t;
      carry = t > 0xffffffff ? 1 : 0;
    }
  }
  return acc;
}
