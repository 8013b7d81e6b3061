import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import { addU64, bytesToU64, randomU64, reconstructShares, splitShares, subU64, u64ToBytes, uuidV4 } from './ring.js';

const M = 1n << 64n;
const EDGE = [0n, 1n, 0xffffffffn, 0x100000000n, 0x1ffffffffn, (1n << 63n) - 1n, 1n << 63n, M - 1n, M - 2n, 0xdeadbeefcafebaben];

describe('client ring arithmetic (32-bit limbs, no BigInt per element)', () => {
  it('add and sub agree with BigInt mod 2^64 on carry/borrow edge cases', () => {
    const a = new BigUint64Array(EDGE.length * EDGE.length), b = new BigUint64Array(a.length);
    EDGE.forEach((x, i) => EDGE.forEach((y, j) => { a[i * EDGE.length + j] = x; b[i * EDGE.length + j] = y; }));
    const s = addU64(a, b), d = subU64(a, b);
    for (let i = 0; i < a.length; i++) {
      expect(s[i]).toBe((a[i]! + b[i]!) % M);
      expect(d[i]).toBe((a[i]! - b[i]! + M) % M);
    }
  });

  it('add and sub agree with BigInt on random values', () => {
    const a = randomU64(4096), b = randomU64(4096);
    const s = addU64(a, b), d = subU64(a, b);
    for (let i = 0; i < a.length; i++) {
      expect(s[i]).toBe((a[i]! + b[i]!) % M);
      expect(d[i]).toBe((a[i]! - b[i]! + M) % M);
    }
  });

  it('randomU64 fills more than the 64 KiB getRandomValues limit', () => {
    const r = randomU64(20_000); // 160 KB
    const tail = r.subarray(19_000);
    expect(tail.some((v) => v !== 0n)).toBe(true);
    expect(new Set(Array.from(r.subarray(0, 1000))).size).toBe(1000);
  });

  it('length mismatch is E_SHAPE', () => {
    expect(() => addU64(new BigUint64Array(2), new BigUint64Array(3))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

describe('encode -> split -> reconstruct -> decode round trip', () => {
  it('is exact for fixed-point values, with each share alone unrelated to x', () => {
    const x = Float64Array.from([0, 1, -1, 0.5, -0.25, 1 / 255, 254 / 255, 123.456, -9999.125, 2 ** 30, -(2 ** 30), 2 ** -13]);
    const enc = encode(x, 13);
    const [s0, s1] = splitShares(enc);
    expect(s0).not.toEqual(enc);
    expect(s1).not.toEqual(enc);
    const back = reconstructShares(s0, s1);
    expect(back).toEqual(enc);
    const dec = decode(back, 13);
    for (let i = 0; i < x.length; i++) expect(dec[i]).toBe(Math.round(x[i]! * 8192) / 8192);
  });

  it('round-trips the extreme ring elements exactly', () => {
    const x = BigUint64Array.from(EDGE);
    const [s0, s1] = splitShares(x);
    expect(reconstructShares(s0, s1)).toEqual(x);
  });

  it('splits the same secret differently each time', () => {
    const x = encode([0.5, 0.5, 0.5]);
    expect(splitShares(x)[0]).not.toEqual(splitShares(x)[0]);
  });

  it('serialises little-endian u64 and reads unaligned payloads', () => {
    const x = BigUint64Array.from([1n, 0x0102030405060708n]);
    const bytes = u64ToBytes(x);
    expect(Array.from(bytes.subarray(8))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const unaligned = new Uint8Array(17);
    unaligned.set(bytes, 1);
    expect(bytesToU64(unaligned.subarray(1))).toEqual(x);
    expect(() => bytesToU64(new Uint8Array(7))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });

  it('makes UUID v4 session ids', () => {
    const id = uuidV4();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV4()).not.toBe(id);
  });
});
