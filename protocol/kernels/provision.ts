/**
 * What the runtime hands in. protocol/ loads nothing from disk and reads no
 * environment: the runtime layer (runtime/kernels.ts) loads the native and
 * CUDA addons, reads the MPC_* variables, and calls provideKernels() once at
 * start-up. Until it does (a browser, a program that never installs the
 * runtime), protocol/ uses the pure-TS kernels and node:crypto's AES: the
 * same results, more slowly.
 *
 * Code that has a RingKernels passes it explicitly (createContext's
 * `kernels`); this provision is only the default for callers that name none.
 */
import { tsKernels } from './ts.js';
import type { RingKernels } from './types.js';

/** The AES-128-CTR keystream the PRG may use instead of node:crypto (the native addon's AES-NI code, prg.cc). */
export interface PrgAccelerator {
  prgKeystream(key: Uint8Array, offset: number, out: Uint8Array): void;
  /** Rejection sampling over the keystream from `offset`; returns the new offset. */
  prgRejectSample(key: Uint8Array, offset: number, table: Uint8Array, out: Uint8Array): number;
}

export type KernelBackend = 'auto' | 'native' | 'ts';

export interface KernelProvision {
  /** The native CPU kernels, or null when the runtime has none (see nativeError). */
  readonly native: RingKernels | null;
  /** Why `native` is null, or null when it is not. */
  readonly nativeError: string | null;
  /** What getKernels() means without an argument. */
  readonly cpuDefault: KernelBackend;
  /** The kernels of a context created without any (may be CUDA); called lazily. */
  readonly contextDefault: () => RingKernels;
  /** The PRG's keystream, or null for node:crypto. */
  readonly prg: PrgAccelerator | null;
}

const NONE = 'kernels: no native kernels were handed in (the runtime layer, runtime/kernels.ts installRuntimeKernels(), loads the addon)';

let current: KernelProvision | null = null;

/** Replaces what the runtime provides (idempotent per runtime; tests may call it to restore a provision). */
export function provideKernels(p: KernelProvision): void {
  current = Object.freeze({ ...p });
}

const FALLBACK: KernelProvision = Object.freeze({ native: null, nativeError: NONE, cpuDefault: 'auto', contextDefault: () => tsKernels, prg: null });

/** The current provision (the TS kernels and node:crypto when the runtime provided none). */
export function provision(): KernelProvision {
  return current ?? FALLBACK;
}
