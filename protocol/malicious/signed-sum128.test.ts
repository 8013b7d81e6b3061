import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EDGES, NATIVE, mod, random } from '../testing/ring128-cases.js';
import { fromBigints, toBigints, type Vec128 } from './ring128.js';
import { blockComb128Kernels, signedSum128Kernels } from './gemm128.js';
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

describe('blockComb128 (gemm128.ts): per element, the signed sum of the coefficient row its pattern picks', () => {
  /** A random case: `patterns` rows of `width` coefficients in {-1, 0, 1}, monomials on x0 or x1 at random bases and strides. */
  function caseOf(width: number, patterns: number, rows: number, len: number) {
    const coef = coefs(width * patterns), pat = Uint8Array.from({ length: rows * len }, () => randomInt(patterns)), src = new Uint32Array(3 * width);
    for (let S = 1; S < width; S++) { src[3 * S] = randomInt(2); src[3 * S + 1] = randomInt(4 * len); src[3 * S + 2] = [len, 4 * len, 0][randomInt(3)]!; }
    const size = 4 * len + (rows - 1) * 4 * len + len;
    return { coef, pat, src, x0: values(size), x1: values(size).reverse(), one: random(1) };
  }
  function referenceComb(k: ReturnType<typeof caseOf>, width: number, rows: number, len: number): bigint[] {
    return Array.from({ length: rows * len }, (_, o) => {
      const r = Math.floor(o / len), i = o % len, p = k.pat[o]!;
      let acc = BigInt(k.coef[p * width]!) * k.one[0]!;
      for (let S = 1; S < width; S++) acc += BigInt(k.coef[p * width + S]!) * (k.src[3 * S] ? k.x1 : k.x0)[k.src[3 * S + 1]! + r * k.src[3 * S + 2]! + i]!;
      return mod(acc);
    });
  }
  const SHAPES2: [number, number, number, number][] = [[16, 16, 7, 20], [8, 8, 1, 33], [4, 4, 3, 5], [2, 2, 1, 1], [16, 256, 2, 64]];
  it.each(SHAPES2)('the TS loop equals the BigInt reference on edge and random values (width %i, %i patterns, %i rows of %i)', (width, patterns, rows, len) => {
    const k = caseOf(width, patterns, rows, len), out = fromBigints(values(rows * len)); // stale contents must be overwritten
    blockComb128Kernels({}, out, fromBigints(k.x0), fromBigints(k.x1), k.pat, k.coef, width, k.src, len, fromBigints(k.one));
    expect(toBigints(out)).toEqual(referenceComb(k, width, rows, len));
  });

  it.skipIf(!NATIVE?.blockComb128)('the native kernel gives the same bits as the TS loop, every coefficient -1 or +1 included', () => {
    for (const [width, patterns, rows, len] of SHAPES2) {
      for (let rep = 0; rep < 4; rep++) {
        const k = caseOf(width, patterns, rows, len);
        if (rep === 1) k.coef.fill(-1);
        if (rep === 2) k.coef.fill(1);
        const args = [fromBigints(k.x0), fromBigints(k.x1), k.pat, k.coef, width, k.src, len, fromBigints(k.one)] as const;
        const native = fromBigints(values(rows * len)), ts = alloc(rows * len);
        blockComb128Kernels(NATIVE!, native, ...args);
        blockComb128Kernels({}, ts, ...args);
        expect(native, `width ${width}, rep ${rep}`).toEqual(ts);
        expect(toBigints(native)).toEqual(referenceComb(k, width, rows, len));
      }
    }
  });

  it.each([['the TS loop', {}], ...(NATIVE?.blockComb128 ? [['native', NATIVE] as const] : [])] as const)('rejects a pattern past the table, a source read past its end and a width over 16 with coded errors (%s)', (_name, kernels) => {
    const k = caseOf(4, 4, 2, 3), x = fromBigints(k.x0), one = fromBigints(k.one);
    const bad = k.pat.slice(); bad[5] = 4;
    expect(() => blockComb128Kernels(kernels, alloc(6), x, x, bad, k.coef, 4, k.src, 3, one)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    const far = k.src.slice(); far[3 * 2] = 0; far[3 * 2 + 1] = k.x0.length;
    expect(() => blockComb128Kernels(kernels, alloc(6), x, x, k.pat, k.coef, 4, far, 3, one)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => blockComb128Kernels(kernels, alloc(6), x, x, k.pat, coefs(17 * 2), 17, new Uint32Array(51), 3, one)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

const alloc = (n: number): Vec128 => new Uint32Array(4 * n) as Vec128;
