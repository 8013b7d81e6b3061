/**
 * gemm128.ts's callers give the same bits whichever kernels they get: the
 * native Z_2^128 kernels (RingKernels.gemm128 / mul128 / mulScalar128 /
 * add128 / sub128), the
 * fallback on the native Z_2^64 kernels (the same addon with the 128-bit
 * members left out, as an addon built before them), and the fallback on the
 * TS kernels; all equal ring128.ts's limb products and a BigInt oracle, and
 * refuse bad shapes with the same coded error.
 */
import { describe, expect, it } from 'vitest';
import { EDGES, kernelSets128, M, mod, NATIVE, random } from '../testing/ring128-cases.js';
import { isMpcError } from '../errors.js';
import { add128Kernels, matmul128Gemm, mul128Kernels, mulScalar128Kernels, sub128Kernels } from './gemm128.js';
import { add128, alloc128, fromBigints, matmul128, mul128, mulScalar128, scalar128, sub128, toBigints } from './ring128.js';

const SETS = kernelSets128('ts (fallback)');

describe('gemm128.ts: native Z_2^128 kernels, and the Z_2^64 fallback, equal ring128.ts and the oracle', () => {
  it(`the kernel sets under test: ${SETS.map(([n]) => n).join(', ')}${NATIVE ? '' : ' (native addon not built: only the TS fallback)'}`, () => {
    const stale = 'the loaded addon has no Z_2^128 kernels: built before them (rebuild: npm run build:native); the fallback still gives the same bits';
    expect(NATIVE === null || typeof NATIVE.gemm128 === 'function', stale).toBe(true);
    expect(NATIVE === null || (typeof NATIVE.add128 === 'function' && typeof NATIVE.sub128 === 'function'), stale).toBe(true);
    expect(SETS.filter(([, k]) => k.gemm128 === undefined && k.add128 === undefined).length).toBe(NATIVE ? 2 : 1);
  });

  it.each(SETS)('matmul128Gemm on %s: shapes 0, 1, odd, k past the native tile, edge values', (_name, kernels) => {
    for (const [m, k, n] of [[0, 2, 3], [2, 0, 3], [1, 1, 1], [3, 5, 2], [4, 33, 7], [2, 259, 3], [19, 3, 5]] as const) {
      const A = [...EDGES, ...random(m * k)].slice(0, m * k), B = [...EDGES.slice().reverse(), ...random(k * n)].slice(0, k * n);
      const a = fromBigints(A), b = fromBigints(B);
      const got = matmul128Gemm(kernels, a, b, m, k, n, alloc128(m * n));
      expect(got, `${m}x${k}x${n}`).toEqual(matmul128(a, b, m, k, n, alloc128(m * n)));
      const want = Array.from({ length: m * n }, (_, q) => {
        let s = 0n;
        for (let p = 0; p < k; p++) s += A[Math.floor(q / n) * k + p]! * B[p * n + (q % n)]!;
        return mod(s);
      });
      expect(toBigints(got)).toEqual(want);
    }
  });

  it.each(SETS)('mul128Kernels and mulScalar128Kernels on %s: every pair of edge values and random ones', (_name, kernels) => {
    const xs: bigint[] = [], ys: bigint[] = [];
    for (const x of EDGES) for (const y of EDGES) { xs.push(x); ys.push(y); }
    xs.push(...random(37));
    ys.push(...random(37));
    const a = fromBigints(xs), b = fromBigints(ys);
    const got = mul128Kernels(kernels, a, b, alloc128(xs.length));
    expect(got).toEqual(mul128(a, b, alloc128(xs.length)));
    expect(toBigints(got)).toEqual(xs.map((x, i) => mod(x * ys[i]!)));
    for (const s of [0n, 1n, M, 1n << 127n, random(1)[0]!]) {
      const sc = scalar128(s);
      const g = mulScalar128Kernels(kernels, a, sc, alloc128(xs.length));
      expect(g).toEqual(mulScalar128(a, sc, alloc128(xs.length)));
      expect(toBigints(g)).toEqual(xs.map((x) => mod(x * s)));
    }
  });

  it.each(SETS)('add128Kernels and sub128Kernels on %s: every pair of edge values and random ones, in place', (_name, kernels) => {
    const xs: bigint[] = [], ys: bigint[] = [];
    for (const x of EDGES) for (const y of EDGES) { xs.push(x); ys.push(y); }
    xs.push(...random(37));
    ys.push(...random(37));
    const a = fromBigints(xs), b = fromBigints(ys);
    const sum = add128Kernels(kernels, a, b, alloc128(xs.length)), diff = sub128Kernels(kernels, a, b, alloc128(xs.length));
    expect(sum).toEqual(add128(a, b, alloc128(xs.length)));
    expect(diff).toEqual(sub128(a, b, alloc128(xs.length)));
    expect(toBigints(sum)).toEqual(xs.map((x, i) => mod(x + ys[i]!)));
    expect(toBigints(diff)).toEqual(xs.map((x, i) => mod(x - ys[i]!)));
    expect(toBigints(add128Kernels(kernels, a, b, a))).toEqual(toBigints(sum));
  });

  it.each(SETS)('bad shapes on %s: E_SHAPE before any kernel runs', (_name, kernels) => {
    const code = (fn: () => void): string | null => {
      try { fn(); } catch (e) { return isMpcError(e) ? e.code : 'not an MpcError'; }
      return null;
    };
    expect(code(() => matmul128Gemm(kernels, alloc128(6), alloc128(6), 2, 3, 2, alloc128(3)))).toBe('E_SHAPE');
    expect(code(() => mul128Kernels(kernels, alloc128(3), alloc128(2), alloc128(3)))).toBe('E_SHAPE');
    expect(code(() => mulScalar128Kernels(kernels, alloc128(3), alloc128(2), alloc128(3)))).toBe('E_SHAPE');
    expect(code(() => mulScalar128Kernels(kernels, alloc128(3), alloc128(1), alloc128(4)))).toBe('E_SHAPE');
    expect(code(() => add128Kernels(kernels, alloc128(3), alloc128(3), alloc128(2)))).toBe('E_SHAPE');
    expect(code(() => sub128Kernels(kernels, alloc128(2), alloc128(3), alloc128(2)))).toBe('E_SHAPE');
  });
});
