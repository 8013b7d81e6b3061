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

export function getKernels(backend: KernelBackend = (process.env.MPC_KERNELS as KernelBackend | undefined) ?? 'auto'): RingKernels {
  if (backend === 'ts') return tsKernels;
  const native = loadNativeKernels();
  if (native) return native;
  if (backend === 'native') throw new MpcError('E_NATIVE', 'kernels: the native addon is not built; run `npm ci` (needs g++ and Node headers)');
  return tsKernels;
}

export type { RingKernels } from './types.js';
