/**
 * The contract of a secure approximation of a smooth activation (sigmoid,
 * silu, tanh, gelu); the activation registry (protocol/layers/activations.ts)
 * uses this type.
 *  - secure: the protocol on shares of fixed-point x (f fractional bits),
 *    returning shares of the approximation (P2 passes a placeholder and gets
 *    one back);
 *  - fixed: the plaintext twin on ring values (two's complement in u64) that
 *    secure reproduces within 1 ulp; fixedDraw (optional): one draw of the
 *    secure result's own distribution;
 *  - float: a real-arithmetic version: the approximation in the primitives'
 *    own objects (their tests); the exact function in what the registry
 *    holds (the plaintext reference compared with Keras);
 *  - cost: declared rounds and bytes (all three parties) for n elements;
 *  - maxAbsError: bound of |approximation - true function| over the whole
 *    real line for inputs the comparison ring can hold (see each file);
 *  - inputRange: where the polynomial pieces live; outside it the output
 *    saturates (a constant, or x itself for silu and gelu).
 */
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';

export interface SmoothActivation {
  name: 'sigmoid' | 'silu' | 'tanh' | 'gelu';
  secure(ctx: PartyContext, x: AShare, f: number, label: string): Promise<AShare>;
  fixed(x: BigUint64Array, f: number): BigUint64Array;
  /**
   * Optional: one draw of the secure result's distribution (each truncation
   * floor + 1 with probability the dropped fraction, randomness from
   * node:crypto), for the importer's simulation (model-import/precision.ts);
   * `fixed` rounds deterministically and so misses the protocol's small
   * systematic offset from it.
   */
  fixedDraw?(x: BigUint64Array, f: number): BigUint64Array;
  /**
   * Optional: sum and largest |v| (ring units) of the values `secure` truncates on inputs x, for the importer's
   * local-truncation risk (ir-kit/arith.ts FixedRisk); absent: the activation is taken to truncate nothing.
   */
  truncated?(x: BigUint64Array, f: number): { sum: number; largest: number };
  float(x: number): number;
  cost(n: number, f: number): Cost;
  maxAbsError: number;
  inputRange: [number, number];
}
