/**
 * CUDA backend.
 *  - On a machine with a GPU and the addon built: the same random and edge
 *    inputs through the BigInt reference (small sizes), the ts kernels, the
 *    native kernels (where built) and the CUDA kernels must give identical
 *    bytes (equality.ts; thresholds 0 so every call of a GPU op runs there).
 *    Without a GPU these are skipped, and the skip says why.
 *  - Everywhere: the build script exits 0 with or without nvcc, the addon
 *    loads where it was built, the backend selection (cpu | cuda | auto)
 *    behaves without a device, and the JS routing (size thresholds, CPU
 *    fallback, flagged PrivateCompare inputs) is driven through a stand-in
 *    addon that computes with the reference kernels.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MpcError } from '../../errors.js';
import { getKernels } from '../index.js';
import { cudaStagingWanted, cudaStatus, loadCudaKernels, selectKernels } from '../../../runtime/cuda-addon.js';
import { loadNativeKernels } from '../../../runtime/native-addon.js';
import { referenceKernels as ref } from '../reference.js';
import { tsKernels } from '../ts.js';
import { equalityCases } from '../../testing/cuda-equality.js';
import { Prg } from '../../correlated/prg.js';
import { conv2dOp, type ConvShape } from '../../layers/conv.js';
import { conv2dTransposeOp } from '../../layers/conv-transpose.js';
import { decode, encode } from '../../fixed-point/fixed-point.js';
import { fixedArith } from '../../ir-kit/arith.js';
import { forwardReals } from '../../ir-kit/forward.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../ir.js';
import { secureForward } from '../../layers/runner.js';
import { shareModel } from '../../layers/share-model.js';
import { seededPrg, uniform } from '../../seed-models.js';
import { reconstruct } from '../../sharing/sharing.js';
import { run3, shareFor3 } from '../../testing/run3.js';
import { ALL_GPU_THRESHOLDS as ALL_GPU, CUDA_OPS, ELEM_OPS, type CudaAddon, DEFAULT_THRESHOLDS, TS_CPU_THRESHOLDS, cudaKernelsFromAddon } from './index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(root, 'scripts', 'build-cuda.mjs');

const status = cudaStatus();
const cuda = loadCudaKernels({ thresholds: ALL_GPU, strict: true });
const native = loadNativeKernels();
const SKIP = cuda ? '' : ` [skipped: no CUDA device (CUDA addon built: ${status.built ? 'yes' : 'no'}): ${(status.reason ?? '').replace(/^no CUDA device \((.*)\)$/, '$1')}]`;

describe.skipIf(!cuda)(`CUDA kernels give the bytes of the reference, ts${native ? ' and native' : ''} kernels${SKIP}`, () => {
  if (!cuda) { it('needs a CUDA device', () => {}); return; }
  const cpus = [tsKernels, ...(native ? [native] : [])];
  for (const c of equalityCases(cuda, cpus, { large: true })) it(c.name, () => c.run());
  it('every GPU op ran on the GPU, with no fallback to the CPU', () => {
    for (const op of CUDA_OPS) expect(cuda.counters.gpu[op], op).toBeGreaterThan(0);
    expect(cuda.counters.fallbacks).toBe(0);
  });
});

describe('CUDA build script and backend selection (any machine)', () => {
  it('scripts/build-cuda.mjs exits 0 without nvcc and says the CPU kernels will be used', () => {
    const r = spawnSync(process.execPath, [script, '--dry-run'], { env: { ...process.env, PATH: '/nonexistent', NVCC: '' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/nvcc not found.*CPU kernels will be used/);
  });

  it('scripts/build-cuda.mjs exits 0 where nvcc is present, and then the addon exists and loads', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    if (/nvcc not found/.test(r.stdout)) return; // nothing to build here: the CPU build is used
    if (/Node headers .* not found/.test(r.stdout)) return;
    expect(existsSync(path.join(root, 'build-cuda', 'securenn_cuda.node')), r.stdout).toBe(true);
    // A fresh process, as cudaStatus() here was read before this build.
    const probe = spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(path.join(root, 'build-cuda', 'securenn_cuda.node'))}); const i = m.exports.info(); console.log(JSON.stringify({ count: i.count, keys: Object.keys(m.exports) }));`], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const out = JSON.parse(probe.stdout) as { count: number; keys: string[] };
    expect(out.count).toBeGreaterThanOrEqual(0);
    expect(out.keys).toEqual(expect.arrayContaining(['gemm', 'mul', 'privateCompare', 'zeroTest', 'bitShareZp', 'info', 'privateCompare32', 'zeroTest32', 'bitShareZp32', 'privateCompareR4', 'zeroTest16', 'digitShareZp16', 'im2colGemm', ...ELEM_OPS]));
  });

  it('MPC_CUDA_STAGING=off (only that value) turns the pinned staging of the copies off when the addon loads', () => {
    expect(cudaStagingWanted({})).toBe(true);
    expect(cudaStagingWanted({ MPC_CUDA_STAGING: 'on' })).toBe(true);
    expect(cudaStagingWanted({ MPC_CUDA_STAGING: 'off' })).toBe(false);
  });

  it('without a device: loadCudaKernels() is null, auto falls back to the CPU kernels, cuda fails with E_NATIVE and the reason', () => {
    if (cuda) return; // a GPU machine: covered above
    expect(loadCudaKernels()).toBeNull();
    expect(status.reason).toMatch(status.built ? /no CUDA device|could not load/ : /not built/);
    expect(selectKernels('auto').name).toBe(getKernels('auto').name);
    expect(selectKernels('cpu', 'ts')).toBe(tsKernels);
    let err: unknown;
    try { selectKernels('cuda'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe('E_NATIVE');
    expect((err as Error).message).toContain(status.reason!);
    expect(() => selectKernels('gpu' as 'cuda')).toThrow(/backend must be cpu, cuda or auto/);
  });
});

describe('CUDA kernel routing through a stand-in addon (reference arithmetic)', () => {
  const device = { name: 'stand-in', major: 9, minor: 0, sms: 1, totalMem: 0, runtimeVersion: 0, driverVersion: 0 };
  function standIn(overrides: Partial<CudaAddon> = {}): CudaAddon & { calls: string[] } {
    const calls: string[] = [];
    const base: CudaAddon = {
      info: () => ({ ...device, count: 1, error: '' }),
      add: (a, b, o) => { calls.push('add'); ref.add(a, b, o); },
      sub: (a, b, o) => { calls.push('sub'); ref.sub(a, b, o); },
      mul: (a, b, o) => { calls.push('mul'); ref.mul(a, b, o); },
      gemm: (A, B, m, k, n, o) => { calls.push('gemm'); ref.gemm(A, B, m, k, n, o); },
      bitShareZp: (x, r, o) => { calls.push('bitShareZp'); ref.bitShareZp(x, r, o); },
      privateCompare: (j, xb, r, beta, s, u, perm, d) => {
        calls.push('privateCompare');
        let flags = 0;
        for (let e = 0; e < r.length; e++) {
          let seen = 0n;
          for (let i = 0; i < 64; i++) { const p = perm[e * 64 + i]!; if (p > 63) flags |= 1; seen |= 1n << BigInt(p & 63); }
          if (seen !== (1n << 64n) - 1n) flags |= 4;
          if (beta[e] === 1 && r[e] === (1n << 64n) - 1n && !u) flags |= 2;
        }
        if (flags === 0) ref.privateCompare(j as 0 | 1, xb, r, beta, s, u, perm, d);
        return flags;
      },
      zeroTest: (d0, d1, o) => { calls.push('zeroTest'); ref.zeroTest(d0, d1, o); },
      // The 32-bit ring's ops compute with the ts kernels, the oracle for any input bytes (the reference's is Z_p inputs).
      bitShareZp32: (x, r, o) => { calls.push('bitShareZp32'); tsKernels.bitShareZp32(x, r, o); },
      digitShareZp16: (x, r, o) => { calls.push('digitShareZp16'); tsKernels.digitShareZp16(x, r, o); },
      zeroTest32: (d0, d1, o) => { calls.push('zeroTest32'); tsKernels.zeroTest32(d0, d1, o); },
      zeroTest16: (d0, d1, o) => { calls.push('zeroTest16'); tsKernels.zeroTest16(d0, d1, o); },
      privateCompare32: (j, x, r, beta, s, rot, mask, d) => { calls.push('privateCompare32'); tsKernels.privateCompare32(j, x, r, beta, s, rot, mask, d); },
      privateCompareR4: (j, x, r, beta, s, rot, mask, d) => { calls.push('privateCompareR4'); tsKernels.privateCompareR4(j, x, r, beta, s, rot, mask, d); },
      // The ops of ring-elems.h, also with the ts kernels (maskZp's oracle for any bytes).
      mulScalar: (a, s, o) => { calls.push('mulScalar'); tsKernels.mulScalar(a, s, o); },
      addScalar: (a, s, o) => { calls.push('addScalar'); tsKernels.addScalar(a, s, o); },
      divShare: (a, d, party, o) => { calls.push('divShare'); tsKernels.divShare(a, d, party, o); },
      sar: (a, f, o) => { calls.push('sar'); tsKernels.sar(a, f, o); },
      maskZp: (d, mask, subtract) => { calls.push('maskZp'); tsKernels.maskZp(d, mask, subtract); },
      im2col: (...a) => { calls.push('im2col'); tsKernels.im2col(...a); },
      depthwise: (...a) => { calls.push('depthwise'); tsKernels.depthwise(...a); },
      im2colGemm: (x, N, H, W, C, kh, kw, sh, sw, pt, pl, oh, ow, B, n, out) => {
        calls.push('im2colGemm');
        const cols = new BigUint64Array(N * oh * ow * kh * kw * C);
        tsKernels.im2col(x, N, H, W, C, kh, kw, sh, sw, pt, pl, oh, ow, cols);
        tsKernels.gemm(cols, B, N * oh * ow, kh * kw * C, n, out);
      },
      benchGemm: () => ({ ms: 0, checksum: 0n, probe: 0n, probeWant: 0n }),
      setGemmVariant: () => {},
      lastTiming: () => ({ h2dMs: 0, kernelMs: 0, d2hMs: 0, bytesH2d: 0, bytesD2h: 0, bytesStaged: 0 }),
      setStaging: () => -1,
      release: () => {},
      ...overrides,
    };
    return Object.assign(base, { calls });
  }

  it('with thresholds 0 the stand-in passes every equality case (the same cases the GPU runs)', () => {
    const k = cudaKernelsFromAddon(standIn(), device, { cpu: tsKernels, thresholds: ALL_GPU, strict: true });
    for (const c of equalityCases(k, [tsKernels], { large: false })) c.run();
    expect(k.counters.fallbacks).toBe(0);
    expect(k.counters.gpu.gemm).toBeGreaterThan(0);
  });

  it('small calls, batch-1 dense GEMMs and the other methods stay on the CPU; conv-sized GEMMs go to the GPU', () => {
    const addon = standIn();
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: DEFAULT_THRESHOLDS });
    const gemm = (m: number, kk: number, n: number) => k.gemm(new BigUint64Array(m * kk), new BigUint64Array(kk * n), m, kk, n, new BigUint64Array(m * n));
    gemm(4, 8, 4);
    gemm(1, 4096, 1024); // 4M MACs but one row: each copied element is used once
    expect(addon.calls).toEqual([]);
    gemm(1024, 576, 64);
    expect(addon.calls).toEqual(['gemm']);
    const a = new BigUint64Array(1000);
    k.mul(a, a, a);
    k.add(a, a, a);
    k.mulScalar(a, 3n, a);
    expect(addon.calls).toEqual(['gemm']);
    expect(k.counters.cpu.mul).toBe(1);
    expect(k.counters.gpu.gemm).toBe(1);
  });

  it('default thresholds follow the CPU side: native-level ones, or lower ones over the TS fallback', () => {
    expect(cudaKernelsFromAddon(standIn(), device, { cpu: tsKernels }).thresholds).toEqual(TS_CPU_THRESHOLDS);
    expect(cudaKernelsFromAddon(standIn(), device, { cpu: { ...tsKernels, name: 'native' } }).thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(cudaKernelsFromAddon(standIn(), device, { cpu: tsKernels, thresholds: { mul: 5 } }).thresholds.mul).toBe(5);
  });

  it('the Z_2^128 kernels (malicious mode; no GPU version) are the CPU set\'s: present over the native addon, absent over the TS kernels', () => {
    expect(cudaKernelsFromAddon(standIn(), device, { cpu: tsKernels }).gemm128).toBeUndefined();
    const stub = { ...tsKernels, name: 'native' as const, gemm128: () => {}, mul128: () => {}, mulScalar128: () => {}, add128: () => {}, sub128: () => {} };
    const k = cudaKernelsFromAddon(standIn(), device, { cpu: stub });
    for (const op of ['gemm128', 'mul128', 'mulScalar128', 'add128', 'sub128'] as const) expect(k[op], op).toBe(stub[op]);
  });

  it('a failing GPU call is recomputed on the CPU (or thrown as E_NATIVE when strict)', () => {
    const boom = () => { throw Object.assign(new Error('cuda: cudaMalloc failed: out of memory'), { code: 'E_NATIVE' }); };
    const addon = standIn({ mul: boom });
    const a = new BigUint64Array([3n, 5n]), b = new BigUint64Array([7n, (1n << 64n) - 1n]);
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU });
    const out = new BigUint64Array(2);
    const warn = process.emitWarning;
    process.emitWarning = () => {};
    try { k.mul(a, b, out); } finally { process.emitWarning = warn; }
    expect([...out]).toEqual([21n, (1n << 64n) - 5n]);
    expect(k.counters.fallbacks).toBe(1);
    expect(k.counters.lastError).toMatch(/out of memory/);
    const strict = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU, strict: true });
    expect(() => strict.mul(a, b, out)).toThrow(expect.objectContaining({ code: 'E_NATIVE' }));
  });

  it('a failing in-place GPU call (out === a, maskZp) is thrown as E_NATIVE, never recomputed from a half-written input', () => {
    // The stand-in writes part of its output (as a chunked download that fails between chunks) and then throws.
    const halfThenBoom = (o: BigUint64Array | Uint8Array): never => { o[0] = o instanceof Uint8Array ? 66 : 12345n; throw Object.assign(new Error('cuda: copy failed'), { code: 'E_NATIVE' }); };
    const addon = standIn({ mul: (_a, _b, o) => halfThenBoom(o), sar: (_a, _f, o) => halfThenBoom(o), maskZp: (d) => halfThenBoom(d), mulScalar: (_a, _s, o) => halfThenBoom(o) });
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU });
    const warn = process.emitWarning;
    process.emitWarning = () => {};
    try {
      const a = new BigUint64Array([3n, 5n]), b = new BigUint64Array([7n, 11n]);
      expect(() => k.mul(a, b, a)).toThrow(expect.objectContaining({ code: 'E_NATIVE', message: expect.stringMatching(/in place/) }));
      expect(() => k.sar(b, 1, b)).toThrow(expect.objectContaining({ code: 'E_NATIVE' }));
      expect(() => k.mulScalar(b, 3n, b)).toThrow(expect.objectContaining({ code: 'E_NATIVE' }));
      expect(() => k.maskZp(new Uint8Array([1, 2]), new Uint8Array([3, 4]), false)).toThrow(expect.objectContaining({ code: 'E_NATIVE' }));
      // Out of place the input is intact: recomputed on the CPU as before, the right product.
      const x = new BigUint64Array([3n, 5n]), y = new BigUint64Array([7n, 11n]), out = new BigUint64Array(2);
      k.mul(x, y, out);
      expect([...out]).toEqual([21n, 55n]);
      expect(k.counters.fallbacks).toBe(1);
    } finally { process.emitWarning = warn; }
  });

  it('32-bit ring kernels: large calls go to the GPU kernels of their own, small ones and r >= 2^31 to the CPU (which refuses r >= 2^31)', () => {
    const addon = standIn();
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: { ...DEFAULT_THRESHOLDS, privateCompareR4: 100, privateCompare32: 100, digitShareZp16: 100 } });
    const pc = (op: 'privateCompare32' | 'privateCompareR4', n: number, r0: bigint) => {
      const W = op === 'privateCompare32' ? 32 : 16, X = op === 'privateCompare32' ? 32 : 48;
      const r = new BigUint64Array(n);
      r[0] = r0;
      k[op](0, new Uint8Array(X * n), r, new Uint8Array(n), new Uint8Array(W * n).fill(1), new Uint8Array(n), new Uint8Array(W * n), new Uint8Array(W * n));
    };
    pc('privateCompareR4', 99, 0n);
    pc('privateCompare32', 99, 0n);
    expect(addon.calls).toEqual([]);
    pc('privateCompareR4', 100, (1n << 31n) - 1n);
    pc('privateCompare32', 100, 5n);
    k.digitShareZp16(new BigUint64Array(100), new Uint8Array(4800), new Uint8Array(4800));
    expect(addon.calls).toEqual(['privateCompareR4', 'privateCompare32', 'digitShareZp16']);
    for (const op of ['privateCompareR4', 'privateCompare32'] as const) {
      let err: unknown;
      try { pc(op, 100, 1n << 31n); } catch (e) { err = e; }
      expect((err as MpcError).code, op).toBe('E_BAD_ARGUMENT');
    }
    expect(addon.calls.length).toBe(3);
    expect(k.counters.gpu.privateCompareR4).toBe(1);
    expect(k.counters.cpu.privateCompareR4).toBe(2);
  });

  it('ring-elems ops: calls at their thresholds go to the GPU kernels, smaller ones, malformed ones and sizes the GPU does not take to the CPU', () => {
    const addon = standIn();
    const at10 = Object.fromEntries(ELEM_OPS.map((op) => [op, 10]));
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: { ...DEFAULT_THRESHOLDS, ...at10 } });
    const a = new BigUint64Array(10).map((_, i) => BigInt(i) * 0x1234_5678_9abcn), out = new BigUint64Array(10);
    const all = (n: number) => {
      const x = a.subarray(0, n), o = out.subarray(0, n);
      k.mulScalar(x, -3n, o);
      k.addScalar(x, 5n, o);
      k.divShare(x, Uint32Array.of(7), 1, o);
      k.sar(x, 13, o);
      k.maskZp(new Uint8Array(n), new Uint8Array(n).fill(66), true);
      // 1 x 4 x 4 x 1 input, 2x2 window, stride 2: im2col has 16 outputs, depthwise 4 (at 10: CPU).
      k.im2col(new BigUint64Array(16), 1, 4, 4, 1, 2, 2, 2, 2, 0, 0, 2, 2, new BigUint64Array(16));
      k.depthwise(new BigUint64Array(16), new BigUint64Array(4), 1, 4, 4, 1, 1, 2, 2, 2, 2, 0, 0, 2, 2, new BigUint64Array(4));
    };
    all(9);
    expect(addon.calls).toEqual(['im2col']);
    addon.calls.length = 0;
    all(10);
    expect(addon.calls).toEqual(['mulScalar', 'addScalar', 'divShare', 'sar', 'maskZp', 'im2col']);
    // A negative scalar reaches the GPU mod 2^64, as the CPU kernels read it.
    const want = new BigUint64Array(10);
    tsKernels.mulScalar(a, -3n, want);
    k.mulScalar(a, -3n, out);
    expect(out).toEqual(want);
    // Depthwise at its threshold (8 x 8 input, 2x2 window, stride 2: 16 outputs).
    addon.calls.length = 0;
    k.depthwise(new BigUint64Array(64), new BigUint64Array(4), 1, 8, 8, 1, 1, 2, 2, 2, 2, 0, 0, 4, 4, new BigUint64Array(16));
    expect(addon.calls).toEqual(['depthwise']);
    // Malformed: the CPU decides (same error), the GPU is not reached.
    addon.calls.length = 0;
    expect(() => k.divShare(a, Uint32Array.of(...new Array(9).fill(1), 0), 0, out)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => k.im2col(new BigUint64Array(16), 1, 4, 4, 1, 2, 2, 0, 2, 0, 0, 2, 2, new BigUint64Array(16))).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    // A padding the CPU takes but the GPU kernels do not (|pad| >= 2^31) goes to the CPU and computes there.
    const big = new BigUint64Array(16);
    k.im2col(new BigUint64Array(16).fill(1n), 1, 4, 4, 1, 2, 2, 2, 2, 2 ** 31, 0, 2, 2, big);
    expect([...big].every((v) => v === 0n)).toBe(true);
    // A window whose reach (outW + kw) sw is no safe integer (C = 0: every length matches): the CPU refuses it, so the GPU is not asked.
    const th0 = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU });
    expect(() => th0.im2col(new BigUint64Array(0), 1, 4, 4, 0, 1, 1, 1, 2 ** 31 - 1, 0, 0, 1, 2 ** 31 - 1, new BigUint64Array(0))).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringContaining('(outW+kw)*sw') }));
    expect(th0.counters.cpu.im2col).toBe(1);
    expect(addon.calls).toEqual([]);
    expect(k.counters.cpu.im2col).toBe(2); // the stride-0 and the 2^31-padding calls
    // im2colGemm's CPU side with sizes that give no array length: the CPU kernels' coded errors, not a RangeError.
    const ig = (N: number, outH: number) => () => th0.im2colGemm!(new BigUint64Array(16), N, 4, 4, 1, 2, 2, 1, 1, 0, 0, outH, 3, new BigUint64Array(8), 2, new BigUint64Array(18));
    expect(ig(-1, 3)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('expected N') }));
    expect(ig(1, 2 ** 40)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^E_[A-Z_]+$/) }));
    expect(addon.calls).toEqual([]);
  });

  it('im2colGemm (conv2d in one call): conv-sized calls go to the GPU, small ones run im2col and gemm; conv2d and conv2d_transpose use it and give the CPU kernels\' bytes', () => {
    const addon = standIn();
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: { ...DEFAULT_THRESHOLDS, gemmMacs: 1 << 14 } });
    const prg = new Prg(new Uint8Array(16).fill(3));
    // 1 x 12 x 12 x 8 input, 3x3 'same', 16 filters: 144 x 72 x 16 = 165888 multiply-adds.
    const s: ConvShape = { N: 1, H: 12, W: 12, C: 8, kh: 3, kw: 3, sh: 1, sw: 1, g: { padTop: 1, padLeft: 1, outH: 12, outW: 12 } as ConvShape['g'] };
    const op = conv2dOp(s, 16);
    const x = prg.u64(op.sizeX), w = prg.u64(op.sizeY);
    const want = op.apply(tsKernels, x, w);
    expect(op.apply(k, x, w)).toEqual(want);
    expect(addon.calls).toEqual(['im2colGemm']);
    // A small one (4 filters on 4 x 4 x 2) runs as im2col and gemm, both on the CPU at these thresholds.
    addon.calls.length = 0;
    const small = conv2dOp({ ...s, H: 4, W: 4, C: 2, g: { padTop: 1, padLeft: 1, outH: 4, outW: 4 } as ConvShape['g'] }, 4);
    const xs = prg.u64(small.sizeX), ws = prg.u64(small.sizeY);
    expect(small.apply(k, xs, ws)).toEqual(small.apply(tsKernels, xs, ws));
    expect(addon.calls).toEqual([]);
    expect(k.counters.cpu.im2colGemm).toBe(1);
    expect(k.counters.cpu.im2col).toBe(1);
    // conv2d_transpose's sub-convolutions (negative padding) use it too: 3x3, stride 2 on 12 x 12 x 8, 16 filters.
    addon.calls.length = 0;
    const ct = conv2dTransposeOp({ N: 1, H: 12, W: 12, C: 8, kh: 3, kw: 3, strides: [2, 2], pad: [[2, 1], [2, 1]] }, 16);
    const xt = prg.u64(ct.sizeX), wt = prg.u64(ct.sizeY);
    expect(ct.apply(k, xt, wt)).toEqual(ct.apply(tsKernels, xt, wt));
    expect(addon.calls.length).toBeGreaterThan(0);
    expect(new Set(addon.calls)).toEqual(new Set(['im2colGemm']));
  });

  it('a secure forward through the CUDA set (stand-in addon, every op at threshold 0) matches the fixed-point twin, and every GPU op of its layers ran there', async () => {
    const g = seededPrg(27);
    const w = (shape: number[], a = 0.3): FloatTensor => ({ shape, data: uniform(g, shape.reduce((p, v) => p * v, 1), a) });
    const C = 3;
    const ir: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [8, 8, C], output: 'd', outputActivation: 'linear', nodes: [
      { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: w([3, 3, C, 4]), bias: w([4]) },
      { kind: 'depthwise_conv2d', name: 'dw', inputs: ['c'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'sigmoid', kernel: w([3, 3, 4, 1]), bias: w([4]) },
      { kind: 'conv2d_transpose', name: 'ct', inputs: ['dw'], filters: 2, kernelSize: [3, 3], strides: [2, 2], pad: [[2, 1], [2, 1]], activation: 'linear', kernel: w([3, 3, 4, 2]) },
      { kind: 'maxpool2d', name: 'mp', inputs: ['ct'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { kind: 'avgpool2d', name: 'ap', inputs: ['mp'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { kind: 'flatten', name: 'fl', inputs: ['ap'] },
      { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: w([4 * 4 * 2, 3]), bias: w([3]) },
    ] };
    const f = 13, x = uniform(g, 2 * 8 * 8 * C, 2);
    const fixed = forwardReals(ir, x, 2, fixedArith({ fracBits: f }));
    const seen = new Set<string>();
    for (const opts of [{ compareBits: 64 as const }, { compareBits: 32 as const, compareRadix: 4 as const, truncation: 'exact' as const }]) {
      const addon = standIn();
      const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU, strict: true });
      const parts = shareModel(tsKernels, ir, f), xs = shareFor3(encode(x, f));
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [2, 8, 8, C], data: xs[ctx.party] }), { fracBits: f, kernels: k, ...opts });
      const got = decode(reconstruct(tsKernels, r.results[0].data, r.results[1].data), f);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - fixed.data[i]!), `${JSON.stringify(opts)} output ${i}`).toBeLessThanOrEqual(64 / 2 ** f + 1e-3 * Math.abs(fixed.data[i]!));
      expect(Object.values(k.counters.cpu).reduce((a, b) => a + b, 0), 'no call of a GPU op stayed on the CPU').toBe(0);
      for (const c of addon.calls) seen.add(c);
    }
    // Both settings together reach the 64-bit ring's comparison (with maskZp), the radix-4 one, both truncations, im2col on the device.
    for (const op of ['im2colGemm', 'gemm', 'depthwise', 'divShare', 'sar', 'mulScalar', 'addScalar', 'maskZp', 'privateCompare', 'privateCompareR4', 'digitShareZp16', 'bitShareZp', 'zeroTest', 'zeroTest16', 'mul', 'add', 'sub']) expect(seen.has(op), op).toBe(true);
  });

  it('ring-elems ops stay on the CPU beside native by default (unmeasured on a device), and go to the GPU from 2^16 over the TS kernels', () => {
    for (const op of ELEM_OPS) {
      expect(DEFAULT_THRESHOLDS[op], op).toBe(Infinity);
      expect(TS_CPU_THRESHOLDS[op], op).toBe(1 << 16);
    }
  });

  it('elementwise calls whose out overlaps an input shifted by part of it go to the CPU (sequential semantics)', () => {
    const addon = standIn();
    const k = cudaKernelsFromAddon(addon, device, { cpu: tsKernels, thresholds: ALL_GPU });
    const buf = new BigUint64Array(9).map((_, i) => BigInt(i + 1));
    const want = buf.slice();
    tsKernels.add(want.subarray(0, 8), want.subarray(1, 9), want.subarray(1, 9));
    k.add(buf.subarray(0, 8), buf.subarray(1, 9), buf.subarray(1, 9));
    expect(buf).toEqual(want);
    expect(addon.calls).toEqual([]);
  });
});
