/**
 * The non-linear primitives the malicious-mode runner (runner.ts) uses, with
 * the signatures fixed for issue 25 (truncM in trunc.ts; reluM and maxPoolM
 * in compare.ts / maxpool.ts) and their declared costs. A primitive that is
 * not built yet is absent here, and the runner refuses every layer that
 * needs it (E_UNSUPPORTED_LAYER, "not yet in malicious mode"): there is no
 * fallback to the semi-honest protocol.
 */
import type { Cost } from '../primitives/cost.js';
import type { Padding } from '../ir.js';
import type { MShare } from './rep.js';
import type { MalSession } from './session.js';

export interface MalPoolShape { h: number; w: number; c: number }
export interface MalPoolWindow { kh: number; kw: number; sh: number; sw: number; padding?: Padding }

export interface MalPrimitives {
  /** x / 2^f for signed x (probabilistic truncation), and its cost for n elements. */
  trunc?: (s: MalSession, x: MShare, f: number) => Promise<MShare>;
  truncCost?: (n: number, f: number) => Cost;
  /** max(x, 0) for |x| < 2^(ell-1), and its cost. */
  relu?: (s: MalSession, x: MShare, ell: number) => Promise<MShare>;
  reluCost?: (n: number, ell: number) => Cost;
  /** MaxPool over one NHWC image, and its cost. */
  maxPool?: (s: MalSession, x: MShare, shape: MalPoolShape, pool: MalPoolWindow, ell: number) => Promise<MShare>;
  maxPoolCost?: (shape: MalPoolShape, pool: MalPoolWindow, ell: number) => Cost;
}

/** What is built on this branch. */
export const DEFAULT_MAL_PRIMITIVES: MalPrimitives = Object.freeze({});
