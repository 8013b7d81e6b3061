import { afterEach, describe, expect, it } from 'vitest';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const input = (seed: number): Float64Array => uniform(seededPrg(seed), 784, 1).map((v) => (v + 1) / 2);

const readyz = async (t: PartyTrio, p: 0 | 1 | 2) => {
  const r = await t.servers[p].app.inject({ method: 'GET', url: '/readyz' });
  return { status: r.statusCode, body: r.json() as { ready: boolean; code?: string; message?: string; warmup: { state: string; runs: number; ms: number; stop?: string; cut?: boolean; code?: string } } };
};

/** Poll until `ok` holds for the three /readyz answers (or fail after ms). */
async function until(t: PartyTrio, ok: (r: Awaited<ReturnType<typeof readyz>>[]) => boolean, ms: number): Promise<Awaited<ReturnType<typeof readyz>>[]> {
  const end = Date.now() + ms;
  for (;;) {
    const rs = await Promise.all(([0, 1, 2] as const).map((p) => readyz(t, p)));
    if (ok(rs)) return rs;
    if (Date.now() > end) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(rs.map((r) => r.body))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('start-up warm-up (parties/warmup.ts)', () => {
  let t: PartyTrio | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('/readyz says 503 E_NOT_READY "warming up" while the three run the warm-up, 200 after; client runs, sessions and metrics are untouched', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 40, maxMs: 60_000 } });
    const early = await readyz(t, 0);
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({ ready: false, code: 'E_NOT_READY', message: 'warming up', warmup: { state: 'running' } });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 60_000);
    for (const r of rs) expect(r.body.warmup).toMatchObject({ state: 'done', runs: 40 });
    expect(rs[0]!.body.warmup.stop).toBe('runs');
    // After the round P0 asks for a bundle of the warmed shape (batch 1, default policy) through the offline phase, with fresh seeds.
    const end = Date.now() + 30_000;
    while (t.servers[0].party.prepInFlight || t.servers[0].party.prepPool!.readyCount === 0) {
      if (Date.now() > end) throw new Error('no bundle prepared after the warm-up');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of t.servers) {
      // No client run or session came out of it; the kept weight masks were built (the first client run only uses them).
      expect(s.party.runLog).toHaveLength(0);
      expect(s.party.store.activeCount).toBe(0);
      expect(s.party.prepPool?.readyCount ?? s.party.prepHeld?.count).toBe(1);
      expect(s.party.weightMasks.info?.ready).toBe(true);
      // A follower may end its last run a moment after P0's `warmup-end` (it lets it finish).
      let metrics = '';
      for (let i = 0; i < 250 && !/^mpc_warmup_runs_total 40$/m.test(metrics); i++) { metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body; await new Promise((r) => setTimeout(r, 20)); }
      expect(metrics).toMatch(/^mpc_warmup_runs_total 40$/m);
      expect(metrics).toMatch(/^mpc_warmup_state\{state="done"\} 1$/m);
      expect(metrics).not.toMatch(/^mpc_runs_total\{/m);
      expect(metrics).not.toMatch(/^mpc_inferences_total [1-9]/m);
    }
    // A client prediction afterwards: correct, one run, a 'use' run of the masks the warm-up built (no F = W − B opened: fewer bytes than a build run).
    const x = input(5);
    const out = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(out.ok).toBe(true);
    const want = plainForward(model, x, 1).data;
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(out.logits!, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-3);
    expect(t.servers[0].party.runLog).toHaveLength(1);
    // The first client run took the bundle prepared after the warm-up.
    for (const s of t.servers) expect(s.party.runLog[0]).toMatchObject({ ok: true, preprocessed: true });
    // 784·128 + 128·128 + 128·10 weights: a build run would open 16 bytes more per weight.
    expect(t.servers.reduce((a, s) => a + s.party.runLog[0]!.bytesSent, 0)).toBeLessThan(16 * 784 * 128);
  }, 120_000);

  it('a round of one run (the build run of the kept weight masks): every party keeps the masks, and the first client run uses them', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, maxMs: 60_000 } });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', runs: 1, stop: 'runs' });
    // Followers finish their part of the build run even when P0's `warmup-end` comes first (a lost F or B would fail the next run).
    const end = Date.now() + 10_000;
    while (!t.servers.every((s) => s.party.weightMasks.info?.ready)) {
      if (Date.now() > end) throw new Error(`masks not kept: ${JSON.stringify(t.servers.map((s) => s.party.weightMasks.info))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const out = await finishSession(t, await startSession(t, input(10), 1, F), F);
    expect(out.ok).toBe(true);
    for (const s of t.servers) expect(s.party.runLog[0]).toMatchObject({ ok: true });
    expect(t.servers.reduce((a, s) => a + s.party.runLog[0]!.bytesSent, 0)).toBeLessThan(16 * 784 * 128);
  }, 60_000);

  it('client work first: a session queued at P0 ends the warm-up round early (stop "client") and is served', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 100_000, maxMs: 60_000 } });
    await until(t, (r) => r[0]!.body.warmup.runs >= 2, 30_000);
    const x = input(6);
    const out = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(out.ok).toBe(true);
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', stop: 'client' });
    expect(rs[0]!.body.warmup.runs).toBeLessThan(100_000);
  }, 120_000);

  it('the budget ends the round as done (stop "budget"), not failed; the kept masks stay valid', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 100_000, maxMs: 600 } });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', stop: 'budget' });
    expect(rs[0]!.body.warmup.runs).toBeGreaterThan(0);
    expect(rs[0]!.body.warmup.ms).toBeLessThan(600 + 500);
    for (const r of rs) expect(r.body.warmup.code).toBeUndefined();
    for (const s of t.servers) expect(s.party.weightMasks.info?.ready).toBe(true);
    const out = await finishSession(t, await startSession(t, input(8), 1, F), F);
    expect(out.ok).toBe(true);
  }, 60_000);

  it('a client session cuts a warm-up run in flight (seed CNN, runs of ~0.1–0.5 s): the round is done, not failed, and the session is served', async () => {
    const cnn = seedCnn('maxpool2d');
    t = await partyTrio({ plain: cnn, fracBits: 13, warmup: { runs: 100_000, maxMs: 60_000 } });
    await until(t, (r) => r[0]!.body.warmup.runs >= 3, 60_000);
    const x = uniform(seededPrg(9), 150 * 125, 1).map((v) => (v + 1) / 2);
    const out = await finishSession(t, await startSession(t, x, 1, 13), 13);
    expect(out.ok).toBe(true);
    const want = plainForward(cnn, x, 1).data;
    expect(Math.max(...Array.from(out.logits!, (g, i) => Math.abs(g - want[i]!)))).toBeLessThan(0.05);
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', stop: 'client', cut: true });
    for (const r of rs) expect(r.body.warmup.code).toBeUndefined();
    for (const s of t.servers) expect(s.party.weightMasks.info?.ready).toBe(true);
  }, 120_000);

  it('a peer lost during the warm-up is reported at once, not waited out: P0 waits again with the cause, P1 reports the round failed', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 100_000, maxMs: 60_000 } });
    await until(t, (r) => r[0]!.body.warmup.runs >= 2, 30_000);
    const t0 = Date.now();
    t.servers[2].kill();
    const [r0, r1] = await Promise.all([0, 1].map(async (p) => {
      for (;;) {
        const r = await readyz(t!, p as 0 | 1);
        if (r.body.warmup.code) return r;
        await new Promise((res) => setTimeout(res, 20));
      }
    }));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r0!.status).toBe(503);
    expect(r0!.body.warmup).toMatchObject({ state: 'waiting', code: 'E_PEER_UNAVAILABLE' });
    expect(r1!.status).toBe(503);
    expect(r1!.body.warmup).toMatchObject({ state: 'failed', code: 'E_PEER_UNAVAILABLE' });
  }, 60_000);

  it('a follower that joins after the run budget but within JOIN_GRACE_MS (slow link, model still loading) still gets its runs: the budget counts from both acks', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 3, maxMs: 800 } });
    await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    // P2 answers P0's next `warmup` 1.2 s late (longer than the 0.8 s budget), as a follower whose own link comes up late.
    const w2 = t.servers[2].party.warmup;
    const orig = w2.onControl.bind(w2);
    const timers: NodeJS.Timeout[] = [];
    w2.onControl = (from, type, body) => { if (type === 'warmup') timers.push(setTimeout(() => orig(from, type, body), 1_200)); else orig(from, type, body); };
    try {
      t.servers[0].party.warmup.peerChanged(2, true);
      expect((await readyz(t, 0)).body.warmup.state).toBe('running');
      const rs = await until(t, (r) => r.every((x) => x.body.warmup.state !== 'running' && x.body.warmup.state !== 'waiting'), 20_000);
      expect(rs[0]!.body.warmup.code).toBeUndefined();
      expect(rs[0]!.body.warmup).toMatchObject({ state: 'done' });
      expect(rs[0]!.body.warmup.runs).toBeGreaterThan(0);
      for (const r of rs) expect(r.body.warmup.state).toBe('done');
    } finally {
      for (const x of timers) clearTimeout(x);
    }
  }, 60_000);

  it('a follower that acked first does not give up on P0 while P0 still runs the budget counted from the later ack (P2 joins > FOLLOW_GRACE_MS after P1)', async () => {
    // P1 acks at once, P2 6 s later (within max(maxMs, JOIN_GRACE_MS) = 7 s): P0's budget runs from P2's ack to ~13 s,
    // past P1's maxMs + FOLLOW_GRACE_MS = 12 s counted from P1's own ack. P1 must wait for P0's end, not fail the round.
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1_000_000, maxMs: 7_000 } });
    await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    const w2 = t.servers[2].party.warmup;
    const orig = w2.onControl.bind(w2);
    const timers: NodeJS.Timeout[] = [];
    w2.onControl = (from, type, body) => { if (type === 'warmup') timers.push(setTimeout(() => orig(from, type, body), 6_000)); else orig(from, type, body); };
    try {
      t.servers[0].party.warmup.peerChanged(2, true);
      const rs = await until(t, (r) => r.every((x) => x.body.warmup.state !== 'running' && x.body.warmup.state !== 'waiting'), 40_000);
      expect(rs.map((r) => r.body.warmup.code)).toEqual([undefined, undefined, undefined]);
      expect(rs.map((r) => r.body.warmup.state)).toEqual(['done', 'done', 'done']);
      expect(rs[0]!.body.warmup.stop).toBe('budget');
    } finally {
      for (const x of timers) clearTimeout(x);
    }
  }, 90_000);

  it('a peer that never joins (e.g. a build without warm-up) fails the round after max(budget, JOIN_GRACE_MS): reported, and the parties serve', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 5, maxMs: 1_500 } });
    await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    // From now on P2 ignores every warm-up message, as a build without warm-up does; P0 starts a round as when a link comes up again.
    t.servers[2].party.warmup.onControl = () => {};
    const t0 = Date.now();
    t.servers[0].party.warmup.peerChanged(2, true);
    expect((await readyz(t, 0)).body.warmup.state).toBe('running');
    const rs = await until(t, (r) => r[0]!.body.warmup.state !== 'running' && r[1]!.body.warmup.state !== 'running', 20_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'failed', code: 'E_PEER_UNAVAILABLE', runs: 0 });
    expect(rs[1]!.body.warmup).toMatchObject({ state: 'failed', code: 'E_PEER_UNAVAILABLE' });
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    const out = await finishSession(t, await startSession(t, input(7), 1, F), F);
    expect(out.ok).toBe(true);
  }, 60_000);
});
