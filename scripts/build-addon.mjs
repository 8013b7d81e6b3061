#!/usr/bin/env node
/**
 * Builds the native addons; run by `npm ci` / `npm install` (package.json
 * "install" script) and runnable by hand: `node scripts/build-addon.mjs`.
 *
 * Uses the node-gyp that npm bundles and the Node headers already installed
 * next to this node (e.g. /usr/include/node), so nothing is downloaded.
 * If the CPU kernels addon fails to build this prints a loud warning and
 * exits 0: the pure TS kernels still work, only slower. Set
 * MPC_REQUIRE_NATIVE=1 to make a failed build fail the install instead, or
 * MPC_SKIP_NATIVE=1 to skip building.
 *
 * Addons:
 *  - securenn_kernels (binding.gyp at the repo root, sources in
 *    protocol/kernels/native/): CPU kernels, built with node-gyp here.
 *  - CUDA hook: if scripts/build-cuda.mjs exists (the separate CUDA addon in
 *    protocol/kernels/cuda/, built only when nvcc is found), it runs after the
 *    CPU build, with --strict when MPC_REQUIRE_CUDA=1. Its failure never fails
 *    the install otherwise. (Skipped when package.json's install script
 *    already calls it, so it never runs twice.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.log(`[build-addon] ${msg}`);

function loud(lines) {
  const bar = '!'.repeat(78);
  console.warn(['', bar, ...lines.map((l) => `!! ${l}`), bar, ''].join('\n'));
}

/** npm's bundled node-gyp (npm sets npm_config_node_gyp while running scripts), else one next to this node or in node_modules. */
function findNodeGyp() {
  const binDir = path.dirname(process.execPath);
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(binDir, '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    path.join(binDir, 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

/** A directory holding include/node/node_api.h for this node (--nodedir), so node-gyp downloads nothing. */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local'];
  for (const c of candidates) if (c && existsSync(path.join(c, 'include', 'node', 'node_api.h'))) return c;
  return null;
}

const FALLBACK = 'the pure TypeScript kernels will be used (much slower GEMM and comparisons)';
let exitCode = 0;

// ---- CPU kernels: build/Release/securenn_kernels.node ----
function buildCpuKernels() {
  const nodeGyp = findNodeGyp();
  const nodeDir = findNodeDir();
  if (!nodeGyp) return 'node-gyp not found (expected npm\'s bundled copy; set npm_config_node_gyp)';
  if (!nodeDir) return `Node headers not found (no include/node/node_api.h next to ${process.execPath}; set npm_config_nodedir)`;
  const args = ['rebuild', `--nodedir=${nodeDir}`, '--jobs=max', '--loglevel=warn'];
  log(`building the native CPU kernels (target securenn_kernels): node-gyp ${args.join(' ')}  [node-gyp: ${nodeGyp}]`);
  const res = spawnSync(process.execPath, [nodeGyp, ...args], { cwd: root, stdio: 'inherit', env: process.env });
  if (res.error) return `could not run node-gyp: ${res.error.message}`;
  if (res.status !== 0) return `node-gyp exited with status ${res.status ?? res.signal}`;
  return null;
}

if (process.env.MPC_SKIP_NATIVE === '1') {
  log(`MPC_SKIP_NATIVE=1: not building the native CPU kernels; ${FALLBACK}`);
} else {
  const error = buildCpuKernels();
  if (!error) {
    log('built build/Release/securenn_kernels.node');
  } else {
    const required = process.env.MPC_REQUIRE_NATIVE === '1';
    loud([
      `The native CPU kernels (securenn_kernels) did NOT build: ${error}.`,
      `Consequence: ${FALLBACK}.`,
      'Needs: a C++17 compiler (g++ or clang++), make, python3 and the Node headers.',
      required ? 'The install FAILS because MPC_REQUIRE_NATIVE=1.' : 'The install goes on; rebuild with `node scripts/build-addon.mjs` once fixed.',
    ]);
    if (required) exitCode = 1;
  }
}

// ---- hook: optional CUDA addon (scripts/build-cuda.mjs decides whether nvcc is there) ----
const cudaScript = path.join(root, 'scripts', 'build-cuda.mjs');
let installScript = '';
try {
  installScript = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts?.install ?? '';
} catch {
  // no readable package.json: run the hook anyway
}
if (existsSync(cudaScript) && !installScript.includes('build-cuda')) {
  const cudaRequired = process.env.MPC_REQUIRE_CUDA === '1';
  const res = spawnSync(process.execPath, [cudaScript, ...(cudaRequired ? ['--strict'] : [])], { cwd: root, stdio: 'inherit', env: process.env });
  if (res.status !== 0) {
    if (cudaRequired) {
      loud([`CUDA addon did NOT build (scripts/build-cuda.mjs exited with ${res.status ?? res.signal}) and MPC_REQUIRE_CUDA=1.`]);
      exitCode = 1;
    } else {
      log(`scripts/build-cuda.mjs exited with ${res.status ?? res.signal}; the CPU kernels will be used`);
    }
  }
}

process.exit(exitCode);
