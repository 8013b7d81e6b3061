/**
 * The ts and native kernels must agree bit for bit with the BigInt reference
 * on random inputs and on edge values (carries, 2^63, 2^64-1, divisors 1 and
 * 2^f, r = 2^64-1 with beta = 1, odd GEMM shapes). The reference is slow, so
 * its inputs stay small; large GEMMs compare ts with native and check a few
 * rows against the reference.
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MpcError } from '../errors.js';
import { configureNativeKernels, loadNativeAddon, loadNativeKernels, nativeKernelInfo, nativeLoadError } from '../../runtime/native-addon.js';
import { nativeKernelsFromAddon, type NativeAddon, type NativeSimd } from './native.js';
import { referenceKernels as ref } from './reference.js';
import { tsKernels } from './ts.js';
import type { RingKernels } from './types.js';

const NATIVE = loadNativeKernels();
const SKIP = NATIVE ? '' : ' [skipped: native addon not built or not loadable, reason under "native addon"]';
const M64 = (1n << 64n) - 1n;

/** Registers `title (ts)` and `title (native)`; the native one is skipped, with the reason, if the addon is not built. */
function both(title: string, fn: (k: RingKernels) => void): void {
  it(`${title} (ts)`, () => fn(tsKernels));
  it.skipIf(!NATIVE)(`${title} (native)${SKIP}`, () => fn(NATIVE!));
}

// ---- inputs ----
const EDGES: bigint[] = [0n, 1n, 2n, 3n, 0xffffn, 0x10000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 0x1234_5678_9abc_def0n,
  (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n, M64 - 2n, M64 - 1n, M64];

function rand64(n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  randomFillSync(a);
  return a;
}
function randBytes(n: number, below = 256): Uint8Array {
  const a = new Uint8Array(n);
  if (below === 256) randomFillSync(a);
  else for (let i = 0; i < n; i++) a[i] = randomInt(below);
  return a;
}
/** Edge values followed by random ones. */
function withEdges(extra: number): BigUint64Array {
  const a = rand64(EDGES.length + extra);
  a.set(EDGES);
  return a;
}
/** Every pair of edge values, then random pairs. */
function edgePairs(extra: number): [BigUint64Array, BigUint64Array] {
  const n = EDGES.length * EDGES.length;
  const a = rand64(n + extra), b = rand64(n + extra);
  for (let i = 0; i < EDGES.length; i++) for (let j = 0; j < EDGES.length; j++) { a[i * EDGES.length + j] = EDGES[i]!; b[i * EDGES.length + j] = EDGES[j]!; }
  return [a, b];
}
function permutations(n: number): Uint8Array {
  const p = new Uint8Array(n * 64);
  for (let e = 0; e < n; e++) {
    const o = e * 64;
    for (let i = 0; i < 64; i++) p[o + i] = i;
    for (let i = 63; i > 0; i--) { const j = randomInt(i + 1); const t = p[o + i]!; p[o + i] = p[o + j]!; p[o + j] = t; }
  }
  return p;
}

/** Bit-identical, or fail naming the first differing index. */
function same(actual: ArrayBufferView & { length: number }, expected: ArrayBufferView & { length: number }, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const x = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const y = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (x.equals(y)) return;
  const bytes = actual.byteLength / actual.length;
  let i = 0;
  while (x.subarray(i * bytes, (i + 1) * bytes).equals(y.subarray(i * bytes, (i + 1) * bytes))) i++;
  const a = actual as unknown as ArrayLike<unknown>, e = expected as unknown as ArrayLike<unknown>;
  expect.fail(`${what}: first difference at index ${i}: got ${String(a[i])}, expected ${String(e[i])}`);
}

function expectCode(fn: () => void, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

// ---- tests ----
describe('native addon', () => {
  it.skipIf(!!NATIVE)(`is missing: ${nativeLoadError() ?? ''}`, () => {});
  it.runIf(process.env.MPC_REQUIRE_NATIVE === '1')('is built and loads (MPC_REQUIRE_NATIVE=1)', () => {
    expect(nativeLoadError()).toBeNull();
    expect(NATIVE).not.toBeNull();
    expect(NATIVE!.name).toBe('native');
  });
  it.skipIf(!NATIVE)(`reports its GEMM kernel${SKIP}`, () => {
    const info = nativeKernelInfo()!;
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(info.simd);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });
});

describe('Z_2^64 elementwise', () => {
  for (const op of ['add', 'sub', 'mul'] as const) {
    both(`${op} matches the reference on all edge pairs and random values`, (k) => {
      const [a, b] = edgePairs(1000);
      const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
      ref[op](a, b, want);
      k[op](a, b, got);
      same(got, want, op);
      // out may alias an input
      const a2 = a.slice();
      k[op](a2, b, a2);
      same(a2, want, `${op} in place`);
    });
  }

  for (const op of ['mulScalar', 'addScalar'] as const) {
    both(`${op} matches the reference for edge and out-of-range scalars`, (k) => {
      const a = withEdges(500);
      const scalars = [...EDGES, -1n, -(1n << 63n), 1n << 64n, (1n << 70n) + 5n, BigInt.asUintN(64, rand64(1)[0]!)];
      for (const s of scalars) {
        const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
        ref[op](a, s, want);
        k[op](a, s, got);
        same(got, want, `${op}(s = ${s})`);
      }
    });
  }

  both('divShare matches the reference for both parties, broadcast and per-element divisors', (k) => {
    const a = withEdges(400);
    const divisors = [1, 2, 3, 7, 1 << 13, 1 << 16, 65535, 65537, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, randomInt(1, 2 ** 32 - 1), randomInt(1, 1000)];
    for (const party of [0, 1] as const) {
      for (const dv of divisors) {
        const d = Uint32Array.of(dv);
        const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
        ref.divShare(a, d, party, want);
        k.divShare(a, d, party, got);
        same(got, want, `divShare(party ${party}, d = ${dv})`);
      }
      const d = new Uint32Array(a.length);
      randomFillSync(d);
      for (let i = 0; i < d.length; i++) {
        if (i % 5 === 0) d[i] = 2 ** (i % 32);
        else if (i % 5 === 1) d[i] = 1 + (d[i]! % 300);
        if (d[i] === 0) d[i] = 1;
      }
      const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
      ref.divShare(a, d, party, want);
      k.divShare(a, d, party, got);
      same(got, want, `divShare(party ${party}, per-element)`);
      const inPlace = a.slice();
      k.divShare(inPlace, d, party, inPlace);
      same(inPlace, want, `divShare(party ${party}) in place`);
    }
  });

  both('sar matches the reference for shifts 0..100', (k) => {
    const a = withEdges(300);
    for (const f of [0, 1, 2, 13, 16, 31, 32, 33, 47, 62, 63, 64, 100]) {
      const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
      ref.sar(a, f, want);
      k.sar(a, f, got);
      same(got, want, `sar(f = ${f})`);
    }
  });

  both('wrap matches the reference on all edge pairs', (k) => {
    const [a, b] = edgePairs(1000);
    const want = new Uint8Array(a.length), got = new Uint8Array(a.length);
    ref.wrap(a, b, want);
    k.wrap(a, b, got);
    same(got, want, 'wrap');
  });
});

describe('elementwise ops with out overlapping an input, shifted', () => {
  type Op = (k: RingKernels, a: BigUint64Array, b: BigUint64Array, out: BigUint64Array) => void;
  const ops: [string, Op][] = [
    ['add', (k, a, b, o) => k.add(a, b, o)],
    ['sub', (k, a, b, o) => k.sub(a, b, o)],
    ['mul', (k, a, b, o) => k.mul(a, b, o)],
    ['addOdd', (k, a, b, o) => k.addOdd(a, b, o)],
    ['subOdd', (k, a, b, o) => k.subOdd(a, b, o)],
    ['reduceOdd', (k, a, _b, o) => k.reduceOdd(a, o)],
    ['mulScalar', (k, a, _b, o) => k.mulScalar(a, 0x1234_5678_9abc_def1n, o)],
    ['sar 0', (k, a, _b, o) => k.sar(a, 0, o)],
    ['sar 40', (k, a, _b, o) => k.sar(a, 40, o)],
    ['divShare 1', (k, a, _b, o) => k.divShare(a, Uint32Array.of(1), 1, o)],
    ['divShare 2^13', (k, a, _b, o) => k.divShare(a, Uint32Array.of(1 << 13), 1, o)],
    ['divShare 7', (k, a, _b, o) => k.divShare(a, Uint32Array.of(7), 0, o)],
  ];
  both('give the results of the reference loop (element i read before out[i] is written)', (k) => {
    const n = 40;
    const init = withEdges(n + 3 - EDGES.length);
    const b = rand64(n);
    for (const [name, op] of ops) {
      for (const shift of [1, -1, 3, -3]) {
        const run = (kk: RingKernels): BigUint64Array => {
          const buf = init.slice();
          const a = shift > 0 ? buf.subarray(0, n) : buf.subarray(-shift, n - shift);
          const out = shift > 0 ? buf.subarray(shift, n + shift) : buf.subarray(0, n);
          op(kk, a, b, out);
          return buf;
        };
        same(run(k), run(ref), `${name} shift ${shift}`);
      }
    }
  });
});

describe('Z_{2^64-1} elementwise', () => {
  for (const op of ['addOdd', 'subOdd'] as const) {
    both(`${op} matches the reference, including unreduced inputs 2^64-1`, (k) => {
      const [a, b] = edgePairs(1000);
      const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
      ref[op](a, b, want);
      k[op](a, b, got);
      same(got, want, op);
      const b2 = b.slice();
      k[op](a, b2, b2);
      same(b2, want, `${op} in place`);
    });
  }
  both('reduceOdd maps 2^64-1 to 0 and keeps the rest', (k) => {
    const a = withEdges(300);
    const want = new BigUint64Array(a.length), got = new BigUint64Array(a.length);
    ref.reduceOdd(a, want);
    k.reduceOdd(a, got);
    same(got, want, 'reduceOdd');
  });
});

describe('gemm', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 5, 1], [7, 13, 5], [2, 3, 9], [9, 1, 4], [33, 65, 17], [8, 16, 16], [17, 33, 40]];
  both('matches the reference on odd shapes', (k) => {
    for (const [m, kk, n] of shapes) {
      const A = rand64(m * kk), B = rand64(kk * n);
      const want = new BigUint64Array(m * n), got = new BigUint64Array(m * n);
      ref.gemm(A, B, m, kk, n, want);
      k.gemm(A, B, m, kk, n, got);
      same(got, want, `gemm ${m}x${kk}x${n}`);
    }
  });

  both('matches the reference on edge values (all 2^64-1, mixed carries, k past the TS block)', (k) => {
    for (const [m, kk, n, fill] of [[5, 7, 3, M64], [3, 1100, 5, M64], [4, 600, 6, -1n], [6, 9, 11, 0n]] as const) {
      const A = rand64(m * kk), B = rand64(kk * n);
      if (fill === M64) { A.fill(M64); B.fill(M64); } else if (fill === 0n) A.fill(0n);
      else for (let i = 0; i < A.length; i++) { A[i] = EDGES[i % EDGES.length]!; B[i % B.length] = EDGES[(i * 7) % EDGES.length]!; }
      const want = new BigUint64Array(m * n), got = new BigUint64Array(m * n);
      ref.gemm(A, B, m, kk, n, want);
      k.gemm(A, B, m, kk, n, got);
      same(got, want, `gemm ${m}x${kk}x${n} edges`);
    }
  });

  both('handles empty dimensions (k = 0 gives zeros)', (k) => {
    const out = rand64(6);
    k.gemm(new BigUint64Array(0), new BigUint64Array(0), 2, 0, 3, out);
    same(out, new BigUint64Array(6), 'gemm k = 0');
    k.gemm(new BigUint64Array(0), rand64(12), 0, 4, 3, new BigUint64Array(0));
  });

  it.skipIf(!NATIVE)(`128x300x64 and 128x300x128: native = ts, and sampled rows = reference${SKIP}`, () => {
    for (const [m, kk, n] of [[128, 300, 64], [128, 300, 128]] as const) {
      const A = rand64(m * kk), B = rand64(kk * n);
      const t = new BigUint64Array(m * n), nat = new BigUint64Array(m * n);
      tsKernels.gemm(A, B, m, kk, n, t);
      NATIVE!.gemm(A, B, m, kk, n, nat);
      same(nat, t, `gemm ${m}x${kk}x${n} native vs ts`);
      for (const row of [0, 1, 63, m - 1]) {
        const want = new BigUint64Array(n);
        ref.gemm(A.subarray(row * kk, (row + 1) * kk), B, 1, kk, n, want);
        same(t.subarray(row * n, (row + 1) * n), want, `gemm ${m}x${kk}x${n} row ${row}`);
      }
    }
  });
});

describe('im2col', () => {
  const outSize = (h: number, k: number, s: number, pa: number, pb: number): number => Math.floor((h + pa + pb - k) / s) + 1;
  // [N, H, W, C, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight]
  const cases: number[][] = [
    [1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1],
    [2, 5, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1],
    [2, 7, 6, 2, 3, 2, 2, 2, 0, 0, 0, 0],
    [1, 6, 6, 4, 2, 2, 2, 2, 0, 0, 0, 0],
    [1, 4, 5, 2, 5, 5, 1, 1, 2, 2, 2, 2],
    [1, 3, 3, 1, 5, 4, 1, 2, 3, 2, 3, 3],
    [1, 9, 8, 16, 3, 3, 2, 1, 0, 1, 1, 1],
    [1, 1, 1, 5, 1, 1, 1, 1, 0, 0, 0, 0],
  ];
  both('matches the reference with padding, strides and windows larger than the image', (k) => {
    for (const [N, H, W, C, kh, kw, sh, sw, pt, pl, pb, pr] of cases as [number, number, number, number, number, number, number, number, number, number, number, number][]) {
      const outH = outSize(H, kh, sh, pt, pb), outW = outSize(W, kw, sw, pl, pr);
      const x = rand64(N * H * W * C);
      const len = N * outH * outW * kh * kw * C;
      const want = new BigUint64Array(len), got = rand64(len);
      ref.im2col(x, N, H, W, C, kh, kw, sh, sw, pt, pl, outH, outW, want);
      k.im2col(x, N, H, W, C, kh, kw, sh, sw, pt, pl, outH, outW, got);
      same(got, want, `im2col ${[N, H, W, C, kh, kw, sh, sw, pt, pl, pb, pr].join(',')}`);
    }
  });
});

describe('depthwise', () => {
  const outSize = (h: number, k: number, s: number, pa: number, pb: number): number => Math.floor((h + pa + pb - k) / s) + 1;
  // [N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight]
  const cases: number[][] = [
    [1, 5, 5, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1],
    [2, 7, 6, 4, 1, 3, 3, 2, 2, 0, 0, 1, 1],
    [1, 6, 5, 2, 3, 3, 2, 1, 2, 1, 0, 1, 1],
    [1, 4, 5, 2, 1, 5, 5, 1, 1, 2, 2, 2, 2],
    [1, 3, 3, 1, 2, 5, 4, 1, 2, 3, 2, 3, 3],
    [1, 9, 8, 17, 1, 5, 5, 2, 2, 1, 1, 2, 2],
    [1, 1, 1, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0],
  ];
  both('matches the reference with padding, strides, depth multipliers and windows larger than the image', (k) => {
    for (const [N, H, W, C, dm, kh, kw, sh, sw, pt, pl, pb, pr] of cases as [number, number, number, number, number, number, number, number, number, number, number, number, number][]) {
      const outH = outSize(H, kh, sh, pt, pb), outW = outSize(W, kw, sw, pl, pr);
      const x = rand64(N * H * W * C), w = rand64(kh * kw * C * dm);
      // Edge values in both operands (carries, 2^63, 2^64 - 1).
      x.set(EDGES.slice(0, Math.min(EDGES.length, x.length)));
      w.set(EDGES.slice(0, Math.min(EDGES.length, w.length)).reverse());
      const len = N * outH * outW * C * dm;
      const want = new BigUint64Array(len), got = rand64(len);
      ref.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, pt, pl, outH, outW, want);
      k.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, pt, pl, outH, outW, got);
      same(got, want, `depthwise ${[N, H, W, C, dm, kh, kw, sh, sw, pt, pl, pb, pr].join(',')}`);
    }
  });
  both('all operands 2^64 - 1: every product is 1, so each output counts its taps inside the image', (k) => {
    const [N, H, W, C, kh, kw] = [1, 4, 4, 2, 3, 3];
    const x = new BigUint64Array(N * H * W * C).fill(M64), w = new BigUint64Array(kh * kw * C).fill(M64);
    const got = rand64(N * H * W * C);
    k.depthwise(x, w, N, H, W, C, 1, kh, kw, 1, 1, 1, 1, H, W, got);
    // Corner pixels see 4 taps, edge pixels 6, inner pixels 9.
    expect(Array.from(got.subarray(0, 2))).toEqual([4n, 4n]);
    expect(Array.from(got.subarray(2, 4))).toEqual([6n, 6n]);
    expect(Array.from(got.subarray(2 * (W + 1), 2 * (W + 1) + 2))).toEqual([9n, 9n]);
  });
});

describe('depthwise on an addon built before it existed', () => {
  it.skipIf(!loadNativeAddon())(`a stale addon without depthwise gets the TS kernel (same result), not a TypeError${SKIP}`, () => {
    const stale = { ...loadNativeAddon()!, depthwise: undefined } as unknown as NativeAddon;
    const k = nativeKernelsFromAddon(stale);
    const x = rand64(2 * 5 * 4 * 3), w = rand64(3 * 3 * 3), want = new BigUint64Array(2 * 3 * 2 * 3), got = rand64(want.length);
    ref.depthwise(x, w, 2, 5, 4, 3, 1, 3, 3, 2, 2, 1, 1, 3, 2, want);
    k.depthwise(x, w, 2, 5, 4, 3, 1, 3, 3, 2, 2, 1, 1, 3, 2, got);
    same(got, want, 'depthwise via a stale addon');
  });
});

describe('Z_p kernels (PrivateCompare)', () => {
  both('bitShareZp matches the reference for edge values and any byte r', (k) => {
    const x = withEdges(100);
    for (const below of [67, 256]) {
      const r = randBytes(x.length * 64, below);
      const want = new Uint8Array(r.length), got = new Uint8Array(r.length);
      ref.bitShareZp(x, r, want);
      k.bitShareZp(x, r, got);
      same(got, want, `bitShareZp (r < ${below})`);
    }
  });

  both('privateCompare matches the reference for j = 0, 1, beta = 0, 1, including r = 2^64-1', (k) => {
    const n = 2 * EDGES.length + 80;
    const r = rand64(n);
    const beta = randBytes(n, 2);
    for (let i = 0; i < EDGES.length; i++) {
      r[i] = EDGES[i]!; beta[i] = 0;
      r[EDGES.length + i] = EDGES[i]!; beta[EDGES.length + i] = 1;
    }
    r[n - 1] = M64; beta[n - 1] = 1;
    r[n - 2] = M64; beta[n - 2] = 0;
    for (const xBelow of [67, 256]) for (const j of [0, 1] as const) {
      const xb = randBytes(n * 64, xBelow);
      const s = randBytes(n * 64, 66).map((v) => v + 1);
      const u = randBytes(n * 64, 67);
      const perm = permutations(n);
      const want = new Uint8Array(n * 64), got = new Uint8Array(n * 64);
      ref.privateCompare(j, xb, r, beta, s, u, perm, want);
      k.privateCompare(j, xb, r, beta, s, u, perm, got);
      same(got, want, `privateCompare(j = ${j}, xb < ${xBelow})`);
    }
  });

  both('privateCompare accepts u = null when no element has beta = 1 and r = 2^64-1', (k) => {
    const n = 50;
    const r = rand64(n);
    r[0] = M64;
    const beta = randBytes(n, 2);
    beta[0] = 0;
    for (let i = 1; i < n; i++) if (r[i] === M64) r[i] = 0n;
    const xb = randBytes(n * 64, 67), s = randBytes(n * 64, 66).map((v) => v + 1), perm = permutations(n);
    const want = new Uint8Array(n * 64), got = new Uint8Array(n * 64);
    ref.privateCompare(1, xb, r, beta, s, null, perm, want);
    k.privateCompare(1, xb, r, beta, s, null, perm, got);
    same(got, want, 'privateCompare(u = null)');
  });

  both('zeroTest matches the reference', (k) => {
    const n = 300;
    for (const below of [67, 256]) {
      const d0 = randBytes(n * 64, below), d1 = randBytes(n * 64, below);
      // one group with no zero sum and one with exactly one, for sure
      for (let i = 0; i < 64; i++) { d0[i] = 1; d1[i] = 1; d0[64 + i] = 2; d1[64 + i] = 3; }
      d1[64 + 17] = 65;
      const want = new Uint8Array(n), got = new Uint8Array(n);
      ref.zeroTest(d0, d1, want);
      k.zeroTest(d0, d1, got);
      same(got, want, `zeroTest (< ${below})`);
      expect(got[0]).toBe(0);
      expect(got[1]).toBe(1);
    }
  });
});

describe('misuse fails with a registry code', () => {
  both('length, type and argument errors', (k) => {
    const a = rand64(4), b = rand64(3), o = new BigUint64Array(4);
    expectCode(() => k.add(a, b, o), 'E_SHAPE');
    expectCode(() => k.mul(a, a, new BigUint64Array(5)), 'E_SHAPE');
    expectCode(() => k.add(a, new Float64Array(4) as unknown as BigUint64Array, o), 'E_DTYPE');
    expectCode(() => k.wrap(a, a, new Uint32Array(4) as unknown as Uint8Array), 'E_DTYPE');
    expectCode(() => k.divShare(a, Uint32Array.of(0), 0, o), 'E_BAD_ARGUMENT');
    expectCode(() => k.divShare(a, new Uint32Array(2).fill(1), 0, o), 'E_SHAPE');
    expectCode(() => k.divShare(a, Uint32Array.of(2), 2 as 0, o), 'E_BAD_ARGUMENT');
    expectCode(() => k.sar(a, -1, o), 'E_BAD_ARGUMENT');
    expectCode(() => k.sar(a, 1.5, o), 'E_BAD_ARGUMENT');
    expectCode(() => k.gemm(a, a, 2, 2, 3, o), 'E_SHAPE');
    expectCode(() => k.gemm(a, a, 2, 2, 2, a), 'E_BAD_ARGUMENT');
    const buf = rand64(8);
    expectCode(() => k.gemm(buf.subarray(0, 4), a, 2, 2, 2, buf.subarray(2, 6)), 'E_BAD_ARGUMENT');
    k.gemm(buf.subarray(0, 4), a, 2, 2, 2, buf.subarray(4, 8)); // adjacent, not overlapping
    expectCode(() => k.im2col(a, 1, 2, 2, 1, 1, 1, 0, 1, 0, 0, 2, 2, o), 'E_BAD_ARGUMENT');
    expectCode(() => k.im2col(a, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, 2, 3, o), 'E_SHAPE');
    const w1 = rand64(1);
    expectCode(() => k.depthwise(a, w1, 1, 2, 2, 1, 1, 1, 1, 0, 1, 0, 0, 2, 2, o), 'E_BAD_ARGUMENT'); // sh = 0
    expectCode(() => k.depthwise(a, a, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, o), 'E_SHAPE'); // w: 4 elements for a 1x1 kernel
    expectCode(() => k.depthwise(a, w1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, a), 'E_BAD_ARGUMENT'); // out overlaps x
    expectCode(() => k.depthwise(a, w1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, rand64(1)), 'E_SHAPE'); // out: 1 element for 4
    k.depthwise(a, w1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, o); // the same call with valid arguments passes
    expectCode(() => k.bitShareZp(a, new Uint8Array(256), new Uint8Array(255)), 'E_SHAPE');
    expectCode(() => k.zeroTest(new Uint8Array(64), new Uint8Array(64), new Uint8Array(2)), 'E_SHAPE');
    const n = 2, z = (): Uint8Array => new Uint8Array(n * 64), r = BigUint64Array.of(M64, 0n);
    expectCode(() => k.privateCompare(0, z(), r, Uint8Array.of(1, 0), z(), null, permutations(n), z()), 'E_BAD_ARGUMENT');
    const badPerm = permutations(n);
    badPerm[70] = 64;
    expectCode(() => k.privateCompare(0, z(), r, Uint8Array.of(0, 0), z(), null, badPerm, z()), 'E_BAD_ARGUMENT');
    expectCode(() => k.privateCompare(0, z(), r, Uint8Array.of(0), z(), null, permutations(n), z()), 'E_SHAPE');
    const xbuf = z();
    expectCode(() => k.privateCompare(0, xbuf, r, Uint8Array.of(0, 0), z(), null, permutations(n), xbuf), 'E_BAD_ARGUMENT');
    expectCode(() => k.mulScalar(a, 3 as unknown as bigint, o), 'E_BAD_ARGUMENT');
  });
});

describe('native SIMD paths', () => {
  /** Runs fn once per SIMD level the CPU has (x86: scalar, avx2, avx512; arm64: scalar, neon) and thread count, restoring the settings after. */
  function eachPath(fn: (label: string) => void): void {
    const before = nativeKernelInfo()!;
    const all: readonly NativeSimd[] = before.detectedSimd === 'neon' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512'];
    expect(all).toContain(before.detectedSimd);
    try {
      for (const simd of all.slice(0, all.indexOf(before.detectedSimd) + 1)) {
        for (const threads of [1, 2, 3]) {
          configureNativeKernels({ simd, threads });
          fn(`simd=${simd} threads=${threads}`);
        }
      }
    } finally {
      configureNativeKernels({ simd: before.simd, threads: before.threads });
    }
  }

  // A product splits into bands (threads) only from 2^22 multiply-adds per band (gemm.h bandCount): the last three
  // shapes (over 3 * 2^22) split into 2 and 3 bands, by rows and by columns, with A read in place, a packed partial row
  // panel in the last band and the Winograd row terms in each thread's own buffer; the others run on one thread.
  it.skipIf(!NATIVE)(`gemm gives the same bits on every path, threaded or not, with few rows and narrow B${SKIP}`, () => {
    for (const [m, kk, n] of [[130, 257, 131], [1, 70, 260], [3, 70, 33], [4, 9, 5], [5, 17, 3], [100, 40, 7], [67, 5, 9], [64, 256, 300], [301, 161, 270], [301, 261, 170], [37, 341, 1030]] as const) {
      const A = rand64(m * kk), B = rand64(kk * n);
      const t = new BigUint64Array(m * n);
      tsKernels.gemm(A, B, m, kk, n, t);
      if (m * kk * n < 20_000) {
        const want = new BigUint64Array(m * n);
        ref.gemm(A, B, m, kk, n, want);
        same(t, want, `gemm ${m}x${kk}x${n} ts`);
      }
      eachPath((label) => {
        const out = rand64(m * n);
        NATIVE!.gemm(A, B, m, kk, n, out);
        same(out, t, `gemm ${m}x${kk}x${n} ${label}`);
      });
    }
  });

  // Winograd's pairing (AVX2, NEON, scalar) has a row and a column term per k
  // block and a plain step when the block's k is odd: k = 1, 2, odd k past one
  // block (KC = 256; 512 for AVX2 where the L1 data cache holds 48 KiB), k an
  // exact number of blocks, tiles cut at every edge (AVX2 2x8 and 4x4 for
  // n <= 4, 8x16, 16x8), few rows (m <= 4, past the 512-column block of that
  // loop), and inputs that carry in every half product (all ones
  // past 512 steps: the 32-bit cross-product sums wrap, exactly mod 2^32).
  it.skipIf(!NATIVE)(`gemm equals the reference on every path for edge values, k = 1, odd k past a block, tile remainders${SKIP}`, () => {
    const shapes: [number, number, number][] = [[6, 1, 5], [5, 2, 4], [9, 257, 7], [13, 513, 10], [7, 3, 17], [17, 9, 9], [5, 256, 4], [5, 1024, 8], [7, 1025, 9], [6, 1025, 4], [1, 1025, 9], [4, 513, 130], [3, 7, 515]];
    for (const [m, kk, n] of shapes) {
      for (const fill of ['ones', 'edges', 'zeroA'] as const) {
        const A = rand64(m * kk), B = rand64(kk * n);
        if (fill === 'ones') { A.fill(M64); B.fill(M64); }
        else if (fill === 'zeroA') A.fill(0n);
        else { for (let i = 0; i < A.length; i++) A[i] = EDGES[(i * 5 + 1) % EDGES.length]!; for (let i = 0; i < B.length; i++) B[i] = EDGES[(i * 3) % EDGES.length]!; }
        const want = new BigUint64Array(m * n);
        ref.gemm(A, B, m, kk, n, want);
        eachPath((label) => {
          const out = rand64(m * n);
          NATIVE!.gemm(A, B, m, kk, n, out);
          same(out, want, `gemm ${m}x${kk}x${n} ${fill} ${label}`);
        });
      }
    }
  });

  // AVX2 and AVX-512 read the full row panels of A in place (no packed copy; gemm-kernels.h KernelDirectFn) and
  // pack only a last partial one; the Winograd kernel sums its row terms in the first column panel of each block.
  // Rows past a row block (MC 96 / 128) with and without a partial panel, columns past a column block (NC 512 /
  // 1024: the row terms summed again), k past a k block with an odd last step, narrow B (16 x 8 tiles).
  it.skipIf(!NATIVE)(`gemm reading A in place equals the TS kernels on every path, with carries in every half product${SKIP}`, () => {
    for (const [m, kk, n] of [[9, 261, 1030], [200, 515, 20], [203, 97, 36], [40, 300, 8]] as const) {
      for (const fill of ['random', 'ones'] as const) {
        const A = rand64(m * kk), B = rand64(kk * n);
        if (fill === 'ones') { A.fill(M64); B.fill(M64); A[0] = 0n; B[B.length - 1] = 1n; }
        const t = new BigUint64Array(m * n);
        tsKernels.gemm(A, B, m, kk, n, t);
        eachPath((label) => {
          const out = rand64(m * n);
          NATIVE!.gemm(A, B, m, kk, n, out);
          same(out, t, `gemm ${m}x${kk}x${n} ${fill} ${label}`);
        });
      }
    }
  });

  it.skipIf(!NATIVE)(`Z_p kernels give the reference's bytes on every path${SKIP}`, () => {
    const n = 70;
    const x = withEdges(n - EDGES.length), r = withEdges(n - EDGES.length);
    r[n - 1] = M64;
    const beta = randBytes(n, 2);
    beta[n - 1] = 1;
    beta[EDGES.length - 1] = 0;
    const rb = randBytes(n * 64), xb = randBytes(n * 64), s = randBytes(n * 64), u = randBytes(n * 64, 67), perm = permutations(n);
    const d0 = randBytes(n * 64), d1 = randBytes(n * 64, 67);
    const wantBits = new Uint8Array(n * 64), wantD = [new Uint8Array(n * 64), new Uint8Array(n * 64)], wantZ = new Uint8Array(n);
    ref.bitShareZp(x, rb, wantBits);
    for (const j of [0, 1] as const) ref.privateCompare(j, xb, r, beta, s, u, perm, wantD[j]!);
    ref.zeroTest(d0, d1, wantZ);
    eachPath((label) => {
      const bits = new Uint8Array(n * 64), z = new Uint8Array(n);
      NATIVE!.bitShareZp(x, rb, bits);
      same(bits, wantBits, `bitShareZp ${label}`);
      for (const j of [0, 1] as const) {
        const d = new Uint8Array(n * 64);
        NATIVE!.privateCompare(j, xb, r, beta, s, u, perm, d);
        same(d, wantD[j]!, `privateCompare j=${j} ${label}`);
      }
      NATIVE!.zeroTest(d0, d1, z);
      same(z, wantZ, `zeroTest ${label}`);
    });
  });

  it.skipIf(!NATIVE)(`narrow Z_p kernels give the reference's bytes on every path${SKIP}`, () => {
    const n = 90;
    const x = withEdges(n - EDGES.length), r = rand64(n).map((v) => v & 0x7fffffffn), beta = randBytes(n, 2), rot = randBytes(n);
    r[0] = 0n; r[1] = (1n << 31n) - 1n; beta[1] = 1;
    const rb = randBytes(n * 32, 67), xb = randBytes(n * 32, 67), s = randBytes(n * 32, 66).map((v) => v + 1), mask = randBytes(n * 32, 67);
    const d0 = randBytes(n * 32, 67), d1 = randBytes(n * 32, 67);
    const wantBits = new Uint8Array(n * 32), wantD = [new Uint8Array(n * 32), new Uint8Array(n * 32)], wantZ = new Uint8Array(n);
    ref.bitShareZp32(x, rb, wantBits);
    for (const j of [0, 1] as const) ref.privateCompare32(j, xb, r, beta, s, rot, mask, wantD[j]!);
    ref.zeroTest32(d0, d1, wantZ);
    eachPath((label) => {
      const bits = new Uint8Array(n * 32), z = new Uint8Array(n);
      NATIVE!.bitShareZp32(x, rb, bits);
      same(bits, wantBits, `bitShareZp32 ${label}`);
      for (const j of [0, 1] as const) {
        const d = new Uint8Array(n * 32);
        NATIVE!.privateCompare32(j, xb, r, beta, s, rot, mask, d);
        same(d, wantD[j]!, `privateCompare32 j=${j} ${label}`);
      }
      NATIVE!.zeroTest32(d0, d1, z);
      same(z, wantZ, `zeroTest32 ${label}`);
    });
  });

  it.skipIf(!NATIVE)(`privateCompareR4 gives the reference's bytes on every path for any input bytes, odd n, mixed beta and rotations${SKIP}`, () => {
    // The AVX-512 kernel runs two elements per register (beta and rotation per half) and the odd last one alone;
    // full-range bytes for xl, s and mask check that its 16-bit intermediates hold for any input, not only Z_p values.
    for (const n of [1, 3, 37]) {
      const r = rand64(n).map((v) => v & 0x7fffffffn), beta = randBytes(n), rot = randBytes(n);
      r[0] = (1n << 31n) - 1n;
      const xl = randBytes(n * 48), sv = randBytes(n * 16), mask = randBytes(n * 16);
      const want = [new Uint8Array(n * 16), new Uint8Array(n * 16)];
      for (const j of [0, 1] as const) ref.privateCompareR4(j, xl, r, beta, sv, rot, mask, want[j]!);
      eachPath((label) => {
        for (const j of [0, 1] as const) {
          const d = new Uint8Array(n * 16);
          NATIVE!.privateCompareR4(j, xl, r, beta, sv, rot, mask, d);
          same(d, want[j]!, `privateCompareR4 n=${n} j=${j} ${label}`);
        }
      });
    }
  });

  it.skipIf(!NATIVE)(`radix-4 Z_p kernels give the reference's bytes on every path${SKIP}`, () => {
    const n = 90;
    const x = withEdges(n - EDGES.length), r = rand64(n).map((v) => v & 0x7fffffffn), beta = randBytes(n, 2), rot = randBytes(n);
    r[0] = 0n; r[1] = (1n << 31n) - 1n; beta[1] = 1; r[2] = 0x55555555n; r[3] = 0x2aaaaaaan;
    const rb = randBytes(n * 48), xl = randBytes(n * 48, 67), sv = randBytes(n * 16, 66).map((v) => v + 1), mask = randBytes(n * 16, 67);
    const d0 = randBytes(n * 16, 67), d1 = randBytes(n * 16, 67);
    const wantL = new Uint8Array(n * 48), wantD = [new Uint8Array(n * 16), new Uint8Array(n * 16)], wantZ = new Uint8Array(n);
    ref.digitShareZp16(x, rb, wantL);
    for (const j of [0, 1] as const) ref.privateCompareR4(j, xl, r, beta, sv, rot, mask, wantD[j]!);
    ref.zeroTest16(d0, d1, wantZ);
    eachPath((label) => {
      const l = new Uint8Array(n * 48), z = new Uint8Array(n);
      NATIVE!.digitShareZp16(x, rb, l);
      same(l, wantL, `digitShareZp16 ${label}`);
      for (const j of [0, 1] as const) {
        const d = new Uint8Array(n * 16);
        NATIVE!.privateCompareR4(j, xl, r, beta, sv, rot, mask, d);
        same(d, wantD[j]!, `privateCompareR4 j=${j} ${label}`);
      }
      NATIVE!.zeroTest16(d0, d1, z);
      same(z, wantZ, `zeroTest16 ${label}`);
    });
  });
});

describe('narrow Z_p kernels (32 positions, r < 2^31): ts and native equal the padded wide reference', () => {
  const EDGE31 = [0n, 1n, 2n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, (1n << 30n) - 1n, 1n << 30n, (1n << 31n) - 2n, (1n << 31n) - 1n];
  function r31(n: number): BigUint64Array {
    const r = rand64(n);
    for (let i = 0; i < n; i++) r[i] = r[i]! & 0x7fffffffn;
    return r;
  }

  both('bitShareZp32 matches the reference (bits 0..31, higher bits ignored)', (k) => {
    const x = withEdges(100);
    for (const below of [67, 256]) {
      const r = randBytes(x.length * 32, below);
      const want = new Uint8Array(r.length), got = new Uint8Array(r.length);
      ref.bitShareZp32(x, r, want);
      k.bitShareZp32(x, r, got);
      same(got, want, `bitShareZp32 (r < ${below})`);
    }
  });

  both('privateCompare32 matches the reference for j = 0, 1, beta = 0, 1, every rotation, r = 0 and r = 2^31-1', (k) => {
    const n = 2 * EDGE31.length + 32 + 3000;
    const r = r31(n), beta = randBytes(n, 2), rot = randBytes(n);
    EDGE31.forEach((v, i) => { r[i] = v; beta[i] = 0; r[EDGE31.length + i] = v; beta[EDGE31.length + i] = 1; });
    for (let i = 0; i < 32; i++) rot[2 * EDGE31.length + i] = i;
    for (const j of [0, 1] as const) {
      const xb = randBytes(n * 32, 67), s = randBytes(n * 32, 66).map((v) => v + 1), mask = randBytes(n * 32, 67);
      const want = new Uint8Array(n * 32), got = new Uint8Array(n * 32);
      ref.privateCompare32(j, xb, r, beta, s, rot, mask, want);
      k.privateCompare32(j, xb, r, beta, s, rot, mask, got);
      same(got, want, `privateCompare32(j = ${j})`);
    }
  });

  both('privateCompare32 with P2\'s zero test decides x > r for shared bits of x', (k) => {
    // End to end through the kernels alone: P2 sees a zero exactly where beta XOR (x > r) = 1.
    const n = 400;
    const x = r31(n), r = r31(n), beta = randBytes(n, 2), rot = randBytes(n);
    for (let i = 0; i < 20; i++) r[i] = x[i]!; // ties: x > r is false
    const xb0 = randBytes(n * 32, 67), xb1 = new Uint8Array(n * 32);
    k.bitShareZp32(x, xb0, xb1); // xb1 = bits - xb0: shares of the bits
    const s = randBytes(n * 32, 66).map((v) => v + 1), mask = randBytes(n * 32, 67);
    const d0 = new Uint8Array(n * 32), d1 = new Uint8Array(n * 32), out = new Uint8Array(n);
    k.privateCompare32(0, xb0, r, beta, s, rot, mask, d0);
    k.privateCompare32(1, xb1, r, beta, s, rot, mask, d1);
    k.zeroTest32(d0, d1, out);
    for (let e = 0; e < n; e++) expect(out[e], `element ${e}`).toBe(beta[e]! ^ (x[e]! > r[e]! ? 1 : 0));
  });

  both('privateCompare32 refuses r >= 2^31 with E_BAD_ARGUMENT', (k) => {
    const n = 3, r = BigUint64Array.of(0n, 1n << 31n, 5n);
    expectCode(() => k.privateCompare32(0, new Uint8Array(n * 32), r, new Uint8Array(n), new Uint8Array(n * 32).fill(1), new Uint8Array(n), new Uint8Array(n * 32), new Uint8Array(n * 32)), 'E_BAD_ARGUMENT');
    expectCode(() => k.privateCompare32(0, new Uint8Array(n * 32), BigUint64Array.of(1n), new Uint8Array(1), new Uint8Array(32), new Uint8Array(1), new Uint8Array(32), new Uint8Array(64)), 'E_SHAPE');
  });

  // Radix-4 rows (kernels/radix4.ts; the reference is that plain file, so the native kernels are checked against it and all against x > r).
  both('digitShareZp16, privateCompareR4 and zeroTest16 match the reference (j = 0, 1, beta = 0, 1, every rotation, r = 0 and 2^31-1)', (k) => {
    const n = 2 * EDGE31.length + 16 + 3000;
    const x = withEdges(n - 100 > 0 ? 100 : n);
    for (const below of [67, 256]) {
      const rb = randBytes(x.length * 48, below), want = new Uint8Array(rb.length), got = new Uint8Array(rb.length);
      ref.digitShareZp16(x, rb, want);
      k.digitShareZp16(x, rb, got);
      same(got, want, `digitShareZp16 (r < ${below})`);
    }
    const r = r31(n), beta = randBytes(n, 2), rot = randBytes(n);
    EDGE31.forEach((v, i) => { r[i] = v; beta[i] = 0; r[EDGE31.length + i] = v; beta[EDGE31.length + i] = 1; });
    for (let i = 0; i < 16; i++) rot[2 * EDGE31.length + i] = i;
    for (const j of [0, 1] as const) {
      const xl = randBytes(n * 48, 67), sv = randBytes(n * 16, 66).map((v) => v + 1), mask = randBytes(n * 16, 67);
      const want = new Uint8Array(n * 16), got = new Uint8Array(n * 16);
      ref.privateCompareR4(j, xl, r, beta, sv, rot, mask, want);
      k.privateCompareR4(j, xl, r, beta, sv, rot, mask, got);
      same(got, want, `privateCompareR4(j = ${j})`);
    }
    const d0 = randBytes(n * 16, 256), d1 = randBytes(n * 16, 256);
    for (let i = 0; i < 16; i++) { d0[i] = 1; d1[i] = 1; d0[16 + i] = 2; d1[16 + i] = 3; }
    d1[16 + 9] = 65;
    const wz = new Uint8Array(n), gz = new Uint8Array(n);
    ref.zeroTest16(d0, d1, wz);
    k.zeroTest16(d0, d1, gz);
    same(gz, wz, 'zeroTest16');
    expect([gz[0], gz[1]]).toEqual([0, 1]);
  });

  both('privateCompareR4 with P2\'s zero test decides x > r for dealt digit shares of x (ties, neighbours, 0 and 2^31-1 included)', (k) => {
    const n = 600;
    const x = r31(n), r = r31(n), beta = randBytes(n, 2), rot = randBytes(n);
    const TOP = (1n << 31n) - 1n;
    const pairs: [bigint, bigint][] = [[0n, 0n], [0n, TOP], [TOP, 0n], [TOP, TOP], [TOP, TOP - 1n], [TOP - 1n, TOP], [5n, 4n], [4n, 5n], [0x55555555n, 0x55555554n], [0x2aaaaaaan, 0x2aaaaaabn], [3n, 3n], [1n << 30n, (1n << 30n) - 1n]];
    pairs.forEach(([a, b], i) => { for (const be of [0, 1]) { x[2 * i + be] = a; r[2 * i + be] = b; beta[2 * i + be] = be; } });
    for (let i = 30; i < 60; i++) r[i] = x[i]!; // more ties
    const xl0 = randBytes(n * 48, 67), xl1 = new Uint8Array(n * 48);
    k.digitShareZp16(x, xl0, xl1); // xl1 = [digit <= u] - xl0: shares of the prefix indicators
    const sv = randBytes(n * 16, 66).map((v) => v + 1), mask = randBytes(n * 16, 67);
    const d0 = new Uint8Array(n * 16), d1 = new Uint8Array(n * 16), out = new Uint8Array(n);
    k.privateCompareR4(0, xl0, r, beta, sv, rot, mask, d0);
    k.privateCompareR4(1, xl1, r, beta, sv, rot, mask, d1);
    k.zeroTest16(d0, d1, out);
    for (let e = 0; e < n; e++) expect(out[e], `element ${e}: x = ${x[e]}, r = ${r[e]}, beta = ${beta[e]}`).toBe(beta[e]! ^ (x[e]! > r[e]! ? 1 : 0));
  });

  both('privateCompareR4 refuses r >= 2^31 (E_BAD_ARGUMENT) and wrong lengths (E_SHAPE)', (k) => {
    const n = 3, r = BigUint64Array.of(0n, 1n << 31n, 5n);
    expectCode(() => k.privateCompareR4(0, new Uint8Array(n * 48), r, new Uint8Array(n), new Uint8Array(n * 16).fill(1), new Uint8Array(n), new Uint8Array(n * 16), new Uint8Array(n * 16)), 'E_BAD_ARGUMENT');
    expectCode(() => k.privateCompareR4(0, new Uint8Array(32), BigUint64Array.of(1n), new Uint8Array(1), new Uint8Array(16), new Uint8Array(1), new Uint8Array(16), new Uint8Array(16)), 'E_SHAPE');
    expectCode(() => k.digitShareZp16(BigUint64Array.of(1n), new Uint8Array(48), new Uint8Array(47)), 'E_SHAPE');
  });

  both('zeroTest32 matches the reference', (k) => {
    const n = 300;
    for (const below of [67, 256]) {
      const d0 = randBytes(n * 32, below), d1 = randBytes(n * 32, below);
      for (let i = 0; i < 32; i++) { d0[i] = 1; d1[i] = 1; d0[32 + i] = 2; d1[32 + i] = 3; }
      d1[32 + 17] = 65;
      const want = new Uint8Array(n), got = new Uint8Array(n);
      ref.zeroTest32(d0, d1, want);
      k.zeroTest32(d0, d1, got);
      same(got, want, `zeroTest32 (< ${below})`);
      expect(got[0]).toBe(0);
      expect(got[1]).toBe(1);
    }
  });
});

describe('maskZp and rejectSample (PRG sampling, PrivateCompare masking): ts and native equal the reference', () => {
  const impls: RingKernels[] = [tsKernels, ...(NATIVE ? [NATIVE] : [])];
  it('adds and subtracts a Z_67 mask exactly, including 0 and 66', () => {
    const n = 3000;
    const d = randBytes(n, 67), mask = randBytes(n, 67);
    d[0] = 66; mask[0] = 66; d[1] = 0; mask[1] = 66;
    for (const subtract of [false, true]) {
      const want = d.slice();
      ref.maskZp!(want, mask, subtract);
      for (const k of impls) { const got = d.slice(); k.maskZp!(got, mask, subtract); expect(got, k.name).toEqual(want); }
    }
  });
  it('consumes bytes in order and stops when full, rejecting table entries of 255', () => {
    const table = Uint8Array.from({ length: 256 }, (_, b) => (b < 201 ? b % 67 : 255));
    const raw = randBytes(5000);
    for (const start of [0, 7]) {
      const want = new Uint8Array(1234);
      const wf = ref.rejectSample!(raw, table, want, start);
      for (const k of impls) { const got = new Uint8Array(1234); expect(k.rejectSample!(raw, table, got, start), k.name).toBe(wf); expect(got, k.name).toEqual(want); }
    }
  });
});
