/**
 * A client that sends the parties different masked inputs d (or a d of the wrong length to one of them) is refused
 * before any computation, as the client's fault (E_SESSION_BINDING at every party), and the epoch is kept. Before
 * (s42 probe), the difference was caught inside the run as E_INTEGRITY, the code of a party that deviated: every party
 * logged a failed integrity check and dropped its epoch and mask pool (new MAC key and weight MACs for the next
 * session), so any client could force that at the three parties with every session, and frame them for it.
 * parties/malicious-desk.ts: the three compare a digest of their d (set-up messages) before step d; link setting
 * maliciousInputDigest (link-hello.ts) keeps a party without the step off the mesh.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { compareSettings } from './link-hello.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';

const F = 13;
type Three = [Uint8Array, Uint8Array, Uint8Array];
const tiny: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
  nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }],
};
const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);
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

  it('link setting maliciousInputDigest: a malicious party sends it; a peer without it (a build before the step) is refused, E_SETTINGS_MISMATCH', () => {
    // The party's own wiring (party.ts's HELLO settings, read through the mesh's private accessor).
    const mine = (p: number) => (t!.servers[p]!.party.mesh as unknown as { mySettings(): Record<string, unknown> }).mySettings();
    for (const p of [0, 1, 2]) expect(mine(p)).toMatchObject({ security: 'malicious', maliciousInputDigest: true });
    const base = { security: 'malicious' as const, compareBits: 32 as const, compareRadix: 4 as const };
    expect(compareSettings(0, { ...base, maliciousInputDigest: true }, 1, base).must).toEqual(['maliciousInputDigest: P0 has true, P1 has false']);
    expect(compareSettings(0, { ...base, maliciousInputDigest: true }, 1, { ...base, maliciousInputDigest: true }).must).toEqual([]);
    // Semi-honest parties send none: nothing to compare.
    expect(compareSettings(0, { security: 'semi-honest' }, 1, { security: 'semi-honest' }).must).toEqual([]);
  });
});
