/**
 * The one place a kernel backend is chosen from configuration:
 *   'cpu'    the native addon, or the TS fallback if it is not built;
 *   'cuda'   the CUDA kernels (fails with E_NATIVE, and the reason, without a GPU);
 *   'auto'   CUDA where a device and the CUDA addon exist, else 'cpu' (default);
 *   'native' / 'ts'  force one CPU implementation (tests, benchmarks).
 * The environment variable MPC_KERNELS sets the default.
 */
import { assert } from '../errors.js';
import { selectKernels } from './cuda/index.js';
import { getKernels } from './index.js';
import type { RingKernels } from './types.js';

export type BackendSpec = 'auto' | 'cpu' | 'cuda' | 'native' | 'ts';
const SPECS: readonly BackendSpec[] = ['auto', 'cpu', 'cuda', 'native', 'ts'];

export function kernelsFor(spec: BackendSpec = (process.env.MPC_KERNELS as BackendSpec | undefined) ?? 'auto'): RingKernels {
  assert(SPECS.includes(spec), 'E_BAD_ARGUMENT', `kernels: backend must be one of ${SPECS.join(', ')}, got '${String(spec)}'`);
  if (spec === 'native' || spec === 'ts') return getKernels(spec);
  return selectKernels(spec);
}
