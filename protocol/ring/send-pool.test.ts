/**
 * The send pool's free list (send-pool.ts) is bounded in count as well as bytes: take() scans it linearly, and the
 * 128 MiB byte cap alone let it hold 8,192 buffers of the pool's smallest size (16 KiB), each scanned on every
 * lend of a large send buffer (s42 probe, item 7; bench/recv-pool-scan.ts --send measures the scan).
 */
import { describe, expect, it } from 'vitest';
import { handOver, SEND_POOL_MAX_BUFFERS, SEND_POOL_MIN_BYTES, sendBufferU8, sendPoolFreeBuffers, sendPoolFreeBytes, sendPoolStats } from './send-pool.js';

describe('send pool: free buffers capped in count', () => {
  it(`keeps at most SEND_POOL_MAX_BUFFERS (${512}) free buffers, the ones given back longest ago dropped first; a buffer is reused only after it came back`, () => {
    expect(SEND_POOL_MAX_BUFFERS).toBe(512);
    // 600 send buffers in flight at once (sizes 16 KiB + 8 i), then all given back: more than the cap, far under the byte cap.
    const n = SEND_POOL_MAX_BUFFERS + 88;
    const bufs = Array.from({ length: n }, (_, i) => sendBufferU8(SEND_POOL_MIN_BYTES + 8 * i));
    const releases = bufs.map((b) => handOver(b)!);
    expect(releases.every((r) => typeof r === 'function')).toBe(true);
    expect(sendPoolFreeBuffers()).toBe(0);
    const back0 = sendPoolStats.returned;
    releases.forEach((r) => r());
    expect(sendPoolStats.returned - back0).toBe(n);
    expect(sendPoolFreeBuffers()).toBe(SEND_POOL_MAX_BUFFERS);
    // The 88 given back first were dropped: the pool holds the last 512, sizes 16 KiB + 8 * (88..599).
    expect(sendPoolFreeBytes()).toBe(Array.from({ length: SEND_POOL_MAX_BUFFERS }, (_, k) => SEND_POOL_MIN_BYTES + 8 * (88 + k)).reduce((a, b) => a + b, 0));
    // A take reuses one of them (best fit: the exact size, given back last of its size).
    const reused0 = sendPoolStats.reused;
    const again = sendBufferU8(SEND_POOL_MIN_BYTES + 8 * 599);
    expect(sendPoolStats.reused - reused0).toBe(1);
    expect(again.buffer).toBe(bufs[599]!.buffer);
    expect(sendPoolFreeBuffers()).toBe(SEND_POOL_MAX_BUFFERS - 1);
  });
});
