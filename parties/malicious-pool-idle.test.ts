/**
 * The offline phase waits for every open client session (parties/malicious-desk.ts, malicious-epoch.ts): a session
 * that took its masks from the pool at the mask step and waits for its input counts as in flight, so the batch that
 * refills the pool starts only after the session's output, never beside its online phase. Before, the batch started
 * in the gap between the mask step and the input (the session was open but not yet 'busy') and then shared the
 * cores with the whole online phase (the served seed CNN: 7.9-12 s online instead of about 2-3 s;
 * BENCHMARKS.md, "Malicious seed CNN online: profile and cuts").
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { auth, partyTrio, type PartyTrio } from './testing/trio.js';

const F = 13;
const g = seededPrg(21);
const dense = (name: string, input: string, din: number, units: number, activation: 'relu' | 'linear') => ({
  kind: 'dense' as const, name, inputs: [input], units, activation,
  kernel: { shape: [din, units], data: uniform(g, din * units, 0.5) }, bias: { shape: [units], data: uniform(g, units, 0.1) },
});
const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [16], output: 'd2', outputActivation: 'linear', nodes: [dense('d1', 'input', 16, 8, 'relu'), dense('d2', 'd1', 8, 4, 'linear')] } as ModelIR<FloatTensor>;
const x = uniform(seededPrg(6), 16, 1);
const want = plainForward(model, x, 1).data;
type Three = [Uint8Array, Uint8Array, Uint8Array];
const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);
/** The epochs' internals this test watches: a batch's view is set from its start to its end. */
const offView = (t: PartyTrio, p: number): unknown => (t.servers[p]!.party.malDesk.epochs as unknown as { offView: unknown }).offView;
const batches = (t: PartyTrio): number[] => t.servers.map((s) => s.party.malDesk.epochs.stats.batches);
const settle = (t: PartyTrio) => Promise.all(t.servers.map((s) => s.party.malDesk.epochs.settled()));

async function mask(t: PartyTrio, id: string): Promise<Three> {
  const m = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
  expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  return m.map(bytesOf) as Three;
}

async function input(t: PartyTrio, id: string, m: Three): Promise<void> {
  const d = maskedInput(encode(x, F), m);
  const out = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
  expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  const y = decode(reconstructOutput(out.map(bytesOf) as Three, 4), F);
  for (let i = 0; i < 4; i++) expect(Math.abs(y[i]! - want[i]!)).toBeLessThan(2e-2);
}

describe('malicious pool: no offline batch while a client session is open', () => {
  let t: PartyTrio | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('a session that took its entry and waits for its input holds the refill back; the batch runs after its output', async () => {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 1 } });
    // Session 1 sets up the epoch and records the plan; then one batch fills the pool.
    const id1 = randomUUID();
    await input(t, id1, await mask(t, id1));
    await settle(t);
    expect(batches(t)).toEqual([1, 1, 1]);
    // Session 2 takes the entry at its mask step: a refill is due (consumed 1), but the session is open.
    const id2 = randomUUID();
    const m2 = await mask(t, id2);
    expect(t.servers.map((s) => s.party.malDesk.open)).toEqual([1, 1, 1]);
    // Give a wrongly started batch every chance to show: many event-loop turns and timers (it would start at once).
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect([0, 1, 2].map((p) => offView(t!, p))).toEqual([null, null, null]);
    expect(batches(t)).toEqual([1, 1, 1]);
    // The input, the run, the output: the session is pooled, and only then the batch runs.
    await input(t, id2, m2);
    expect(t.servers.map((s) => s.party.malDesk.last!.pooled)).toEqual([true, true, true]);
    await settle(t);
    expect(batches(t)).toEqual([2, 2, 2]);
    // The refilled entry is used by the next session.
    const id3 = randomUUID();
    await input(t, id3, await mask(t, id3));
    expect(t.servers.map((s) => s.party.malDesk.last!.pooled)).toEqual([true, true, true]);
  }, 120_000);

  it('two sessions open at once, one never sending its input: no batch while either is open; the refill runs once the silent one ends (clientWaitMs), and the next session is pooled', async () => {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 1, clientWaitMs: 1500 } });
    const id1 = randomUUID();
    await input(t, id1, await mask(t, id1));
    await settle(t);
    expect(batches(t)).toEqual([1, 1, 1]);
    // A takes the pool's entry, B finds none (inline masks); both open at the three parties.
    const a = randomUUID(), b = randomUUID();
    const ma = await mask(t, a);
    await mask(t, b);
    expect(t.servers.map((s) => s.party.malDesk.open)).toEqual([2, 2, 2]);
    await input(t, a, ma);
    expect(t.servers.map((s) => s.party.malDesk.last!.pooled)).toEqual([true, true, true]);
    // A is done, B still waits for its input: still no batch.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.servers.map((s) => s.party.malDesk.open)).toEqual([1, 1, 1]);
    expect([0, 1, 2].map((p) => offView(t!, p))).toEqual([null, null, null]);
    expect(batches(t)).toEqual([1, 1, 1]);
    // B ends at clientWaitMs (1.5 s); then the batch runs (settled() waits for it), and the next session takes its entry.
    // Bounded: without the desk's wake when a waiting session ends (end() -> idleCheck()) the refill never starts.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settle(t), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no refill within 20 s of the silent session\'s clientWaitMs')), 20_000); })]);
    clearTimeout(timer);
    expect(t.servers.map((s) => s.party.malDesk.open)).toEqual([0, 0, 0]);
    expect(batches(t)).toEqual([2, 2, 2]);
    const id3 = randomUUID();
    await input(t, id3, await mask(t, id3));
    expect(t.servers.map((s) => s.party.malDesk.last!.pooled)).toEqual([true, true, true]);
  }, 120_000);
});
