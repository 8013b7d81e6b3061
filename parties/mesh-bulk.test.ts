/**
 * Large messages in both directions of one link at the same time. Node's
 * HTTP/2 session stops reading its socket while one of its writes is in
 * progress; with 16 MiB flow-control windows a write could hold 16 MiB, more
 * than the socket buffers take, so two parties sending each other 64 MiB at
 * once both sat in their writes and the link stalled (until keepalive dropped
 * it: "party P2 is unavailable" mid-run in the end-to-end tests). The default
 * window (256 KiB) keeps each write small enough to complete.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, meshTrio, type Trio } from './testing/trio.js';

describe.each(['grpc', 'h2'] as const)('mesh (link %s): simultaneous bulk transfers in both directions (mTLS)', (link) => {
  let ms: Trio;
  beforeAll(async () => { ms = await meshTrio({ extra: { link } }); });
  afterAll(async () => { await closeAll(ms); });

  it('P1 and P2 exchange 64 MiB each way at once, three times, without stalling', async () => {
    const size = 64 << 20;
    for (let round = 0; round < 3; round++) {
      const id = `bulk-${round}`;
      const [t1, t2] = [ms[1].openSession(id), ms[2].openSession(id)];
      const a = randomBytes(size);
      const b = randomBytes(size);
      t1.send(2, 'bulk', a);
      t2.send(1, 'bulk', b);
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`round ${round}: link stalled for 30 s`)), 30_000); });
      try {
        const [at2, at1] = await Promise.race([Promise.all([t2.recv(1, 'bulk'), t1.recv(2, 'bulk')]), stalled]);
        expect(Buffer.from(at2).equals(a)).toBe(true);
        expect(Buffer.from(at1).equals(b)).toBe(true);
      } finally {
        clearTimeout(timer);
        t1.close();
        t2.close();
      }
    }
  }, 120_000);
});
