/**
 * Kept weight masks through the party servers (parties/weight-masks.ts): P0
 * plans a build run first, then use runs; a follower that lost its store
 * refuses a use run and the next run builds again; the setting off keeps
 * every run on plain Alg. 1. Preprocessing is off here (its bundles would
 * change the bytes of later runs: parties/preprocessing.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const WEIGHTS = 784 * 128 + 128 * 128 + 128 * 10;
const input = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * 784, 1).map((v) => (v + 1) / 2);
const maxErr = (got: Float64Array, want: Float64Array): number => Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)));

async function infer(t: PartyTrio, seed: number) {
  const x = input(seed, 1);
  const id = await startSession(t, x, 1, F);
  const out = await finishSession(t, id, F);
  const runs = t.servers.map((s) => s.party.runLog.at(-1)!);
  return { out, err: out.ok ? maxErr(out.logits!, plainForward(model, x, 1).data) : Infinity, bytes: runs.reduce((a, r) => a + r.bytesSent, 0), runs };
}

describe('kept weight masks across runs (three party servers, mTLS)', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 2, maxBatch: 1, maxConcurrentRuns: 1 }, preprocess: { enabled: false } }); });
  afterAll(async () => { await t?.close(); });

  it('builds on the first run, then opens no weight mask: 16 bytes per weight less, same rounds, same results', async () => {
    const first = await infer(t, 1);
    expect(first.err).toBeLessThan(1e-3);
    const info = t.servers.map((s) => s.party.weightMasks.info);
    for (const i of info) expect(i).toMatchObject({ epoch: info[0]!.epoch, ready: true, bytes: 8 * WEIGHTS });
    const second = await infer(t, 2);
    const third = await infer(t, 3);
    for (const r of [second, third]) {
      expect(r.err).toBeLessThan(1e-3);
      expect(r.bytes).toBe(first.bytes - 16 * WEIGHTS);
      expect(r.runs[0]!.rounds).toBe(first.runs[0]!.rounds);
    }
    expect(t.servers[0].party.weightMasks.info!.epoch).toBe(info[0]!.epoch);
  });

  it('a follower without the store refuses the use run (E_PROTOCOL_DESYNC); the next run builds a new epoch and succeeds', async () => {
    await infer(t, 4);
    const before = t.servers[0].party.weightMasks.info!.epoch;
    t.servers[2].party.weightMasks.reset(); // as if P2 had restarted
    const refused = await infer(t, 5);
    expect(refused.out).toMatchObject({ ok: false, codes: ['E_PROTOCOL_DESYNC', 'E_PROTOCOL_DESYNC'] });
    const again = await infer(t, 6);
    expect(again.err).toBeLessThan(1e-3);
    const after = t.servers.map((s) => s.party.weightMasks.info!);
    expect(after[0]!.epoch).not.toBe(before);
    for (const i of after) expect(i).toMatchObject({ epoch: after[0]!.epoch, ready: true });
    expect((await infer(t, 7)).bytes).toBe(again.bytes - 16 * WEIGHTS);
  });
});

describe('keepWeightMasks: false', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, keepWeightMasks: false, batch: { windowMs: 2, maxBatch: 1 }, preprocess: { enabled: false } }); });
  afterAll(async () => { await t?.close(); });

  it('runs every product as plain Alg. 1 (same bytes every run, nothing kept)', async () => {
    const a = await infer(t, 1), b = await infer(t, 2);
    expect(a.err).toBeLessThan(1e-3);
    expect(b.bytes).toBe(a.bytes);
    for (const s of t.servers) expect(s.party.weightMasks.info).toBeNull();
  });
});
