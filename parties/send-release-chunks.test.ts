/**
 * Transport.sendWithRelease on the party mesh's h2 link with a message cut into several frames: `release` (the
 * sender may overwrite the buffer: ring/send-pool.ts reuses it for a later message) may come only once every frame's
 * bytes have been written, including a last frame small enough to be copied into its header
 * (mesh-h2.ts INLINE_PAYLOAD_BYTES). The release here overwrites the buffer at once, as a reuse would: the receiver
 * must still get the bytes that were sent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, meshTrio, type Trio } from './testing/trio.js';

const CHUNK = 1 << 20;

// The default HTTP/2 window, and the smallest (64 KiB - 1: each 1 MiB frame waits for several WINDOW_UPDATEs).
describe.each([undefined, 65535])('sendWithRelease on the h2 link, message in several frames (window %s)', (flowControlWindow) => {
  let ms: Trio;
  beforeAll(async () => { ms = await meshTrio({ extra: { chunkBytes: CHUNK, link: 'h2', ...(flowControlWindow ? { flowControlWindow } : {}) } }); });
  afterAll(async () => { await closeAll(ms); });

  // Last frame: 100 bytes (inlined into its header), 4096 (the inline bound) and 64 KiB (written on its own).
  for (const tail of [100, 4096, 64 * 1024]) {
    it(`2 MiB + ${tail} bytes: release comes after every frame is written, the receiver gets the bytes sent`, async () => {
      const id = `release-chunks-${tail}-${flowControlWindow ?? 'default'}`;
      const [t0, t1] = [ms[0].openSession(id), ms[1].openSession(id)];
      try {
        const payload = new Uint8Array(randomBytes(2 * CHUNK + tail));
        const sent = Buffer.from(payload);
        let releasedAt = -1, order = 0;
        const frames0 = ms[0].stats[1]!.framesSent;
        t0.sendWithRelease(1, 'big', payload, () => { releasedAt = order++; payload.fill(0xa5); });
        const syncRelease = releasedAt;
        const got = await t1.recv(0, 'big');
        order++;
        expect(ms[0].stats[1]!.framesSent - frames0).toBe(3);
        expect(Buffer.from(got).equals(sent), 'the receiver got bytes written after the release').toBe(true);
        expect(syncRelease, 'release ran inside sendWithRelease, before the frames were written').toBe(-1);
        for (let i = 0; i < 500 && releasedAt < 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(releasedAt).toBeGreaterThanOrEqual(0);
      } finally {
        t0.close(); t1.close();
      }
    }, 30_000);
  }
});
