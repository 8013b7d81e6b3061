import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EDGES, NATIVE, mod, random } from '../testing/ring128-cases.js';
import { fromBigints, toBigints, type Vec128 } from './ring128.js';
import { signedSum128Kernels } from './gemm128.js';
import { combSignedM } from './bit-ops.js';
import type { MShare, Rep } from './rep.js';

/** Values: the edge values (0, 1, 2^128 - 1, 2^64 - 1, 2^64, 2^127, ...) first, then random ones. */
const values = (n: number): bigint[] => [...EDGES, ...random(Math.max(0, n - EDGES.length))].slice(0, n);
const coefs = (n: number): Int8Array => Int8Array.from({ length: n }, () => randomInt(3) - 1);

/** acc[r len + i] + k[r len + i] x[r stride + i] mod 2^128 (BigInt reference). */
function reference(acc: bigint[], x: bigint[], k: Int8Array, len: number, stride: number): bigint[] {
  return acc.map((a, o) => mod(a + BigInt(k[o]!) * x[Math.floor(o / len) * stride + (o % len)]!));
}

/** [len, stride, rows]: one row, contiguous rows, rows apart (BitLT's single bits: stride 4 len), stride 0 (a constant). */
const SHAPES: [number, number, number][] = [[37, 37, 1], [16, 16, 5], [13, 52, 7], [1, 0, 29], [11, 0, 3]];

describe('signedSum128 (gemm128.ts): acc += k x over strided rows, k in {-1, 0, 1}, no product', () => {
  it.each(SHAPES)('the TS loop equals the BigInt reference on edge and random values (len %i, stride %i, %i rows)', (len, stride, rows) => {
    const n = len * rows, xs = values(Math.max(1, (rows - 1) * stride + len)), acc0 = values(n).reverse(), k = coefs(n);
    const acc = fromBigints(acc0);
    signedSum128Kernels({}, acc, fromBigints(xs), k, len, stride);
    expect(toBigints(acc)).toEqual(reference(acc0, xs, k, len, stride));
  });

  it.skipIf(!NATIVE?.signedSum128)('the native kernel gives the same bits as the TS loop on edge and random values, for every shape', () => {
    for (const [len, stride, rows] of SHAPES) {
      for (let rep = 0; rep < 5; rep++) {
        const n = len * rows, x = fromBigints(values((rows - 1) * stride + len)), acc0 = fromBigints(values(n).reverse()), k = coefs(n);
        if (rep === 0) k.fill(-1); // every element subtracted: borrows across all four words (0 - 1, 1 - (2^128 - 1), ...)
        if (rep === 1) k.fill(1);
        const native = acc0.slice() as Vec128, ts = acc0.slice() as Vec128;
        signedSum128Kernels(NATIVE!, native, x, k, len, stride);
        signedSum128Kernels({}, ts, x, k, len, stride);
        expect(native, `len ${len}, stride ${stride}, rows ${rows}, rep ${rep}`).toEqual(ts);
        expect(toBigints(native)).toEqual(reference(toBigints(acc0), toBigints(x), k, len, stride));
      }
    }
  });

  it.skipIf(!NATIVE?.signedSum128)('the native kernel rejects a short x, a ragged k and an overlapping acc with coded errors, writing nothing', () => {
    const acc = fromBigints(values(8)), before = acc.slice(), k = coefs(8).fill(1);
    expect(() => NATIVE!.signedSum128!(acc, fromBigints(values(7)), k, 4, 4)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => NATIVE!.signedSum128!(acc, fromBigints(values(8)), k, 3, 3)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => NATIVE!.signedSum128!(acc, acc, k, 4, 4)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(acc).toEqual(before);
  });

  it('the TS wrapper rejects shapes that do not fit with E_SHAPE', () => {
    const acc = fromBigints(values(8));
    expect(() => signedSum128Kernels({}, acc, fromBigints(values(7)), coefs(8), 4, 4)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => signedSum128Kernels({}, acc, fromBigints(values(8)), coefs(8), 3, 3)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => signedSum128Kernels({}, acc, fromBigints(values(8)), coefs(7), 7, 7)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

describe('combSignedM with strided terms (the rows BitLT\'s radix-4 level reads without a copy)', () => {
  const mshare = (n: number): MShare => ({ n, x: { a: fromBigints(values(n)), b: fromBigints(random(n)) }, m: { a: fromBigints(random(n)), b: fromBigints(values(n).reverse()) } });
  const parts = (x: MShare): bigint[][] => [x.x.a, x.x.b, x.m.a, x.m.b].map(toBigints);
  it.each([['the TS loop', {}], ...(NATIVE?.signedSum128 ? [['native', NATIVE] as const] : [])] as const)('equals the BigInt sum row by row on every share vector (%s)', (_name, kernels) => {
    const len = 9, rows = 4, n = len * rows;
    const strided = { x: mshare((rows - 1) * 4 * len + len), k: coefs(n), len, stride: 4 * len }, plain = { x: mshare(n), k: coefs(n) };
    const alpha: Rep = { a: fromBigints(random(1)), b: fromBigints(random(1)) }, c = coefs(n);
    const out = combSignedM(1, alpha, n, [strided, plain], c, kernels);
    const al = toBigints(alpha.a)[0]!, bl = toBigints(alpha.b)[0]!;
    parts(out).forEach((v, q) => {
      const sx = parts(strided.x)[q]!, px = parts(plain.x)[q]!;
      const want = Array.from({ length: n }, (_, o) => mod(BigInt(strided.k[o]!) * sx[Math.floor(o / len) * 4 * len + (o % len)]! + BigInt(plain.k[o]!) * px[o]!
        + (q === 2 ? BigInt(c[o]!) * al : q === 3 ? BigInt(c[o]!) * bl : 0n))); // party 1 holds neither x_0 share
      expect(v, `vector ${q}`).toEqual(want);
    });
  });
});
