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
import { addPublicM, macPublic, type MShare, type Rep, type ScalarKernels } from './rep.js';

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

/** [k_e x_e] for public k_e in {-1, 0, 1} per element (local: keep, zero or negate both shares and the MAC). */
export function signedSelectM(x: MShare, k: Int8Array): MShare {
  assert(k.length === x.n, 'E_SHAPE', `malicious.signedSelect: ${k.length} coefficients for ${x.n} elements`);
  const out = andPublicM(x, Uint8Array.from(k, (v) => (v === 0 ? 0 : 1)));
  const flip = Uint8Array.from(k, (v) => (v === -1 ? 1 : 0));
  for (const v of [out.x.a, out.x.b, out.m.a, out.m.b]) negWhere(v, flip);
  return out;
}

/** [x + k] for public k_e in {-1, 0, 1} per element (local). */
export function addSmallPublicM(party: PartyId, alpha: Rep, x: MShare, k: Int8Array, kernels?: ScalarKernels): MShare {
  const v = alloc128(k.length);
  for (let e = 0; e < k.length; e++) if (k[e] === 1) v[4 * e] = 1; else if (k[e] === -1) v.fill(0xffffffff, 4 * e, 4 * e + 4);
  return addPublicM(party, alpha, x, v, kernels);
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
