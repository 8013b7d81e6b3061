/**
 * Concurrent malicious sessions with the binary comparisons (s42 probe, item 6: "the binary domain's AND
 * verification checks the ANDs in the order they were recorded: can two sessions' records interleave?"). Each client
 * session has its own MalSession (malicious-desk.ts maskStep), and a session's ANDs waiting for verification are
 * kept beside it (protocol/malicious/binary/state.ts, a WeakMap keyed by the MalSession), on its own mesh view
 * `mal-<id>`: sessions whose forward passes overlap at one party never share a record. Here four sessions run their
 * forward passes at once (their AND rounds interleave on each party's event loop) and each is right; then one
 * party alters its first binary AND message of a session that runs beside an honest one: that session aborts with
 * E_INTEGRITY at every party, the honest one beside it is right.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { CHEAT_ENV } from './malicious-desk.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';

const F = 13;
type Three = [Uint8Array, Uint8Array, Uint8Array];
// Dense 4 -> 6, ReLU, Dense 6 -> 2: one binary ReLU (ANDs) per session.
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd2', outputActivation: 'softmax',
  nodes: [
    { kind: 'dense', name: 'd1', inputs: ['input'], units: 6, activation: 'relu', kernel: { shape: [4, 6], data: Float64Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) / 5 - 1) }, bias: { shape: [6], data: Float64Array.from([0.1, -0.2, 0.3, -0.4, 0.5, -0.6]) } },
    { kind: 'dense', name: 'd2', inputs: ['d1'], units: 2, activation: 'linear', kernel: { shape: [6, 2], data: Float64Array.from({ length: 12 }, (_, i) => ((i * 5) % 7) / 3 - 1) }, bias: { shape: [2], data: Float64Array.from([0.25, -0.5]) } },
  ],
};
const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);
const masks = (t: PartyTrio, id: string) => Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
const inputs = (t: PartyTrio, id: string, d: Uint8Array) => Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
// Inputs with negative, zero and positive pre-activations.
const xs = [[0.5, -1, 2, 0.25], [-2, 1.5, 0, -0.75], [0, 0, 0, 0], [3, 3, -3, 1]].map((v) => Float64Array.from(v));

/** Runs of the desk in their forward pass now (its private map: the test only reads it). */
const busy = (t: PartyTrio, p: number): number => [...(t.servers[p]!.party.malDesk as unknown as { runs: Map<string, { busy: boolean }> }).runs.values()].filter((r) => r.busy).length;

/** n sessions set up one after the other, then their forward passes at once; the most runs seen in flight together at P0 and P2. */
async function concurrent(t: PartyTrio, n: number) {
  const ids = xs.slice(0, n).map(() => randomUUID());
  const m: Awaited<ReturnType<typeof masks>>[] = [];
  for (const id of ids) m.push(await masks(t, id));
  for (const r of m) expect(r.map((q) => q.statusCode)).toEqual([200, 200, 200]);
  let most = 0, done = false;
  const watch = (async () => { while (!done) { most = Math.max(most, Math.min(busy(t, 0), busy(t, 2))); await new Promise((r) => setImmediate(r)); } })();
  const out = await Promise.all(ids.map((id, i) => inputs(t, id, maskedInput(encode(xs[i]!, F), m[i]!.map(bytesOf) as Three))));
  done = true;
  await watch;
  return { out, most };
}

const right = (o: Awaited<ReturnType<typeof inputs>>, i: number): void => {
  expect(o.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  const y = decode(reconstructOutput(o.map(bytesOf) as Three, 2), F);
  const want = plainForward(model, xs[i]!, 1).data;
  for (let k = 0; k < 2; k++) expect(Math.abs(y[k]! - want[k]!)).toBeLessThan(5e-3);
};

describe("malicious.comparisons 'binary': concurrent sessions at one party", () => {
  it('four sessions with overlapping forward passes: each equals its own plaintext', async () => {
    const t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 4 }, malicious: { comparisons: 'binary', poolInferences: 0 } });
    try {
      const { out, most } = await concurrent(t, 4);
      // The passes did overlap: several runs in flight together at P0 and at P2.
      expect(most).toBeGreaterThanOrEqual(2);
      out.forEach((o, i) => right(o, i));
      for (const s of t.servers) expect(s.party.malDesk.last?.comparisons).toBe('binary');
    } finally {
      await t.close();
    }
  }, 120_000);

  it('P1 alters its first binary AND message in one of two overlapping sessions: that one is E_INTEGRITY at every party, the other is right', async () => {
    process.env[CHEAT_ENV] = '1:mal:andB';
    let t: PartyTrio | undefined;
    try {
      t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 4 }, malicious: { comparisons: 'binary', poolInferences: 0 } });
    } finally {
      delete process.env[CHEAT_ENV];
    }
    try {
      // The first session set up at P1 carries the switch.
      const { out, most } = await concurrent(t, 2);
      expect(most).toBeGreaterThanOrEqual(2);
      expect(out[0]!.map((r) => r.statusCode)).toEqual([502, 502, 502]);
      for (const r of out[0]!) expect(r.json()).toMatchObject({ code: 'E_INTEGRITY' });
      right(out[1]!, 1);
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    } finally {
      await t.close();
    }
  }, 120_000);
});
