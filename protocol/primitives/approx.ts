/**
 * The contract of a secure approximation of a smooth activation (sigmoid,
 * silu, tanh, gelu), as the activation registry (protocol/layers/) uses it.
 * Structurally identical to the registry's own declaration, so either can be
 * used where the other is expected.
 *  - secure: the protocol on shares of fixed-point x (f fractional bits),
 *    returning shares of the approximation (P2 passes a placeholder and gets
 *    one back);
 *  - fixed: the plaintext twin on ring values (two's complement in u64) that
 *    secure reproduces within 1 ulp;
 *  - float: the same approximation in real arithmetic (the importer's error
 *    analysis);
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
  float(x: number): number;
  cost(n: number, f: number): Cost;
  maxAbsError: number;
  inputRange: [number, number];
}
