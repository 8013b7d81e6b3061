/**
 * Kernel micro-benchmarks: GEMM throughput (GMAC/s) of the native and TS
 * kernels, and ms per 1e5 elements of the PrivateCompare kernels.
 *   npx tsx bench/kernels.ts            (or: npm run bench:kernels)
 * Z_2^128 (the malicious mode): gemm128, mul128 and add128 of the native addon
 * beside the u64 ones of the same shape and the fallback that computes them
 * from 19 Z_2^64 products (protocol/malicious/gemm128.ts) on the native and
 * the TS kernels, all on one thread.
 * MPC_BENCH_QUICK=1 runs fewer repetitions. Each GEMM shape has a row per
 * SIMD level the CPU has, on one thread (x86: avx512, avx2, scalar; arm64:
 * neon, scalar), so their ratios come from one run; MPC_KERNEL_SIMD caps the
 * level of the first rows (see protocol/kernels/native.ts). On a shared
 * machine pin it (`taskset -c 1`) and repeat: the "x2" row then shares a core.
 */
import '../runtime/install.js';
import { randomFillSync, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { configureNativeKernels, loadNativeKernels, nativeKernelInfo, nativeLoadError } from '../runtime/native-addon.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { matmul128Gemm, mul128Kernels } from '../protocol/malicious/gemm128.js';
import { add128, alloc128, type Vec128 } from '../protocol/malicious/ring128.js';

const QUICK = process.env.MPC_BENCH_QUICK === '1';
const native = loadNativeKernels();

function rand64(n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  randomFillSync(a);
  return a;
}
function bytes(n: number, below: number): Uint8Array {
  const a = new Uint8Array(n);
  randomFillSync(a);
  for (let i = 0; i < n; i++) a[i] = a[i]! % below;
  return a;
}

/** Median wall ms of the runs after one warm-up, running for at least minMs in total. */
function time(fn: () => void, minMs = QUICK ? 100 : 400): number {
  return timeBoth(fn, minMs).ms;
}

/**
 * Median wall ms and median process CPU ms (user + system, all threads) per
 * run. On a loaded machine the CPU time leaves out the time the process was
 * descheduled; for a one-thread kernel it is that core's time.
 */
function timeBoth(fn: () => void, minMs = QUICK ? 100 : 400): { ms: number; cpuMs: number } {
  fn();
  const wall: number[] = [], cpu: number[] = [];
  const start = performance.now();
  while (wall.length < 3 || (performance.now() - start < minMs && wall.length < 200)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = (a: number[]): number => a.sort((x, y) => x - y)[a.length >> 1]!;
  return { ms: median(wall), cpuMs: median(cpu) };
}

const pad = (s: string, n: number): string => s.padEnd(n);

function benchGemm(label: string, m: number, k: number, n: number): void {
  const A = rand64(m * k), B = rand64(k * n), out = new BigUint64Array(m * n);
  const macs = m * k * n;
  // A timed sample runs the product `reps` times (about 2e7 MACs): a single small product (the dense row's 0.1M
  // MACs, ~20 us) is below what process.cpuUsage() resolves, which quantised its CPU rows to 15, 16 or 24 us.
  const reps = Math.max(1, Math.round(2e7 / macs));
  const row = (name: string, kk: RingKernels): string => {
    const t = timeBoth(() => { for (let r = 0; r < reps; r++) kk.gemm(A, B, m, k, n, out); });
    const ms = t.ms / reps, cpuMs = t.cpuMs / reps;
    const perCpu = cpuMs > 0 ? (macs / cpuMs / 1e6).toFixed(2) : 'n/a';
    return `${pad(name, 22)} ${(macs / ms / 1e6).toFixed(2).padStart(7)} GMAC/s  ${ms.toFixed(3).padStart(9)} ms   ${perCpu.padStart(7)} GMAC/CPU-s`;
  };
  console.log(`gemm ${label} (${m}x${k}x${n}, ${(macs / 1e6).toFixed(1)}M MAC${reps > 1 ? `, ${reps} per timed sample` : ''})`);
  if (native) {
    const info = nativeKernelInfo()!;
    console.log(`  ${row(`native ${info.simd} x${info.threads}`, native)}`);
    configureNativeKernels({ threads: 1 });
    console.log(`  ${row(`native ${info.simd} x1`, native)}`);
    if (info.simd === 'avx512') {
      configureNativeKernels({ simd: 'avx2' });
      console.log(`  ${row('native avx2 x1', native)}`);
    }
    if (info.simd !== 'scalar') {
      configureNativeKernels({ simd: 'scalar' });
      console.log(`  ${row('native scalar x1', native)}`);
    }
    configureNativeKernels({ simd: info.simd, threads: info.threads });
  }
  console.log(`  ${row('ts', tsKernels)}`);
}

/** The Z_2^128 rows: one thread, GMAC/s per CPU-second (elementwise: products per CPU-ns). */
function bench128(m: number, k: number, n: number, ne: number): void {
  const words = (e: number): Vec128 => {
    const v = alloc128(e);
    randomFillSync(v);
    return v;
  };
  const A = words(m * k), B = words(k * n), C = alloc128(m * n);
  const A64 = rand64(m * k), B64 = rand64(k * n), C64 = new BigUint64Array(m * n);
  const a = words(ne), b = words(ne), c = alloc128(ne), a64 = rand64(ne), b64 = rand64(ne), c64 = new BigUint64Array(ne);
  const macs = m * k * n;
  const line = (name: string, ops: number, fn: () => void): string => {
    const { ms, cpuMs } = timeBoth(fn);
    return `  ${pad(name, 40)} ${(ops / ms / 1e6).toFixed(3).padStart(8)} G/s  ${ms.toFixed(2).padStart(9)} ms   ${(cpuMs > 0 ? (ops / cpuMs / 1e6).toFixed(3) : 'n/a').padStart(8)} G/CPU-s`;
  };
  const fallback = (kk: RingKernels): RingKernels => ({ ...kk, gemm128: undefined, mul128: undefined, mulScalar128: undefined, add128: undefined, sub128: undefined });
  console.log(`Z_2^128 gemm ${m}x${k}x${n} (${(macs / 1e6).toFixed(1)}M MAC) and elementwise product of ${ne} elements, one thread:`);
  if (native) {
    const info = nativeKernelInfo()!;
    configureNativeKernels({ threads: 1 });
    if (native.gemm128) {
      console.log(line('native gemm128 (unsigned __int128)', macs, () => native.gemm128!(A, B, m, k, n, C)));
      // Few rows (the unpacked loop): a dense layer of one image, 2 x 1024 x 64 (value and MAC rows).
      const [fm, fk, fn] = [2, 1024, 64], fA = words(fm * fk), fB = words(fk * fn), fC = alloc128(fm * fn);
      console.log(line(`native gemm128 ${fm}x${fk}x${fn} (few rows)`, fm * fk * fn, () => native.gemm128!(fA, fB, fm, fk, fn, fC)));
    }
    console.log(line(`native u64 gemm (${info.simd}), same shape`, macs, () => native.gemm(A64, B64, m, k, n, C64)));
    console.log(line(`fallback: 19 native u64 gemms (${info.simd})`, macs, () => matmul128Gemm(fallback(native), A, B, m, k, n, C)));
    if (native.mul128) console.log(line('native mul128', ne, () => native.mul128!(a, b, c)));
    console.log(line('native u64 mul', ne, () => native.mul(a64, b64, c64)));
    console.log(line('fallback: 19 native u64 muls', ne, () => mul128Kernels(fallback(native), a, b, c)));
    if (native.add128) console.log(line('native add128', ne, () => native.add128!(a, b, c)));
    configureNativeKernels({ threads: info.threads });
  }
  console.log(line('ts fallback: 19 ts gemms', macs, () => matmul128Gemm(tsKernels, A, B, m, k, n, C)));
  console.log(line('ts fallback: 19 ts muls', ne, () => mul128Kernels(tsKernels, a, b, c)));
  console.log(line('ts add128 (ring128.ts)', ne, () => add128(a, b, c)));
}

function benchCompare(kk: RingKernels, n: number): string {
  const r = rand64(n), beta = bytes(n, 2), x = rand64(n);
  const xb = new Uint8Array(n * 64), rb = bytes(n * 64, 67);
  const s = bytes(n * 64, 66).map((v) => v + 1), perm = new Uint8Array(n * 64);
  for (let e = 0; e < n; e++) for (let i = 0; i < 64; i++) perm[e * 64 + i] = (i * 37 + e) & 63;
  const d = new Uint8Array(n * 64), d1 = bytes(n * 64, 67), z = new Uint8Array(n);
  kk.bitShareZp(x, rb, xb);
  const j = randomInt(2) as 0 | 1;
  const per = (ms: number): string => `${((ms * 1e5) / n).toFixed(2).padStart(8)} ms`;
  const pc = time(() => kk.privateCompare(j, xb, r, beta, s, null, perm, d));
  const bs = time(() => kk.bitShareZp(x, rb, xb));
  const zt = time(() => kk.zeroTest(d, d1, z));
  return `privateCompare ${per(pc)}   bitShareZp ${per(bs)}   zeroTest ${per(zt)}`;
}

function benchIm2col(kk: RingKernels): string {
  const [N, H, W, C, kh, kw] = [1, 64, 64, 32, 3, 3];
  const x = rand64(N * H * W * C), out = new BigUint64Array(N * H * W * kh * kw * C);
  const ms = time(() => kk.im2col(x, N, H, W, C, kh, kw, 1, 1, 1, 1, H, W, out));
  return `${ms.toFixed(2)} ms (${((out.length * 8) / ms / 1e6).toFixed(2)} GB/s written)`;
}

const flags = (): string => {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const f = /^flags\s*:(.*)$/m.exec(info)?.[1]?.split(' ') ?? /^Features\s*:(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
    return ['avx2', 'avx512f', 'avx512dq', 'asimd'].filter((x) => f.includes(x)).join(' ') || 'none of avx2/avx512/asimd';
  } catch {
    return 'unknown';
  }
};
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length} (${os.arch()}; ${flags()}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(native ? `native: ${JSON.stringify(nativeKernelInfo())}` : `native: not available (${nativeLoadError()})`);
console.log();
benchGemm('square-ish', 256, 1024, 256);
benchGemm('conv 3x3x32->64 on 64x64 (im2col rows)', 4096, 288, 64);
benchGemm('conv 3x3x16->32 on 28x28', 784, 144, 32);
benchGemm('dense 1x1024x128', 1, 1024, 128);
console.log();
bench128(128, 256, 64, QUICK ? 20_000 : 100_000);
console.log();
const n = QUICK ? 20_000 : 100_000;
console.log(`Z_p kernels, time per 1e5 elements (measured on ${n}):`);
if (native) console.log(`  native  ${benchCompare(native, n)}`);
console.log(`  ts      ${benchCompare(tsKernels, n)}`);
console.log();
console.log('im2col 1x64x64x32, 3x3, same padding:');
if (native) console.log(`  native  ${benchIm2col(native)}`);
console.log(`  ts      ${benchIm2col(tsKernels)}`);
