/**
 * Epochs and the mask pool of the malicious mode served by three in-process
 * party servers (parties/malicious-epoch.ts, malicious-desk.ts): two sessions
 * in one epoch give the right output and the second sends no weight MACs; a
 * warm pool is used (the counters show the online bytes drop to the declared
 * online cost, the offline batch's bytes are its declared cost); an
 * integrity failure discards the epoch and the next session runs in a new
 * one with a new key; with the pool off every session makes its masks
 * inline and is right; the epoch rotates after `epochSessions` sessions; a
 * party that fails right after the hello exchange (the other two took the
 * agreed entry) retires its proposal: the next sessions use the pool again
 * and no entry is used twice.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { addCost } from '../protocol/primitives/cost.js';
import { inputMaskCost, outputToClientCost } from '../protocol/malicious/client-io.js';
import { epochSetupCost } from '../protocol/malicious/epoch.js';
import { offlineBatchCost } from '../protocol/malicious/mask-pool.js';
import { savedCost } from '../protocol/malicious/mask-source.js';
import { malForwardCost } from '../protocol/malicious/runner.js';
import { setupCost } from '../protocol/malicious/session.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';
import { CHEAT_ENV } from './malicious-desk.js';
import type { MalEpochs } from './malicious-epoch.js';
import { MpcError } from '../protocol/errors.js';
import type { MaskPool } from '../protocol/malicious/mask-pool.js';

const F = 13;
const g = seededPrg(11);
const dense = (name: string, input: string, din: number, units: number, activation: 'relu' | 'linear') => ({
  kind: 'dense' as const, name, inputs: [input], units, activation,
  kernel: { shape: [din, units], data: uniform(g, din * units, 0.5) }, bias: { shape: [units], data: uniform(g, units, 0.1) },
});
const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [16], output: 'd2', outputActivation: 'linear', nodes: [dense('d1', 'input', 16, 8, 'relu'), dense('d2', 'd1', 8, 4, 'linear')] } as ModelIR<FloatTensor>;
const WEIGHTS = 16 * 8 + 8 + 8 * 4 + 4;
const x = uniform(seededPrg(5), 16, 1);
const want = plainForward(model, x, 1).data;
type Three = [Uint8Array, Uint8Array, Uint8Array];
const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);

/**
 * One session through the routes; `tamper`: P2 alters the first protocol message it sends after the client's input
 * (one bit, through its mesh's frame sink: a party that deviates). A client's own different d no longer gets this
 * far: the parties compare it first (E_SESSION_BINDING, the epoch kept; malicious-input-digest.test.ts).
 */
async function session(t: PartyTrio, tamper = false) {
  const id = randomUUID();
  const m = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
  expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
  const sink = t.servers[2]!.party.mesh as unknown as { sendMessage: (to: number, kind: string, session: string, tag: string, depth: number, payload: Uint8Array, written?: () => void) => void };
  const send = sink.sendMessage;
  if (tamper) {
    sink.sendMessage = function (this: unknown, to, kind, sess, tag, depth, payload, written) {
      if (kind === 'DATA' && sess === `mal-${id}` && payload.byteLength > 0) {
        sink.sendMessage = send;
        const p = payload.slice();
        p[0] = p[0]! ^ 1;
        written?.();
        return send.call(this, to, kind, sess, tag, depth, p);
      }
      return send.call(this, to, kind, sess, tag, depth, payload, written);
    };
  }
  try {
    return await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
  } finally {
    sink.sendMessage = send;
  }
}

function right(out: Awaited<ReturnType<typeof session>>): void {
  expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  const y = decode(reconstructOutput(out.map(bytesOf) as Three, 4), F);
  for (let i = 0; i < 4; i++) expect(Math.abs(y[i]! - want[i]!)).toBeLessThan(2e-2);
}

const lastOf = (t: PartyTrio) => t.servers.map((s) => s.party.malDesk.last!);
const sumBytes = (t: PartyTrio): number => lastOf(t).reduce((a, l) => a + l.bytesSent, 0);
const maxRounds = (t: PartyTrio): number => Math.max(...lastOf(t).map((l) => l.rounds));
const settle = (t: PartyTrio) => Promise.all(t.servers.map((s) => s.party.malDesk.epochs.settled()));

describe('malicious mode served: epochs and the mask pool', () => {
  let t: PartyTrio | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('two sessions in one epoch are right; the pool, once warm, is used: online bytes = declared online cost; an integrity failure discards the epoch (new key)', async () => {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 1 } });
    const inline = addCost(setupCost(), inputMaskCost(16), malForwardCost(model, 1, F), outputToClientCost());
    // Session 1: the epoch is set up on its view (counted), its masks made inline and recorded.
    right(await session(t));
    expect(sumBytes(t)).toBe(epochSetupCost(WEIGHTS).bytes + inline.bytes);
    expect(maxRounds(t)).toBe(epochSetupCost(WEIGHTS).rounds + inline.rounds);
    const e1 = lastOf(t).map((l) => l.epoch);
    expect(new Set(e1).size).toBe(1);
    const alpha1 = t.servers[0]!.party.malDesk.epochs.epoch!.alpha.a.slice();
    // The offline batch (one inference) runs after it; its traffic is its declared cost.
    await settle(t);
    const plan = t.servers[0]!.party.malDesk.epochs.plan!;
    expect(plan.map((q) => q.kind)).toEqual(['input', 'trunc', 'compare', 'trunc']);
    const st = t.servers.map((s) => s.party.malDesk.epochs.stats);
    expect(st.map((s) => s.batches)).toEqual([1, 1, 1]);
    expect(st.reduce((a, s) => a + s.bytesSent, 0)).toBe(offlineBatchCost(plan, 1).bytes);
    expect(Math.max(...st.map((s) => s.rounds))).toBe(offlineBatchCost(plan, 1).rounds);
    // Session 2: same epoch, masks from the pool: only the online part is sent.
    right(await session(t));
    expect(lastOf(t).map((l) => [l.epoch, l.pooled])).toEqual(e1.map((e) => [e, true]));
    expect(sumBytes(t)).toBe(inline.bytes - savedCost(plan).bytes);
    expect(maxRounds(t)).toBe(inline.rounds - savedCost(plan).rounds);
    expect(sumBytes(t)).toBeLessThan(inline.bytes / 5);
    await settle(t);
    // P2 alters one message of the run: E_INTEGRITY at every party, the epoch is dropped.
    const bad = await session(t, true);
    expect(bad.map((r) => r.json().code)).toContain('E_INTEGRITY');
    for (const s of t.servers) expect(s.party.malDesk.epochs.epoch).toBeNull();
    // The next session sets up a new epoch: another id, another key; right output.
    right(await session(t));
    const e2 = lastOf(t).map((l) => l.epoch);
    expect(new Set(e2).size).toBe(1);
    expect(e2[0]).not.toBe(e1[0]);
    // No entry in the new epoch yet: its masks are made inline.
    expect(sumBytes(t)).toBe(epochSetupCost(WEIGHTS).bytes + inline.bytes);
    expect(lastOf(t).every((l) => !l.pooled)).toBe(true);
    expect(Buffer.from(t.servers[0]!.party.malDesk.epochs.epoch!.alpha.a).equals(Buffer.from(alpha1))).toBe(false);
    await settle(t);
  }, 120_000);

  it('a party that alters its weight-MAC reshare in the epoch set-up (test-only switch): E_INTEGRITY (502) at every party, no epoch kept; the next session sets up a new one and is right', async () => {
    process.env[CHEAT_ENV] = '1:mal:macOf';
    try {
      t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    } finally {
      delete process.env[CHEAT_ENV];
    }
    // The epoch is set up in the mask step: that is where the session fails.
    const id = randomUUID();
    const bad = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
    expect(bad.map((r) => r.statusCode)).toEqual([502, 502, 502]);
    for (const r of bad) expect(r.json()).toMatchObject({ code: 'E_INTEGRITY' });
    for (const s of t.servers) expect(s.party.malDesk.epochs.epoch).toBeNull();
    right(await session(t));
    // The failed set-up made no epoch; the one the right session ran in is the first kept.
    expect(t.servers.map((s) => s.party.malDesk.epochs.stats.epochs)).toEqual([1, 1, 1]);
    expect(new Set(lastOf(t).map((l) => l.epoch)).size).toBe(1);
    await settle(t);
  }, 120_000);

  it('with the pool off (poolInferences 0) every session makes its masks inline and is right; the epoch rotates after epochSessions', async () => {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0, epochSessions: 2 } });
    const ids: string[] = [];
    for (let k = 0; k < 3; k++) {
      right(await session(t));
      expect(lastOf(t).every((l) => !l.pooled)).toBe(true);
      ids.push(lastOf(t)[0]!.epoch);
      await settle(t);
    }
    expect(t.servers.map((s) => s.party.malDesk.epochs.stats.batches)).toEqual([0, 0, 0]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[1]);
  }, 120_000);

  /**
   * P0 fails once in begin, after its hello went out: `at` 'mal-seed' (it has the three hellos: it decided like
   * the others, took the entry and drops it) or 'mal-hello' from P2 (it lacks one: it retires its proposal).
   */
  async function failOnce(at: 'mal-seed' | 'mal-hello') {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 2 }, sessions: { defaultDeadlineMs: 5_000 } });
    const epochs = t.servers.map((s) => s.party.malDesk.epochs);
    // Every take at each party, by entry id.
    const takes: string[][] = [[], [], []];
    right(await session(t));
    await settle(t);
    epochs.forEach((e, p) => {
      const pool = e.epoch!.pool, take = pool.take.bind(pool);
      pool.take = (id: string) => { takes[p]!.push(id); return take(id); };
    });
    expect(epochs.map((e) => e.epoch!.pool.size)).toEqual([2, 2, 2]);
    const e0 = epochs[0]! as MalEpochs;
    const begin = e0.begin.bind(e0);
    let armed = true;
    e0.begin = (view, transport, sid, w, batch) => {
      if (!armed) return begin(view, transport, sid, w, batch);
      armed = false;
      const failing = new Proxy(view, {
        get(target, k, r) {
          if (k === 'recvSetup') return async (from: 0 | 1 | 2, tag: string) => {
            const b = await target.recvSetup(from, tag);
            if (tag === at && (at === 'mal-seed' || from === 2)) throw new MpcError('E_PEER_UNAVAILABLE', `test: P0 fails at ${at}`, { party: 0, step: 'mal.hello' });
            return b;
          };
          const v = Reflect.get(target, k, r) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      return begin(failing, transport === view ? failing : transport, sid, w, batch);
    };
    const id = randomUUID();
    const failed = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
    expect(failed[0]!.statusCode).not.toBe(200);
    expect(armed).toBe(false);
    // P1 and P2 took the agreed entry; P0 took it too (decided) or retired it: consumed either way, never proposed again.
    expect(takes.map((x) => x.length)).toEqual(at === 'mal-seed' ? [1, 1, 1] : [0, 1, 1]);
    expect(epochs[0]!.epoch!.pool.retired).toBe(at === 'mal-seed' ? 0 : 1);
    expect(epochs.map((e) => e.epoch!.pool.consumed)).toEqual([1, 1, 1]);
    await settle(t);
    // The next sessions: pooled at the three parties (counted), right.
    let pooled = 0, inline = 0;
    for (let k = 0; k < 3; k++) {
      right(await session(t));
      const l = lastOf(t);
      expect(new Set(l.map((x) => x.pooled)).size).toBe(1);
      if (l[0]!.pooled) pooled++; else inline++;
      await settle(t);
    }
    expect([pooled, inline]).toEqual([3, 0]);
    // No entry used twice at any party; the three used the same ones in the same order.
    for (const x of takes) expect(new Set(x).size).toBe(x.length);
    expect(takes[2]).toEqual(takes[1]);
    expect(takes[0]).toEqual(at === 'mal-seed' ? takes[1] : takes[1]!.slice(1));
    expect(epochs.map((e) => e.epoch!.pool.consumed)).toEqual([4, 4, 4]);
  }

  it('a party that fails after the hello exchange (the three hellos in) has decided like the other two: the agreed entry is spent at the three, the next sessions are pooled, no entry is used twice', async () => {
    await failOnce('mal-seed');
  }, 120_000);

  it('a party that fails after sending its hello but before it has the others\' retires its proposal (the other two took it): the next sessions are pooled again at the three, no entry is used twice', async () => {
    await failOnce('mal-hello');
  }, 120_000);
});
