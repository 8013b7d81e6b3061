/** Test inputs: random ring values in the comparison range and the edge cases. */
import { randomFillSync } from 'node:crypto';

export const MAX_U64 = 0xffffffffffffffffn;
/** Largest magnitude the comparison protocols handle: |a| < 2^62. */
export const MAX_POS = (1n << 62n) - 1n;
export const MIN_NEG = BigInt.asUintN(64, -(1n << 62n));

export function randomU64s(n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  randomFillSync(new Uint8Array(a.buffer));
  return a;
}

/** Random values in [-2^62, 2^62) as ring elements, with `bits` of magnitude at most. */
export function randomSigned(n: number, bits = 62): BigUint64Array {
  const a = randomU64s(n);
  return a.map((v) => BigInt.asUintN(64, BigInt.asIntN(64, v) >> BigInt(64 - bits)));
}

/** 0, 1, -1, 2, -2, largest positive, most negative, and small neighbours. */
export const EDGE_SIGNED: bigint[] = [0n, 1n, MAX_U64, 2n, MAX_U64 - 1n, MAX_POS, MIN_NEG, MAX_POS - 1n, MIN_NEG + 1n, 1n << 13n, BigInt.asUintN(64, -(1n << 13n))];

export function withEdges(random: BigUint64Array): BigUint64Array {
  return BigUint64Array.from([...EDGE_SIGNED, ...random]);
}
