/**
 * CUDA backend benchmark. Run on a GPU machine after
 * `node scripts/build-cuda.mjs`:
 *
 *   npx tsx bench/cuda-bench.ts [sections...]      (or the esbuild bundle, see bench/cuda-device.sh)
 *
 * Sections (default: kernels seed vgg:64):
 *   kernels   GEMM GMAC/s on the device alone (per tile variant) and end to
 *             end through the kernel interface (PCIe copies included) against
 *             the CPU kernels; elementwise mul/add, privateCompare, zeroTest,
 *             bitShareZp throughput;
 *   narrow    the 32-bit comparison ring's kernels (privateCompare32, zeroTest32, bitShareZp32,
 *             privateCompareR4, zeroTest16, digitShareZp16; kernels-narrow.cu): cuda (copies
 *             included) vs the CPU kernels, outputs compared, to set their GPU thresholds;
 *   staging   the copies with and without the pinned staging slots (setStaging; staging.h): GEMMs of
 *             VGG16 / square shapes and a 2^24-element add, cuda ms and the phases, both ways;
 *   elems     the ops of ring-elems.h (mulScalar, addScalar, divShare, sar, maskZp, im2col,
 *             depthwise; kernels-elems.cu), likewise, to set their thresholds (default: CPU), and
 *             conv2d through im2colGemm (im2col on the device) against im2col + gemm on the CPU;
 *   seed      the seed CNN secure forward (batch 1 and 8), backend cuda vs CPU (and ts, batch 1);
 *   seed1     the same, batch 1 only, cuda vs CPU;
 *   vgg:S     VGG16 on S x S x 3, batch 1, backend cuda (and native CPU when S <= 64);
 *   vggcpu:S  VGG16 on S x S x 3 with the CPU kernels only.
 *
 * Writes $OUT/cuda-bench.json (or .bench-out/cuda-bench.json) after every
 * section, so a run cut short keeps what finished.
 */
import '../runtime/install.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Prg } from '../protocol/correlated/prg.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { ALL_GPU_THRESHOLDS, type CudaKernels } from '../protocol/kernels/cuda/index.js';
import { cudaStatus, loadCudaKernels } from '../runtime/cuda-addon.js';
import { getKernels } from '../protocol/kernels/index.js';
import { loadNativeKernels } from '../runtime/native-addon.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3, type Run3Result } from '../protocol/testing/run3.js';
import { seedCnn, seededPrg, uniform, vgg16 } from '../protocol/seed-models.js';

const outDir = process.env.OUT ?? '.bench-out';
const outFile = path.join(outDir, 'cuda-bench.json');
const sections = process.argv.slice(2).length ? process.argv.slice(2) : ['kernels', 'seed', 'vgg:64'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const maybeCuda = loadCudaKernels();
if (!maybeCuda) { console.error(`cuda-bench: no CUDA kernels: ${cudaStatus().reason}`); process.exit(2); }
const cuda: CudaKernels = maybeCuda;
const native = loadNativeKernels();
const cpu = getKernels('auto');
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  /** The commit the bundle was packed from (bench/cuda-device.sh pack), with the count of uncommitted files. */
  commit: process.env.BENCH_COMMIT ?? null,
  device: cuda.device,
  host: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  cpuKernels: cpu.name,
  nativeBuilt: !!native,
  thresholds: cuda.thresholds,
  sections,
};
function save(): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, (_k, v) => (typeof v === 'bigint' ? v.toString() : v === Infinity ? 'Infinity' : v), 2));
}
const log = (...a: unknown[]) => console.log(...a);

function time(fn: () => void, reps: number, warm = 1): number {
  for (let i = 0; i < warm; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); t.push(performance.now() - t0); }
  return median(t);
}
function sameBytes(a: BigUint64Array | Uint8Array, b: BigUint64Array | Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
const prg = new Prg(new Uint8Array(16).fill(42));

/** GPU-capable kernel ops forced to the GPU at any size (for the end-to-end kernel numbers). */
const gpuAll = loadCudaKernels({ thresholds: ALL_GPU_THRESHOLDS, strict: true })!;

function kernels(): void {
  const out: Record<string, unknown> = {};
  results.kernels = out;
  // ---- GEMM on the device alone ----
  const shapes: [string, number, number, number][] = [
    ['square 1024x4096x1024', 1024, 4096, 1024],
    ['square 4096x4096x4096', 4096, 4096, 4096],
    ['VGG16 conv1_2 (224x224, 3x3x64 -> 64)', 224 * 224, 576, 64],
    ['VGG16 conv2_2 (112x112, 3x3x128 -> 128)', 112 * 112, 1152, 128],
    ['VGG16 conv3_x (56x56, 3x3x256 -> 256)', 56 * 56, 2304, 256],
    ['VGG16 conv4_x (28x28, 3x3x512 -> 512)', 28 * 28, 4608, 512],
    ['VGG16 conv5_x (14x14, 3x3x512 -> 512)', 14 * 14, 4608, 512],
    ['seed CNN conv1 (75x63, 8x8x1 -> 16)', 75 * 63, 64, 16],
    ['seed CNN conv2 batch 8 (36x30, 4x4x16 -> 32)', 8 * 36 * 30, 256, 32],
  ];
  const dev: Record<string, unknown>[] = [];
  out.gemmDevice = dev;
  log('\nGEMM on the device (inputs resident, median of 5; GMAC/s)');
  for (const [label, m, k, n] of shapes) {
    const row: Record<string, unknown> = { shape: label, m, k, n, gmac: r3((m * k * n) / 1e9) };
    const sums = new Set<string>();
    for (let v = -1; v < 4; v++) {
      const reps = m * k * n > 2e10 ? 3 : 5;
      const r = cuda.addon.benchGemm(m, k, n, v, reps);
      if (r.probe !== r.probeWant) throw new Error(`benchGemm ${label} variant ${v}: probe mismatch ${r.probe} != ${r.probeWant}`);
      sums.add(r.checksum.toString());
      row[v < 0 ? 'auto' : `v${v}`] = r3((m * k * n) / (r.ms / 1e3) / 1e9);
      if (v < 0) row.autoMs = r3(r.ms);
    }
    row.variantsAgree = sums.size === 1;
    if (sums.size !== 1) throw new Error(`benchGemm ${label}: variants disagree`);
    dev.push(row);
    log(JSON.stringify(row));
    save();
  }
  // ---- GEMM through the interface: copies included, vs CPU ----
  const e2e: Record<string, unknown>[] = [];
  out.gemmEndToEnd = e2e;
  log('\nGEMM through RingKernels.gemm (host arrays in and out; ms, GMAC/s)');
  for (const [label, m, k, n] of shapes.filter(([l]) => !l.startsWith('square 4096'))) {
    const A = prg.u64(m * k), B = prg.u64(k * n);
    const cOut = new BigUint64Array(m * n), nOut = new BigUint64Array(m * n);
    const macs = m * k * n;
    const row: Record<string, unknown> = { shape: label, m, k, n };
    const gms = time(() => gpuAll.gemm(A, B, m, k, n, cOut), 3);
    const t = gpuAll.addon.lastTiming();
    row.cuda = { ms: r3(gms), gmacs: r3(macs / gms / 1e6), h2dMs: r3(t.h2dMs), kernelMs: r3(t.kernelMs), d2hMs: r3(t.d2hMs), h2dGBs: r3(t.bytesH2d / t.h2dMs / 1e6) };
    if (native) {
      const nms = time(() => native.gemm(A, B, m, k, n, nOut), macs > 5e9 ? 1 : 3);
      row.native = { ms: r3(nms), gmacs: r3(macs / nms / 1e6) };
      row.speedupVsNative = r3(nms / gms);
      row.identical = sameBytes(cOut, nOut);
      if (!row.identical) throw new Error(`gemm ${label}: cuda and native differ`);
    }
    if (macs <= 3e8) {
      const tOut = new BigUint64Array(m * n);
      const tms = time(() => tsKernels.gemm(A, B, m, k, n, tOut), 1, 0);
      row.ts = { ms: r3(tms), gmacs: r3(macs / tms / 1e6) };
      if (!sameBytes(cOut, tOut)) throw new Error(`gemm ${label}: cuda and ts differ`);
    }
    e2e.push(row);
    log(JSON.stringify(row));
    save();
  }
  // ---- elementwise and Z_p kernels, copies included ----
  const ops: Record<string, unknown>[] = [];
  out.ops = ops;
  log('\nElementwise and PrivateCompare kernels through RingKernels (ms; M elements/s)');
  const bench = opBench(ops);
  for (const n of [1 << 20, 1 << 24]) {
    const a = prg.u64(n), b = prg.u64(n);
    bench('mul', n, () => new BigUint64Array(n), (k, o) => k.mul(a, b, o as BigUint64Array));
    bench('add', n, () => new BigUint64Array(n), (k, o) => k.add(a, b, o as BigUint64Array));
  }
  for (const n of [1 << 16, 1 << 20, 1 << 22]) {
    // Cheap valid inputs: rotations as permutations, s in Z_p^*, no r = 2^64-1 with beta = 1.
    const r = prg.u64(n), beta = prg.bits(n);
    const xb = prg.bytes(64 * n).map((v) => v % 67), s = prg.bytes(64 * n).map((v) => (v % 66) + 1);
    const perm = new Uint8Array(64 * n);
    for (let e = 0; e < n; e++) for (let i = 0; i < 64; i++) perm[e * 64 + i] = (i + e) & 63;
    for (let e = 0; e < n; e++) if (r[e] === 0xffffffffffffffffn) beta[e] = 0;
    bench('privateCompare (j=1)', n, () => new Uint8Array(64 * n), (k, d) => k.privateCompare(1, xb, r, beta, s, null, perm, d as Uint8Array));
    const d1 = prg.bytes(64 * n);
    bench('zeroTest', n, () => new Uint8Array(n), (k, o) => k.zeroTest(xb, d1, o as Uint8Array));
    const rr = prg.bytes(64 * n);
    bench('bitShareZp', n, () => new Uint8Array(64 * n), (k, o) => k.bitShareZp(r, rr, o as Uint8Array));
  }
}

/** Elementwise and PrivateCompare rows: cuda with its phase timing, then each CPU set on the same inputs (bytes compared). */
function opBench(ops: Record<string, unknown>[]) {
  const cpuSets: RingKernels[] = [...(native ? [native] : []), tsKernels];
  return (label: string, n: number, mk: () => BigUint64Array | Uint8Array, call: (k: RingKernels, o: BigUint64Array | Uint8Array) => void): void => {
    const row: Record<string, unknown> = { op: label, n };
    const want = mk();
    const ms = time(() => call(gpuAll, want), 3);
    const tm = gpuAll.addon.lastTiming();
    row.cuda = { ms: r3(ms), melemPerS: r3(n / ms / 1e3), h2dMs: r3(tm.h2dMs), kernelMs: r3(tm.kernelMs), d2hMs: r3(tm.d2hMs) };
    for (const k of cpuSets) {
      const o = mk();
      const kms = time(() => call(k, o), k.name === 'ts' && n > 1e6 ? 1 : 3);
      row[k.name] = { ms: r3(kms), melemPerS: r3(n / kms / 1e3) };
      if (!sameBytes(o, want)) throw new Error(`${label} n=${n}: cuda and ${k.name} differ`);
    }
    ops.push(row);
    log(JSON.stringify(row));
    save();
  };
}

/** The 32-bit comparison ring's kernels (kernels-narrow.cu), copies included, against the CPU kernels. */
function narrowKernels(): void {
  const prg = new Prg(new Uint8Array(16).fill(9));
  const ops: Record<string, unknown>[] = [];
  results.narrow = ops;
  log('\n32-bit comparison ring kernels through RingKernels (ms; M elements/s)');
  const bench = opBench(ops);
  for (const n of [1 << 12, 1 << 16, 1 << 20, 1 << 22]) {
    const r = prg.u64(n).map((v) => v & 0x7fffffffn), beta = prg.bits(n), rot = prg.bytes(n), x = prg.u64(n);
    for (const [op, W, X] of [['privateCompare32', 32, 32], ['privateCompareR4', 16, 48]] as const) {
      const xs = prg.zp(X * n), s = prg.zpStar(W * n), mask = prg.zp(W * n);
      bench(`${op} (j=1)`, n, () => new Uint8Array(W * n), (k, d) => k[op](1, xs, r, beta, s, rot, mask, d as Uint8Array));
      const d0 = prg.zp(W * n), d1 = prg.zp(W * n);
      const zt = W === 32 ? 'zeroTest32' : 'zeroTest16';
      bench(zt, n, () => new Uint8Array(n), (k, o) => k[zt](d0, d1, o as Uint8Array));
      const rr = prg.bytes(X * n), sh = W === 32 ? 'bitShareZp32' : 'digitShareZp16';
      bench(sh, n, () => new Uint8Array(X * n), (k, o) => k[sh](x, rr, o as Uint8Array));
    }
  }
}

/** Pinned staging slots on and off (alternating, 3 times each way), on calls whose copies dominate. */
function stagingAb(): void {
  const prg = new Prg(new Uint8Array(16).fill(11));
  const rows: Record<string, unknown>[] = [];
  results.staging = rows;
  log('\nCopies through pinned staging slots (on) or pageable memory (off): ms of the whole call, phases of the last');
  const cases: [string, () => void][] = [];
  for (const [m, k, n] of [[50176, 576, 64], [3136, 2304, 256], [1024, 4096, 1024]] as const) {
    const A = prg.u64(m * k), B = prg.u64(k * n), C = new BigUint64Array(m * n);
    cases.push([`gemm ${m}x${k}x${n}`, () => gpuAll.gemm(A, B, m, k, n, C)]);
  }
  const a = prg.u64(1 << 24), b = prg.u64(1 << 24), o = new BigUint64Array(1 << 24);
  cases.push(['add 2^24', () => gpuAll.add(a, b, o)]);
  for (const [label, call] of cases) {
    const row: Record<string, unknown> = { call: label };
    for (let rep = 0; rep < 3; rep++) {
      for (const on of [false, true]) {
        const state = gpuAll.addon.setStaging(on);
        const ms = time(call, 1);
        const t = gpuAll.addon.lastTiming();
        const key = on ? 'pinned' : 'pageable';
        const prev = (row[key] as { ms: number[] } | undefined) ?? { ms: [] as number[] };
        row[key] = { ms: [...prev.ms, r3(ms)], state, h2dMs: r3(t.h2dMs), d2hMs: r3(t.d2hMs), h2dGBps: r3(t.bytesH2d / t.h2dMs / 1e6), bytesStaged: t.bytesStaged };
      }
    }
    rows.push(row);
    log(JSON.stringify(row));
    save();
  }
  gpuAll.addon.setStaging(true);
}

/** The ops of ring-elems.h (kernels-elems.cu), copies included, against the CPU kernels. */
function elemKernels(): void {
  const prg = new Prg(new Uint8Array(16).fill(10));
  const ops: Record<string, unknown>[] = [];
  results.elems = ops;
  log('\nring-elems.h kernels through RingKernels (ms; M elements/s)');
  const bench = opBench(ops);
  for (const n of [1 << 16, 1 << 20, 1 << 22]) {
    const a = prg.u64(n), s = prg.u64(1)[0]!, d = new Uint32Array(prg.u64(n).buffer, 0, n).map((v) => v | 1);
    bench('mulScalar', n, () => new BigUint64Array(n), (k, o) => k.mulScalar(a, s, o as BigUint64Array));
    bench('addScalar', n, () => new BigUint64Array(n), (k, o) => k.addScalar(a, s, o as BigUint64Array));
    bench('divShare 2^13 (party 1)', n, () => new BigUint64Array(n), (k, o) => k.divShare(a, Uint32Array.of(8192), 1, o as BigUint64Array));
    bench('divShare per element (party 1)', n, () => new BigUint64Array(n), (k, o) => k.divShare(a, d, 1, o as BigUint64Array));
    bench('sar 13', n, () => new BigUint64Array(n), (k, o) => k.sar(a, 13, o as BigUint64Array));
    const dz = prg.zp(64 * n), mz = prg.zp(64 * n);
    // In place: each call starts from dz (the copy is timed with it, on both sides).
    bench('maskZp (64 per value; with a copy of d)', 64 * n, () => new Uint8Array(64 * n), (k, o) => { (o as Uint8Array).set(dz); k.maskZp(o as Uint8Array, mz, false); });
  }
  // Windows of VGG16 / DenseNet-121 sizes: 3x3 'same' convolutions (im2col) and a 3x3 depthwise.
  for (const [H, C] of [[56, 64], [112, 64]] as const) {
    const x = prg.u64(H * H * C), n = H * H * 9 * C;
    bench(`im2col 3x3 ${H}x${H}x${C}`, n, () => new BigUint64Array(n), (k, o) => k.im2col(x, 1, H, H, C, 3, 3, 1, 1, 1, 1, H, H, o as BigUint64Array));
    const w = prg.u64(9 * C), m = H * H * C;
    bench(`depthwise 3x3 ${H}x${H}x${C}`, m, () => new BigUint64Array(m), (k, o) => k.depthwise(x, w, 1, H, H, C, 1, 3, 3, 1, 1, 1, 1, H, H, o as BigUint64Array));
    // conv2d 3x3 'same' to 64 filters: the CUDA set's im2colGemm (im2col on the device) against im2col + gemm on the CPU.
    const B = prg.u64(9 * C * 64), rows = H * H, cols = new BigUint64Array(rows * 9 * C);
    bench(`conv 3x3 ${H}x${H}x${C} -> 64 (im2colGemm on cuda; im2col + gemm on the CPU; n = multiply-adds)`, rows * 9 * C * 64, () => new BigUint64Array(rows * 64), (k, o) => {
      if (k.im2colGemm) k.im2colGemm(x, 1, H, H, C, 3, 3, 1, 1, 1, 1, H, H, B, 64, o as BigUint64Array);
      else { k.im2col(x, 1, H, H, C, 3, 3, 1, 1, 1, 1, H, H, cols); k.gemm(cols, B, rows, 9 * C, 64, o as BigUint64Array); }
    });
  }
}

/** Per-method wall time of a kernel set inside a protocol run. */
function timedKernels(k: RingKernels): { k: RingKernels; ms: Record<string, { ms: number; calls: number }> } {
  const ms: Record<string, { ms: number; calls: number }> = {};
  const w: Record<string, unknown> = { name: k.name };
  // The methods of every kernel set, and the CUDA set's im2colGemm (conv2d in one call) where it has it.
  for (const key of [...Object.keys(tsKernels), ...(k.im2colGemm ? ['im2colGemm'] : [])] as (keyof RingKernels)[]) {
    if (key === 'name' || typeof k[key] !== 'function') continue;
    const f = (k[key] as (...a: unknown[]) => void).bind(k);
    w[key] = (...a: unknown[]) => {
      const t = performance.now();
      try { f(...a); } finally { const s = (ms[key] ??= { ms: 0, calls: 0 }); s.ms += performance.now() - t; s.calls++; }
    };
  }
  return { k: w as unknown as RingKernels, ms };
}

async function forward(label: string, model: ModelIR<FloatTensor>, N: number, kernels: RingKernels, opts: { plain?: boolean; reps?: number; progress?: boolean } = {}) {
  const f = 13;
  const x = uniform(seededPrg(11), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
  const parts = shareModel(cpu, model, f);
  const xs = shareFor3(encode(x, f));
  const reps = opts.reps ?? 1;
  const runs: number[] = [];
  let last: Run3Result<Awaited<ReturnType<typeof secureForward>>> | undefined;
  let kernelMs: Record<string, { ms: number; calls: number }> = {};
  let layers: Record<string, number> = {};
  const cu = kernels.name === 'cuda' ? (kernels as CudaKernels) : null;
  for (let i = 0; i < reps; i++) {
    cu?.resetCounters();
    const tk = timedKernels(kernels);
    const lay: Record<string, number> = {};
    let tl = performance.now();
    const t0 = performance.now();
    last = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }, {
      onNode: (name, idx, total) => {
        if (ctx.party !== 0) return;
        const t = performance.now();
        lay[name] = r3(t - tl);
        tl = t;
        if (opts.progress) log(`  [${label} ${kernels.name}] ${idx + 1}/${total} ${name}: ${lay[name]} ms`);
      },
    }), { fracBits: f, kernels: tk.k });
    runs.push(performance.now() - t0);
    kernelMs = tk.ms;
    layers = lay;
  }
  const row: Record<string, unknown> = {
    model: label, N, kernels: kernels.name, ms: r3(median(runs)), runs: runs.map(r3), rounds: last!.rounds, mb: r3(last!.bytes / 2 ** 20), layers,
    kernelMs: Object.fromEntries(Object.entries(kernelMs).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { ms: r3(v.ms), calls: v.calls }])),
  };
  if (cu) row.cuda = { gpuCalls: { ...cu.counters.gpu }, cpuCalls: { ...cu.counters.cpu }, gpuMs: Object.fromEntries(Object.entries(cu.counters.gpuMs).map(([k, v]) => [k, r3(v)])), fallbacks: cu.counters.fallbacks };
  if (opts.plain) {
    const got = decode(reconstruct(cpu, last!.results[0].data, last!.results[1].data), f);
    const want = plainForward(model, x, N).data;
    const scale = Math.max(...Array.from(want, Math.abs), 1e-9);
    row.maxRelErrVsFloat64 = Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!))) / scale;
  }
  log(JSON.stringify(row));
  return row;
}

async function main() {
  log(`device: ${cuda.device.name} (sm_${cuda.device.major}${cuda.device.minor}, ${cuda.device.sms} SMs); CPU kernels: ${cpu.name}; host CPUs: ${cpus().length}`);
  for (const s of sections) {
    const t0 = performance.now();
    if (s === 'kernels') kernels();
    else if (s === 'narrow') narrowKernels();
    else if (s === 'elems') elemKernels();
    else if (s === 'staging') stagingAb();
    else if (s === 'seed1') {
      const rows: unknown[] = [];
      results.seed1 = rows;
      rows.push(await forward('seed CNN 150x125x1', seedCnn(), 1, cuda, { plain: true, reps: 3 }));
      save();
      rows.push(await forward('seed CNN 150x125x1', seedCnn(), 1, cpu, { plain: true, reps: 3 }));
      save();
    } else if (s === 'seed') {
      const rows: unknown[] = [];
      results.seed = rows;
      for (const N of [1, 8]) {
        rows.push(await forward('seed CNN 150x125x1', seedCnn(), N, cuda, { plain: true, reps: N === 1 ? 3 : 1 }));
        save();
        rows.push(await forward('seed CNN 150x125x1', seedCnn(), N, cpu, { plain: true, reps: N === 1 ? 3 : 1 }));
        save();
      }
      rows.push(await forward('seed CNN 150x125x1', seedCnn(), 1, tsKernels, { plain: false }));
      save();
    } else if (s.startsWith('vgg:') || s.startsWith('vggcpu:')) {
      const S = Number(s.split(':')[1]);
      const model = vgg16(3, [S, S, 3]);
      const rows = ((results.vgg as unknown[] | undefined) ?? (results.vgg = [])) as unknown[];
      const onCpu = s.startsWith('vggcpu:');
      rows.push(await forward(`VGG16 ${S}x${S}x3`, model, 1, onCpu ? cpu : cuda, { plain: S <= 64, progress: S > 64 }));
      save();
      if (!onCpu && S <= 64) { rows.push(await forward(`VGG16 ${S}x${S}x3`, model, 1, cpu, { plain: false })); save(); }
    } else throw new Error(`unknown section '${s}'`);
    log(`[section ${s}: ${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  }
  save();
  log(`wrote ${outFile}`);
}

await main();
