/**
 * PARTY_FUSE_RELU_DENSE=1 at the three party processes (parties/fuse-knob.ts, protocol/primitives/relu-dense.ts):
 * Network A through the SDK, mTLS and the h2 link, its last dense layer's opening fused into the ReLU before it. Each
 * prediction equals the plaintext forward pass of its input; once the weight masks are kept ('use' runs, the warm-up
 * builds them) the parties' run records count 8 rounds, and P2 sends the 30 KiB of R, M, N.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { partyRun } from '../bench/run-stats.js';

const model = networkA(2);
const knob = { PARTY_FUSE_RELU_DENSE: '1' };

describe('Network A with the ReLU fused into its last dense layer, three processes (PARTY_FUSE_RELU_DENSE=1 at all three)', () => {
  let l: Launched;
  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: 16, meshLink: 'h2', logLevel: 'warn', warmup: TEST_WARMUP, readyTimeoutMs: 60_000, env: { 0: knob, 1: knob, 2: knob }, batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 } });
  });
  afterAll(async () => { await l?.stop(); });

  it('every prediction matches the plaintext; runs with kept masks take 8 rounds, P2 sending R, M, N', async () => {
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, expectedModelHash: l.modelHash });
    const rounds: number[] = [], sentP2: number[] = [];
    for (let i = 0; i < 6; i++) {
      const x = uniform(seededPrg(100 + i), 784, 1).map((v) => (v + 1) / 2);
      const want = plainForward(model, x, 1).data;
      const got = await client.predict({ data: x, shape: model.inputShape });
      const logits = got.logits as number[];
      expect(logits.length).toBe(want.length);
      for (let j = 0; j < want.length; j++) expect(Math.abs(logits[j]! - want[j]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[j]!)));
      const stats = await Promise.all(l.urls.map((u) => partyRun(u, l.token, got.sessionId)));
      rounds.push(Math.max(...stats.map((s) => s.run.rounds)));
      sentP2.push(stats[2]!.run.bytesSent);
    }
    // The last predictions run with the kept masks (the warm-up's build run made them): 8 rounds, 32 KiB from P2 in the run.
    expect(rounds.slice(-3)).toEqual([8, 8, 8]);
    for (const b of sentP2.slice(-3)) expect(b).toBeGreaterThanOrEqual(8 * (2 * 128 + 3 * 128 * 10));
  });
});
