/**
 * Capacity by trios (client-sdk/src/trio-pool.ts): two independent trios on
 * loopback serving the same model; the pool spreads predictions over them
 * and, when one trio dies, runs its accepted predictions again on the other:
 * none is lost, every answer is the model's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient, TrioPool, type Prediction } from '../client-sdk/src/index.js';
import { partyTrio, TEST_TOKEN, type PartyTrio } from '../parties/testing/trio.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

const F = 16;
const model = networkA(2);
const image = (s: number) => ({ data: Float32Array.from(uniform(seededPrg(s), 784, 1), (v) => (v + 1) / 2), shape: [784] });
const right = (s: number, logits: number[]) => {
  const want = plainForward(model, Float64Array.from(image(s).data), 1).data;
  return logits.every((v, i) => Math.abs(v - want[i]!) < 5e-3);
};

describe('TrioPool: K = 2 trios', () => {
  let a: PartyTrio;
  let b: PartyTrio;
  let pool: TrioPool;
  const urls = async (t: PartyTrio) => Promise.all(t.servers.map(async (s) => `http://127.0.0.1:${(await s.listen()).httpPort}`));

  beforeAll(async () => {
    // Trio a batches with a long window: its sessions are still waiting for their run when it is killed below.
    a = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 1_500, maxBatch: 8 } });
    b = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 5, maxBatch: 8 } });
    expect(a.modelHash).toBe(b.modelHash);
    const client = async (t: PartyTrio) => new PrivateInferenceClient({ parties: await urls(t), token: TEST_TOKEN, timeoutMs: 30_000, expectedModelHash: t.modelHash });
    pool = new TrioPool([await client(a), await client(b)], { cooldownMs: 60_000 });
  });
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]); });

  it('spreads concurrent predictions over both trios; each answer is the model\'s', async () => {
    const seeds = [1, 2, 3, 4, 5, 6];
    const out = (await Promise.all(seeds.map((s) => pool.predict(image(s))))) as Prediction[];
    seeds.forEach((s, i) => expect(right(s, out[i]!.logits), `image ${s}`).toBe(true));
    expect(pool.stats.map((x) => x.served)).toEqual([3, 3]);
    expect(pool.stats.map((x) => x.failedOver)).toEqual([0, 0]);
  });

  it('does not retry the caller\'s own errors (a wrong input shape)', async () => {
    await expect(pool.predict({ data: new Float32Array(10), shape: [10] })).rejects.toMatchObject({ code: 'E_SHAPE' });
    expect(pool.stats.map((x) => x.failedOver)).toEqual([0, 0]);
  });

  it('a trio dies with predictions accepted: they are run again on the other trio, none is lost; later ones skip the dead trio', async () => {
    const seeds = [11, 12, 13, 14, 15, 16];
    const pending = seeds.map((s) => pool.predict(image(s)) as Promise<Prediction>);
    // Trio a holds its three sessions (created, inputs uploaded) in its batch window; then all its parties die.
    await new Promise((r) => setTimeout(r, 500));
    const atA = a.servers[0].party.store.activeCount;
    expect(atA).toBe(3);
    for (const s of a.servers) s.kill();
    const out = await Promise.all(pending);
    seeds.forEach((s, i) => expect(right(s, out[i]!.logits), `image ${s}`).toBe(true));
    expect(pool.stats[0]).toEqual({ served: 3, failedOver: 3 });
    expect(pool.stats[1]).toEqual({ served: 9, failedOver: 0 });
    const again = (await pool.predict(image(21))) as Prediction;
    expect(right(21, again.logits)).toBe(true);
    expect(pool.stats[0]!.failedOver).toBe(3);
    expect(pool.stats[1]!.served).toBe(10);
  });
});
