import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bitPlanes as fromA2b } from './a2b.js';
import { andPublicB, bitAt, lanesOf, packBits, xorB, xorPublicB, type BShare } from './bshare.js';
import { beaverZeroB } from './triples.js';
import { bitPlanes, bitRange, transpose32 } from './planes.js';

/** The bit-by-bit version bitPlanes replaced (a2b.ts before), kept as the reference. */
function bitPlanesRef(v: Uint32Array, n: number, ell: number): Uint32Array {
  const L = lanesOf(n), out = new Uint32Array(L * ell);
  for (let e = 0; e < n; e++) {
    const lane = e >>> 5, bit = 1 << (e & 31);
    for (let p = 0; p < ell; p++) {
      if ((v[4 * e + (p >>> 5)]! >>> (p & 31)) & 1) out[L * p + lane]! |= bit;
    }
  }
  return out;
}

const rand = (words: number): Uint32Array => new Uint32Array(randomBytes(4 * words).buffer);

describe('bitPlanes (bit slicing by 32 x 32 transposes)', () => {
  it('transpose32 transposes: bit j of word i is bit i of word j, and twice is the identity', () => {
    const m = new Int32Array(rand(32).buffer), t = m.slice();
    transpose32(t);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) expect((t[i]! >>> j) & 1).toBe((m[j]! >>> i) & 1);
    transpose32(t);
    expect(t).toEqual(m);
  });

  it('equals the bit-by-bit reference on random vectors, every n mod 64 and ell in 1..128', () => {
    for (const n of [1, 2, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 1000]) {
      const v = rand(4 * n);
      for (const ell of [1, 2, 3, 13, 31, 32, 33, 48, 57, 63, 64, 65, 96, 127, 128]) expect(bitPlanes(v, n, ell), `n = ${n}, ell = ${ell}`).toEqual(bitPlanesRef(v, n, ell));
    }
  });

  it('equals the reference on edge values: 0, all ones, 2^31, 2^32 - 1, 2^63, -1 as 128 bits, one bit per element', () => {
    const n = 97, v = new Uint32Array(4 * n);
    const edge = [[0, 0, 0, 0], [1, 0, 0, 0], [0x80000000, 0, 0, 0], [0xffffffff, 0, 0, 0], [0, 0x80000000, 0, 0], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0x7fffffff, 0, 0]];
    for (let e = 0; e < n; e++) v.set(e < edge.length ? edge[e]! : [e % 64 < 32 ? 2 ** (e % 32) : 0, e % 64 >= 32 ? 2 ** (e % 32) : 0, 0, 0], 4 * e);
    for (const ell of [1, 32, 33, 64, 128]) expect(bitPlanes(v, n, ell)).toEqual(bitPlanesRef(v, n, ell));
    const ones = new Uint32Array(4 * 64).fill(0xffffffff);
    expect(bitPlanes(ones, 64, 64)).toEqual(new Uint32Array(2 * 64).fill(0xffffffff));
  });

  it('a2b.ts exports the same function (its split step and trunc-mask.ts use it)', () => {
    expect(fromA2b).toBe(bitPlanes);
  });

  it('bitRange equals taking the bits one at a time (the old sliceDaBits), at every offset mod 32, with padding bits 0', () => {
    for (const n of [1, 31, 32, 33, 64, 65, 200]) {
      const v = rand(lanesOf(n)), last = lanesOf(n) - 1;
      // Padding bits of the source set on purpose: they must not reach the result.
      for (let from = 0; from < n; from += from < 70 ? 1 : 13) for (const k of [1, 2, 31, 32, 33, 64, n - from]) {
        if (k < 1 || from + k > n) continue;
        const ref = packBits(Uint8Array.from({ length: k }, (_, i) => bitAt(v, n, 0, from + i)));
        expect(bitRange(v, from, k), `n = ${n}, from = ${from}, k = ${k}, last lane ${last}`).toEqual(ref);
      }
    }
  });
});

describe('beaverZeroB (triples.ts) in one pass', () => {
  it('equals the composition it replaced, z ^ c ^ (a & sigma) ^ (b & rho) with rho & sigma on share x_0, at each party', () => {
    const lanes = 2 * 37;
    const sh = (): BShare => ({ n: 32 * lanes, planes: 1, a: rand(lanes), b: rand(lanes) });
    for (const party of [0, 1, 2] as const) {
      const z = sh(), a = sh(), b = sh(), c = sh(), rho = rand(lanes), sigma = rand(lanes);
      rho.fill(0xffffffff, 0, 3); sigma.fill(0, 3, 6); // all-ones and all-zero lanes
      const rs = rho.map((r, i) => r & sigma[i]!);
      const want = xorPublicB(party, xorB(xorB(xorB(z, c), andPublicB(a, sigma)), andPublicB(b, rho)), rs);
      const got = beaverZeroB(party, { z }, { a, b, c }, rho, sigma);
      expect(got.a).toEqual(want.a);
      expect(got.b).toEqual(want.b);
      expect([got.n, got.planes]).toEqual([want.n, want.planes]);
    }
  });
});
