/**
 * Loads the CUDA addon (build-cuda/securenn_cuda.node, built by
 * scripts/build-cuda.mjs when nvcc is present) and builds the CUDA
 * RingKernels over it (protocol/kernels/cuda/index.ts, cudaKernelsFromAddon).
 * loadCudaKernels() returns null when the addon is missing or cannot load,
 * or when no CUDA device is usable; cudaStatus() says which.
 *
 * MPC_CUDA_ADDON=<path> loads the addon from another path. MPC_CUDA_STAGING=off
 * makes every copy a plain one from / to pageable memory (the addon's
 * setStaging(false)) instead of going through its pinned staging slots
 * (protocol/kernels/cuda/staging.h): the way back should a device show a
 * fault in the staged copies; any other value leaves them on.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcError } from '../protocol/errors.js';
import { cudaKernelsFromAddon, type CudaAddon, type CudaDeviceInfo, type CudaKernels, type CudaOptions } from '../protocol/kernels/cuda/index.js';
import type { KernelBackend } from '../protocol/kernels/index.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { cpuKernels } from './native-addon.js';

export interface CudaStatus {
  /** The addon file exists. */
  built: boolean;
  /** Where it was found (or would be looked for first). */
  path: string;
  /** Devices the CUDA runtime reports (0 when none or on error). */
  deviceCount: number;
  device: CudaDeviceInfo | null;
  /** Why loadCudaKernels() returns null, or null when it does not. */
  reason: string | null;
}

const ADDON_FILE = 'securenn_cuda.node';
const here = path.dirname(fileURLToPath(import.meta.url));

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.MPC_CUDA_ADDON) list.push(path.resolve(process.env.MPC_CUDA_ADDON));
  // From runtime/ (or parties/, the bundled party program parties/party.bundle.mjs), a compiled tree one level deeper,
  // and the working directory.
  for (const up of ['..', '../..']) list.push(path.resolve(here, up, 'build-cuda', ADDON_FILE));
  list.push(path.resolve(process.cwd(), 'build-cuda', ADDON_FILE));
  return [...new Set(list)];
}

/** Whether the addon's copies go through its pinned staging slots: yes unless MPC_CUDA_STAGING=off. */
export function cudaStagingWanted(env: Record<string, string | undefined> = process.env): boolean {
  return env.MPC_CUDA_STAGING !== 'off';
}

let cached: { addon: CudaAddon | null; status: CudaStatus } | undefined;

function load(): { addon: CudaAddon | null; status: CudaStatus } {
  if (cached) return cached;
  const list = candidates();
  const file = list.find((f) => existsSync(f));
  const status: CudaStatus = { built: !!file, path: file ?? list[0]!, deviceCount: 0, device: null, reason: null };
  let addon: CudaAddon | null = null;
  if (!file) {
    status.reason = `CUDA addon not built (looked for ${list.join(', ')}); run \`node scripts/build-cuda.mjs\` where nvcc is installed`;
  } else {
    try {
      const mod = { exports: {} as CudaAddon };
      process.dlopen(mod, file);
      const info = mod.exports.info();
      status.deviceCount = info.count;
      if (info.count > 0) {
        const { name, major, minor, sms, totalMem, runtimeVersion, driverVersion } = info;
        status.device = { name, major, minor, sms, totalMem, runtimeVersion, driverVersion };
        addon = mod.exports;
        if (!cudaStagingWanted()) addon.setStaging(false);
      } else {
        status.reason = `no CUDA device (${info.error || 'cudaGetDeviceCount returned 0'})`;
      }
    } catch (e) {
      status.reason = `could not load ${file}: ${(e as Error).message}`;
    }
  }
  cached = { addon, status };
  return cached;
}

/** Whether the addon is built, which device it sees, and why the backend is unavailable if it is. */
export function cudaStatus(): CudaStatus {
  return { ...load().status };
}

let defaultKernels: CudaKernels | null | undefined;

/**
 * The CUDA kernels, or null when the addon is not built or no device is
 * present (see cudaStatus()). Without options the result is cached.
 */
export function loadCudaKernels(opts: CudaOptions = {}): CudaKernels | null {
  const plain = opts.cpu === undefined && opts.cpuBackend === undefined && opts.thresholds === undefined && opts.strict === undefined;
  if (plain && defaultKernels !== undefined) return defaultKernels;
  const { addon, status } = load();
  const k = addon && status.device ? cudaKernelsFromAddon(addon, status.device, { ...opts, cpu: opts.cpu ?? cpuKernels(opts.cpuBackend ?? 'auto') }) : null;
  if (plain) defaultKernels = k;
  return k;
}

/** Compute backend of a deployment's config: 'cuda' requires the GPU, 'auto' uses it when present, 'cpu' never does. */
export type ComputeBackend = 'cpu' | 'cuda' | 'auto';

/**
 * The kernels for a config's `backend` (cpu | cuda | auto). `cpuBackend`
 * picks the CPU kernels ('auto': native if built, else ts), also used under
 * 'cuda' for the calls that stay on the CPU. 'cuda' without a usable GPU fails
 * with E_NATIVE and the reason.
 */
export function selectKernels(backend: ComputeBackend = 'auto', cpuBackend: KernelBackend = 'auto'): RingKernels {
  if (backend !== 'cpu' && backend !== 'cuda' && backend !== 'auto') throw new MpcError('E_BAD_ARGUMENT', `kernels: backend must be cpu, cuda or auto, got '${String(backend)}'`);
  if (backend === 'cpu') return cpuKernels(cpuBackend);
  const k = cpuBackend === 'auto' ? loadCudaKernels() : loadCudaKernels({ cpuBackend });
  if (k) return k;
  if (backend === 'cuda') throw new MpcError('E_NATIVE', `kernels: backend 'cuda' requested but unavailable: ${cudaStatus().reason}`);
  return cpuKernels(cpuBackend);
}
