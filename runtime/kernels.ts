/**
 * The runtime's kernel choice: the one place that reads the kernel settings
 * of the environment and hands kernels to protocol/ (which loads nothing and
 * reads no environment itself; protocol/kernels/provision.ts).
 *
 *   'cpu'    the native addon, or the TS fallback if it is not built;
 *   'cuda'   the CUDA kernels (fails with E_NATIVE, and the reason, without a GPU);
 *   'auto'   CUDA where a device and the CUDA addon exist, else 'cpu' (default);
 *   'native' / 'ts'  force one CPU implementation (tests, benchmarks).
 *
 * Environment: MPC_KERNELS sets the default backend; MPC_PRG=node makes the
 * PRG use node:crypto's AES instead of the addon's AES-NI keystream (same
 * bytes); MPC_NATIVE_ADDON, MPC_KERNEL_THREADS, MPC_KERNEL_SIMD
 * (native-addon.ts), MPC_CUDA_ADDON and MPC_CUDA_STAGING (cuda-addon.ts) are
 * read where the addons load.
 */
import { assert } from '../protocol/errors.js';
import { provideKernels, type KernelBackend, type PrgAccelerator } from '../protocol/kernels/provision.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { selectKernels } from './cuda-addon.js';
import { cpuKernels, loadNativeAddon, loadNativeKernels, nativeLoadError } from './native-addon.js';

export type BackendSpec = 'auto' | 'cpu' | 'cuda' | 'native' | 'ts';
export const BACKEND_SPECS: readonly BackendSpec[] = ['auto', 'cpu', 'cuda', 'native', 'ts'];

/** The backend MPC_KERNELS names (default 'auto'). */
function envSpec(): BackendSpec {
  return (process.env.MPC_KERNELS as BackendSpec | undefined) ?? 'auto';
}

/** The kernels for a backend name (a party's config `kernels`, MPC_KERNELS by default). */
export function kernelsFor(spec: BackendSpec = envSpec()): RingKernels {
  assert(BACKEND_SPECS.includes(spec), 'E_BAD_ARGUMENT', `kernels: backend must be one of ${BACKEND_SPECS.join(', ')}, got '${String(spec)}'`);
  if (spec === 'native' || spec === 'ts') return cpuKernels(spec);
  return selectKernels(spec);
}

/** MPC_KERNELS may also name 'cpu', 'cuda' or 'auto'; for CPU kernels those mean 'auto'. */
function cpuDefault(): KernelBackend {
  const e = process.env.MPC_KERNELS;
  return e === 'native' || e === 'ts' ? e : 'auto';
}

/** The addon's AES-NI keystream when the CPU has AES-NI (MPC_PRG=node: none, node:crypto). */
function prgAccelerator(): PrgAccelerator | null {
  if (process.env.MPC_PRG === 'node') return null;
  const a = loadNativeAddon();
  return a && typeof a.aesAvailable === 'function' && a.aesAvailable() ? a : null;
}

let installed = false;

/**
 * Loads the addons and hands protocol/ its default kernels and the PRG's
 * keystream. Idempotent; the entry points call it (party servers, the
 * importer's command line, benchmarks, and the test setup
 * test/testing/setup-runtime.ts).
 */
export function installRuntimeKernels(): void {
  if (installed) return;
  installed = true;
  provideKernels({
    native: loadNativeKernels(),
    nativeError: nativeLoadError(),
    cpuDefault: cpuDefault(),
    contextDefault: () => kernelsFor(),
    prg: prgAccelerator(),
  });
}
