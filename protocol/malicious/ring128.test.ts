import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prg } from '../correlated/prg.js';
import { isMpcError } from '../errors.js';
import { tsKernels } from '../kernels/ts.js';
import { getKernels } from '../kernels/index.js';
import { matmul128Gemm, mul128Kernels } from './gemm128.js';
import { add128, alloc128, dot128, fromBigints, fromBytes128, liftSigned, low64, matmul128, mul128, mulScalar128, neg128, random128, scalar128, sub128, toBigints } from './ring128.js';

const M = (1n << 128n) - 1n;
const mod = (x: bigint): bigint => BigInt.asUintN(128, x);
/** 0, 1, -1, 2^64 - 1, 2^64, 2^127, 2^127 - 1, 2^63, 2^32 - 1 and neighbours: carries across every word. */
const EDGES = [0n, 1n, M, (1n << 64n) - 1n, 1n << 64n, 1n << 127n, (1n << 127n) - 1n, 1n << 63n, (1n << 32n) - 1n, 1n << 96n, M - 1n, 0xffffffffffffffffffffffffn];

function randomBig(n: number): bigint[] {
  return Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));
}

describe('Z_2^128 on 32-bit words (SPDZ_2k ring, k = s = 64) against a BigInt oracle', () => {
  const xs = [...EDGES, ...randomBig(40)];
  const ys = [...EDGES.slice().reverse(), ...randomBig(40)];
  const a = fromBigints(xs), b = fromBigints(ys);

  it('round-trips bigints and bytes', () => {
    expect(toBigints(a)).toEqual(xs.map(mod));
    expect(toBigints(fromBytes128(Uint8Array.from(new Uint8Array(a.buffer))))).toEqual(xs);
  });

  it('adds, subtracts and negates mod 2^128 on random and edge inputs', () => {
    expect(toBigints(add128(a, b, alloc128(xs.length)))).toEqual(xs.map((x, i) => mod(x + ys[i]!)));
    expect(toBigints(sub128(a, b, alloc128(xs.length)))).toEqual(xs.map((x, i) => mod(x - ys[i]!)));
    expect(toBigints(neg128(a, alloc128(xs.length)))).toEqual(xs.map((x) => mod(-x)));
  });

  it('multiplies elementwise and by a public scalar mod 2^128 (edge products: (-1)(-1), 2^64 * 2^64, 2^127 * odd)', () => {
    expect(toBigints(mul128(a, b, alloc128(xs.length)))).toEqual(xs.map((x, i) => mod(x * ys[i]!)));
    for (const s of [0n, 1n, M, 1n << 64n, 3n, ...randomBig(3)]) {
      expect(toBigints(mulScalar128(a, scalar128(s), alloc128(xs.length)))).toEqual(xs.map((x) => mod(x * s)));
    }
  });

  it('matrix product mod 2^128 equals the BigInt oracle (edge entries, odd shapes)', () => {
    for (const [m, k, n] of [[1, 1, 1], [3, 5, 2], [4, 12, 3], [2, 7, 5]] as const) {
      const A = [...EDGES, ...randomBig(m * k)].slice(0, m * k), B = [M, 1n << 127n, ...randomBig(k * n)].slice(0, k * n);
      const want = Array.from({ length: m * n }, (_, q) => {
        const i = Math.floor(q / n), j = q % n;
        let s = 0n;
        for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
        return mod(s);
      });
      expect(toBigints(matmul128(fromBigints(A), fromBigints(B), m, k, n, alloc128(m * n)))).toEqual(want);
    }
  });

  it('long dot products (beyond one 2^16-term limb block) stay exact', () => {
    const k = (1 << 16) + 37;
    const ones = fromBigints(Array<bigint>(k).fill(M)); // (-1)(-1) = 1 per term
    expect(toBigints(dot128(ones, ones))).toEqual([BigInt(k)]);
  });

  it('lifts Z_2^64 values with sign extension and reads the low 64 bits back', () => {
    const x = BigUint64Array.from([0n, 1n, 0xffffffffffffffffn, 1n << 63n, (1n << 63n) - 1n]);
    expect(toBigints(liftSigned(x))).toEqual([0n, 1n, M, mod(-(1n << 63n)), (1n << 63n) - 1n]);
    expect(low64(liftSigned(x))).toEqual(x);
  });

  it('draws uniform words from a PRG (two holders of a seed agree) and refuses ragged shapes with E_SHAPE', () => {
    const seed = randomBytes(16);
    expect(random128(new Prg(seed), 9)).toEqual(random128(new Prg(seed), 9));
    let err: unknown;
    try { add128(alloc128(2), alloc128(3), alloc128(2)); } catch (e) { err = e; }
    expect(isMpcError(err) && err.code === 'E_SHAPE').toBe(true);
    expect(() => fromBytes128(new Uint8Array(15))).toThrow(/whole number of 16-byte words/);
  });

  it('the matrix and elementwise products on Z_2^64 kernels (gemm128.ts) equal the TS limb product and the oracle, on the TS kernels and on the runtime\'s', () => {
    for (const kernels of [tsKernels, getKernels()]) {
      for (const [m, k, n] of [[1, 1, 1], [3, 5, 2], [4, 33, 7], [8, 70, 9]] as const) {
        const A = [...EDGES, ...randomBig(m * k)].slice(0, m * k), B = [M, 1n << 127n, (1n << 64n) - 1n, ...randomBig(k * n)].slice(0, k * n);
        const a = fromBigints(A), b = fromBigints(B);
        const viaGemm = matmul128Gemm(kernels, a, b, m, k, n, alloc128(m * n));
        expect(viaGemm, `${kernels.name} ${m}x${k}x${n}`).toEqual(matmul128(a, b, m, k, n, alloc128(m * n)));
        const want = Array.from({ length: m * n }, (_, q) => {
          let s = 0n;
          for (let p = 0; p < k; p++) s += A[Math.floor(q / n) * k + p]! * B[p * n + (q % n)]!;
          return mod(s);
        });
        expect(toBigints(viaGemm)).toEqual(want);
      }
      // Elementwise through the same plan, on random and edge inputs.
      const xs = [...EDGES, ...randomBig(30)], ys = [...EDGES.slice().reverse(), ...randomBig(30)];
      expect(toBigints(mul128Kernels(kernels, fromBigints(xs), fromBigints(ys), alloc128(xs.length)))).toEqual(xs.map((x, i) => mod(x * ys[i]!)));
      // All-ones words: every limb at its maximum, the largest exact sums.
      const k = 300, ones = fromBigints(Array<bigint>(k).fill(M));
      expect(toBigints(matmul128Gemm(kernels, ones, ones, 1, k, 1, alloc128(1)))).toEqual([BigInt(k)]);
    }
  });
});
