import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBigints, toBigints } from './ring128.js';
import { addShl128Into, concatM, shl128, sliceM } from './mvec.js';
import type { MShare } from './rep.js';

const big = (n: number): bigint[] => Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));

describe('mvec: shapes and shifts of MACed vectors', () => {
  it('shl128 equals multiplication by 2^j mod 2^128 (BigInt reference) on random and edge words, for shifts across the word boundaries', () => {
    const xs = [0n, 1n, (1n << 128n) - 1n, (1n << 64n) - 1n, 1n << 127n, 0xffffffffn, ...big(20)];
    for (const j of [0, 1, 5, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127]) {
      expect(toBigints(shl128(fromBigints(xs), j)), `j = ${j}`).toEqual(xs.map((x) => BigInt.asUintN(128, x << BigInt(j))));
    }
  });

  it('shl128 into an output that is its input (out === v) or holds old values equals the shift: the words below j / 32 are zeroed too', () => {
    const xs = [0n, 1n, (1n << 128n) - 1n, (1n << 64n) - 1n, 1n << 127n, 0xffffffffn, ...big(20)];
    const want = (j: number) => xs.map((x) => BigInt.asUintN(128, x << BigInt(j)));
    for (const j of [0, 1, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127]) {
      const v = fromBigints(xs);
      expect(toBigints(shl128(v, j, v)), `in place, j = ${j}`).toEqual(want(j));
      const dirty = fromBigints(xs.map(() => (1n << 128n) - 1n));
      expect(toBigints(shl128(fromBigints(xs), j, dirty)), `into a dirty output, j = ${j}`).toEqual(want(j));
    }
  });

  it('addShl128Into adds v << j in place, with the carries across words (BigInt reference)', () => {
    const acc0 = [(1n << 128n) - 1n, 0n, (1n << 64n) - 1n, ...big(10)], vs = [1n, (1n << 128n) - 1n, 1n, ...big(10)];
    for (const j of [0, 1, 31, 32, 33, 64, 100, 127]) {
      const acc = fromBigints(acc0);
      addShl128Into(acc, fromBigints(vs), j);
      expect(toBigints(acc), `j = ${j}`).toEqual(acc0.map((a, i) => BigInt.asUintN(128, a + (vs[i]! << BigInt(j)))));
    }
  });

  it('sliceM and concatM are inverse: the pieces of a vector concatenate back to it; a slice outside the vector is E_SHAPE', () => {
    const v = (xs: bigint[]) => fromBigints(xs);
    const x: MShare = { n: 5, x: { a: v(big(5)), b: v(big(5)) }, m: { a: v(big(5)), b: v(big(5)) } };
    const back = concatM([sliceM(x, 0, 2), sliceM(x, 2, 2), sliceM(x, 2, 5)]);
    expect(back.n).toBe(5);
    for (const k of ['x', 'm'] as const) for (const h of ['a', 'b'] as const) expect(toBigints(back[k][h])).toEqual(toBigints(x[k][h]));
    expect(() => sliceM(x, 3, 6)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => sliceM(x, 2, 1)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});
