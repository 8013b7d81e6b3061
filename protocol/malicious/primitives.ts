/**
 * The non-linear primitives the malicious-mode runner (runner.ts) uses, with
 * the signatures fixed for issue 25 and their declared costs: truncM
 * (trunc.ts: TruncPr, Catrina and de Hoogh 2010, over Z_2^k; floor or
 * floor + 1 for |x| < 2^(ell − 1), ell from the runner, ranges.ts), matmulTruncM (product-trunc.ts:
 * a matrix product and its truncation in one round), reluM (compare.ts: edaBit-style
 * MSB, Escudero et al. 2020) and maxPoolM (maxpool.ts: one NHWC image, a
 * tournament of b + ReLU(a − b)). A table without one of them (tests, or a
 * build without it) makes the runner refuse every layer that needs it
 * (E_UNSUPPORTED_LAYER, "not yet in malicious mode"): there is no fallback
 * to the semi-honest protocol.
 */
import type { Cost } from '../primitives/cost.js';
import type { Padding } from '../ir.js';
import type { MShare } from './rep.js';
import type { MalSession } from './session.js';
import { truncCostM, truncM } from './trunc.js';
import { reluCostM, reluM } from './compare.js';
import { maxPoolCostM, maxPoolM } from './maxpool.js';
import { matmulTruncCostM, matmulTruncM } from './product-trunc.js';
import { reluBinCheckedCostB, reluBinCheckedM } from './binary/compare-bin.js';
import { maxPoolBinCostB, maxPoolBinM } from './binary/maxpool-bin.js';

export interface MalPoolShape { h: number; w: number; c: number }
export interface MalPoolWindow { kh: number; kw: number; sh: number; sw: number; padding?: Padding }

export interface MalPrimitives {
  /** x / 2^f for signed |x| < 2^(ell-1) (probabilistic truncation; ell default TRUNC_ELL, the runner passes ranges.ts's), and its cost for n elements. */
  trunc?: (s: MalSession, x: MShare, f: number, ell?: number) => Promise<MShare>;
  truncCost?: (n: number, f: number, ell?: number) => Cost;
  /** (m x k)(k x n) then x / 2^f in one round (product-trunc.ts; |XY| < 2^(ell-1)), and its cost; without it the runner runs matmulM, then trunc. */
  matmulTrunc?: (s: MalSession, X: MShare, Y: MShare, m: number, k: number, n: number, f: number, ell?: number) => Promise<MShare>;
  matmulTruncCost?: (m: number, n: number, f: number, ell?: number) => Cost;
  /** max(x, 0) for |x| < 2^(ell-1), and its cost. */
  relu?: (s: MalSession, x: MShare, ell: number) => Promise<MShare>;
  reluCost?: (n: number, ell: number) => Cost;
  /** MaxPool over one NHWC image (inputs |x| < 2^(ell-2)), and its cost. */
  maxPool?: (s: MalSession, x: MShare, shape: MalPoolShape, pool: MalPoolWindow, ell: number) => Promise<MShare>;
  maxPoolCost?: (shape: MalPoolShape, pool: MalPoolWindow, ell: number) => Cost;
}

/** What is built (the default ell of each: TRUNC_ELL for truncation; the runner passes ranges.ts's truncation widths and the comparison width). */
export const DEFAULT_MAL_PRIMITIVES: MalPrimitives = Object.freeze({
  trunc: (s: MalSession, x: MShare, f: number, ell?: number) => truncM(s, x, f, ell),
  truncCost: (n: number, f: number, ell?: number) => truncCostM(n, f, ell),
  matmulTrunc: (s: MalSession, X: MShare, Y: MShare, m: number, k: number, n: number, f: number, ell?: number) => matmulTruncM(s, X, Y, m, k, n, f, ell),
  matmulTruncCost: (m: number, n: number, f: number, ell?: number) => matmulTruncCostM(m, n, f, ell),
  relu: (s: MalSession, x: MShare, ell: number) => reluM(s, x, ell),
  reluCost: reluCostM,
  maxPool: maxPoolM,
  maxPoolCost: maxPoolCostM,
});

/**
 * The same with the ReLU (and what the runner builds on it: relu6, the hard sigmoids, LeakyReLU, PReLU, Maximum)
 * through the binary domain (binary/compare-bin.ts `reluBinCheckedM`: split A2B, carry tree, daBit B2A, its ANDs
 * verified against cut-and-choose triples at the end of the layer) and MaxPool (binary/maxpool-bin.ts: the same
 * tournament, the levels' ANDs verified at the end of the layer). Argmax and the smooth activations keep the
 * arithmetic comparisons (compare.ts). Off by default (runner.ts `comparisons: 'binary'`).
 */
export const BINARY_COMPARE_PRIMITIVES: MalPrimitives = Object.freeze({
  ...DEFAULT_MAL_PRIMITIVES,
  relu: (s: MalSession, x: MShare, ell: number) => reluBinCheckedM(s, x, ell),
  reluCost: reluBinCheckedCostB,
  maxPool: maxPoolBinM,
  maxPoolCost: maxPoolBinCostB,
});

/** Which comparisons the runner's table uses: 'arithmetic' (default, compare.ts) or 'binary' (binary/). */
export type MalComparisons = 'arithmetic' | 'binary';
export const primitivesFor = (c: MalComparisons = 'arithmetic'): MalPrimitives => (c === 'binary' ? BINARY_COMPARE_PRIMITIVES : DEFAULT_MAL_PRIMITIVES);
