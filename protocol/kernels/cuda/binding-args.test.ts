/**
 * The CUDA addon's argument checks (binding.c: one table of argument specs
 * per entry point). They run before any CUDA call, so they are tested on the
 * built addon without a GPU; skipped where the addon is not built (no nvcc).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FILE = path.join(ROOT, 'build-cuda', 'securenn_cuda.node');
const SCRIPT = path.join(ROOT, 'scripts', 'build-cuda.mjs');
// On a checkout whose addon is older than its sources (pulled without `npm install`), the table would be checked
// against a stale binary that lacks the newer entry points. scripts/build-cuda.mjs rebuilds it first (nothing to do
// when up to date or without nvcc; the new file is renamed into place, so a test loading it meanwhile sees one whole).
const build = spawnSync(process.execPath, [SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
const plan = spawnSync(process.execPath, [SCRIPT, '--dry-run'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? '';
function load(): Record<string, (...a: unknown[]) => unknown> | null {
  if (!existsSync(FILE)) return null;
  const m = { exports: {} as Record<string, (...a: unknown[]) => unknown> };
  process.dlopen(m, FILE);
  return m.exports;
}
const addon = load();
const U64 = (n: number) => new BigUint64Array(n), U8 = (n: number) => new Uint8Array(n);

function fails(fn: string, args: unknown[]): { code: unknown; message: string } {
  try { addon![fn]!(...args); } catch (e) { return { code: (e as { code?: unknown }).code, message: (e as Error).message }; }
  return { code: null, message: 'no error' };
}

describe('the CUDA addon these checks load', () => {
  it('is built from the current sources where nvcc is present (scripts/build-cuda.mjs says up to date)', () => {
    expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);
    if (/would run: /.test(plan)) expect(plan, 'build-cuda --dry-run').toMatch(/output: build-cuda\/securenn_cuda\.node \(up to date\)/);
    else expect(plan).toMatch(/nvcc not found|Node headers|MPC_SKIP_CUDA/);
  });
});

describe.skipIf(!addon)(`CUDA addon argument table (binding.c)${addon ? '' : ` [skipped: ${FILE} not built (no nvcc)]`}`, () => {
  const n = 2;
  const pc = (over: Record<number, unknown>) => { const a: unknown[] = [0, U8(64 * n), U64(n), U8(n), U8(64 * n), null, U8(64 * n), U8(64 * n)]; for (const [i, v] of Object.entries(over)) a[Number(i)] = v; return a; };
  const cases: [string, string, unknown[], string, string][] = [
    ['argument count', 'add', [U64(4), U64(4)], 'E_NATIVE', 'cuda addon: expected (a, b, out)'],
    ['element type', 'sub', [U8(4), U64(4), U64(4)], 'E_DTYPE', 'cuda addon: a has the wrong element type'],
    ['not a typed array', 'zeroTest', [U8(128), 'x', U8(2)], 'E_DTYPE', 'cuda addon: d1 must be a typed array'],
    ['same length', 'mul', [U64(4), U64(3), U64(4)], 'E_NATIVE', 'cuda addon: a, b and out must have one length'],
    ['multiple of another length', 'bitShareZp', [U64(n), U8(64 * n), U8(64 * n - 1)], 'E_NATIVE', 'cuda addon: r and out must have 64 * x.length entries'],
    ['multiple of a later argument', 'zeroTest', [U8(64), U8(64), U8(2)], 'E_NATIVE', 'cuda addon: d0 and d1 must have 64 * out.length entries'],
    ['size argument', 'gemm', [U64(4), U64(6), -1, 2, 3, U64(6)], 'E_BAD_ARGUMENT', 'cuda addon: m must be a non-negative integer'],
    ['sizes checked after the table', 'gemm', [U64(4), U64(6), 2, 2, 3, U64(5)], 'E_NATIVE', 'cuda addon: gemm lengths do not match m, k, n'],
    ['optional array checked when given', 'privateCompare', pc({ 5: U8(3) }), 'E_NATIVE', 'cuda addon: privateCompare lengths do not match r.length'],
    ['function-specific rule', 'privateCompare', pc({ 0: 2 }), 'E_NATIVE', 'cuda addon: j must be 0 or 1'],
    ['32-bit ring: share rows', 'bitShareZp32', [U64(n), U8(32 * n), U8(64 * n)], 'E_NATIVE', 'cuda addon: r and out must have 32 * x.length entries'],
    ['radix-4: dealt rows', 'digitShareZp16', [U64(n), U8(32 * n), U8(48 * n)], 'E_NATIVE', 'cuda addon: r and out must have 48 * x.length entries'],
    ['32-bit ring: zero test rows', 'zeroTest32', [U8(64), U8(64), U8(1)], 'E_NATIVE', 'cuda addon: d0 and d1 must have 32 * out.length entries'],
    ['radix-4: zero test rows', 'zeroTest16', [U8(32), U8(16), U8(2)], 'E_NATIVE', 'cuda addon: d0 and d1 must have 16 * out.length entries'],
    ['radix-4: x has 48 per element', 'privateCompareR4', [0, U8(32 * n), U64(n), U8(n), U8(16 * n), U8(n), U8(16 * n), U8(16 * n)], 'E_NATIVE', 'cuda addon: lengths do not match r.length'],
    ['32-bit ring: rot one per element', 'privateCompare32', [1, U8(32 * n), U64(n), U8(n), U8(32 * n), U8(2 * n), U8(32 * n), U8(32 * n)], 'E_NATIVE', 'cuda addon: lengths do not match r.length'],
    ['32-bit ring: j', 'privateCompare32', [3, U8(32 * n), U64(n), U8(n), U8(32 * n), U8(n), U8(32 * n), U8(32 * n)], 'E_NATIVE', 'cuda addon: j must be 0 or 1'],
    ['scalar: a BigInt', 'mulScalar', [U64(4), 3, U64(4)], 'E_BAD_ARGUMENT', 'cuda addon: s must be a bigint'],
    ['scalar: lengths', 'addScalar', [U64(4), 3n, U64(5)], 'E_NATIVE', 'cuda addon: a and out must have one length'],
    ['sar: f non-negative', 'sar', [U64(4), -1, U64(4)], 'E_BAD_ARGUMENT', 'cuda addon: f must be a non-negative integer'],
    ['divShare: d a Uint32Array', 'divShare', [U64(4), U64(1), 0, U64(4)], 'E_DTYPE', 'cuda addon: d has the wrong element type'],
    ['divShare: d of length 1 or a.length', 'divShare', [U64(4), new Uint32Array(2), 0, U64(4)], 'E_NATIVE', 'cuda addon: d must have length 1 or a.length'],
    ['divShare: no divisor 0', 'divShare', [U64(4), Uint32Array.of(1, 2, 0, 3), 1, U64(4)], 'E_NATIVE', 'cuda addon: divShare: divisor 0'],
    ['divShare: party', 'divShare', [U64(4), Uint32Array.of(2), 2, U64(4)], 'E_NATIVE', 'cuda addon: party must be 0 or 1'],
    ['maskZp: subtract a boolean', 'maskZp', [U8(4), U8(4), 1], 'E_BAD_ARGUMENT', 'cuda addon: subtract must be a boolean'],
    ['maskZp: lengths', 'maskZp', [U8(4), U8(3), true], 'E_NATIVE', 'cuda addon: d and mask must have one length'],
    ['im2col: 14 arguments', 'im2col', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3], 'E_NATIVE', 'cuda addon: expected (x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out)'],
    ['im2col: padding an integer in [-2^40, 2^40]', 'im2col', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0.5, 0, 3, 3, U64(36)], 'E_BAD_ARGUMENT', 'cuda addon: padTop must be an integer in [-2^40, 2^40]'],
    ['im2col: stride at least 1', 'im2col', [U64(16), 1, 4, 4, 1, 2, 2, 0, 1, 0, 0, 3, 3, U64(36)], 'E_NATIVE', 'cuda addon: window sizes must be below 2^31 and strides at least 1'],
    ['im2col: sizes below 2^31', 'im2col', [U64(0), 2 ** 31, 0, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(0)], 'E_NATIVE', 'cuda addon: window sizes must be below 2^31 and strides at least 1'],
    ['im2col: out length', 'im2col', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(35)], 'E_NATIVE', 'cuda addon: im2col lengths do not match the geometry'],
    ['depthwise: w length', 'depthwise', [U64(16), U64(3), 1, 4, 4, 1, 1, 2, 2, 1, 1, -1, 0, 3, 3, U64(9)], 'E_NATIVE', 'cuda addon: depthwise lengths do not match the geometry'],
    ['depthwise: x length', 'depthwise', [U64(15), U64(4), 1, 4, 4, 1, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(9)], 'E_NATIVE', 'cuda addon: depthwise lengths do not match the geometry'],
    ['im2colGemm: B length k * n', 'im2colGemm', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(7), 2, U64(18)], 'E_NATIVE', 'cuda addon: im2colGemm lengths do not match the geometry'],
    ['im2colGemm: out length m * n', 'im2colGemm', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(8), 2, U64(17)], 'E_NATIVE', 'cuda addon: im2colGemm lengths do not match the geometry'],
    ['im2colGemm: n below 2^31', 'im2colGemm', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(0), 2 ** 31, U64(0)], 'E_NATIVE', 'cuda addon: window sizes must be below 2^31 and strides at least 1'],
    ['im2colGemm: 16 arguments', 'im2colGemm', [U64(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, U64(8), 2], 'E_NATIVE', 'cuda addon: expected (x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, B, n, out)'],
    ['radix-4: element type', 'privateCompareR4', [0, U8(48 * n), U8(n), U8(n), U8(16 * n), U8(n), U8(16 * n), U8(16 * n)], 'E_DTYPE', 'cuda addon: r has the wrong element type'],
  ];
  it.each(cases)('%s: %s', (_what, fn, args, code, message) => {
    expect(fails(fn, args)).toEqual({ code, message });
  });

  it('setStaging (pinned staging slots on / off) needs a boolean and, before any copy, reports the state without a device: -1 off, 0 not tried yet', () => {
    expect(fails('setStaging', ['yes'])).toEqual({ code: 'E_NATIVE', message: 'cuda addon: expected (on: boolean)' });
    expect(addon!.setStaging!(false)).toBe(-1);
    expect(addon!.setStaging!(true)).toBe(0);
    expect(Object.keys(addon!.lastTiming!() as object)).toEqual(['h2dMs', 'kernelMs', 'd2hMs', 'bytesH2d', 'bytesD2h', 'bytesStaged']);
  });
});
