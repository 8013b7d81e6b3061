/**
 * The native blockComb128 / signedSum128 bindings (binding128.cc) on malformed calls the equality tests in
 * signed-sum128.test.ts do not make: out overlapping each input, a ragged coefficient table, too many patterns,
 * a short src, a source selector other than 0/1, a base or stride past the source (size_t products), a short
 * `one`. Each must throw a coded error before the kernel runs, leaving out as it was.
 */
import { describe, expect, it } from 'vitest';
import { NATIVE } from '../testing/ring128-cases.js';

describe.skipIf(!NATIVE?.blockComb128 || !NATIVE?.signedSum128)('native blockComb128 / signedSum128: malformed calls throw coded errors and write nothing', () => {
  const one = Uint32Array.of(1, 0, 0, 0), src = Uint32Array.of(0, 0, 0, 0, 0, 4), pat = new Uint8Array(4), coef = Int8Array.of(1, 1, -1, -1);
  const x = () => Uint32Array.from({ length: 64 }, (_, i) => i + 1);

  it('blockComb128: out overlapping x0, x1, pat, coef, src or one is E_BAD_ARGUMENT', () => {
    const ab = new ArrayBuffer(1024), out = new Uint32Array(ab, 0, 16);
    out.fill(7);
    const at = (off: number, n: number) => new Uint32Array(ab, 48 + 4 * off, n); // starts inside out's last element
    const cases: [string, () => void][] = [
      ['x0', () => NATIVE!.blockComb128!(out, at(0, 64), x(), pat, coef, 2, src, 4, one)],
      ['x1', () => NATIVE!.blockComb128!(out, x(), at(0, 64), pat, coef, 2, src, 4, one)],
      ['pat', () => NATIVE!.blockComb128!(out, x(), x(), new Uint8Array(ab, 60, 4), coef, 2, src, 4, one)],
      ['coef', () => NATIVE!.blockComb128!(out, x(), x(), pat, new Int8Array(ab, 60, 4), 2, src, 4, one)],
      ['src', () => NATIVE!.blockComb128!(out, x(), x(), pat, coef, 2, at(0, 6), 4, one)],
      ['one', () => NATIVE!.blockComb128!(out, x(), x(), pat, coef, 2, src, 4, at(0, 4))],
    ];
    for (const [name, call] of cases) expect(call, name).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining(`overlap ${name}`) }));
    expect(Array.from(out)).toEqual(new Array(16).fill(7));
  });

  it('blockComb128: ragged or oversized tables, a bad selector, a base or stride past the source, a short one are coded errors', () => {
    const out = new Uint32Array(16).fill(7), out2 = new Uint32Array(32).fill(7);
    const call = (o: Uint32Array, p: Uint8Array, c: Int8Array, width: number, s: Uint32Array, w1: Uint32Array = one) => () => NATIVE!.blockComb128!(o, x(), x(), p, c, width, s, 4, w1);
    expect(call(out, pat, new Int8Array(5), 2, src), 'ragged coef').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out, pat, new Int8Array(2 * 257), 2, src), '257 patterns').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out, pat, coef, 2, new Uint32Array(5)), 'short src').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out, pat, coef, 2, Uint32Array.of(0, 0, 0, 2, 0, 0)), 'selector 2').toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(call(out, pat, coef, 2, Uint32Array.of(0, 0, 0, 0, 13, 0)), 'base one element past x0').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out, pat, coef, 2, Uint32Array.of(0, 0, 0, 1, 0xffffffff, 0xffffffff)), 'huge base').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out2, new Uint8Array(8), coef, 2, Uint32Array.of(0, 0, 0, 0, 0, 0xffffffff)), 'huge stride').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(call(out, pat, coef, 2, src, new Uint32Array(3)), 'short one').toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(Array.from(out)).toEqual(new Array(16).fill(7));
    expect(Array.from(out2)).toEqual(new Array(32).fill(7));
    // The last element of x0 (base 12, 4 elements) is still in bounds: the check is not off by one.
    expect(call(out, pat, coef, 2, Uint32Array.of(0, 0, 0, 0, 12, 0))).not.toThrow();
  });

  it('signedSum128: acc overlapping x or k, a non-integer or zero len, a negative stride, x one word short are coded errors', () => {
    const ab = new ArrayBuffer(512), acc = new Uint32Array(ab, 0, 16), k = Int8Array.of(1, -1, 1, -1);
    acc.fill(7);
    expect(() => NATIVE!.signedSum128!(acc, new Uint32Array(ab, 48, 16), k, 4, 4)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => NATIVE!.signedSum128!(acc, x(), new Int8Array(ab, 60, 4), 4, 4)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => NATIVE!.signedSum128!(acc, x(), k, 0, 4)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => NATIVE!.signedSum128!(acc, x(), k, 2.5, 4)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => NATIVE!.signedSum128!(acc, x(), k, 4, -1)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    const acc2 = new Uint32Array(32).fill(7);
    expect(() => NATIVE!.signedSum128!(acc2, new Uint32Array(31), new Int8Array(8).fill(1), 4, 4)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(Array.from(acc)).toEqual(new Array(16).fill(7));
    expect(Array.from(acc2)).toEqual(new Array(32).fill(7));
  });
});
