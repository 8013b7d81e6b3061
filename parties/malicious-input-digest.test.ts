/**
 * A client that sends the parties different masked inputs d (or a d of the wrong length to one of them) is refused
 * before any computation, as the client's fault (E_SESSION_BINDING at every party), and the epoch is kept. Before
 * (s42 probe), the difference was caught inside the run as E_INTEGRITY, the code of a party that deviated: every party
 * logged a failed integrity check and dropped its epoch and mask pool (new MAC key and weight MACs for the next
 * session), so any client could force that at the three parties with every session, and frame them for it.
 * parties/malicious-desk.ts: the three compare a digest of their d (set-up messages) before step d; link setting
 * maliciousInputDigest (link-hello.ts): the step runs when the three announce it, so a party on a build before it still
 * links and serves (one organisation upgrades first), without the step.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { compareSettings } from './link-hello.js';
import { PeerMesh } from './mesh.js';
import { LinkMesh } from './mesh-links.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';
import { F, type Three, tiny, bytesOf } from './testing/malicious-http.js';

const x = encode(Float64Array.from([0.25, -1, 2, 0.5]), F);

describe('malicious serving: the client\'s d compared before the run', () => {
  let t: PartyTrio | undefined;
  afterAll(async () => { await t?.close(); });

  /** One session; d for party p is tweak(d, p). The codes (200 or the error code) and the outputs when all 200. */
  async function session(tweak: (d: Uint8Array, p: number) => Uint8Array) {
    const id = randomUUID();
    const m = await Promise.all(t!.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
    expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const d = maskedInput(x, m.map(bytesOf) as Three);
    const out = await Promise.all(t!.servers.map((s, p) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(tweak(d, p)) })));
    await Promise.all(t!.servers.map((s) => s.party.malDesk.epochs.settled()));
    return out;
  }
  const epochIds = () => t!.servers.map((s) => s.party.malDesk.epochs.epoch?.id ?? null);

  it('another d at one party, a short d at one party: E_SESSION_BINDING (409) at the three, nothing computed, the epoch kept; the same short d at the three: E_SHAPE, the epoch kept; then a session is right in that epoch', async () => {
    t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 1 } });
    expect((await session((d) => d)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const epoch = epochIds();
    expect(epoch[0]).not.toBeNull();
    const epochsMade = t.servers.map((s) => s.party.malDesk.epochs.stats.epochs);
    const cases: [string, (d: Uint8Array, p: number) => Uint8Array][] = [
      ['P0 gets another d', (d, p) => { if (p !== 0) return d; const e = d.slice(); e[0]! ^= 1; return e; }],
      ['P2 gets a short d', (d, p) => (p === 2 ? d.subarray(0, 16) : d)],
    ];
    for (const [, tweak] of cases) {
      const out = await session(tweak);
      expect(out.map((r) => r.statusCode)).toEqual([409, 409, 409]);
      for (const r of out) expect(r.json()).toMatchObject({ code: 'E_SESSION_BINDING', step: 'mal.input', message: expect.stringContaining('different inputs d') });
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
      expect(epochIds()).toEqual(epoch);
    }
    const short = await session((d) => d.subarray(0, 16));
    for (const r of short) expect(r.json()).toMatchObject({ code: 'E_SHAPE' });
    expect(epochIds()).toEqual(epoch);
    expect(t.servers.map((s) => s.party.malDesk.epochs.stats.epochs)).toEqual(epochsMade);
    const ok = await session((d) => d);
    expect(ok.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const y = decode(reconstructOutput(ok.map(bytesOf) as Three, 2), F);
    expect(Math.abs(y[0]! - 2.75)).toBeLessThan(1e-3);
    expect(Math.abs(y[1]! - -0.75)).toBeLessThan(1e-3);
    expect(t.servers.map((s) => s.party.malDesk.last?.epoch)).toEqual(epoch);
  }, 120_000);

  it('link setting maliciousInputDigest: a malicious party sends it; a peer without it (a build before the step) is not refused (negotiated: below)', () => {
    // The party's own wiring (party.ts's HELLO settings, read through the mesh's private accessor).
    const mine = (p: number) => (t!.servers[p]!.party.mesh as unknown as { mySettings(): Record<string, unknown> }).mySettings();
    for (const p of [0, 1, 2]) expect(mine(p)).toMatchObject({ security: 'malicious', maliciousInputDigest: true });
    const base = { security: 'malicious' as const, compareBits: 32 as const, compareRadix: 4 as const };
    expect(compareSettings(0, { ...base, maliciousInputDigest: true }, 1, base)).toEqual({ must: [], should: [] });
    for (const p of [0, 1, 2]) for (const q of [0, 1, 2]) expect(t!.servers[p]!.party.mesh.settingsOf(q as 0 | 1 | 2)?.maliciousInputDigest).toBe(true);
    expect(compareSettings(0, { ...base, maliciousInputDigest: true }, 1, { ...base, maliciousInputDigest: true }).must).toEqual([]);
    // Semi-honest parties send none: nothing to compare.
    expect(compareSettings(0, { security: 'semi-honest' }, 1, { security: 'semi-honest' }).must).toEqual([]);
  });
});

describe('malicious serving: a deployment upgraded one party at a time (a peer on a build before the d digest)', () => {
  // P2 runs a build before step d0: its HELLO carries no maliciousInputDigest, and it neither sends nor reads the
  // digests. A build speaks its link version and the one before, so one organisation upgrades first (deploy/README.md
  // "Upgrades"): the upgraded parties must link with it and serve, running d0 only when the three announce it.
  const mesh = PeerMesh.prototype as unknown as { mySettings(this: { party: number }): Record<string, unknown> };
  const own = Object.getOwnPropertyDescriptor(mesh, 'mySettings');
  let t: PartyTrio | undefined;
  beforeAll(() => {
    const base = LinkMesh.prototype as unknown as { mySettings(this: unknown): Record<string, unknown> };
    mesh.mySettings = function (this: { party: number }) {
      const s = base.mySettings.call(this);
      if (this.party === 2) delete s.maliciousInputDigest;
      return s;
    };
  });
  afterAll(async () => {
    if (own) Object.defineProperty(mesh, 'mySettings', own); else delete (mesh as { mySettings?: unknown }).mySettings;
    await t?.close();
  });

  it('the links come up; a session is right without the digests; another d at one party is caught inside the run (E_INTEGRITY, as before the step)', async () => {
    t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 } });
    for (const s of t.servers) expect(s.party.mesh.allUp()).toBe(true);
    expect(t.servers.map((s) => s.party.mesh.settingsOf(2)?.maliciousInputDigest)).toEqual([undefined, undefined, undefined]);
    expect(t.servers[2]!.party.mesh.settingsOf(0)?.maliciousInputDigest).toBe(true);
    const run = async (tweak: (d: Uint8Array, p: number) => Uint8Array) => {
      const id = randomUUID();
      const m = await Promise.all(t!.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const d = maskedInput(x, m.map(bytesOf) as Three);
      return Promise.all(t!.servers.map((s, p) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(tweak(d, p)) })));
    };
    const ok = await run((d) => d);
    expect(ok.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const y = decode(reconstructOutput(ok.map(bytesOf) as Three, 2), F);
    expect(Math.abs(y[0]! - 2.75)).toBeLessThan(1e-3);
    expect(Math.abs(y[1]! - -0.75)).toBeLessThan(1e-3);
    const bad = await run((d, p) => { if (p !== 0) return d; const e = d.slice(); e[0]! ^= 1; return e; });
    expect(bad.every((r) => r.statusCode !== 200)).toBe(true);
    expect(bad.map((r) => r.json().code)).toContain('E_INTEGRITY');
    expect(bad.map((r) => r.json().code)).not.toContain('E_SESSION_BINDING');
  }, 120_000);
});
