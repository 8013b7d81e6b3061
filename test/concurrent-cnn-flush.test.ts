/**
 * Concurrent runs of a conv model in three party processes, at a size where relu-direct.ts's flushes act (review
 * of s38-cnn): test/concurrent-cnn.test.ts's model at 10x10 sends under 64 KiB per message, so
 * Transport.flush never yields there. Here the first conv gives 48 x 48 x 4 = 9216 values per image, 18432 for a
 * batch of 2: P1's c_1 is 144 KiB (it waits for it to drain before its PrivateCompare work) and P0's d_0 far more
 * (it waits for that to drain), with two runs in flight whose messages share the h2 links. A drain that waited on
 * another run's transfer for ever, or two parties waiting on each other's drain, shows here as lost or late
 * predictions (runLoad's timeout); every result is checked against the plaintext forward pass of its own input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { runLoad } from './testing/load.js';
import { smallMaxpoolCnn } from './testing/small-cnn.js';

/** smallMaxpoolCnn: the seed CNN's pattern at 48x48x1, Dense weights within 0.05. */
const model = smallMaxpoolCnn(48, 71, 0.05);

describe('a conv model past the flush threshold: 4 concurrent clients, 2 runs of 2 images in flight, three processes on the h2 link', () => {
  let l: Launched;
  beforeAll(async () => {
    l = await launchLocal({
      plain: model, fracBits: 13, truncation: 'exact', meshLink: 'h2', logLevel: 'warn', warmup: TEST_WARMUP, readyTimeoutMs: 60_000,
      batch: { windowMs: 2, maxBatch: 2, maxConcurrentRuns: 2, planAheadMs: 0 },
    });
  });
  afterAll(async () => { await l?.stop(); });

  it('every prediction completes within 1e-2 of its own input\'s plaintext; none lost or late', async () => {
    const r = await runLoad({ urls: l.urls, token: l.token, modelHash: l.modelHash, plain: model, clients: 4, durationMs: 3_000, minStarted: 8, tolerance: 1e-2, timeoutMs: 60_000 });
    console.info(`[concurrent-cnn-flush] ${r.started} predictions in ${r.durationS.toFixed(1)} s: ${r.ok} ok, ${r.wrong} wrong, errors ${JSON.stringify(r.errors)}`);
    expect(r.started).toBeGreaterThanOrEqual(8);
    expect(r.errors).toEqual({});
    expect(r.wrong).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.ok).toBe(r.started);
  });
});
