/**
 * Histograms of a party's view for the malicious mode's view tests (view-compare, view-fold, binary/view-bin, view-bits,
 * view-trunc-mask):
 * counts per key (a message position or an opened value's bits), compared between two inputs with the two-sample
 * chi-square test of protocol/privacy/stats.ts.
 */
import { twoSampleChiSquareZ } from '../privacy/stats.js';

export type Stats = Map<string, number[]>;

/** Counts one observation b (0 <= b < buckets) under key. */
export function bump(s: Stats, key: string, buckets: number, b: number): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = new Array<number>(buckets).fill(0)));
  h[b]!++;
}

/** The key whose histograms differ most between a and b (largest two-sample chi-square z-score). */
export function worst(a: Stats, b: Stats): { z: number; key: string } {
  let w = { z: -Infinity, key: '' };
  for (const [key, h] of a) {
    const z = twoSampleChiSquareZ(h, b.get(key)!);
    if (z > w.z) w = { z, key };
  }
  return w;
}

/** Histograms of one key under two hidden values side by side (view-bits, view-trunc-mask). */
export type PairStats = Map<string, [number[], number[]]>;

/** The key whose two histograms differ most (largest two-sample chi-square z-score). */
export function worstPair(stats: PairStats): { z: number; key: string } {
  let w = { z: -Infinity, key: '' };
  for (const [key, [h0, h1]] of stats) {
    const z = twoSampleChiSquareZ(h0, h1);
    if (z > w.z) w = { z, key };
  }
  return w;
}
