// Placeholder until the addon lands.
import type { RingKernels } from './types.js';
export function loadNativeKernels(): RingKernels | null { return null; }
