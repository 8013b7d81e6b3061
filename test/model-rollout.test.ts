/**
 * Runbook check: a new model bundle goes live without downtime by
 * starting a second trio ("green") next to the serving one ("blue"), moving
 * clients to it, and draining blue (deploy/README.md). Sessions in flight on
 * blue finish right; clients on green get green's answers; a client that
 * straddles the switch (parties of both trios, or a pinned model hash) gets
 * E_MODEL_MISMATCH, never an answer mixed from two models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { partyTrio, TEST_TOKEN, type PartyTrio } from '../parties/testing/trio.js';
import { isMpcError } from '../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { until } from './testing/deploy.js';

const F = 16;
const v1 = networkA(2);
const v2 = networkA(7);
const image = (s: number) => ({ data: Float32Array.from(uniform(seededPrg(s), 784, 1), (v) => (v + 1) / 2), shape: [784] });
const right = (m: ModelIR<FloatTensor>, s: number, logits: number[]) => {
  const want = plainForward(m, Float64Array.from(image(s).data), 1).data;
  return logits.every((v, i) => Math.abs(v - want[i]!) < 5e-3);
};

describe('blue/green model rollout', () => {
  let blue: PartyTrio;
  let green: PartyTrio;
  let blueUrls: string[];
  let greenUrls: string[];
  const urls = async (t: PartyTrio) => Promise.all(t.servers.map(async (s) => `http://127.0.0.1:${(await s.listen()).httpPort}`));
  const client = (parties: string[], expectedModelHash?: string) => new PrivateInferenceClient({ parties, token: TEST_TOKEN, timeoutMs: 30_000, ...(expectedModelHash ? { expectedModelHash } : {}) });

  beforeAll(async () => {
    blue = await partyTrio({ plain: v1, fracBits: F, batch: { windowMs: 50, maxBatch: 8 } });
    blueUrls = await urls(blue);
  });
  afterAll(async () => { await Promise.all([blue?.close(), green?.close()]); });

  it('green comes up beside blue; in-flight blue sessions finish right; new clients get green\'s answers; blue drains to zero', async () => {
    expect(blue.modelHash).not.toBe(undefined);
    const inFlight = [1, 2, 3, 4].map((s) => client(blueUrls, blue.modelHash).predict(image(s)).then((r) => ({ s, r })));
    green = await partyTrio({ plain: v2, fracBits: F });
    greenUrls = await urls(green);
    expect(green.modelHash).not.toBe(blue.modelHash);
    for (const u of greenUrls) expect((await fetch(`${u}/readyz`)).status).toBe(200);
    // The switch: new requests go to green.
    const after = await Promise.all([5, 6, 7].map((s) => client(greenUrls, green.modelHash).predict(image(s)).then((r) => ({ s, r }))));
    for (const { s, r } of after) expect(right(v2, s, r.logits)).toBe(true);
    for (const { s, r } of await Promise.all(inFlight)) expect(right(v1, s, r.logits)).toBe(true);
    // Drained: nothing left active on blue; it can be stopped.
    expect(await until(() => blue.servers.every((x) => x.party.store.activeCount === 0 && x.party.activeRuns === 0), 5_000)).toBe(true);
  });

  it('a client that straddles the switch gets E_MODEL_MISMATCH, never a mixed answer', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isMpcError(e) ? e.code : String(e)));
    expect(await code(client([blueUrls[0]!, greenUrls[1]!, greenUrls[2]!]).predict(image(8)))).toBe('E_MODEL_MISMATCH');
    expect(await code(client([greenUrls[0]!, blueUrls[1]!, greenUrls[2]!]).predict(image(9)))).toBe('E_MODEL_MISMATCH');
    expect(await code(client(greenUrls, blue.modelHash).predict(image(10)))).toBe('E_MODEL_MISMATCH');
    // Both trios still serve their own clients.
    expect(right(v1, 11, (await client(blueUrls).predict(image(11))).logits)).toBe(true);
    expect(right(v2, 12, (await client(greenUrls).predict(image(12))).logits)).toBe(true);
  });
});
