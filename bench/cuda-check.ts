/**
 * The CUDA equality cases (protocol/testing/cuda-equality.ts) as a plain
 * Node script, for the GPU machine, which has no node_modules to run vitest:
 * the same inputs through the reference (small sizes), ts, native (when
 * built; MPC_NATIVE_ADDON points at it) and CUDA kernels, identical bytes
 * required. Prints one line per case, writes $OUT/cuda-check.json, exits 1
 * on any failure and 2 when there is no CUDA device.
 */
import '../runtime/install.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { equalityCases } from '../protocol/testing/cuda-equality.js';
import { cudaStatus, loadCudaKernels } from '../runtime/cuda-addon.js';
import { loadNativeKernels, nativeLoadError } from '../runtime/native-addon.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import { ALL_GPU_THRESHOLDS, CUDA_OPS } from '../protocol/kernels/cuda/index.js';

const status = cudaStatus();
const cuda = loadCudaKernels({ thresholds: ALL_GPU_THRESHOLDS, strict: true });
if (!cuda) {
  console.log(`cuda-check: skipped: no CUDA device (CUDA addon built: ${status.built ? 'yes' : 'no'}): ${status.reason}`);
  process.exit(2);
}
const native = loadNativeKernels();
const cpus = [tsKernels, ...(native ? [native] : [])];
console.log(`cuda-check: ${cuda.device.name}; comparing cuda with reference (small), ${cpus.map((k) => k.name).join(', ')}${native ? '' : ` (native not loaded: ${nativeLoadError()})`}; CPU behind cuda: ${cuda.cpu.name}`);
const rows: { name: string; ok: boolean; ms: number; error?: string }[] = [];
for (const c of equalityCases(cuda, cpus, { large: true })) {
  const t0 = performance.now();
  try {
    c.run();
    rows.push({ name: c.name, ok: true, ms: Math.round(performance.now() - t0) });
  } catch (e) {
    rows.push({ name: c.name, ok: false, ms: Math.round(performance.now() - t0), error: (e as Error).stack ?? String(e) });
  }
  const r = rows[rows.length - 1]!;
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms} ms)${r.error ? `\n     ${r.error.split('\n').slice(0, 3).join('\n     ')}` : ''}`);
}
const unused = CUDA_OPS.filter((o) => cuda.counters.gpu[o] === 0);
if (unused.length) rows.push({ name: `every GPU op ran on the GPU (not: ${unused.join(', ')})`, ok: false, ms: 0 });
if (cuda.counters.fallbacks) rows.push({ name: `no fallbacks (${cuda.counters.fallbacks}: ${cuda.counters.lastError})`, ok: false, ms: 0 });
const failed = rows.filter((r) => !r.ok);
const summary = { date: new Date().toISOString(), device: cuda.device, compared: ['reference (small sizes)', ...cpus.map((k) => k.name), 'cuda'], cpuBehindCuda: cuda.cpu.name, gpuCalls: cuda.counters.gpu, passed: rows.length - failed.length, failed: failed.length, rows };
const out = process.env.OUT ?? '.bench-out';
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'cuda-check.json'), JSON.stringify(summary, null, 2));
console.log(`cuda-check: ${summary.passed} passed, ${summary.failed} failed; GPU calls ${JSON.stringify(cuda.counters.gpu)}`);
process.exit(failed.length ? 1 : 0);
