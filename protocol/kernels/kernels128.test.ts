/**
 * The addon's Z_2^128 kernels (native/ring128.cc: gemm128, mul128,
 * mulScalar128, add128, sub128) against a BigInt oracle, on random and edge values (0, 1,
 * 2^64 - 1, 2^64, 2^127, 2^128 - 1 and neighbours: carries across every
 * word), on every GEMM level the CPU has (the 128-bit kernel is the same
 * portable code on each; the switch must not change it) and 1-3 threads;
 * shapes 0, 1, odd, k odd and past a k block (256), rows past a row block
 * (16), columns past a column block (256), few rows (m <= 6: the unpacked
 * loop) and more. Vectors in the layout of
 * protocol/malicious/ring128.ts: 4 little-endian 32-bit words per element.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { configureNativeKernels, loadNativeKernels, nativeKernelInfo, nativeLoadError } from '../../runtime/native-addon.js';
import { isMpcError } from '../errors.js';
import type { NativeSimd } from './native.js';

const NATIVE = loadNativeKernels();
const M = (1n << 128n) - 1n;
const mod = (x: bigint): bigint => BigInt.asUintN(128, x);
const EDGES = [0n, 1n, 2n, M, M - 1n, (1n << 64n) - 1n, 1n << 64n, (1n << 64n) + 1n, 1n << 127n, (1n << 127n) - 1n, (1n << 127n) + 1n,
  1n << 63n, (1n << 32n) - 1n, 1n << 96n, 0xffffffffffffffffffffffffn];

function words(xs: readonly bigint[]): Uint32Array {
  const out = new Uint32Array(4 * xs.length);
  xs.forEach((x0, e) => {
    let x = mod(x0);
    for (let w = 0; w < 4; w++) { out[4 * e + w] = Number(x & 0xffffffffn); x >>= 32n; }
  });
  return out;
}
function bigs(v: Uint32Array): bigint[] {
  return Array.from({ length: v.length / 4 }, (_, e) => {
    let x = 0n;
    for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(v[4 * e + w]!);
    return x;
  });
}
const random = (n: number): bigint[] => Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));
/** n values: every third an edge value (in turn), the others random. */
const mixed = (n: number): bigint[] => Array.from({ length: n }, (_, i) => (i % 3 === 0 ? EDGES[(i / 3) % EDGES.length]! : random(1)[0]!));

function oracleMatmul(A: bigint[], B: bigint[], m: number, k: number, n: number, rows = m): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
      out.push(mod(s));
    }
  return out;
}

describe.skipIf(!NATIVE)(`Z_2^128 native kernels (native/ring128.cc) against a BigInt oracle${NATIVE ? '' : ` [skipped: ${nativeLoadError()}]`}`, () => {
  const info = NATIVE ? nativeKernelInfo()! : null;
  const levels: NativeSimd[] = info ? (info.detectedSimd === 'avx512' ? ['avx512', 'avx2', 'scalar'] : info.detectedSimd === 'scalar' ? ['scalar'] : [info.detectedSimd, 'scalar']) : [];
  afterAll(() => { if (info) configureNativeKernels({ simd: info.simd, threads: info.threads }); });

  it('gemm128 equals the oracle on every level and shape (0, 1, odd, k past a block, rows and columns past a block)', () => {
    const shapes: [number, number, number][] = [[0, 3, 2], [2, 0, 3], [3, 2, 0], [1, 1, 1], [1, 7, 1], [3, 5, 2], [5, 1, 5], [4, 33, 7], [17, 9, 3], [3, 257, 5], [2, 513, 3], [2, 3, 260], [6, 3, 130], [7, 3, 5], [9, 259, 3], [8, 3, 260], [37, 4, 2]];
    for (const simd of levels) {
      configureNativeKernels({ simd, threads: 1 });
      for (const [m, k, n] of shapes) {
        const A = mixed(m * k), B = mixed(k * n).reverse();
        const out = new Uint32Array(4 * m * n).fill(0xdeadbeef);  // overwritten, not added to
        NATIVE!.gemm128!(words(A), words(B), m, k, n, out);
        expect(bigs(out), `${simd} ${m}x${k}x${n}`).toEqual(oracleMatmul(A, B, m, k, n));
      }
    }
  });

  it('gemm128 sums k = 300 products of 2^128 - 1 (every word at its maximum) and of 2^127 exactly', () => {
    const k = 300, ones = Array<bigint>(k).fill(M), half = Array<bigint>(k).fill(1n << 127n);
    const out = new Uint32Array(4);
    NATIVE!.gemm128!(words(ones), words(ones), 1, k, 1, out);
    expect(bigs(out)).toEqual([BigInt(k)]);
    NATIVE!.gemm128!(words(half), words(ones), 1, k, 1, out);
    expect(bigs(out)).toEqual([mod(BigInt(k) * (1n << 127n) * M)]);
  });

  it('gemm128 gives the same bits on 1, 2 and 3 threads on a product large enough to split (rows and columns), rows checked against the oracle', () => {
    for (const [m, k, n] of [[130, 200, 100], [8, 400, 1000]] as const) {
      const A = words(random(m * k)), B = words(random(k * n));
      const outs = [1, 2, 3].map((threads) => {
        configureNativeKernels({ threads });
        const out = new Uint32Array(4 * m * n);
        NATIVE!.gemm128!(A, B, m, k, n, out);
        return out;
      });
      expect(outs[1], `${m}x${k}x${n} x2`).toEqual(outs[0]);
      expect(outs[2], `${m}x${k}x${n} x3`).toEqual(outs[0]);
      expect(bigs(outs[0]!).slice(0, n)).toEqual(oracleMatmul(bigs(A), bigs(B), m, k, n, 1));
      expect(bigs(outs[0]!).slice((m - 1) * n)).toEqual(oracleMatmul(bigs(A).slice((m - 1) * k), bigs(B), 1, k, n));
    }
  });

  it('gemm128 reads and writes word arrays that are not 16-byte aligned', () => {
    const [m, k, n] = [3, 7, 5];
    const A = mixed(m * k), B = mixed(k * n);
    const buf = new Uint32Array(1 + 4 * (m * k + k * n + m * n));
    const a = buf.subarray(1, 1 + 4 * m * k), b = buf.subarray(1 + 4 * m * k, 1 + 4 * (m * k + k * n)), out = buf.subarray(1 + 4 * (m * k + k * n));
    a.set(words(A));
    b.set(words(B));
    NATIVE!.gemm128!(a, b, m, k, n, out);
    expect(bigs(out)).toEqual(oracleMatmul(A, B, m, k, n));
  });

  it('mul128 and mulScalar128 equal the oracle on every pair of edge values, random values, sizes 0 and 1, unaligned and in place', () => {
    const xs: bigint[] = [], ys: bigint[] = [];
    for (const x of EDGES) for (const y of EDGES) { xs.push(x); ys.push(y); }
    xs.push(...random(101));
    ys.push(...random(101));
    const out = new Uint32Array(4 * xs.length);
    NATIVE!.mul128!(words(xs), words(ys), out);
    expect(bigs(out)).toEqual(xs.map((x, i) => mod(x * ys[i]!)));
    for (const s of [0n, 1n, M, 1n << 127n, (1n << 64n) - 1n, random(1)[0]!]) {
      NATIVE!.mulScalar128!(words(xs), words([s]), out);
      expect(bigs(out), `s = ${s}`).toEqual(xs.map((x) => mod(x * s)));
    }
    for (const n of [0, 1]) {
      const o = new Uint32Array(4 * n);
      NATIVE!.mul128!(words(xs.slice(0, n)), words(ys.slice(0, n)), o);
      expect(bigs(o)).toEqual(xs.slice(0, n).map((x, i) => mod(x * ys[i]!)));
    }
    // In place (out === a) and at a 4-byte offset.
    const buf = new Uint32Array(1 + 4 * xs.length), a = buf.subarray(1);
    a.set(words(xs));
    NATIVE!.mul128!(a, words(ys), a);
    expect(bigs(a)).toEqual(xs.map((x, i) => mod(x * ys[i]!)));
    a.set(words(xs));
    NATIVE!.mulScalar128!(a, words([M]), a);
    expect(bigs(a)).toEqual(xs.map((x) => mod(-x)));
  });

  it('add128 and sub128 equal the oracle on every pair of edge values (carries across every word), random values, size 0, in place', () => {
    const xs: bigint[] = [], ys: bigint[] = [];
    for (const x of EDGES) for (const y of EDGES) { xs.push(x); ys.push(y); }
    xs.push(...random(101));
    ys.push(...random(101));
    const out = new Uint32Array(4 * xs.length);
    NATIVE!.add128!(words(xs), words(ys), out);
    expect(bigs(out)).toEqual(xs.map((x, i) => mod(x + ys[i]!)));
    NATIVE!.sub128!(words(xs), words(ys), out);
    expect(bigs(out)).toEqual(xs.map((x, i) => mod(x - ys[i]!)));
    const b = words(ys);
    NATIVE!.sub128!(words(xs), b, b);
    expect(bigs(b)).toEqual(xs.map((x, i) => mod(x - ys[i]!)));
    NATIVE!.add128!(new Uint32Array(0), new Uint32Array(0), new Uint32Array(0));
  });

  it('refuses bad arguments with coded errors (MpcError through the RingKernels wrapper) and leaves out untouched', () => {
    const code = (fn: () => void): string | null => {
      try { fn(); } catch (e) { return isMpcError(e) ? `${e.code}: ${e.message}` : `not an MpcError: ${String(e)}`; }
      return null;
    };
    const out = new Uint32Array(8).fill(7);
    expect(code(() => NATIVE!.gemm128!(new Uint32Array(8), new Uint32Array(8), 2, 1, 2, out))).toBe('E_SHAPE: gemm128: expected out (4*m*n) of length 16, got 8');
    expect(code(() => NATIVE!.gemm128!(new BigUint64Array(4) as unknown as Uint32Array, new Uint32Array(4), 1, 1, 1, out))).toBe('E_DTYPE: gemm128: expected A to be a Uint32Array');
    expect(code(() => NATIVE!.gemm128!(new Uint32Array(4), new Uint32Array(4), 1, -1, 1, out))).toBe('E_BAD_ARGUMENT: gemm128: expected k to be an integer in [0, 1099511627776]');
    expect(code(() => NATIVE!.mul128!(new Uint32Array(6), new Uint32Array(6), new Uint32Array(6)))).toBe('E_SHAPE: mul128: expected a.length to be a multiple of 4 (4 words per element), got 6');
    expect(code(() => NATIVE!.mulScalar128!(new Uint32Array(8), new Uint32Array(2), out))).toBe('E_SHAPE: mulScalar128: expected s of length 4, got 2');
    expect(code(() => NATIVE!.add128!(new Uint32Array(8), new Uint32Array(4), out))).toBe('E_SHAPE: add128: expected b of length 8, got 4');
    expect(code(() => NATIVE!.sub128!(new Uint32Array(5), new Uint32Array(5), new Uint32Array(5)))).toBe('E_SHAPE: sub128: expected a.length to be a multiple of 4 (4 words per element), got 5');
    expect(Array.from(out)).toEqual(Array(8).fill(7));
  });
});
