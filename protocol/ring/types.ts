/**
 * Rings as values and branded share types.
 *
 * SecureNN works in three rings:
 *  - Z_L, L = 2^64: arithmetic shares of data (AShare), BigUint64Array.
 *  - Z_{L-1}: shares produced by ShareConvert (OddShare), BigUint64Array with
 *    every element in [0, 2^64 - 2].
 *  - Z_p, p = 67: shares of bits used by PrivateCompare (PShare), one byte per
 *    element, every element in [0, 66].
 * The brands make mixing rings a compile error; they cost nothing at run time.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Additive share over Z_2^64 held by P0 or P1. */
export type AShare = Brand<BigUint64Array, 'Z_2^64 share'>;
/** Additive share over Z_{2^64-1}. */
export type OddShare = Brand<BigUint64Array, 'Z_2^64-1 share'>;
/** Additive shares over Z_67, one byte per element. */
export type PShare = Brand<Uint8Array, 'Z_67 share'>;
/** A value in Z_2^64 that both P0 and P1 know (public to them). */
export type Public = Brand<BigUint64Array, 'public Z_2^64'>;

export type PartyId = 0 | 1 | 2;
export const HELPER: PartyId = 2;

export interface Ring {
  readonly name: string;
  /** Modulus as bigint, for documentation and reference code only (never on hot paths). */
  readonly modulus: bigint;
  readonly bits: number;
}

export const Z2_64: Ring = Object.freeze({ name: 'Z_2^64', modulus: 1n << 64n, bits: 64 });
export const Z2_64_MINUS_1: Ring = Object.freeze({ name: 'Z_2^64-1', modulus: (1n << 64n) - 1n, bits: 64 });
export const P = 67;
export const ZP: Ring = Object.freeze({ name: 'Z_67', modulus: 67n, bits: 8 });
/** l, the bit length of the ring Z_L. */
export const L_BITS = 64;
/** Bits we send per Z_p element: one byte (log2 67 rounded up to a byte). */
export const ZP_WIRE_BITS = 8;

export const asAShare = (a: BigUint64Array): AShare => a as AShare;
export const asOddShare = (a: BigUint64Array): OddShare => a as OddShare;
export const asPShare = (a: Uint8Array): PShare => a as PShare;
export const asPublic = (a: BigUint64Array): Public => a as Public;
