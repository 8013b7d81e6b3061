/**
 * Loads the C++ kernels addon (build/Release/securenn_kernels.node, built by
 * `npm ci` through scripts/build-addon.mjs) from disk; protocol/kernels/native.ts
 * wraps it as a RingKernels.
 *
 * Environment (read once, when the addon loads):
 *  - MPC_NATIVE_ADDON=<path>: load the addon from another path;
 *  - MPC_KERNEL_THREADS=<n>: threads one large GEMM may use (default 2);
 *  - MPC_KERNEL_SIMD=scalar|avx2|avx512 (neon on arm64): cap the SIMD level (default: the
 *    best the CPU has). Neither changes any result, only the speed.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcError } from '../protocol/errors.js';
import { configureAddon, nativeKernelsFromAddon, type NativeAddon, type NativeInfo, type NativeSimd } from '../protocol/kernels/native.js';
import type { KernelBackend } from '../protocol/kernels/provision.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import type { RingKernels } from '../protocol/kernels/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADDON_FILE = 'securenn_kernels.node';

/** Where the addon may be: the repo's build/ seen from runtime/, from a compiled tree one level deeper, or from parties/ (the bundled party program). */
function candidates(): string[] {
  const list: string[] = [];
  if (process.env.MPC_NATIVE_ADDON) list.push(path.resolve(process.env.MPC_NATIVE_ADDON));
  for (const up of ['..', '../..']) {
    for (const kind of ['Release', 'Debug']) list.push(path.resolve(here, up, 'build', kind, ADDON_FILE));
  }
  return [...new Set(list)];
}

let cachedAddon: NativeAddon | null | undefined;
let cachedKernels: RingKernels | null = null;
let loadError: string | null = null;

/** The raw addon, or null when it is not built (see nativeLoadError()). */
export function loadNativeAddon(): NativeAddon | null {
  if (cachedAddon !== undefined) return cachedAddon;
  cachedAddon = null;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!existsSync(file)) { tried.push(file); continue; }
    try {
      cachedAddon = require(file) as NativeAddon;
      loadError = null;
      applyEnvSettings(cachedAddon);
      return cachedAddon;
    } catch (e) {
      // Built but unloadable (e.g. built for another Node ABI): say so once, then use the fallback.
      loadError = `kernels: could not load ${file}: ${(e as Error).message}`;
      process.emitWarning(loadError, { code: 'MPC_NATIVE_LOAD' });
      return null;
    }
  }
  loadError = `kernels: native addon not built (looked for ${tried.join(', ')}); run \`npm ci\` or \`node scripts/build-addon.mjs\``;
  return null;
}

function applyEnvSettings(addon: NativeAddon): void {
  const threads = process.env.MPC_KERNEL_THREADS, simd = process.env.MPC_KERNEL_SIMD;
  if (threads) {
    const t = Number(threads);
    if (Number.isInteger(t) && t >= 1 && t <= 64) addon.configure(null, t);
    else process.emitWarning(`MPC_KERNEL_THREADS must be an integer in [1, 64]; ignored`, { code: 'MPC_KERNEL_ENV' });
  }
  if (simd) {
    if (simd === 'scalar' || simd === 'avx2' || simd === 'avx512' || simd === 'neon') addon.configure(simd, null);
    else process.emitWarning(`MPC_KERNEL_SIMD must be scalar, avx2, avx512 or neon (arm64); ignored`, { code: 'MPC_KERNEL_ENV' });
  }
}

/** Why loadNativeKernels() returned null, or null if it did not. */
export function nativeLoadError(): string | null {
  loadNativeAddon();
  return loadError;
}

/** The native kernels, or null if the addon is not built. Loaded once and cached. */
export function loadNativeKernels(): RingKernels | null {
  if (cachedKernels) return cachedKernels;
  const addon = loadNativeAddon();
  if (!addon) return null;
  cachedKernels = nativeKernelsFromAddon(addon);
  return cachedKernels;
}

/** CPU kernels by name: 'ts', 'native' (E_NATIVE when the addon is not built) or 'auto' (native if built, else ts). */
export function cpuKernels(backend: KernelBackend): RingKernels {
  if (backend === 'ts') return tsKernels;
  const native = loadNativeKernels();
  if (native) return native;
  if (backend === 'native') throw new MpcError('E_NATIVE', 'kernels: the native addon is not built; run `npm ci` (needs g++ and Node headers)');
  return tsKernels;
}

/** GEMM kernel and thread settings of the loaded addon, or null if none. */
export function nativeKernelInfo(): NativeInfo | null {
  return loadNativeAddon()?.info() ?? null;
}

/**
 * Caps the GEMM SIMD level and/or sets the thread count (null leaves one as
 * it is). Results never depend on either; this is for tests and benchmarks.
 */
export function configureNativeKernels(opts: { simd?: NativeSimd | null; threads?: number | null }): NativeInfo {
  const addon = loadNativeAddon();
  if (!addon) throw new MpcError('E_NATIVE', nativeLoadError() ?? 'kernels: native addon not built');
  return configureAddon(addon, opts.simd ?? null, opts.threads ?? null);
}
