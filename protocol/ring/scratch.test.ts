import { describe, expect, it } from 'vitest';
import { borrowU8, giveBackU8, LEND_MAX_BYTES, lendStats, SCRATCH_MAX_BYTES, scratchU64, scratchU8 } from './scratch.js';

describe('scratch buffers (ring/scratch.ts)', () => {
  it('one slot per name, reused and grown; views of the requested length', () => {
    const a = scratchU8('t.a', 100);
    const b = scratchU8('t.a', 50);
    expect([a.length, b.length]).toEqual([100, 50]);
    expect(b.buffer).toBe(a.buffer);
    const c = scratchU64('t.a', 1000);
    expect(c.length).toBe(1000);
    expect(c.buffer.byteLength).toBeGreaterThanOrEqual(8000);
    expect(scratchU8('t.a', 10).buffer).toBe(c.buffer);
    expect(scratchU8('t.other', 10).buffer).not.toBe(c.buffer);
  });

  it('a request above SCRATCH_MAX_BYTES gets a fresh buffer each time and is not kept', () => {
    const small = scratchU8('t.big', 1024);
    const big1 = scratchU8('t.big', SCRATCH_MAX_BYTES + 8);
    const big2 = scratchU8('t.big', SCRATCH_MAX_BYTES + 8);
    expect(big1.length).toBe(SCRATCH_MAX_BYTES + 8);
    expect(big2.buffer).not.toBe(big1.buffer);
    expect(scratchU8('t.big', 1024).buffer).toBe(small.buffer);
    // Growth stops at the cap.
    const capped = scratchU8('t.cap', SCRATCH_MAX_BYTES - 8);
    expect(capped.buffer.byteLength).toBeLessThanOrEqual(SCRATCH_MAX_BYTES);
    expect(scratchU8('t.cap', SCRATCH_MAX_BYTES).buffer.byteLength).toBe(SCRATCH_MAX_BYTES);
  });

  it('lent buffers: never held by two borrowers; a given-back one serves a later borrow of at most its size; bounded', () => {
    const base = lendStats();
    const a = borrowU8(1000), b = borrowU8(1000);
    expect(a.buffer).not.toBe(b.buffer);
    expect([a.length, b.length]).toEqual([1000, 1000]);
    expect(lendStats().outstanding).toBe(base.outstanding + 2);
    giveBackU8(a);
    giveBackU8(a); // a second give-back of the same buffer is ignored
    giveBackU8(new Uint8Array(1000)); // so is a buffer that was never lent
    expect(lendStats()).toEqual({ outstanding: base.outstanding + 1, kept: base.kept + 1 });
    const c = borrowU8(600);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(600);
    expect(borrowU8(1001).buffer).not.toBe(a.buffer); // larger than any kept one: fresh
    giveBackU8(b, c);
    // At most 8 kept, and never one above LEND_MAX_BYTES.
    const many = Array.from({ length: 12 }, (_, i) => borrowU8(2000 + i));
    giveBackU8(...many);
    expect(lendStats().kept).toBeLessThanOrEqual(8);
    const huge = borrowU8(LEND_MAX_BYTES + 1);
    const keptBefore = lendStats().kept;
    giveBackU8(huge);
    expect(lendStats().kept).toBe(keptBefore);
  });
});
