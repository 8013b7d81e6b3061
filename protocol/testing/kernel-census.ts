/**
 * Kernel census (issue 27's audit, bench/cuda-audit.ts): a RingKernels that
 * computes with an inner CPU set and counts, per (party, layer kind, calling
 * protocol module, op), the calls, the elements and the wall time inside the
 * kernel, and whether the CUDA set (protocol/kernels/cuda/index.ts) would run
 * the call on the GPU under given thresholds. The routing question is asked of
 * the real routing code: cudaKernelsFromAddon over a stand-in addon that
 * computes with the same inner kernels and notes that it was reached.
 *
 * "Elements" per op: gemm and im2colGemm m*k*n multiply-adds, depthwise outputs * taps,
 * im2col its output length, the PrivateCompares and zero tests their
 * comparisons, bitShare / digitShare their values, rejectSample its raw bytes,
 * the Z_2^128 ops their 128-bit elements, everything else its first array's
 * length. Results are those of the inner set (the wrapper only counts).
 * Test and benchmark code only.
 */
import { cudaKernelsFromAddon, CUDA_OPS, type CudaAddon, type CudaThresholds } from '../kernels/cuda/index.js';
import type { RingKernels } from '../kernels/types.js';

export interface CensusRow {
  party: number;
  layer: string;
  caller: string;
  op: string;
  calls: number;
  elements: number;
  ms: number;
  /** Calls (and their elements) the CUDA set would run on the GPU under the census's thresholds. */
  gpuCalls: number;
  gpuElements: number;
}

export interface Census {
  rows: Map<string, CensusRow>;
  /** The kernels for party `party`; `layer()` names the layer its calls count under. */
  kernelsFor(party: number, layer: () => string): RingKernels;
}

type Fn = (...a: unknown[]) => unknown;
const len = (a: unknown): number => (a as { length: number }).length;

/** Elements of one call (see the file comment). */
export function elementsOf(op: string, a: unknown[]): number {
  switch (op) {
    case 'gemm': case 'gemm128': return (a[2] as number) * (a[3] as number) * (a[4] as number);
    case 'depthwise': return len(a[15]) * (a[7] as number) * (a[8] as number);
    case 'im2col': return len(a[13]);
    case 'im2colGemm': return len(a[15]) * (a[5] as number) * (a[6] as number) * (a[4] as number); // m n * k: multiply-adds
    case 'privateCompare': case 'privateCompare32': case 'privateCompareR4': return len(a[2]);
    case 'zeroTest': case 'zeroTest32': case 'zeroTest16': return len(a[2]);
    case 'mul128': case 'mulScalar128': case 'add128': case 'sub128': return len(a[0]) / 4;
    default: return len(a[0]);
  }
}

/** The protocol module (file name) that called the kernel: the first stack frame outside the kernels and this file. */
export function callerModule(stack: string | undefined): string {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /([\w.-]+)\.(?:ts|js|mjs):\d+:\d+\)?$/.exec(line.trim());
    if (!m || line.includes('/kernels/') || line.includes('kernel-census')) continue;
    return m[1]!;
  }
  return '?';
}

/** A stand-in CUDA addon that computes with `cpu` and calls `hit` on every call (routing only; no device). */
function routingAddon(cpu: RingKernels, hit: () => void): CudaAddon {
  const via = (op: keyof RingKernels) => (...a: unknown[]) => { hit(); (cpu[op] as Fn)(...a); };
  const ops = Object.fromEntries(CUDA_OPS.map((op) => [op, via(op)])) as unknown as CudaAddon;
  return Object.assign(ops, {
    info: () => ({ name: 'census', major: 0, minor: 0, sms: 0, totalMem: 0, runtimeVersion: 0, driverVersion: 0, count: 1, error: '' }),
    privateCompare: (...a: unknown[]) => { hit(); (cpu.privateCompare as Fn)(...a); return 0; },
    // conv2d in one call: im2col and gemm on the CPU set (which has no im2colGemm).
    im2colGemm: (x: BigUint64Array, N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, oh: number, ow: number, B: BigUint64Array, n: number, out: BigUint64Array) => {
      hit();
      const cols = new BigUint64Array(N * oh * ow * kh * kw * C);
      cpu.im2col(x, N, H, W, C, kh, kw, sh, sw, pt, pl, oh, ow, cols);
      cpu.gemm(cols, B, N * oh * ow, kh * kw * C, n, out);
    },
    benchGemm: () => ({ ms: 0, checksum: 0n, probe: 0n, probeWant: 0n }),
    setGemmVariant: () => {},
    lastTiming: () => ({ h2dMs: 0, kernelMs: 0, d2hMs: 0, bytesH2d: 0, bytesD2h: 0, bytesStaged: 0 }),
    setStaging: () => -1,
    release: () => {},
  });
}

/** A census over `cpu`, routed as the CUDA set would route with `thresholds` over that CPU set. */
export function kernelCensus(cpu: RingKernels, thresholds: Partial<CudaThresholds>): Census {
  const rows = new Map<string, CensusRow>();
  let reached = false;
  const routed = cudaKernelsFromAddon(routingAddon(cpu, () => { reached = true; }), { name: 'census', major: 0, minor: 0, sms: 0, totalMem: 0, runtimeVersion: 0, driverVersion: 0 }, { cpu, thresholds });
  const limit = Error.stackTraceLimit;
  return {
    rows,
    kernelsFor(party, layer) {
      const wrap = (op: string, f: Fn): Fn => (...a: unknown[]) => {
        Error.stackTraceLimit = 12;
        const caller = callerModule(new Error().stack);
        Error.stackTraceLimit = limit;
        reached = false;
        const t0 = performance.now();
        const r = f(...a);
        const ms = performance.now() - t0;
        const key = `${party}|${layer()}|${caller}|${op}`;
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { party, layer: layer(), caller, op, calls: 0, elements: 0, ms: 0, gpuCalls: 0, gpuElements: 0 }));
        const n = elementsOf(op, a);
        row.calls++;
        row.elements += n;
        row.ms += ms;
        if (reached) { row.gpuCalls++; row.gpuElements += n; }
        return r;
      };
      const out: Record<string, unknown> = { name: cpu.name };
      // The CPU set's methods, and the CUDA set's im2colGemm (conv2d and conv2d_transpose call it when present).
      for (const op of [...Object.keys(cpu), 'im2colGemm'] as (keyof RingKernels)[]) {
        const f = (routed as unknown as Record<string, unknown>)[op] ?? cpu[op];
        if (typeof f === 'function') out[op] = wrap(op, f as Fn);
      }
      return out as unknown as RingKernels;
    },
  };
}

/** Rows summed over everything but the fields named in `by`. */
export function sumBy(rows: Iterable<CensusRow>, by: (r: CensusRow) => string): Map<string, Omit<CensusRow, 'party' | 'layer' | 'caller'> & { key: string }> {
  const out = new Map<string, Omit<CensusRow, 'party' | 'layer' | 'caller'> & { key: string }>();
  for (const r of rows) {
    const k = by(r);
    const s = out.get(k) ?? { key: k, op: r.op, calls: 0, elements: 0, ms: 0, gpuCalls: 0, gpuElements: 0 };
    s.calls += r.calls; s.elements += r.elements; s.ms += r.ms; s.gpuCalls += r.gpuCalls; s.gpuElements += r.gpuElements;
    out.set(k, s);
  }
  return out;
}
