/**
 * The addon's argument checks (protocol/kernels/native/binding.cc): one table
 * of argument specs per function, applied by one checker (types and ranges,
 * then lengths, then overlaps). Each kind of rule is exercised here on the
 * raw addon, with the coded error and the message that names the argument.
 */
import { describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeLoadError } from '../../runtime/native-addon.js';

const addon = loadNativeAddon() as unknown as Record<string, (...a: unknown[]) => unknown> | null;
const U64 = (n: number) => new BigUint64Array(n), U8 = (n: number) => new Uint8Array(n), U32 = (n: number) => new Uint32Array(n);

function fails(fn: string, args: unknown[]): { code: unknown; message: string } {
  try { addon![fn]!(...args); } catch (e) { return { code: (e as { code?: unknown }).code, message: (e as Error).message }; }
  return { code: null, message: 'no error' };
}

describe.skipIf(!addon)(`native addon argument table (binding.cc)${addon ? '' : ` [skipped: ${nativeLoadError()}]`}`, () => {
  const n = 2;
  const cases: [string, string, unknown[], string, string][] = [
    ['too few arguments', 'add', [U64(4), U64(4)], 'E_BAD_ARGUMENT', 'add: expected 3 arguments, got 2'],
    ['element type', 'add', [U8(4), U64(4), U64(4)], 'E_DTYPE', 'add: expected a to be a BigUint64Array'],
    ['not a typed array', 'wrap', [U64(4), [1, 2], U8(4)], 'E_DTYPE', 'wrap: expected b to be a BigUint64Array'],
    ['same length as another argument', 'sub', [U64(4), U64(3), U64(4)], 'E_SHAPE', 'sub: expected b of length 4, got 3'],
    ['bigint', 'mulScalar', [U64(4), 3, U64(4)], 'E_BAD_ARGUMENT', 'mulScalar: expected s to be a bigint'],
    ['integer range', 'divShare', [U64(4), U32(1).fill(1), 2, U64(4)], 'E_BAD_ARGUMENT', 'divShare: expected party to be an integer in [0, 1]'],
    ['integer, not a fraction', 'sar', [U64(4), 1.5, U64(4)], 'E_BAD_ARGUMENT', 'sar: expected f to be an integer in [0, 9007199254740992]'],
    ['integer bounded by another argument\'s length', 'rejectSample', [U8(10), U8(256), U8(4), 5], 'E_BAD_ARGUMENT', 'rejectSample: expected filled to be an integer in [0, 4]'],
    ['fixed length', 'prgKeystream', [U8(15), 0, U8(4)], 'E_SHAPE', 'prgKeystream: expected key of length 16, got 15'],
    ['multiple of another length', 'bitShareZp32', [U64(n), U8(32 * n), U8(32 * n - 1)], 'E_SHAPE', 'bitShareZp32: expected out (32*x.length) of length 64, got 63'],
    ['multiple of a later argument', 'zeroTest16', [U8(16), U8(32), U8(2)], 'E_SHAPE', 'zeroTest16: expected d0 (16*out.length) of length 32, got 16'],
    ['optional array: checked when given', 'privateCompare', [0, U8(64 * n), U64(n), U8(n), U8(64 * n), U8(3), U8(64 * n), U8(64 * n)], 'E_SHAPE', 'privateCompare: expected u (64*r.length) of length 128, got 3'],
    ['a function-specific rule after the table', 'privateCompare', [0, U8(64 * n), U64(n), U8(n), U8(64 * n), null, U8(64 * n).fill(64), U8(64 * n)], 'E_BAD_ARGUMENT', 'privateCompare: perm entries must be in [0, 63]'],
    ['per-element length named', 'privateCompareR4', [0, U8(48 * n), U64(n), U8(n), U8(16 * n), U8(n + 1), U8(16 * n), U8(16 * n)], 'E_SHAPE', 'privateCompareR4: expected rot (r.length) of length 2, got 3'],
    ['sizes from integer arguments', 'gemm', [U64(4), U64(6), 2, 2, 3, U64(5)], 'E_SHAPE', 'gemm: expected out (m*n) of length 6, got 5'],
    ['Z_2^128 word arrays: element type', 'gemm128', [U64(8), U32(12), 1, 2, 3, U32(12)], 'E_DTYPE', 'gemm128: expected A to be a Uint32Array'],
    ['Z_2^128 sizes from integer arguments, 4 words per element', 'gemm128', [U32(16), U32(24), 2, 2, 3, U32(20)], 'E_SHAPE', 'gemm128: expected out (4*m*n) of length 24, got 20'],
    ['Z_2^128 whole elements (a function-specific rule after the table)', 'mul128', [U32(6), U32(6), U32(6)], 'E_SHAPE', 'mul128: expected a.length to be a multiple of 4 (4 words per element), got 6'],
    ['Z_2^128 elementwise: same length as another argument', 'add128', [U32(8), U32(8), U32(4)], 'E_SHAPE', 'add128: expected out of length 8, got 4'],
    ['Z_2^128 scalar: fixed length of one element', 'mulScalar128', [U32(8), U32(3), U32(8)], 'E_SHAPE', 'mulScalar128: expected s of length 4, got 3'],
  ];
  it.each(cases)('%s: %s', (_what, fn, args, code, message) => {
    expect(fails(fn, args)).toEqual({ code, message });
  });

  it('overlapping output and input: E_BAD_ARGUMENT naming both', () => {
    const b = U64(16);
    expect(fails('gemm', [b.subarray(0, 4), U64(6), 2, 2, 3, b.subarray(2, 8)])).toEqual({ code: 'E_BAD_ARGUMENT', message: 'gemm: out must not overlap A' });
    const w = U32(64);
    expect(fails('gemm128', [U32(16), w.subarray(0, 24), 2, 2, 3, w.subarray(20, 44)])).toEqual({ code: 'E_BAD_ARGUMENT', message: 'gemm128: out must not overlap B' });
    const z = U8(64 * n * 2);
    expect(fails('privateCompare', [0, U8(64 * n), U64(n), U8(n), U8(64 * n), z.subarray(0, 64 * n), U8(64 * n), z.subarray(10, 10 + 64 * n)])).toEqual({ code: 'E_BAD_ARGUMENT', message: 'privateCompare: d must not overlap u' });
    // out === a exactly is allowed for elementwise ops (no overlap rule there).
    const a = U64(3).fill(2n);
    addon!.add!(a, a, a);
    expect(Array.from(a)).toEqual([4n, 4n, 4n]);
  });
});
