/** The buffer pools' free list (free-list.ts): best fit within 2x, newest first among equals, oldest dropped first past either cap. */
import { describe, expect, it } from 'vitest';
import { FreeList } from './free-list.js';

describe('FreeList (the send and receive pools\' free buffers)', () => {
  it('takes the smallest buffer within [size, 2 size], newest first among equal sizes; null when none fits', () => {
    const l = new FreeList(1 << 30, 100);
    const [a, b1, b2, c] = [100, 300, 300, 800].map((n) => new ArrayBuffer(n));
    for (const ab of [a!, b1!, b2!, c!]) l.put(ab);
    expect(l.bytes).toBe(1500);
    expect(l.take(401)).toBe(c); // 800 <= 2 x 401; 300 and 100 are too small
    expect(l.take(151)).toBe(b2);
    expect(l.take(151)).toBe(b1);
    expect(l.take(151)).toBeNull(); // a (100) too small, nothing else left
    expect(l.take(49)).toBeNull(); // a is more than twice 49
    expect(l.take(50)).toBe(a); // exactly twice
    expect(l.bytes).toBe(0);
  });

  it('drops the buffer given back longest ago first, past the byte cap or the count cap', () => {
    const bytesCap = new FreeList(1000, 100);
    const x = [400, 300, 500].map((n) => new ArrayBuffer(n));
    x.forEach((ab) => bytesCap.put(ab));
    // 400 + 300 + 500 > 1000: the 400 (oldest) went, the 300 stayed.
    expect(bytesCap.bytes).toBe(800);
    expect(bytesCap.take(300)).toBe(x[1]);
    expect(bytesCap.take(250)).toBe(x[2]); // 500 is 2 x 250; the 400 would be smaller, were it there
    const countCap = new FreeList(1 << 30, 2);
    const y = [10, 20, 30].map((n) => new ArrayBuffer(n));
    y.forEach((ab) => countCap.put(ab));
    expect(countCap.bytes).toBe(50);
    expect(countCap.take(10)).toBe(y[1]); // 20 = 2 x 10; the 10 (oldest) went
  });
});
