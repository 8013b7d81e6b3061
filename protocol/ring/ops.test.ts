import { describe, expect, it } from 'vitest';
import { randomU64s } from '../testing/values.js';
import { bitsToU64, keepWhereBit, msb, selectByBit } from './ops.js';

const bitsOf = (n: number): Uint8Array => Uint8Array.from(randomU64s(n), (v) => Number(v & 1n));

describe('word-level u64 helpers (no BigInt per element)', () => {
  const n = 1001;
  const A = randomU64s(n), B = randomU64s(n);
  A[0] = 0xffffffffffffffffn; B[0] = 0n; A[1] = 0n; B[1] = 0xffffffffffffffffn; A[2] = 1n << 63n; B[2] = (1n << 32n) - 1n;
  const bit = bitsOf(n);
  bit[0] = 1; bit[1] = 1; bit[2] = 0;

  it('selectByBit picks ifOne where the bit is 1, ifZero where it is 0, all 64 bits (incl. 2^64 - 1, 0, 2^63, 2^32 - 1)', () => {
    const out = new BigUint64Array(n);
    selectByBit(bit, A, B, out);
    expect(Array.from(out)).toEqual(Array.from(A, (a, i) => (bit[i] ? a : B[i]!)));
    expect(bit.includes(0) && bit.includes(1)).toBe(true);
  });

  it('keepWhereBit keeps x where the bit equals `keep` and writes 0 elsewhere, for keep = 1 and keep = 0', () => {
    for (const keep of [1, 0] as const) {
      const out = new BigUint64Array(n).fill(123n);
      keepWhereBit(bit, keep, A, out);
      expect(Array.from(out)).toEqual(Array.from(A, (a, i) => (bit[i] === keep ? a : 0n)));
    }
  });

  it('bitsToU64 and msb round-trip bits through ring elements', () => {
    const u = bitsToU64(bit);
    expect(Array.from(u)).toEqual(Array.from(bit, (b) => BigInt(b)));
    expect(Array.from(msb(A))).toEqual(Array.from(A, (a) => Number(a >> 63n)));
  });
});
