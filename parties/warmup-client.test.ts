import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MpcError } from '../protocol/errors.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { auth, finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';
import { WarmupClientPath } from './warmup-client.js';

const F = 16;
const model = networkA();
const input = (seed: number): Float64Array => uniform(seededPrg(seed), 784, 1).map((v) => (v + 1) / 2);
type Warm = { state: string; runs: number; clientRuns?: number; ms: number; stop?: string; cut?: boolean; code?: string };

const readyz = async (t: PartyTrio, p: 0 | 1 | 2) => {
  const r = await t.servers[p].app.inject({ method: 'GET', url: '/readyz' });
  return { status: r.statusCode, body: r.json() as { ready: boolean; warmup: Warm } };
};
async function until(t: PartyTrio, ok: (r: Awaited<ReturnType<typeof readyz>>[]) => boolean, ms: number): Promise<Awaited<ReturnType<typeof readyz>>[]> {
  const end = Date.now() + ms;
  for (;;) {
    const rs = await Promise.all(([0, 1, 2] as const).map((p) => readyz(t, p)));
    if (ok(rs)) return rs;
    if (Date.now() > end) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(rs.map((r) => r.body))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const metricsOf = async (t: PartyTrio, p: 0 | 1 | 2): Promise<string> => (await t.servers[p].app.inject({ method: 'GET', url: '/metrics' })).body;

describe('start-up warm-up through the client path (parties/warmup-client.ts)', () => {
  let t: PartyTrio | undefined;
  afterEach(async () => { vi.restoreAllMocks(); await t?.close(); t = undefined; });

  it('predictions on dummy data through each party\'s twin of its client side: served by the twin, none of the real client state touched', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'securenn-warm-client-'));
    const twins: WarmupClientPath[] = [];
    const orig = WarmupClientPath.prototype.request;
    vi.spyOn(WarmupClientPath.prototype, 'request').mockImplementation(function (this: WarmupClientPath, ...a) { if (!twins.includes(this)) twins.push(this); return orig.apply(this, a); });
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 3, clientRuns: 12, maxMs: 60_000 }, sessions: { idJournal: path.join(dir, 'ids-p{party}.log') } });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 60_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', runs: 3, clientRuns: 12, stop: 'runs' });
    for (const r of rs) expect(r.body.warmup.code).toBeUndefined();
    // The followers answered their own requests of the 12 predictions (P1 may answer its last a moment after P0's end).
    await until(t, (r) => r[1]!.body.warmup.clientRuns === 12 && r[2]!.body.warmup.clientRuns === 12, 10_000);
    // One twin per party, each with 12 runs of its own (run records of the twin's executor, not of the party's).
    expect(twins).toHaveLength(3);
    for (const w of twins) expect(w.executor.runLog.filter((r) => r.ok)).toHaveLength(12);
    // The twins' offline phase made their own bundles: the 2nd prediction on was preprocessed from the twin's pool.
    expect(twins.find((w) => w.prep.pool)!.executor.runLog.filter((r) => r.preprocessed).length).toBeGreaterThan(0);
    for (const [p, s] of t.servers.entries()) {
      // No client session, run record, run metric or HTTP request of a session route at the real party.
      expect(s.party.runLog).toHaveLength(0);
      expect(s.party.store.activeCount).toBe(0);
      const m = await metricsOf(t, p as 0 | 1 | 2);
      expect(m).not.toMatch(/^mpc_runs_total\{/m);
      expect(m).not.toMatch(/^mpc_http_requests_total\{[^}]*route="\/v1\/sessions/m);
      expect(m).not.toMatch(/^mpc_inferences_total [1-9]/m);
      expect(m).toMatch(/^mpc_sessions_active 0$/m);
      // The id journal has no warm-up session id (the twin's store has no journal).
      const journal = path.join(dir, `ids-p${p}.log`);
      expect(existsSync(journal) ? readFileSync(journal, 'utf8') : '').toBe('');
      // The real pool holds only the bundle P0 asked for after the dummy runs (the twins' bundles are the twins').
      expect(s.party.prepPool?.readyCount ?? s.party.prepHeld?.count ?? 0).toBeLessThanOrEqual(1);
    }
    // The twins are closed after the round: their sessions gone, their control messages ignored.
    await new Promise((r) => setTimeout(r, 5_200));
    for (const w of twins) expect(w.store.activeCount).toBe(0);
    // A client prediction afterwards: correct, the first run of the real party, on the masks the warm-up built.
    const x = input(5);
    const out = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(out.ok).toBe(true);
    const want = plainForward(model, x, 1).data;
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(out.logits!, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-3);
    for (const s of t.servers) expect(s.party.runLog).toHaveLength(1);
    expect(t.servers.reduce((a, s) => a + s.party.runLog[0]!.bytesSent, 0)).toBeLessThan(16 * 784 * 128);
    const journal0 = readFileSync(path.join(dir, 'ids-p0.log'), 'utf8');
    expect(journal0.trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('a DP model: the twin charges its own in-memory accountant; the real accountant sees only the client\'s charge', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'securenn-warm-dp-'));
    const policy = { outputMode: 'logits' as const, dp: { mechanism: 'laplace' as const, epsilon: 1, sensitivity: 2 } };
    t = await partyTrio({ plain: model, fracBits: F, policy, privacy: { dir, budget: { epsilon: 1000, delta: 0 } }, warmup: { runs: 2, clientRuns: 8, maxMs: 60_000 } });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 60_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', clientRuns: 8 });
    for (const [p, s] of t.servers.entries()) {
      // The accountant's state file: no client, no spend from the warm-up.
      await s.party.accountant.flush();
      const file = path.join(dir, `privacy-accountant-p${p}.json`);
      const doc = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { clients?: unknown[] }) : { clients: [] };
      expect(doc.clients ?? []).toHaveLength(0);
    }
    await finishSession(t, await startSession(t, input(3), 1, F), F);
    const budget = await t.servers[0].app.inject({ method: 'GET', url: '/v1/privacy/budget', headers: auth });
    expect(budget.statusCode).toBe(200);
    expect((budget.json() as { queries: number; pendingQueries: number })).toMatchObject({ queries: 1, pendingQueries: 0 });
  }, 120_000);

  it('a failed prediction fails the round: logged, shown in /readyz at the three, and the parties serve', async () => {
    vi.spyOn(WarmupClientPath.prototype, 'request').mockRejectedValue(new MpcError('E_INTERNAL', 'test: the twin refuses'));
    const errors: unknown[] = [];
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 2, clientRuns: 5, maxMs: 60_000 }, logger: (p) => (p === 0 ? { level: 'error', stream: { write: (l: string) => { errors.push(JSON.parse(l)); } } } : false) });
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'failed', code: 'E_INTERNAL', runs: 2 });
    for (const r of rs.slice(1)) expect(r.body.warmup).toMatchObject({ state: 'failed', code: 'E_INTERNAL' });
    expect(errors.some((e) => (e as { msg?: string }).msg === 'warm-up failed; the party serves without it')).toBe(true);
    const out = await finishSession(t, await startSession(t, input(4), 1, F), F);
    expect(out.ok).toBe(true);
  }, 60_000);

  it('followers whose twin never answers do not hang the round: P0 cuts its prediction at the budget, the round is done, the next client run uses the kept masks', async () => {
    const orig = WarmupClientPath.prototype.request;
    let followers = 0;
    vi.spyOn(WarmupClientPath.prototype, 'request').mockImplementation(function (this: WarmupClientPath, ...a) {
      // P1's and P2's requests never reach their twins: P0's session waits for reports that never come.
      if ((this as unknown as { real: { party: number } }).real.party !== 0) { followers++; return new Promise<void>(() => {}); }
      return orig.apply(this, a);
    });
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 2, clientRuns: 5, maxMs: 1_500 } });
    const t0 = Date.now();
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(followers).toBeGreaterThan(0);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', runs: 2, stop: 'budget', cut: true });
    expect(rs[0]!.body.warmup.clientRuns ?? 0).toBe(0);
    for (const r of rs) expect(r.body.warmup.code).toBeUndefined();
    for (const s of t.servers) expect(s.party.weightMasks.info?.ready).toBe(true);
    const out = await finishSession(t, await startSession(t, input(6), 1, F), F);
    expect(out.ok).toBe(true);
    expect(t.servers.reduce((a, s) => a + s.party.runLog[0]!.bytesSent, 0)).toBeLessThan(16 * 784 * 128);
  }, 60_000);

  it('client work first: a client session during the client-path predictions ends the round (stop "client") and is served', async () => {
    t = await partyTrio({ plain: model, fracBits: F, warmup: { runs: 1, clientRuns: 100_000, maxMs: 60_000 } });
    await until(t, (r) => (r[0]!.body.warmup.clientRuns ?? 0) >= 2, 30_000);
    const x = input(8);
    const out = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(out.ok).toBe(true);
    const rs = await until(t, (r) => r.every((x) => x.status === 200), 30_000);
    expect(rs[0]!.body.warmup).toMatchObject({ state: 'done', stop: 'client' });
    expect(rs[0]!.body.warmup.clientRuns).toBeLessThan(100_000);
    for (const s of t.servers) expect(s.party.runLog.every((r) => r.ok)).toBe(true);
  }, 60_000);
});
