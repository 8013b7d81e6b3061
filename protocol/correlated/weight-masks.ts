/**
 * Fixed weight masks: Beaver multiplication with the model's weights when
 * the mask B of the weights is kept across runs (an optimisation of SecureNN
 * Alg. 1 for a fixed operand, as in SecureML's reuse of the masked weight
 * matrix; not a step of the paper).
 *
 * In Alg. 1, P0 and P1 open F = Y - B for the weights Y with a fresh B dealt
 * by P2. For weights that do not change, a run in 'build' mode does exactly
 * that and keeps the result: P0 and P1 keep F (public to both of them, and
 * uniform: B is uniform and unknown to each), P2 keeps B. Later runs in
 * 'use' mode open only E = X - A with a fresh A, and P2 sends C_1 of
 * C = op(A, B) for that fresh A:
 *   Z = op(X, F) + op(E, Y - F) + C = op(X, Y),  since Y - F = B.
 * What each party sees per run is then E (uniform: A is fresh) at P0 and
 * P1, and C_1 (uniform: C_0 is unknown to P1) at P1; F was seen once, and
 * seeing the same F again reveals nothing new. A collusion of P2 (B) with P0
 * or P1 (F) learns Y, as it would from any single run of Alg. 1.
 *
 * The party servers keep one store per model (parties/weight-masks.ts) and
 * agree on the mode through P0's plan; without a store (ctx.weightMasks
 * undefined) every product runs Alg. 1 as the paper does.
 */
import { MpcError } from '../errors.js';

export interface WeightMaskSession {
  /** 'build': run Alg. 1 and keep F (P0, P1) or B (P2); 'use': take them from the store. */
  readonly mode: 'build' | 'use';
  /** Kept value for `key`: F at P0 and P1, B at P2. */
  get(key: string): BigUint64Array | undefined;
  set(key: string, value: BigUint64Array): void;
}

/** A store held in memory: entries by key, for tests and for the party servers' per-model stores. */
export class MemoryWeightMasks {
  private readonly entries = new Map<string, BigUint64Array>();
  /** Bytes held (F or B for every fixed operand seen). */
  get bytes(): number { let b = 0; for (const v of this.entries.values()) b += v.byteLength; return b; }
  session(mode: 'build' | 'use'): WeightMaskSession {
    const entries = this.entries;
    return {
      mode,
      get: (key) => entries.get(key),
      set: (key, value) => { entries.set(key, value); },
    };
  }
}

/** The kept F or B of `key` in 'use' mode, or E_PROTOCOL_DESYNC naming the key. */
export function keptMask(s: WeightMaskSession, key: string, party: number, length: number): BigUint64Array {
  const v = s.get(key);
  if (!v || v.length !== length) throw new MpcError('E_PROTOCOL_DESYNC', `weight masks: P${party} holds no mask of ${length} elements for '${key}' (the build run did not reach it)`, { party, step: key });
  return v;
}
