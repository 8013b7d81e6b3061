/**
 * Abandoned malicious sessions must not hold the party's session slots (batch.maxConcurrentRuns, default 2) until
 * the client's deadline (the SDK's default 120 s; up to sessions.maxDeadlineMs, which a client may ask for): with
 * two clients that stopped after their mask request reached one party, or after the mask step at the three, every
 * other client was refused (E_OVERLOADED) for that whole deadline (s42 probe). Now (parties/malicious-desk.ts):
 * the set-up waits at most malicious.clientWaitMs for the other two parties' hellos (the client's other mask
 * requests), and a set-up run at most that long for its input; beyond, E_TIMEOUT, told to the peers (mal-drop), so a
 * run that has its input at the other two parties ends there at once too.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { internals } from './testing/h2-link.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';
import { F, type Three, tiny, bytesOf, mask, input, until } from './testing/malicious-http.js';

const x = Float64Array.from([0.25, -1, 2, 0.5]);

/** One honest prediction (deadline 30 s); its outputs when the three mask steps answer 200, else the codes. */
async function honest(t: PartyTrio): Promise<{ codes: string[]; y?: Float64Array }> {
  const id = randomUUID();
  const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 30_000)));
  if (m.some((r) => r.statusCode !== 200)) return { codes: m.map((r) => (r.statusCode === 200 ? 'ok' : String(r.json<{ code: string }>().code))) };
  const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
  const out = await Promise.all([0, 1, 2].map((p) => input(t, p, id, d)));
  if (out.some((r) => r.statusCode !== 200)) return { codes: out.map((r) => (r.statusCode === 200 ? 'ok' : String(r.json<{ code: string }>().code))) };
  return { codes: ['ok', 'ok', 'ok'], y: decode(reconstructOutput(out.map(bytesOf) as Three, 2), F) };
}

describe('malicious serving: abandoned sessions do not hold the slots until their deadline', () => {
  it('two clients that stopped (one after its mask request reached P0 only, one after the mask step at the three) hold P0\'s two slots for malicious.clientWaitMs, not their 50 s deadline; then an honest session is served and right', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, malicious: { poolInferences: 0, clientWaitMs: 1_500 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      // Client A: its mask request reached P0 only (it vanished before sending the others).
      const a = randomUUID();
      const t0 = Date.now();
      const halfA = mask(t, 0, a, 50_000);
      // Client B: the mask step at the three, then no input.
      const b = randomUUID();
      expect((await Promise.all([0, 1, 2].map((p) => mask(t, p, b, 50_000)))).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect(await until(() => t.servers[0]!.party.malDesk.settingUp === 1 || t.servers[0]!.party.malDesk.open === 2, 5_000)).toBe(true);
      // Both of P0's slots are taken now: the next client is refused.
      const refused = await honest(t);
      expect(refused.codes).toContain('E_OVERLOADED');
      // A's set-up ends after clientWaitMs (E_TIMEOUT, coded), long before its deadline.
      const ra = await halfA;
      expect(ra.statusCode).toBe(408);
      expect(ra.json()).toMatchObject({ code: 'E_TIMEOUT', party: 0, step: 'mal.hello' });
      // B's run ends at the three after clientWaitMs without its input; its late input is an unknown session.
      expect(await until(() => t.servers.every((s) => s.party.malDesk.open + s.party.malDesk.settingUp === 0), 10_000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(20_000);
      // Its late input: why it ended (its wait ran out there, or a peer's did and told it), not E_NOT_FOUND.
      const late = await input(t, 1, b, new Uint8Array(16 * 4));
      expect(['E_TIMEOUT', 'E_PEER_UNAVAILABLE']).toContain(late.json<{ code: string }>().code);
      // The next honest client is served, right.
      const ok = await honest(t);
      expect(ok.codes).toEqual(['ok', 'ok', 'ok']);
      expect(Math.abs(ok.y![0]! - 2.75)).toBeLessThan(1e-3);
      expect(Math.abs(ok.y![1]! - -0.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a client that sent its input to P0 and P1 only: P2 drops the run after clientWaitMs and tells them, so their runs in flight end at once (E_PEER_UNAVAILABLE naming P2), not at the 50 s deadline; the next session is right', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, malicious: { poolInferences: 0, clientWaitMs: 1_500 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const id = randomUUID();
      const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 50_000)));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
      const t0 = Date.now();
      const two = await Promise.all([0, 1].map((p) => input(t, p, id, d)));
      expect(Date.now() - t0).toBeLessThan(20_000);
      for (const r of two) expect(r.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 2 });
      for (const s of t.servers) expect(s.party.malDesk.open + s.party.malDesk.settingUp).toBe(0);
      // P2's late input: its wait ran out there.
      expect((await input(t, 2, id, d)).json()).toMatchObject({ code: 'E_TIMEOUT', step: 'mal.input' });
      const ok = await honest(t);
      expect(ok.codes).toEqual(['ok', 'ok', 'ok']);
      expect(Math.abs(ok.y![0]! - 2.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a client that waits 2 s between its mask and input, under the default clientWaitMs (30 s), is served (the wait counts until its input has arrived: a slow upload counts against it)', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      expect(t.servers[0]!.party.opts.malicious?.clientWaitMs).toBe(30_000);
      const id = randomUUID();
      const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 50_000)));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      await new Promise((r) => setTimeout(r, 2_000));
      const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
      const out = await Promise.all([0, 1, 2].map((p) => input(t, p, id, d)));
      expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a party that dies while a session waits for its input: the other two end that run when the link drops (its view is closed), not at clientWaitMs or the deadline', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const id = randomUUID();
      expect((await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 50_000)))).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(1);
      const t0 = Date.now();
      t.servers[1]!.kill();
      // Well before clientWaitMs (30 s, the default here): P0 and P2 hold no slot for it.
      expect(await until(() => [0, 2].every((p) => t.servers[p]!.party.malDesk.open === 0), 10_000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const late = await input(t, 0, id, new Uint8Array(16 * 4));
      expect(late.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 1 });
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('malicious serving: the clientWaitMs timers and the slots, sessions ending in every way', () => {
  it('ok, no input, a mask request at P0 only, the input at two parties only, another d at one party, a refusal at one party (bad batch), eighteen at once: each ends with its code, every clientWaitMs timer is cleared or has fired, no slot is held, and the next session is right', async () => {
    const WAIT = 1_237; // a delay no other timer uses: the timers of the desk's clientWaitMs are the ones with it
    const pending = new Set<unknown>();
    let fired = 0;
    const realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
    globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...a: unknown[]) => {
      if (ms !== WAIT) return realSet(fn, ms, ...a);
      const h: NodeJS.Timeout = realSet(() => { pending.delete(h); fired++; fn(...a); }, ms);
      pending.add(h);
      return h;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((h?: NodeJS.Timeout | string | number) => { pending.delete(h); realClear(h); }) as typeof clearTimeout;
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 24, maxBatch: 2 }, malicious: { poolInferences: 1, clientWaitMs: WAIT }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const codeOf = (r: { statusCode: number; json: () => unknown }) => (r.statusCode === 200 ? 'ok' : String((r.json() as { code: string }).code));
      const masks = (id: string, ps: number[], batch = (_p: number) => 1) => Promise.all(ps.map((p) => t.servers[p]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?deadlineMs=50000&batch=${batch(p)}`, headers: auth })));
      const kinds: Record<string, () => Promise<string[]>> = {
        ok: async () => (await honest(t)).codes,
        noInput: async () => {
          const id = randomUUID();
          const m = await masks(id, [0, 1, 2]);
          expect(m.map(codeOf)).toEqual(['ok', 'ok', 'ok']);
          await until(() => t.servers.every((s) => s.party.malDesk.open === 0), 10_000);
          await new Promise((r) => setTimeout(r, 2 * WAIT));
          return Promise.all([0, 1, 2].map(async (p) => codeOf(await input(t, p, id, new Uint8Array(16 * 4)))));
        },
        p0Only: async () => (await masks(randomUUID(), [0])).map(codeOf),
        twoInputs: async () => {
          const id = randomUUID();
          const m = await masks(id, [0, 1, 2]);
          const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
          return (await Promise.all([0, 1].map((p) => input(t, p, id, d)))).map(codeOf);
        },
        otherD: async () => {
          const id = randomUUID();
          const m = await masks(id, [0, 1, 2]);
          const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
          const d1 = d.slice();
          d1[3]! ^= 4;
          return (await Promise.all([0, 1, 2].map((p) => input(t, p, id, p === 1 ? d1 : d)))).map(codeOf);
        },
        refusedAtP1: async () => (await masks(randomUUID(), [0, 1, 2], (p) => (p === 1 ? 3 : 1))).map(codeOf),
      };
      const want: Record<string, (c: string[]) => void> = {
        ok: (c) => expect(c).toEqual(['ok', 'ok', 'ok']),
        noInput: (c) => { for (const x of c) expect(['E_TIMEOUT', 'E_PEER_UNAVAILABLE']).toContain(x); },
        p0Only: (c) => expect(c).toEqual(['E_TIMEOUT']),
        twoInputs: (c) => expect(c).toEqual(['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE']),
        otherD: (c) => expect(c).toEqual(['E_SESSION_BINDING', 'E_SESSION_BINDING', 'E_SESSION_BINDING']),
        refusedAtP1: (c) => { expect(c[1]).toBe('E_BAD_ARGUMENT'); expect(c[0]).toBe('E_PEER_UNAVAILABLE'); expect(c[2]).toBe('E_PEER_UNAVAILABLE'); },
      };
      const names = [...Object.keys(kinds), ...Object.keys(kinds), ...Object.keys(kinds)];
      const got = await Promise.all(names.map((k) => kinds[k]!()));
      names.forEach((k, i) => want[k]!(got[i]!));
      await until(() => pending.size === 0 && t.servers.every((s) => s.party.malDesk.open + s.party.malDesk.settingUp === 0), 10_000);
      // Every timer was cleared when its session ended, or fired (no input, the hellos, the input at P2): none left to fire later.
      expect(pending.size).toBe(0);
      // Fired: at most each no-input session's idle timer at the three (the first one tells the others, whose timers may
      // fire first), the hello timer of each P0-only session, P2's idle timer of each two-input session; at least one each.
      expect(fired).toBeGreaterThanOrEqual(3 + 3 + 3);
      expect(fired).toBeLessThanOrEqual(3 * 3 + 3 + 3);
      for (const s of t.servers) expect(s.party.malDesk.open + s.party.malDesk.settingUp).toBe(0);
      const ok = await honest(t);
      expect(ok.codes).toEqual(['ok', 'ok', 'ok']);
      expect(Math.abs(ok.y![0]! - 2.75)).toBeLessThan(1e-3);
      expect(pending.size).toBe(0);
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
      await t.close();
    }
  }, 120_000);
});

describe('malicious serving: a link that drops while a session waits for its input', () => {
  it('the P0-P1 data link drops: P0 and P1 end the runs (peerDown) and P2, whose links stayed up, ends them too at once (one waiting for its input, one in it) (not at clientWaitMs, 30 s here, nor its 50 s deadline); the link comes back and serves a new session, right', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      // Session a: set up at the three, no input yet. Session b: its input at P0 and P2 (both wait in it for P1's).
      const [a, b] = [randomUUID(), randomUUID()];
      const ma = await Promise.all([0, 1, 2].map((p) => mask(t, p, a, 50_000)));
      const mb = await Promise.all([0, 1, 2].map((p) => mask(t, p, b, 50_000)));
      expect([...ma, ...mb].map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
      const db = maskedInput(encode(x, F), mb.map(bytesOf) as Three);
      const inB = [0, 2].map((p) => input(t, p, b, db));
      expect(await until(() => [0, 2].every((p) => t.servers[p]!.party.malDesk.settingUp === 0 && t.servers[p]!.party.malDesk.open === 2), 5_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      internals(t.servers[1]!.party.mesh).links[0]!.dataSession!.destroy();
      expect(await until(() => [0, 1].every((p) => t.servers[p]!.party.malDesk.open === 0), 5_000)).toBe(true);
      // P2 holds no slot for runs that can never run: a (its input at P2 would wait for P0 and P1 until the deadline)
      // and b (its input at P2 waits for P1's digest); both end there at once.
      expect(await until(() => t.servers[2]!.party.malDesk.open === 0, 5_000)).toBe(true);
      const outB = await Promise.all(inB);
      expect(Date.now() - t0).toBeLessThan(10_000);
      for (const r of outB) expect(r.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE' });
      const da = maskedInput(encode(x, F), ma.map(bytesOf) as Three);
      for (const p of [0, 1, 2]) expect((await input(t, p, a, da)).json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE' });
      // The link comes back; a new session on it is right.
      expect(await until(() => t.servers.every((s) => s.party.mesh.allUp()), 10_000)).toBe(true);
      const ok = await honest(t);
      expect(ok.codes).toEqual(['ok', 'ok', 'ok']);
      expect(Math.abs(ok.y![0]! - 2.75)).toBeLessThan(1e-3);
      expect(Math.abs(ok.y![1]! - -0.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('malicious serving: an input that comes after clientWaitMs', () => {
  it('is answered with why its session ended (E_TIMEOUT at a party whose wait ran out, else E_PEER_UNAVAILABLE naming the party that told it), not E_NOT_FOUND; another caller still gets E_NOT_FOUND', async () => {
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0, clientWaitMs: 500 }, sessions: { maxDeadlineMs: 60_000 } });
    try {
      const id = randomUUID();
      const m = await Promise.all([0, 1, 2].map((p) => mask(t, p, id, 50_000)));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
      expect(await until(() => t.servers.every((s) => s.party.malDesk.open === 0), 5_000)).toBe(true);
      // Another caller (another session key) learns nothing of it.
      const other = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'x-session-key': 'another-session-key-0123456789abcdefghijklm', 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) });
      expect(other.json()).toMatchObject({ code: 'E_NOT_FOUND' });
      const late = (await Promise.all([0, 1, 2].map((p) => input(t, p, id, d)))).map((r) => r.json<{ code: string; step?: string }>());
      for (const r of late) expect(['E_TIMEOUT', 'E_PEER_UNAVAILABLE']).toContain(r.code);
      expect(late.some((r) => r.code === 'E_TIMEOUT' && r.step === 'mal.input')).toBe(true);
      // Once: a second try is an unknown session.
      expect((await input(t, 0, id, d)).json()).toMatchObject({ code: 'E_NOT_FOUND' });
    } finally {
      await t.close();
    }
  }, 60_000);
});
