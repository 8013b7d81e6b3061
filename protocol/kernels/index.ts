/**
 * Kernel selection. `backend` is 'auto' (native if the addon loaded, else ts),
 * 'native' (fails with E_NATIVE if the addon is missing), or 'ts'.
 * MPC_KERNELS=ts|native|auto overrides the default.
 */
import { MpcError } from '../errors.js';
import { loadNativeKernels } from './native.js';
import { tsKernels } from './ts.js';
import type { RingKernels } from './types.js';

export type KernelBackend = 'auto' | 'native' | 'ts';

/** CPU kernels only; backend selection including CUDA is kernelsFor() in select.ts. */
export function getKernels(backend: KernelBackend = cpuDefault()): RingKernels {
  if (backend === 'ts') return tsKernels;
  const native = loadNativeKernels();
  if (native) return native;
  if (backend === 'native') throw new MpcError('E_NATIVE', 'kernels: the native addon is not built; run `npm ci` (needs g++ and Node headers)');
  return tsKernels;
}

/** MPC_KERNELS may also name 'cpu', 'cuda' or 'auto' (see select.ts); for CPU kernels those mean 'auto'. */
function cpuDefault(): KernelBackend {
  const e = process.env.MPC_KERNELS;
  return e === 'native' || e === 'ts' ? e : 'auto';
}

export type { RingKernels } from './types.js';
