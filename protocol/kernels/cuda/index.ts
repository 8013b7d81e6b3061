/**
 * CUDA backend for the share-arithmetic kernels.
 *
 * cudaKernelsFromAddon() returns a RingKernels named 'cuda' that runs gemm, mul,
 * privateCompare, zeroTest and bitShareZp, their 32-position versions
 * (privateCompare32, zeroTest32, bitShareZp32), the radix-4 ones
 * (privateCompareR4, zeroTest16, digitShareZp16) and the ops of ring-elems.h
 * (mulScalar, addScalar, divShare, sar, maskZp, im2col, depthwise) on the GPU when a call is large
 * enough to repay the PCIe copies, and everything else (small calls, the
 * remaining methods, and any call whose arguments are not well formed) on a
 * CPU RingKernels (by default getKernels('auto'): the native kernels the runtime handed in, else ts).
 * Results are bit-identical to the CPU kernels: all GPU arithmetic is exact
 * integer arithmetic (kernels.cu), and a malformed call goes to the CPU
 * kernels so that it fails with the same error code and message.
 *
 * This file builds that RingKernels over a loaded addon
 * (cudaKernelsFromAddon). Loading the addon (build-cuda/securenn_cuda.node,
 * built by scripts/build-cuda.mjs when nvcc is present), cudaStatus(),
 * loadCudaKernels() and the backend choice are the runtime layer's
 * (runtime/cuda-addon.ts); protocol/ loads nothing from disk.
 */
import { MpcError } from '../../errors.js';
import { scratchU64 } from '../../ring/scratch.js';
import { getKernels, type KernelBackend } from '../index.js';
import { allBelow2p31 } from '../narrow.js';
import type { RingKernels } from '../types.js';

/** The raw addon (binding.c). */
/** The raw CUDA addon: the RingKernels operations it implements (same signatures, but privateCompare reports instead of throwing) plus device control. */
export type CudaAddon = Pick<RingKernels, 'add' | 'sub' | 'mul' | 'gemm' | 'bitShareZp' | 'zeroTest' | NarrowOp | 'sar' | 'divShare' | 'maskZp' | 'im2col' | 'depthwise'> & Required<Pick<RingKernels, 'im2colGemm'>> & {
  /** As RingKernels' (s taken mod 2^64: the caller passes BigInt.asUintN(64, s)). */
  mulScalar(a: BigUint64Array, s: bigint, out: BigUint64Array): void;
  addScalar(a: BigUint64Array, s: bigint, out: BigUint64Array): void;
  info(): CudaDeviceInfo & { count: number; error: string };
  /** Returns 0 when d was written; else a mask of why not (1: perm entry > 63, 2: u missing, 4: not a permutation). */
  privateCompare(j: number, xb: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, u: Uint8Array | null, perm: Uint8Array, d: Uint8Array): number;
  /** Device-resident GEMM timing on hashed inputs; variant -1 picks the tile shape by n. */
  benchGemm(m: number, k: number, n: number, variant: number, reps: number): { ms: number; checksum: bigint; probe: bigint; probeWant: bigint };
  setGemmVariant(v: number): void;
  /** Copies of at least 1 MiB through pinned staging slots (true, the default) or pageable only; returns 1 (slots allocated), 0 (not tried yet) or -1 (pageable only: switched off, or cudaMallocHost failed). */
  setStaging(on: boolean): number;
  lastTiming(): CudaTiming;
  release(): void;
};

export interface CudaDeviceInfo {
  name: string;
  major: number;
  minor: number;
  sms: number;
  totalMem: number;
  runtimeVersion: number;
  driverVersion: number;
}

/** Phases of the last GPU call (CUDA events), and the bytes copied each way. */
export interface CudaTiming { h2dMs: number; kernelMs: number; d2hMs: number; bytesH2d: number; bytesD2h: number; /** Of those, the bytes that went through the pinned staging slots (staging.h). */ bytesStaged: number }

/** The kernels of the 32-bit comparison ring (kernels-narrow.cu; per-element logic zp-rows.h). */
export type NarrowOp = 'privateCompare32' | 'zeroTest32' | 'bitShareZp32' | 'privateCompareR4' | 'zeroTest16' | 'digitShareZp16';
/** The ops of ring-elems.h (kernels-elems.cu): the scalar steps and local truncations, the 64-bit ring's mask step, the windowed kernels. */
export type ElemOp = 'mulScalar' | 'addScalar' | 'divShare' | 'sar' | 'maskZp' | 'im2col' | 'depthwise';
/** im2colGemm: a conv2d's im2col and GEMM in one device call (kernels-gemm.cu), routed by the GEMM's thresholds. */
export type CudaOp = 'gemm' | 'im2colGemm' | 'mul' | 'add' | 'sub' | 'privateCompare' | 'zeroTest' | 'bitShareZp' | NarrowOp | ElemOp;

/**
 * When a call goes to the GPU. gemm: m*k*n at least `gemmMacs` and at least
 * `gemmIntensity` multiply-adds per element copied (m*k + k*n + m*n); the
 * others: at least this many elements (values for add/sub/mul/bitShareZp,
 * comparisons for privateCompare/zeroTest). Infinity keeps an op on the CPU.
 */
export interface CudaThresholds {
  gemmMacs: number;
  gemmIntensity: number;
  mul: number;
  add: number;
  sub: number;
  privateCompare: number;
  zeroTest: number;
  bitShareZp: number;
  /** The 32-position and radix-4 kernels: comparisons (privateCompare32/R4, zeroTest32/16) or values (bitShareZp32, digitShareZp16). */
  privateCompare32: number;
  zeroTest32: number;
  bitShareZp32: number;
  privateCompareR4: number;
  zeroTest16: number;
  digitShareZp16: number;
  /** The ops of ring-elems.h: values (mulScalar, addScalar, divShare, sar), bytes (maskZp), output elements (im2col, depthwise). */
  mulScalar: number;
  addScalar: number;
  divShare: number;
  sar: number;
  maskZp: number;
  im2col: number;
  depthwise: number;
}

/**
 * Defaults when the CPU side is the native addon, from the H100 measurements
 * in bench/CUDA-RESULTS.md (PCIe copies counted): the GEMM pays from about a
 * million multiply-adds when each copied element takes part in enough
 * products (conv layers, not batch-1 dense layers); PrivateCompare pays from a
 * few thousand comparisons; bitShareZp only for large batches; add, sub, mul
 * and zeroTest are memory-bound and the multi-threaded native kernels beat the
 * copies, so they stay on the CPU.
 */
export const DEFAULT_THRESHOLDS: Readonly<CudaThresholds> = Object.freeze({
  gemmMacs: 1 << 20,
  gemmIntensity: 8,
  mul: Infinity,
  add: Infinity,
  sub: Infinity,
  privateCompare: 1 << 12,
  zeroTest: Infinity,
  bitShareZp: 1 << 20,
  // Not measured on a device yet (bench/CUDA-RESULTS.md): those of the 64-position kernels, as the
  // padded route (narrowViaWide) had before the kernels of their own; to be set from the device run.
  privateCompare32: 1 << 12,
  zeroTest32: Infinity,
  bitShareZp32: 1 << 20,
  privateCompareR4: 1 << 12,
  zeroTest16: Infinity,
  digitShareZp16: 1 << 20,
  // The ops of ring-elems.h (2026-12-07, no device): memory-bound as add/sub/mul are (one pass, copies both ways;
  // im2col copies out kh*kw times what it copies in), so on the CPU beside native until a device run
  // (bench/cuda-bench.ts section `elems`) measures them; depthwise does kh*kw multiply-adds per output, likewise unmeasured.
  mulScalar: Infinity,
  addScalar: Infinity,
  divShare: Infinity,
  sar: Infinity,
  maskZp: Infinity,
  im2col: Infinity,
  depthwise: Infinity,
});

/** Defaults when the CPU side is the TS fallback (5-100x slower than native): the GPU wins far earlier. */
export const TS_CPU_THRESHOLDS: Readonly<CudaThresholds> = Object.freeze({
  gemmMacs: 1 << 16,
  gemmIntensity: 0,
  mul: 1 << 16,
  add: 1 << 16,
  sub: 1 << 16,
  privateCompare: 1 << 10,
  zeroTest: 1 << 12,
  bitShareZp: 1 << 12,
  privateCompare32: 1 << 10,
  zeroTest32: 1 << 12,
  bitShareZp32: 1 << 12,
  privateCompareR4: 1 << 10,
  zeroTest16: 1 << 12,
  digitShareZp16: 1 << 12,
  mulScalar: 1 << 16,
  addScalar: 1 << 16,
  divShare: 1 << 16,
  sar: 1 << 16,
  maskZp: 1 << 16,
  im2col: 1 << 16,
  depthwise: 1 << 16,
});

/** Every GPU op on the GPU at any size (the equality checks: cuda.test.ts, bench/cuda-check.ts). */
export const ALL_GPU_THRESHOLDS: Readonly<CudaThresholds> = Object.freeze(Object.fromEntries(Object.keys(DEFAULT_THRESHOLDS).map((k) => [k, 0])) as unknown as CudaThresholds);

export interface CudaOptions {
  /** Kernels for the calls that stay on the CPU (default getKernels(cpuBackend)); also picks the default thresholds. */
  cpu?: RingKernels;
  cpuBackend?: KernelBackend;
  thresholds?: Partial<CudaThresholds>;
  /** Throw GPU failures instead of recomputing the call on the CPU (tests). */
  strict?: boolean;
}

export interface CudaCounters {
  /** Calls that ran on the GPU, per op. */
  gpu: Record<CudaOp, number>;
  /** Calls of a GPU-capable op that went to the CPU (small or malformed), per op. */
  cpu: Record<CudaOp, number>;
  /** GPU calls that failed and were recomputed on the CPU (strict: false). */
  fallbacks: number;
  /** privateCompare calls whose inputs the GPU flagged (bad perm, missing u) and the CPU redid. */
  recomputed: number;
  lastError: string | null;
  /** Milliseconds of wall time spent in GPU calls, per op. */
  gpuMs: Record<CudaOp, number>;
}

export interface CudaKernels extends RingKernels {
  readonly name: 'cuda';
  readonly cpu: RingKernels;
  readonly device: CudaDeviceInfo;
  readonly thresholds: Readonly<CudaThresholds>;
  readonly counters: CudaCounters;
  readonly addon: CudaAddon;
  resetCounters(): void;
}

export const ELEM_OPS: readonly ElemOp[] = ['mulScalar', 'addScalar', 'divShare', 'sar', 'maskZp', 'im2col', 'depthwise'];
export const CUDA_OPS: readonly CudaOp[] = ['gemm', 'im2colGemm', 'mul', 'add', 'sub', 'privateCompare', 'zeroTest', 'bitShareZp', 'privateCompare32', 'zeroTest32', 'bitShareZp32', 'privateCompareR4', 'zeroTest16', 'digitShareZp16', ...ELEM_OPS];
const OPS = CUDA_OPS;
const perOp = (): Record<CudaOp, number> => Object.fromEntries(OPS.map((o) => [o, 0])) as Record<CudaOp, number>;

type Typed = BigUint64Array | Uint32Array | Uint8Array;

/** Same backing memory with any overlap. */
function overlaps(a: Typed, b: Typed): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
/** Elementwise ops may write over an input exactly (out === a), not shifted by part of it. */
const badAlias = (out: Typed, a: Typed): boolean => overlaps(out, a) && (out.byteOffset !== a.byteOffset || out.byteLength !== a.byteLength);
const isU64 = (a: unknown): a is BigUint64Array => a instanceof BigUint64Array;
const isU8 = (a: unknown): a is Uint8Array => a instanceof Uint8Array;
const isU32 = (a: unknown): a is Uint32Array => a instanceof Uint32Array;
/** A window size or stride the GPU kernels take (ring-elems.h: below 2^31); anything else goes to the CPU kernels, which decide. */
const isWin = (v: unknown, lo = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v < 2 ** 31;
const isPad = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31;
const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 40;

/** The kernel set over a loaded addon (exported for tests, which also drive it with a stand-in addon). */
export function cudaKernelsFromAddon(addon: CudaAddon, device: CudaDeviceInfo, opts: CudaOptions = {}): CudaKernels {
  const cpu = opts.cpu ?? getKernels(opts.cpuBackend ?? 'auto');
  const th: CudaThresholds = { ...(cpu.name === 'ts' ? TS_CPU_THRESHOLDS : DEFAULT_THRESHOLDS), ...opts.thresholds };
  const strict = opts.strict ?? false;
  const counters: CudaCounters = { gpu: perOp(), cpu: perOp(), fallbacks: 0, recomputed: 0, lastError: null, gpuMs: perOp() };

  /**
   * Runs fn on the GPU; on failure either throws (strict) or returns false so the caller recomputes on the CPU. A call
   * whose output is also one of its inputs (`inPlace`: out === a, maskZp's d) throws on failure too: the chunked
   * download may already have written part of the output over the input, so a CPU recomputation would read altered
   * values and give a wrong result without an error.
   */
  function gpu(op: CudaOp, fn: () => void, inPlace = false): boolean {
    const t0 = performance.now();
    try {
      fn();
    } catch (e) {
      counters.lastError = `${op}: ${(e as Error).message}`;
      if (strict || inPlace) throw new MpcError('E_NATIVE', `cuda ${counters.lastError}${inPlace && !strict ? ' (in place: not recomputed on the CPU)' : ''}`, { cause: e });
      if (counters.fallbacks++ === 0) process.emitWarning(`cuda kernels: ${counters.lastError}; recomputing on the CPU`, { code: 'MPC_CUDA_FALLBACK' });
      return false;
    }
    counters.gpu[op]++;
    counters.gpuMs[op] += performance.now() - t0;
    return true;
  }
  const onCpu = (op: CudaOp): void => { counters.cpu[op]++; };

  const ew = (op: 'add' | 'sub' | 'mul') => (a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void => {
    const ok = isU64(a) && isU64(b) && isU64(out) && b.length === a.length && out.length === a.length
      && a.length >= th[op] && !badAlias(out, a) && !badAlias(out, b);
    if (ok && gpu(op, () => addon[op](a, b, out), overlaps(out, a) || overlaps(out, b))) return;
    onCpu(op);
    cpu[op](a, b, out);
  };

  // x, r -> out with X values per element (bitShareZp32: 32, digitShareZp16: 48).
  const shareRows = (op: 'bitShareZp32' | 'digitShareZp16', X: number) => (x: BigUint64Array, r: Uint8Array, out: Uint8Array): void => {
    const ok = isU64(x) && isU8(r) && isU8(out) && r.length === X * x.length && out.length === X * x.length
      && x.length >= th[op] && !overlaps(out, x) && !badAlias(out, r);
    if (ok && gpu(op, () => addon[op](x, r, out), overlaps(out, r))) return;
    onCpu(op);
    cpu[op](x, r, out);
  };
  const zeroRows = (op: 'zeroTest32' | 'zeroTest16', W: number) => (d0: Uint8Array, d1: Uint8Array, out: Uint8Array): void => {
    const ok = isU8(d0) && isU8(d1) && isU8(out) && d0.length === W * out.length && d1.length === W * out.length
      && out.length >= th[op] && !overlaps(out, d0) && !overlaps(out, d1);
    if (ok && gpu(op, () => addon[op](d0, d1, out))) return;
    onCpu(op);
    cpu[op](d0, d1, out);
  };
  // W values sent per element, X dealt (privateCompare32: 32, 32; privateCompareR4: 16, 48). r >= 2^31 goes to the CPU, which refuses it.
  const pcRows = (op: 'privateCompare32' | 'privateCompareR4', W: number, X: number) =>
    (j: 0 | 1, x: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, rot: Uint8Array, mask: Uint8Array, d: Uint8Array): void => {
      const n = isU64(r) ? r.length : -1;
      const ok = n >= 0 && n >= th[op] && (j === 0 || j === 1)
        && isU8(x) && x.length === X * n && isU8(beta) && beta.length === n && isU8(s) && s.length === W * n
        && isU8(rot) && rot.length === n && isU8(mask) && mask.length === W * n && isU8(d) && d.length === W * n
        && ![x, r, beta, s, rot, mask].some((a) => overlaps(d, a)) && allBelow2p31(r);
      if (ok && gpu(op, () => addon[op](j, x, r, beta, s, rot, mask, d))) return;
      onCpu(op);
      cpu[op](j, x, r, beta, s, rot, mask, d);
    };

  // a (values) -> out, with a scalar: mulScalar / addScalar (s mod 2^64, as the CPU kernels take it).
  const scalarOp = (op: 'mulScalar' | 'addScalar') => (a: BigUint64Array, s: bigint, out: BigUint64Array): void => {
    const ok = isU64(a) && isU64(out) && out.length === a.length && typeof s === 'bigint' && a.length >= th[op] && !badAlias(out, a);
    if (ok && gpu(op, () => addon[op](a, BigInt.asUintN(64, s), out), overlaps(out, a))) return;
    onCpu(op);
    cpu[op](a, s, out);
  };
  // x (NHWC) -> out of the window geometry; depthwise also reads w. Sizes at or above 2^31 go to the CPU kernels.
  // As the CPU kernels require (check.ts checkWindowReach): (outH + kh) sh and (outW + kw) sw are safe integers.
  const windowOk = (x: unknown, out: unknown, dims: unknown[], sh: unknown, sw: unknown, padTop: unknown, padLeft: unknown, reach: [unknown, unknown, unknown, unknown]): boolean =>
    isU64(x) && isU64(out) && dims.every((d) => isWin(d)) && isWin(sh, 1) && isWin(sw, 1) && isPad(padTop) && isPad(padLeft) && !overlaps(out, x)
    && Number.isSafeInteger(((reach[0] as number) + (reach[1] as number)) * sh) && Number.isSafeInteger(((reach[2] as number) + (reach[3] as number)) * sw);
  const size = (...d: number[]): number => d.reduce((p, v) => p * v, 1);

  const kernels: CudaKernels = {
    name: 'cuda',
    cpu,
    device,
    thresholds: Object.freeze({ ...th }),
    counters,
    addon,
    resetCounters() {
      for (const o of OPS) { counters.gpu[o] = 0; counters.cpu[o] = 0; counters.gpuMs[o] = 0; }
      counters.fallbacks = 0;
      counters.recomputed = 0;
      counters.lastError = null;
    },

    add: ew('add'),
    sub: ew('sub'),
    mul: ew('mul'),
    mulScalar: scalarOp('mulScalar'),
    addScalar: scalarOp('addScalar'),
    divShare(a, d, party, out) {
      const ok = isU64(a) && isU32(d) && isU64(out) && out.length === a.length && (d.length === 1 || d.length === a.length)
        && (party === 0 || party === 1) && a.length >= th.divShare && !badAlias(out, a) && !overlaps(out, d) && !d.includes(0);
      if (ok && gpu('divShare', () => addon.divShare(a, d, party, out), overlaps(out, a))) return;
      onCpu('divShare');
      cpu.divShare(a, d, party, out);
    },
    sar(a, f, out) {
      const ok = isU64(a) && isU64(out) && out.length === a.length && Number.isSafeInteger(f) && f >= 0 && a.length >= th.sar && !badAlias(out, a);
      if (ok && gpu('sar', () => addon.sar(a, f, out), overlaps(out, a))) return;
      onCpu('sar');
      cpu.sar(a, f, out);
    },
    wrap: (a, b, out) => cpu.wrap(a, b, out),
    addOdd: (a, b, out) => cpu.addOdd(a, b, out),
    subOdd: (a, b, out) => cpu.subOdd(a, b, out),
    reduceOdd: (a, out) => cpu.reduceOdd(a, out),
    // conv2d in one call: on the GPU when its GEMM pays (gemmMacs, and gemmIntensity over what is copied: x, B and
    // out, not the kh*kw-times larger im2col matrix); else im2col and gemm as separate calls (each routed as usual).
    im2colGemm(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, B, n, out) {
      const m = N * outH * outW, kk = kh * kw * C;
      let ok = windowOk(x, out, [N, H, W, C, kh, kw, outH, outW, n], sh, sw, padTop, padLeft, [outH, kh, outW, kw]) && isU64(B)
        && !overlaps(out, B) && x.length === size(N, H, W, C) && B.length === kk * n && out.length === m * n;
      if (ok) {
        const macs = m * kk * n;
        ok = macs >= th.gemmMacs && macs >= th.gemmIntensity * (x.length + kk * n + m * n);
      }
      if (ok && gpu('im2colGemm', () => addon.im2colGemm(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, B, n, out))) return;
      onCpu('im2colGemm');
      // The im2col matrix in a scratch slot, as conv.ts's (read only by the GEMM below). A length that is no array length
      // (malformed sizes) leaves it empty: the CPU kernels then refuse the call with their coded error, not a RangeError.
      const len = m * kk, cols = scratchU64('cuda.im2colGemm.cols', Number.isSafeInteger(len) && len >= 0 && len <= 2 ** 32 ? len : 0);
      kernels.im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, cols);
      kernels.gemm(cols, B, m, kk, n, out);
    },
    im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
      const ok = windowOk(x, out, [N, H, W, C, kh, kw, outH, outW], sh, sw, padTop, padLeft, [outH, kh, outW, kw])
        && x.length === size(N, H, W, C) && out.length === size(N, outH, outW, kh, kw, C) && out.length >= th.im2col;
      if (ok && gpu('im2col', () => addon.im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out))) return;
      onCpu('im2col');
      cpu.im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out);
    },
    depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
      const ok = windowOk(x, out, [N, H, W, C, dm, kh, kw, outH, outW], sh, sw, padTop, padLeft, [outH, kh, outW, kw]) && isU64(w) && !overlaps(out, w)
        && x.length === size(N, H, W, C) && w.length === size(kh, kw, C, dm) && out.length === size(N, outH, outW, C, dm) && out.length >= th.depthwise;
      if (ok && gpu('depthwise', () => addon.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out))) return;
      onCpu('depthwise');
      cpu.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out);
    },
    maskZp(d: Uint8Array, mask: Uint8Array, subtract: boolean) {
      const ok = isU8(d) && isU8(mask) && mask.length === d.length && typeof subtract === 'boolean' && d.length >= th.maskZp && !overlaps(d, mask);
      if (ok && gpu('maskZp', () => addon.maskZp(d, mask, subtract), true)) return;
      onCpu('maskZp');
      cpu.maskZp(d, mask, subtract);
    },
    // Optional methods: present exactly when the CPU set has them.
    rejectSample: (raw: Uint8Array, table: Uint8Array, out: Uint8Array, filled: number) => cpu.rejectSample(raw, table, out, filled),

    gemm(A, B, m, k, n, out) {
      let ok = isU64(A) && isU64(B) && isU64(out) && isDim(m) && isDim(k) && isDim(n)
        && A.length === m * k && B.length === k * n && out.length === m * n && !overlaps(out, A) && !overlaps(out, B);
      if (ok) {
        const macs = m * k * n;
        ok = macs >= th.gemmMacs && macs >= th.gemmIntensity * (m * k + k * n + m * n);
      }
      if (ok && gpu('gemm', () => addon.gemm(A, B, m, k, n, out))) return;
      onCpu('gemm');
      cpu.gemm(A, B, m, k, n, out);
    },

    bitShareZp(x, r, out) {
      const ok = isU64(x) && isU8(r) && isU8(out) && r.length === 64 * x.length && out.length === 64 * x.length
        && x.length >= th.bitShareZp && !overlaps(out, x) && !badAlias(out, r);
      if (ok && gpu('bitShareZp', () => addon.bitShareZp(x, r, out), overlaps(out, r))) return;
      onCpu('bitShareZp');
      cpu.bitShareZp(x, r, out);
    },

    privateCompare(j, xb, r, beta, s, u, perm, d) {
      const n = isU64(r) ? r.length : -1, n64 = 64 * n;
      const ok = n >= 0 && n >= th.privateCompare && (j === 0 || j === 1)
        && isU8(xb) && xb.length === n64 && isU8(beta) && beta.length === n && isU8(s) && s.length === n64
        && (u === null || (isU8(u) && u.length === n64)) && isU8(perm) && perm.length === n64 && isU8(d) && d.length === n64
        && ![xb, r, beta, s, perm, ...(u ? [u] : [])].some((a) => overlaps(d, a));
      if (ok) {
        let flags = 0;
        if (gpu('privateCompare', () => { flags = addon.privateCompare(j, xb, r, beta, s, u, perm, d); })) {
          if (flags === 0) return;
          // Inputs the GPU will not decide (perm entry > 63, u missing, not a permutation): d is untouched and the CPU redoes it, failing or not exactly as it would alone.
          counters.recomputed++;
        }
      }
      if (!ok) onCpu('privateCompare');
      cpu.privateCompare(j, xb, r, beta, s, u, perm, d);
    },

    zeroTest(d0, d1, out) {
      const ok = isU8(d0) && isU8(d1) && isU8(out) && d0.length === 64 * out.length && d1.length === 64 * out.length
        && out.length >= th.zeroTest && !overlaps(out, d0) && !overlaps(out, d1);
      if (ok && gpu('zeroTest', () => addon.zeroTest(d0, d1, out))) return;
      onCpu('zeroTest');
      cpu.zeroTest(d0, d1, out);
    },

    // The 32-bit comparison ring: kernels of their own (kernels-narrow.cu), same routing as above.
    bitShareZp32: shareRows('bitShareZp32', 32),
    digitShareZp16: shareRows('digitShareZp16', 48),
    zeroTest32: zeroRows('zeroTest32', 32),
    zeroTest16: zeroRows('zeroTest16', 16),
    privateCompare32: pcRows('privateCompare32', 32, 32),
    privateCompareR4: pcRows('privateCompareR4', 16, 48),
    // Z_2^128 (malicious mode): no GPU kernels; those of the CPU set it has.
    ...Object.fromEntries((['gemm128', 'mul128', 'mulScalar128', 'add128', 'sub128', 'signedSum128', 'blockComb128'] as const).filter((op) => cpu[op]).map((op) => [op, cpu[op]])),
  };
  return kernels;
}
