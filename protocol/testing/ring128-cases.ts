/**
 * Shared cases for the Z_2^128 kernel tests (tests only): the modulus, edge
 * values, random values, and the kernel sets a Z_2^128 caller can get (TS;
 * native with the Z_2^128 kernels; native without them, i.e. the 19-product
 * fallback on the Z_2^64 kernels).
 */
import { randomBytes } from 'node:crypto';
import { loadNativeKernels } from '../../runtime/native-addon.js';
import { tsKernels } from '../kernels/ts.js';
import type { RingKernels } from '../kernels/types.js';

export const M = (1n << 128n) - 1n;
export const mod = (x: bigint): bigint => BigInt.asUintN(128, x);
export const EDGES = [0n, 1n, M, (1n << 64n) - 1n, 1n << 64n, 1n << 127n, (1n << 127n) - 1n, 1n << 63n, (1n << 32n) - 1n, 1n << 96n, M - 1n];
export const random = (n: number): bigint[] => Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));

export const NATIVE = loadNativeKernels();
const withoutWide = (k: RingKernels): RingKernels => ({ ...k, gemm128: undefined, mul128: undefined, mulScalar128: undefined, add128: undefined, sub128: undefined, signedSum128: undefined, blockComb128: undefined });

/** [name, kernels] for every kernel set available here, the TS one named `tsName`. */
export function kernelSets128(tsName: string): [string, RingKernels][] {
  const sets: [string, RingKernels][] = [[tsName, tsKernels]];
  if (NATIVE) sets.push(['native Z_2^128', NATIVE], ['native Z_2^64 (fallback)', withoutWide(NATIVE)]);
  return sets;
}
