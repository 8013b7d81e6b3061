import { describe, expect, it } from 'vitest';
import { decode, encode } from './fixed-point.js';

describe('fixed-point encoding in Z_2^64', () => {
  it('round-trips within 2^-(f+1) for f = 13 and 16, negatives as two\'s complement', () => {
    const xs = [0, 1, -1, 0.5, -0.5, 1e-5, -123.456, 2 ** 30, -(2 ** 30), 3.14159];
    for (const f of [13, 16]) {
      const d = decode(encode(xs, f), f);
      xs.forEach((x, i) => expect(Math.abs(d[i]! - x)).toBeLessThanOrEqual(2 ** -(f + 1)));
    }
    expect(encode([-1], 13)[0]).toBe(BigInt.asUintN(64, -8192n));
  });
  it('refuses non-finite values, magnitudes past 2^53 ulps and bad fractional bits', () => {
    expect(() => encode([NaN])).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
    expect(() => encode([2 ** 45], 13)).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
    expect(() => encode([1], 3)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    // The checks run inline (no message made per element): the refusal still names the element and the limit.
    expect(() => encode([0, 1, Infinity], 13)).toThrow(expect.objectContaining({ code: 'E_RANGE', message: 'fixed-point: element 2 is not a finite number' }));
    expect(() => encode([0.5, -(2 ** 40)], 13)).toThrow(expect.objectContaining({ code: 'E_RANGE', message: 'fixed-point: element 1 exceeds the encodable magnitude 2^40' }));
    expect(encode([2 ** 39.99], 13)[0]).toBe(BigInt(Math.round(2 ** 39.99 * 8192)));
  });
});
