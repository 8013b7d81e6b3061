import { describe, expect, it } from 'vitest';
import { SCRATCH_MAX_BYTES, scratchU64, scratchU8 } from './scratch.js';

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
});
