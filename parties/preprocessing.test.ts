/**
 * The offline phase through the party servers (parties/preprocessing.ts):
 * after a live run of a shape, P0 has P2 deal the next run's randomness
 * while idle; that run uses the bundle, sends exactly the dealt bytes less
 * and gives the same results. A bundle a follower does not hold fails the
 * run cleanly (E_PROTOCOL_DESYNC) and the next run is live again; a bundle
 * over maxBytes is never made; enabled: false keeps every run live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { comparisonDealtBytes } from '../protocol/primitives/relu-direct.js';
import { finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const input = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * 784, 1).map((v) => (v + 1) / 2);
const maxErr = (got: Float64Array, want: Float64Array): number => Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)));

async function infer(t: PartyTrio, seed: number, N = 1) {
  const x = input(seed, N);
  const id = await startSession(t, x, N, F);
  const out = await finishSession(t, id, F);
  const runs = t.servers.map((s) => s.party.runLog.at(-1)!);
  return { out, err: out.ok ? maxErr(out.logits!, plainForward(model, x, N).data) : Infinity, sent: runs.map((r) => r.bytesSent), runs };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const ready = (t: PartyTrio) => t.servers[0].party.prepPool!.readyCount;
const metric = async (t: PartyTrio, p: number, re: RegExp) => Number(re.exec((await t.servers[p]!.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? NaN);

describe('preprocessing: P2 deals the next run while idle (three party servers, mTLS)', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 2, maxBatch: 2, maxConcurrentRuns: 1 } }); });
  afterAll(async () => { await t?.close(); });

  it('build run, then a live run P2 records, then a run from the bundle: same results, P2 sends the dealt bytes less, P0 and P1 the same, same rounds', async () => {
    const build = await infer(t, 1);
    expect(build.err).toBeLessThan(1e-3);
    expect(ready(t)).toBe(0); // no bundle from a build run
    const live = await infer(t, 2);
    expect(live.err).toBeLessThan(1e-3);
    expect(live.runs.map((r) => r.preprocessed)).toEqual([false, false, false]);
    await until(() => ready(t) === 1, 'a bundle');
    const held = t.servers.slice(1).map((s) => s.party.prepHeld!);
    expect(held.map((h) => h.count)).toEqual([1, 1]);
    const dealt = held[0]!.bytes; // P1's corrections: C_1 of the three dense layers, the shares of r' (radix-4 digits) of the ReLUs
    expect(dealt).toBe(8 * (128 + 128 + 10) + comparisonDealtBytes(128 + 128, 32, 4));
    expect(held[1]!.bytes).toBe(8 * (128 + 128)); // P2 keeps r of each ReLU's comparison (for w = r z)
    const pre = await infer(t, 3);
    expect(pre.err).toBeLessThan(1e-3);
    expect(pre.runs.map((r) => r.preprocessed)).toEqual([true, true, true]);
    expect(pre.runs.every((r) => r.runId === pre.runs[0]!.runId)).toBe(true);
    expect(pre.sent[2]).toBe(live.sent[2] - dealt);
    expect(pre.sent.slice(0, 2)).toEqual(live.sent.slice(0, 2));
    expect(pre.runs[0]!.rounds).toBe(live.runs[0]!.rounds);
    // The bundle served one run; the next one is made after it.
    await until(() => ready(t) === 1, 'the next bundle');
    expect(held.map((h) => h.count)).toEqual([1, 1]);
    expect(await metric(t, 0, /^mpc_prep_bundles_ready (\d+)$/m)).toBe(1);
    expect(await metric(t, 0, /^mpc_prep_total\{result="ready"\} (\d+)$/m)).toBeGreaterThanOrEqual(2);
    expect(await metric(t, 2, /^mpc_prep_total\{result="ok"\} (\d+)$/m)).toBeGreaterThanOrEqual(2);
  });

  it('another batch size is another shape: live first, then its own bundle; the batch-1 bundle stays', async () => {
    await until(() => ready(t) === 1, 'the batch-1 bundle');
    const two = await infer(t, 4, 2);
    expect(two.err).toBeLessThan(1e-3);
    expect(two.runs[0]!.preprocessed).toBe(false);
    await until(() => ready(t) === 2, 'a batch-2 bundle');
    const again = await infer(t, 5, 2);
    expect(again.err).toBeLessThan(1e-3);
    expect(again.runs[0]!.preprocessed).toBe(true);
    expect((await infer(t, 6, 1)).runs[0]!.preprocessed).toBe(true);
  });

  it('a follower without the named bundle refuses the run (E_PROTOCOL_DESYNC); the pools are emptied and the next run is live and correct', async () => {
    await until(() => ready(t) === 2 && !t.servers[0].party.prepInFlight, 'the batch-1 and batch-2 bundles');
    const p1 = t.servers[1].party.prepHeld!;
    p1.clear(); // as if P1 had lost it
    const refused = await infer(t, 7);
    expect(refused.out).toMatchObject({ ok: false });
    expect(refused.out.codes).toContain('E_PROTOCOL_DESYNC');
    expect(ready(t)).toBe(0);
    const next = await infer(t, 8);
    expect(next.err).toBeLessThan(1e-3);
    expect(next.runs[0]!.preprocessed).toBe(false);
  });
});

describe('preprocessing bounds and switch', () => {
  let small: PartyTrio, off: PartyTrio;
  beforeAll(async () => {
    small = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 2, maxBatch: 1, maxConcurrentRuns: 1 }, preprocess: { maxBytes: 1000 } });
    off = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 2, maxBatch: 1, maxConcurrentRuns: 1 }, preprocess: { enabled: false } });
  });
  afterAll(async () => { await small?.close(); await off?.close(); });

  it('a bundle over maxBytes is refused by P2 once and not asked for again; runs stay live and correct', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await infer(small, 10 + i);
      expect(r.err).toBeLessThan(1e-3);
      expect(r.runs[0]!.preprocessed).toBe(false);
      await until(() => !small.servers[0].party.prepInFlight, 'the prep to end');
    }
    expect(await metric(small, 0, /^mpc_prep_total\{result="failed"\} (\d+)$/m)).toBe(1);
    expect(small.servers[2].party.prepHeld!.count).toBe(0);
  });

  it('enabled: false: no bundle, no prep request', async () => {
    for (let i = 0; i < 3; i++) expect((await infer(off, 20 + i)).runs[0]!.preprocessed).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(ready(off)).toBe(0);
    expect(await metric(off, 0, /^mpc_prep_total\{result="\w+"\} (\d+)$/m)).toBeNaN();
  });
});
