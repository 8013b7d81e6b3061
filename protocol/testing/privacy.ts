/** Helpers shared by the privacy tests (protocol/privacy/*.test.ts; test code only). */
import { expect } from 'vitest';
import { getKernels } from '../kernels/index.js';
import type { Cost } from '../primitives/cost.js';
import { reconstruct } from '../sharing/sharing.js';
import type { Run3Result } from './run3.js';

export const k = getKernels();

export const open = (a: BigUint64Array, b: BigUint64Array): BigUint64Array => reconstruct(k, a, b);
export const signed = (a: BigUint64Array): bigint[] => Array.from(a, (v) => BigInt.asIntN(64, v));

export function expectCost(r: Run3Result<unknown>, c: Cost): void {
  expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(c);
  expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
}

/** Rounds and bytes of one labelled step over all three parties (rounds: the largest per-party count). */
export function stepCost(r: Run3Result<unknown>, label: string): Cost {
  const s = r.transports.map((t) => t.steps.get(label) ?? { bytesSent: 0, rounds: 0 });
  return { rounds: Math.max(...s.map((x) => x.rounds)), bytes: s.reduce((a, x) => a + x.bytesSent, 0) };
}

/** Plaintext argmax of each row of a signed [m x n] matrix, ties to the lowest index. */
export function plainArgmax(x: readonly bigint[], m: number, n: number): number[] {
  return Array.from({ length: m }, (_, r) => {
    let best = 0;
    for (let c = 1; c < n; c++) if (x[r * n + c]! > x[r * n + best]!) best = c;
    return best;
  });
}
