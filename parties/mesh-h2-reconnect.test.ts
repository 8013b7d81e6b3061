/**
 * (d) of the h2 data link's review (mesh-h2-security.test.ts has a-c, e):
 * three in-process parties on the default link (h2, mTLS, real sockets), the
 * P0<->P1 data connection cut in the middle of a run. The session fails with
 * a coded error at all three parties (P2 hears it from the others' abort),
 * nothing stays open, and the next session, on the new data link, is right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { internals, until } from './testing/h2-link.js';
import { finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const input = (seed: number): Float64Array => uniform(seededPrg(seed), 784, 1).map((v) => (v + 1) / 2);

describe('(d) a data link that drops mid-run (three parties, default link h2)', () => {
  let t: PartyTrio;
  let cut = false;
  let armed = false;
  beforeAll(async () => {
    t = await partyTrio({
      plain: model, fracBits: F, batch: { windowMs: 0, maxBatch: 1 },
      // At P0's first layer of the armed run: cut P1's data connection to P0 (the gRPC stream stays).
      onNode: (p, _run, _name, index) => { if (armed && p === 0 && index === 0 && !cut) { cut = true; internals(t.servers[1].party.mesh).links[0]!.dataSession!.destroy(); } },
    });
  });
  afterAll(async () => { await t?.close(); });

  it('the links are on h2 (the default)', () => {
    for (const [p, q] of [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]] as const) expect(t.servers[p].party.mesh.health[q]!.carrier, `P${p}->P${q}`).toBe('h2');
  });

  it('fails the session with E_PEER_UNAVAILABLE at P0 and P1 and fails it at P2; nothing stays open; the next session is right', async () => {
    armed = true;
    const t0 = Date.now();
    const id = await startSession(t, input(1), 1, F);
    const out = await finishSession(t, id, F);
    expect(cut).toBe(true);
    expect(out).toMatchObject({ ok: false, status: [503, 503], codes: ['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE'] });
    expect(Date.now() - t0).toBeLessThan(10_000);
    // P2 had no link down: it fails the run on the others' abort, with a coded error, well before the deadline.
    expect(await until(() => t.servers[2].party.store.get(id)?.state === 'failed', 5_000)).toBe(true);
    expect(t.servers[2].party.store.get(id)?.error?.code).toMatch(/^E_/);
    expect(await until(() => t.servers.every((s) => s.party.activeRuns === 0 && s.party.mesh.openSessions === 0), 5_000)).toBe(true);
    // The pair links again on a new data link, and the next session is right.
    expect(await until(() => t.servers.every((s) => s.party.mesh.allUp()), 5_000)).toBe(true);
    expect(t.servers[0].party.mesh.health[1]!.ups).toBe(2);
    expect(t.servers[0].party.mesh.health[1]!.carrier).toBe('h2');
    const x = input(2);
    const again = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(again.ok).toBe(true);
    const want = plainForward(model, x, 1).data;
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(again.logits!, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-3);
  });
});
