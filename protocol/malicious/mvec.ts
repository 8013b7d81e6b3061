/**
 * Shape helpers for MACed vectors (local, no communication): slicing a
 * block of elements out of an MShare and concatenating MShares, so that
 * several vectors can share one message (one product, one opening).
 */
import { assert } from '../errors.js';
import { alloc128, type Vec128 } from './ring128.js';
import type { MShare, Rep } from './rep.js';

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
  return { n: xs.reduce((t, x) => t + x.n, 0), x: concatRep(xs.map((x) => x.x)), m: concatRep(xs.map((x) => x.m)) };
}

/** Concatenate plain replicated sharings (no MAC). */
export const concatReps = concatRep;
