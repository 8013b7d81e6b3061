/**
 * A malicious session refused (or failed) at one party's mask step must not stay open at the other two until its
 * deadline (parties/malicious-desk.ts, control 'mal-drop'). Found by bench/reuse-probe.ts (malicious configuration):
 * each E_OVERLOADED at one party left the session set up at the other two, each holding one of its
 * batch.maxConcurrentRuns slots for the client's whole deadline (the SDK's default: 120 s) while waiting for the
 * refusing party's hello, so the refusals fed themselves, and a fresh client was refused for tens of seconds after
 * the load ended.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';
import { F, type Three, tiny, bytesOf, mask, until } from './testing/malicious-http.js';


describe('malicious serving: a mask step refused at one party', () => {
  it('the other two drop that session at once (E_PEER_UNAVAILABLE), not at its deadline, and their slot serves the next session', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 1 }, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      // P1's only slot: a session whose mask step reached P1 alone (its client stopped there), for 1.5 s.
      const half = mask(t, 1, randomUUID(), 1_500);
      expect(await until(() => t.servers[1]!.party.malDesk.settingUp === 1, 10_000)).toBe(true);
      // The next client's session, with a deadline of 30 s: P1 refuses it (its slot is taken).
      const id = randomUUID();
      const t0 = Date.now();
      const b = [0, 1, 2].map((p) => mask(t, p, id, 30_000));
      const refused = await b[1]!;
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'E_OVERLOADED' });
      // P0 and P2 end it too, long before its 30 s: a coded answer naming P1.
      const others = await Promise.all([b[0]!, b[2]!]);
      expect(Date.now() - t0).toBeLessThan(10_000);
      for (const r of others) expect(r.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 1 });
      for (const s of t.servers) expect(s.party.malDesk.settingUp + s.party.malDesk.open).toBeLessThanOrEqual(s === t.servers[1] ? 1 : 0);
      // Once the half-open session's deadline frees P1, a session runs at all three and is right.
      expect((await half).json()).toMatchObject({ code: 'E_DEADLINE' });
      const next = randomUUID();
      const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, next, 30_000)));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const x = Float64Array.from([0.25, -1, 2, 0.5]);
      const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
      const out = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${next}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
      expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const y = decode(reconstructOutput(out.map(bytesOf) as Three, 2), F);
      expect(Math.abs(y[0]! - 2.75)).toBeLessThan(1e-3);
      expect(Math.abs(y[1]! - -0.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a drop that arrives before the request: the party refuses the session at once; an E_CONFLICT (the id in use here) is not told to the peers', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const id = randomUUID();
      t.servers[0]!.party.malDesk.peerDropped(1, { sessionId: id });
      const r = await mask(t, 0, id, 30_000);
      expect(r.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 1 });
      // A session at all three, then a second mask step for its id at P0 alone: E_CONFLICT at P0, and the session
      // stays open at P1 and P2 (a caller that knows an id cannot end another client's session through it).
      const ok = randomUUID();
      expect((await Promise.all([0, 1, 2].map((p) => mask(t, p, ok, 30_000)))).map((x) => x.statusCode)).toEqual([200, 200, 200]);
      expect((await mask(t, 0, ok, 30_000)).json()).toMatchObject({ code: 'E_CONFLICT' });
      await new Promise((res) => setTimeout(res, 300));
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(1);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('the ids of early drops are bounded (10 000): the oldest is forgotten (its session runs), the newest still refused', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const first = randomUUID();
      for (const s of t.servers) s.party.malDesk.peerDropped(1, { sessionId: first });
      for (let i = 0; i < 10_000; i++) { const id = randomUUID(); for (const s of t.servers) s.party.malDesk.peerDropped(1, { sessionId: id }); }
      const last = randomUUID();
      t.servers[0]!.party.malDesk.peerDropped(2, { sessionId: last });
      expect((await Promise.all([0, 1, 2].map((p) => mask(t, p, first, 30_000)))).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect((await mask(t, 0, last, 30_000)).json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 2 });
      // Not an id: ignored (no throw, nothing remembered).
      for (const body of [null, 7, 'x', { sessionId: 'not-a-uuid' }, { sessionId: 5 }]) expect(() => t.servers[0]!.party.malDesk.peerDropped(1, body)).not.toThrow();
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a second mask step for a session in use, refused for its arguments (batch, deadline) and not E_CONFLICT, ends nothing at the other two: that session runs and is right', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const id = randomUUID();
      const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 30_000)));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      // Whoever knows the id (a second client, a replay) asks P0 for it again with a batch or a deadline P0 refuses.
      const bad = [
        await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?batch=0`, headers: auth }),
        await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?deadlineMs=600000`, headers: auth }),
      ];
      for (const r of bad) expect(r.statusCode).toBeGreaterThanOrEqual(400);
      await new Promise((res) => setTimeout(res, 300));
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(1);
      // The owner's input: answered by the three, right.
      const x = Float64Array.from([1, 0.5, -0.5, -2]);
      const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
      const out = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
      expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const y = decode(reconstructOutput(out.map(bytesOf) as Three, 2), F);
      expect(Math.abs(y[0]! - 1)).toBeLessThan(1e-3);
      expect(Math.abs(y[1]! - -1.75)).toBeLessThan(1e-3);
      // After its end: the id was used here, so a request for it is E_CONFLICT whatever its arguments (never told to the peers).
      expect((await t.servers[1]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?batch=0`, headers: auth })).json()).toMatchObject({ code: 'E_CONFLICT' });
    } finally {
      await t.close();
    }
  }, 60_000);
});
