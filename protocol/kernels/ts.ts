// Placeholder until the 32-bit-limb fallback lands: delegates to the reference.
import { referenceKernels } from './reference.js';
import type { RingKernels } from './types.js';
export const tsKernels: RingKernels = { ...referenceKernels, name: 'ts' };
