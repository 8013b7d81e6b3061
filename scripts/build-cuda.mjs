#!/usr/bin/env node
/**
 * Builds the CUDA kernels addon (protocol/kernels/cuda/: kernels.cu, kernels-gemm.cu,
 * kernels-narrow.cu, kernels-elems.cu, device.cu and the N-API wrapper binding.c)
 * into build-cuda/securenn_cuda.node with nvcc, when nvcc is present.
 *
 * Never fails an install: without nvcc, without Node headers, or when the
 * compile fails, it says why and exits 0 (the CPU kernels are used then).
 * `--strict` makes a failed compile (not a missing nvcc) exit 1, for CI jobs
 * and GPU machines that must have the addon; `--dry-run` prints what it would
 * do and exits; `--force` rebuilds even when the addon is newer than its sources.
 *
 * Environment: NVCC=<path to nvcc>; NODE_INCLUDE_DIR=<dir with node_api.h>;
 * MPC_SKIP_CUDA=1 skips the build; MPC_CUDA_ARCHS="80 90" picks the SASS
 * targets (PTX for the highest is always embedded so newer GPUs JIT it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'protocol', 'kernels', 'cuda');
const sources = ['kernels.cu', 'kernels-gemm.cu', 'kernels-narrow.cu', 'kernels-elems.cu', 'device.cu', 'binding.c'].map((f) => path.join(srcDir, f));
const deps = [...sources, ...['kernels.h', 'device.h', 'zp-rows.h', 'ring-elems.h', 'staging.h'].map((f) => path.join(srcDir, f))];
const outDir = path.join(root, 'build-cuda');
const outFile = path.join(outDir, 'securenn_cuda.node');
const args = new Set(process.argv.slice(2));
const strict = args.has('--strict');
const dryRun = args.has('--dry-run');
const force = args.has('--force');

const say = (msg) => console.log(`[build-cuda] ${msg}`);

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function findNvcc() {
  if (process.env.NVCC) return existsSync(process.env.NVCC) ? process.env.NVCC : null;
  return findOnPath('nvcc');
}

function findNodeHeaders() {
  const list = [
    process.env.NODE_INCLUDE_DIR,
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return list.find((d) => existsSync(path.join(d, 'node_api.h'))) ?? null;
}

function upToDate() {
  if (!existsSync(outFile)) return false;
  const t = statSync(outFile).mtimeMs;
  return deps.every((f) => statSync(f).mtimeMs <= t);
}

function main() {
  if (process.env.MPC_SKIP_CUDA === '1') { say('MPC_SKIP_CUDA=1: skipped; the CPU kernels will be used'); return 0; }
  const nvcc = findNvcc();
  if (!nvcc) { say('nvcc not found on PATH (set NVCC=/path/to/nvcc to use another): CUDA backend not built; the CPU kernels will be used'); return 0; }
  const include = findNodeHeaders();
  if (!include) { say('Node headers (node_api.h) not found (set NODE_INCLUDE_DIR): CUDA backend not built; the CPU kernels will be used'); return 0; }
  const archs = (process.env.MPC_CUDA_ARCHS ?? '80 90').split(/[\s,]+/).filter(Boolean).map(Number);
  if (archs.length === 0 || archs.some((a) => !Number.isInteger(a) || a < 50)) { say(`bad MPC_CUDA_ARCHS '${process.env.MPC_CUDA_ARCHS}'`); return strict ? 1 : 0; }
  const top = Math.max(...archs);
  const tmp = `${outFile}.tmp-${process.pid}`;
  const cmd = [
    '-O3', '-shared', '-Xcompiler', '-fPIC', '-cudart', 'static',
    ...archs.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]),
    '-gencode', `arch=compute_${top},code=compute_${top}`,
    `-I${include}`, `-I${srcDir}`,
    ...sources, '-o', tmp,
  ];
  if (dryRun) { say(`would run: ${nvcc} ${cmd.join(' ')}`); say(`output: ${path.relative(root, outFile)}${upToDate() ? ' (up to date)' : ''}`); return 0; }
  if (!force && upToDate()) { say(`${path.relative(root, outFile)} is up to date`); return 0; }
  mkdirSync(outDir, { recursive: true });
  // The build folder ignores itself, so it never needs an entry in .gitignore.
  writeFileSync(path.join(outDir, '.gitignore'), '*\n');
  say(`${nvcc} ${cmd.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(nvcc, cmd, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    say(`nvcc failed (${r.error ? r.error.message : `exit ${r.status}`}): CUDA backend not built; the CPU kernels will be used`);
    return strict ? 1 : 0;
  }
  renameSync(tmp, outFile);
  say(`built ${path.relative(root, outFile)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = main();
