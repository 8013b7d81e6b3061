/**
 * CPU kernel choice. `backend` is 'auto' (the native kernels if the runtime
 * handed them in, else ts), 'native' (fails with E_NATIVE if it did not), or
 * 'ts'. The default is the runtime's (MPC_KERNELS, read in runtime/kernels.ts);
 * protocol/ itself loads no addon (provision.ts).
 */
import { MpcError } from '../errors.js';
import { provision, type KernelBackend } from './provision.js';
import { tsKernels } from './ts.js';
import type { RingKernels } from './types.js';

export type { KernelBackend } from './provision.js';

/** CPU kernels only; the choice including CUDA is the runtime's kernelsFor() (runtime/kernels.ts). */
export function getKernels(backend: KernelBackend = provision().cpuDefault): RingKernels {
  if (backend === 'ts') return tsKernels;
  const { native, nativeError } = provision();
  if (native) return native;
  if (backend === 'native') throw new MpcError('E_NATIVE', nativeError ?? 'kernels: the native addon is not built; run `npm ci` (needs g++ and Node headers)');
  return tsKernels;
}

export type { RingKernels } from './types.js';
