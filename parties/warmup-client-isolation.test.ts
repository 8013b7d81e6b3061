/**
 * The warm-up's client-path twin (parties/warmup-client.ts) seen from the real party: a client arriving while the
 * twin predicts is served at once and correctly, the kept weight masks and mesh sessions are consistent afterwards,
 * and `warmup-x:` / `warmup-client` control messages outside a round reach nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MpcError } from '../protocol/errors.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';
import { WarmupClientPath } from './warmup-client.js';

const F = 16;
const model = networkA();
const input = (seed: number): Float64Array => uniform(seededPrg(seed), 784, 1).map((v) => (v + 1) / 2);
const partyOf = (w: WarmupClientPath): number => (w as unknown as { real: { party: number } }).real.party;
type Warm = { state: string; runs: number; clientRuns?: number; stop?: string; cut?: boolean; code?: string };

async function until<T>(f: () => Promise<T> | T, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms (${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const warm = async (t: PartyTrio): Promise<{ ready: boolean; warmup: Warm }[]> =>
  Promise.all(t.servers.map(async (s) => (await s.app.inject({ method: 'GET', url: '/readyz' })).json() as { ready: boolean; warmup: Warm }));
/** Relative max error of a client prediction against the plaintext reference. */
async function predictErr(t: PartyTrio, seed: number): Promise<{ err: number; ms: number }> {
  const x = input(seed);
  const t0 = performance.now();
  const out = await finishSession(t, await startSession(t, x, 1, F), F);
  const ms = performance.now() - t0;
  expect(out).toMatchObject({ ok: true, codes: [] });
  const want = plainForward(model, x, 1).data;
  const scale = Math.max(...Array.from(want, Math.abs));
  return { err: Math.max(...Array.from(out.logits!, (g, i) => Math.abs(g - want[i]!))) / scale, ms };
}

describe('warm-up twin and the real client side', () => {
  let t: PartyTrio | undefined;
  afterEach(async () => { vi.restoreAllMocks(); await t?.close(); t = undefined; });

  it('a client during the twin\'s predictions: its twin runs cut at the three parties at once, the client answered correctly, masks and mesh sessions consistent afterwards', async () => {
    const twins: WarmupClientPath[] = [];
    const orig = WarmupClientPath.prototype.request;
    vi.spyOn(WarmupClientPath.prototype, 'request').mockImplementation(function (this: WarmupClientPath, ...a) { if (!twins.includes(this)) twins.push(this); return orig.apply(this, a); });
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, clientRuns: 100_000, maxMs: 60_000 } });
    const t1 = t;
    // The twins are predicting: a twin run in flight at P0.
    await until(() => warm(t1), (r) => (r[0]!.warmup.clientRuns ?? 0) >= 3, 40_000, 'twin predictions');
    await until(() => twins.find((w) => partyOf(w) === 0)?.executor.runs.size ?? 0, (n) => n > 0, 10_000, 'a twin run in flight at P0');
    const before = t.servers.map((s) => s.party.weightMasks.info);
    for (const b of before) expect(b).toMatchObject({ epoch: before[0]!.epoch, ready: true });
    const cutMs: number[] = [];
    const t0 = performance.now();
    const watch = setInterval(() => { if (cutMs.length === 0 && twins.every((w) => w.executor.runs.size === 0)) cutMs.push(performance.now() - t0); }, 2);
    const first = await predictErr(t, 8).finally(() => clearInterval(watch));
    expect(first.err).toBeLessThan(1e-3);
    // Every twin run (the three parties') ended well before the client's answer: cut, not finished by budget or runs.
    expect(cutMs).toHaveLength(1);
    expect(cutMs[0]!).toBeLessThan(first.ms);
    const rs = await until(() => warm(t1), (r) => r.every((x) => x.ready), 20_000, 'ready');
    expect(rs[0]!.warmup).toMatchObject({ state: 'done', stop: 'client' });
    for (const r of rs) expect(r.warmup.code).toBeUndefined();
    // The real parties: one client run each, no failed run; the same complete epoch of kept weight masks at the three.
    for (const s of t.servers) expect(s.party.runLog.map((r) => r.ok)).toEqual([true]);
    const epochs = t.servers.map((s) => s.party.weightMasks.info);
    // The cut 'use' runs (P0 spared them) left each party's store as it was: same epoch, same bytes.
    epochs.forEach((e, p) => expect(e).toEqual(before[p]));
    // The twins' mesh sessions are all closed (a follower closes its twin FOLLOW_GRACE_MS after P0's end).
    await until(() => t1.servers.map((s) => s.party.mesh.openSessions), (n) => n.every((x) => x === 0), 8_000, 'mesh sessions closed');
    for (const w of twins) expect(w.store.activeCount).toBe(0);
    // A second client prediction: correct, on the same kept masks (a 'use' run: no build traffic).
    const second = await predictErr(t, 9);
    expect(second.err).toBeLessThan(1e-3);
    for (const s of t.servers) expect(s.party.runLog.map((r) => r.ok)).toEqual([true, true]);
    for (const s of t.servers) expect(s.party.weightMasks.info?.epoch).toBe(epochs[0]!.epoch);
    process.stdout.write(`warm-up cut by a client (a twin run in flight cut: ${rs[0]!.warmup.cut === true}): twin runs ended after ${cutMs[0]!.toFixed(0)} ms; client prediction ${first.ms.toFixed(0)} ms (the next one ${second.ms.toFixed(0)} ms)\n`);
  }, 120_000);

  it('a twin run held in flight (P2\'s twin gets no plan) cut by a client: P0 spares the \'use\' run, so the three keep the same masks; the client is answered correctly', async () => {
    const twins: WarmupClientPath[] = [];
    const orig = WarmupClientPath.prototype.request;
    vi.spyOn(WarmupClientPath.prototype, 'request').mockImplementation(function (this: WarmupClientPath, ...a) { if (!twins.includes(this)) twins.push(this); return orig.apply(this, a); });
    let stall = false;
    const onCtl = WarmupClientPath.prototype.onControl;
    vi.spyOn(WarmupClientPath.prototype, 'onControl').mockImplementation(function (this: WarmupClientPath, from, type, body) { if (stall && type === 'plan' && partyOf(this) === 2) return; onCtl.call(this, from, type, body); });
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, clientRuns: 100_000, maxMs: 60_000 } });
    const t1 = t;
    await until(() => warm(t1), (r) => (r[0]!.warmup.clientRuns ?? 0) >= 2, 40_000, 'twin predictions');
    stall = true;
    // Past the run that may have been planned before: the run in flight at P0 now waits for P2 until it is cut.
    await new Promise((r) => setTimeout(r, 200));
    await until(() => twins.find((w) => partyOf(w) === 0)!.executor.runs.size, (n) => n > 0, 10_000, 'a twin run held at P0');
    const before = t.servers.map((s) => s.party.weightMasks.info);
    for (const b of before) expect(b).toMatchObject({ epoch: before[0]!.epoch, ready: true });
    const first = await predictErr(t, 11);
    expect(first.err).toBeLessThan(1e-3);
    const rs = await until(() => warm(t1), (r) => r.every((x) => x.ready), 20_000, 'ready');
    expect(rs[0]!.warmup).toMatchObject({ state: 'done', stop: 'client', cut: true });
    for (const s of t.servers) expect(s.party.runLog.map((r) => r.ok)).toEqual([true]);
    t.servers.forEach((s, p) => expect(s.party.weightMasks.info).toEqual(before[p]));
    await until(() => t1.servers.map((s) => s.party.mesh.openSessions), (n) => n.every((x) => x === 0), 8_000, 'mesh sessions closed');
    expect((await predictErr(t, 12)).err).toBeLessThan(1e-3);
    t.servers.forEach((s, p) => expect(s.party.weightMasks.info).toEqual(before[p]));
  }, 120_000);

  it('warmup-x: and warmup-client messages outside a round (a peer at any time) create no twin and open no mesh session', async () => {
    const made = vi.spyOn(WarmupClientPath.prototype, 'request');
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, clientRuns: 2, maxMs: 60_000 } });
    const t1 = t;
    await until(() => warm(t1), (r) => r.every((x) => x.ready), 40_000, 'ready');
    await until(() => t1.servers.map((s) => s.party.mesh.openSessions), (n) => n.every((x) => x === 0), 8_000, 'mesh sessions closed');
    const calls = made.mock.calls.length;
    const id = '00000000-0000-4000-8000-000000000001', runId = '00000000-0000-4000-8000-000000000002', sessionId = '00000000-0000-4000-8000-000000000003';
    const [p0, p1, p2] = t.servers.map((s) => s.party.mesh);
    // P0 (or a P0 of another build) after its round: a plan and a prediction request for the twins.
    for (const p of [1, 2] as const) {
      p0!.sendControl(p, 'warmup-x:plan', { runId, sessions: [{ sessionId, batch: 1 }], masks: null });
      p0!.sendControl(p, 'warmup-x:prep', { prepId: runId, key: 'k', seed: Buffer.alloc(16).toString('base64') });
      p0!.sendControl(p, 'warmup-client', { id, sessionId, key: 'k'.repeat(43), req: { sessionId, batch: 1, modelHash: t.modelHash } });
    }
    // A follower to P0 and to the other follower.
    p1!.sendControl(0, 'warmup-x:ready', { sessionId, batch: 1 });
    p1!.sendControl(2, 'warmup-x:defer', { runId });
    p2!.sendControl(0, 'warmup-x:prepared', { prepId: runId, ok: true, bytes: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(made.mock.calls.length).toBe(calls);
    for (const s of t.servers) {
      expect(s.party.mesh.openSessions).toBe(0);
      expect((s.party.warmup as unknown as { twin: unknown }).twin).toBeNull();
      expect(s.party.store.activeCount).toBe(0);
    }
    const r = await predictErr(t, 10);
    expect(r.err).toBeLessThan(1e-3);
  }, 90_000);
  it('a process fault (process-fault.ts) during the twin\'s predictions fails the twin\'s sessions at that party at once, as the real ones', async () => {
    const twins: WarmupClientPath[] = [];
    const orig = WarmupClientPath.prototype.request;
    vi.spyOn(WarmupClientPath.prototype, 'request').mockImplementation(function (this: WarmupClientPath, ...a) { if (!twins.includes(this)) twins.push(this); return orig.apply(this, a); });
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, clientRuns: 100_000, maxMs: 60_000 } });
    const t1 = t;
    await until(() => warm(t1), (r) => (r[0]!.warmup.clientRuns ?? 0) >= 2, 40_000, 'twin predictions');
    // At the moment P1's twin holds a session in flight, P1 faults.
    const active = await new Promise<number>((resolve) => {
      const iv = setInterval(() => {
        const w = twins.find((x) => partyOf(x) === 1);
        const n = w?.store.activeCount ?? 0;
        if (n === 0) return;
        clearInterval(iv);
        t1.servers[1].party.fault(new MpcError('E_PROCESS_FAULT', 'P1 met an internal fault (test) and is restarting; retry', { party: 1 }));
        resolve(w!.store.activeCount);
      }, 1);
    });
    expect(active).toBe(0);
    // Its twin's run in flight, interrupted, ends (asynchronously, as a real interrupted run does).
    await until(() => twins.find((x) => partyOf(x) === 1)!.executor.runs.size, (k) => k === 0, 2_000, 'P1 twin run ended');
    // P1 takes no twin prediction from then on, and its warm-up round is over.
    const n = twins.filter((x) => partyOf(x) === 1).length;
    await new Promise((r) => setTimeout(r, 200));
    expect(twins.filter((x) => partyOf(x) === 1)).toHaveLength(n);
    expect((await warm(t1))[1]!.warmup.state).not.toBe('running');
  }, 90_000);
});
