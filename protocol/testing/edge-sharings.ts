/**
 * Deterministic and edge sharings of given values (tests): the secret in one
 * share and 0 in the other (what ZeroPadding2D's padded cells and P0-only
 * public constants leave), shares at 2^63, 2^64 - 1, 2^31, 2^32 - 1, 2^32,
 * shares whose low 32 bits are 0, and one uniformly random sharing. Every
 * sharing is valid: x0 + x1 = x mod 2^64.
 */
import { randomU64s } from './values.js';

const L = 1n << 64n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** The P1 shares each value is paired with (P0 holds x - s); 'random' and 'random <<32' are drawn per value. */
const FIXED_P1: readonly [string, bigint][] = [
  ['(x, 0)', 0n],
  ['(x - 2^63, 2^63)', 1n << 63n],
  ['(x + 1, 2^64 - 1)', L - 1n],
  ['(x - 2^31, 2^31)', 1n << 31n],
  ['(x - 2^32 + 1, 2^32 - 1)', (1n << 32n) - 1n],
  ['(x - 2^32, 2^32)', 1n << 32n],
  ['(x + 2^32, -2^32)', L - (1n << 32n)],
  ['(x - 2^62, 2^62)', 1n << 62n],
];

export interface EdgeSharings {
  /** The secrets, one per sharing (repeated across kinds). */
  x: BigUint64Array;
  s0: BigUint64Array;
  s1: BigUint64Array;
  /** Which kind of sharing index i is, for failure messages. */
  kind: string[];
}

/** Every value under every edge sharing, both ways round ((x, 0) and (0, x), ...), plus random ones. */
export function edgeSharings(values: readonly bigint[]): EdgeSharings {
  const xs: bigint[] = [], a: bigint[] = [], b: bigint[] = [], kind: string[] = [];
  const rnd = randomU64s(2 * values.length);
  values.forEach((v, i) => {
    const x = u64(v);
    const pairs: [string, bigint][] = [...FIXED_P1, ['random', rnd[2 * i]!], ['random, low 32 bits 0', rnd[2 * i + 1]! & ~0xffffffffn]];
    for (const [name, s] of pairs) {
      xs.push(x, x); a.push(u64(x - s), s); b.push(s, u64(x - s)); kind.push(`x = ${BigInt.asIntN(64, x)} ${name}`, `x = ${BigInt.asIntN(64, x)} ${name} swapped`);
    }
  });
  return { x: BigUint64Array.from(xs), s0: BigUint64Array.from(a), s1: BigUint64Array.from(b), kind };
}
