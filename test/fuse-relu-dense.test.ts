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

describe('PARTY_FUSE_RELU_DENSE=1 at P0 only (three processes)', () => {
  it('the parties never link: P0 and its peers log E_SETTINGS_MISMATCH naming fuseReluIntoDense, and never say ready (no run starts)', async () => {
    const lines: string[] = [];
    let launched: Launched | undefined;
    const err = await launchLocal({
      plain: model, fracBits: 16, meshLink: 'h2', logLevel: 'warn', warmup: TEST_WARMUP, readyTimeoutMs: 20_000, env: { 0: knob },
      onLine: (p, s) => lines.push(`P${p} ${s}`),
    }).then((l2) => { launched = l2; return null; }, (e: unknown) => e as Error);
    // Before the HELLO agreed the knob, the parties linked and said ready here; a client run then left P1 waiting.
    await launched?.stop();
    expect(launched).toBeUndefined();
    expect(err?.message).toMatch(/not ready in time/);
    const refusals = lines.filter((s) => s.includes('E_SETTINGS_MISMATCH') && s.includes('fuseReluIntoDense: P0 has true'));
    for (const p of [0, 1, 2]) expect(refusals.some((s) => s.startsWith(`P${p} `)), `P${p}`).toBe(true);
  }, 60_000);
});
