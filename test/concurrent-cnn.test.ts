/**
 * Concurrent runs of a CNN in three party processes: test/load.test.ts covers Network A (Beaver products and
 * ReLU); this covers the seed CNN's layer kinds at a tiny size (Conv2D with ReLU, MaxPool 2x2 stride 1, exact
 * truncation with P2) on the default h2 link, with 4 clients sending back to back, at most 2 images per run and
 * 2 runs in flight (batch.maxConcurrentRuns), so that two runs' messages share the links' reads. Every result
 * is checked against the plaintext forward pass of its own input (test/testing/load.ts), and P0's log must
 * show two runs in flight at once, or the test did not test concurrency (planAheadMs 0: no run is deferred, so
 * every planned run ends in 'run done' or 'run failed').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { runLoad } from './testing/load.js';
import { smallMaxpoolCnn } from './testing/small-cnn.js';

/** smallMaxpoolCnn: the seed CNN's pattern at 10x10x1, Dense weights within 0.5. */
const model = smallMaxpoolCnn(10, 70, 0.5);

describe('a small CNN (MaxPool, exact truncation): 4 concurrent clients, 2 runs in flight, three processes on the h2 link', () => {
  let l: Launched;
  const p0: string[] = [];
  beforeAll(async () => {
    l = await launchLocal({
      plain: model, fracBits: 13, truncation: 'exact', meshLink: 'h2', logLevel: 'info', warmup: TEST_WARMUP, readyTimeoutMs: 60_000,
      batch: { windowMs: 2, maxBatch: 2, maxConcurrentRuns: 2, planAheadMs: 0 }, onLine: (p, line) => { if (p === 0) p0.push(line); },
    });
  });
  afterAll(async () => { await l?.stop(); });

  it('every result is its own input\'s, none lost, crossed or duplicated, and two runs were in flight at once', async () => {
    const from = p0.length;
    const r = await runLoad({ urls: l.urls, token: l.token, modelHash: l.modelHash, plain: model, clients: 4, durationMs: 2_500, minStarted: 8, tolerance: 5e-3, timeoutMs: 30_000 });
    let inFlight = 0, most = 0;
    for (const line of p0.slice(from)) {
      if (line.includes('"msg":"batch planned"')) most = Math.max(most, ++inFlight);
      else if (line.includes('"msg":"run done"') || line.includes('"msg":"run failed"')) inFlight -= 1;
    }
    console.info(`[concurrent-cnn] ${r.started} predictions in ${r.durationS.toFixed(1)} s: ${r.ok} ok, ${r.wrong} wrong, errors ${JSON.stringify(r.errors)}; at most ${most} runs in flight at P0`);
    expect(r.started).toBeGreaterThanOrEqual(8);
    expect(r.errors).toEqual({});
    expect(r.wrong).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.ok).toBe(r.started);
    // Runs in flight at P0 over the load (above, from its 'batch planned' and 'run done' / 'run failed' lines in order).
    expect(most).toBe(2);
  });

  it('one SDK client with 6 predictions at once: each gets the output of its own input', async () => {
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 30_000, expectedModelHash: l.modelHash });
    const xs = Array.from({ length: 6 }, (_, i) => Float32Array.from(uniform(seededPrg(80 + i), 100, 0.5), (v) => v + 0.5));
    const rs = await Promise.all(xs.map((data) => client.predict({ data, shape: model.inputShape })));
    expect(new Set(rs.map((r) => r.sessionId)).size).toBe(6);
    const want = xs.map((x) => plainForward(model, Float64Array.from(x), 1).data);
    rs.forEach((r, i) => {
      for (let j = 0; j < 2; j++) expect(Math.abs(r.logits[j]! - want[i]![j]!), `prediction ${i}, logit ${j}`).toBeLessThan(5e-3);
    });
    // Any two inputs' outputs differ by more than twice the tolerance: a crossed result would fail above.
    for (let a = 0; a < 6; a++) for (let b = a + 1; b < 6; b++) expect(Math.max(...[0, 1].map((j) => Math.abs(want[a]![j]! - want[b]![j]!)))).toBeGreaterThan(1e-2);
  });
});
