/**
 * The binary comparisons' offline material in the mask pool (mask-source.ts
 * kinds 'bin.dabits' and 'bin.triples', dabit.ts and verify.ts): the plan of
 * a binary run records them, an offline batch makes them (declared cost =
 * counters), a session with an entry uses them (its online traffic is the
 * inline run's less savedCost(plan), and its output is right), each daBit
 * and triple word once (a spy on the entries: no share vector handed out
 * twice across sessions, and the same check flags a source that replays an
 * entry); the cheating-party harness over a run that makes the material in
 * an offline batch and then uses it (ReLU and MaxPool: E_INTEGRITY at every
 * honest party, the next run right).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconstructOutput } from '../../../client-sdk/src/malicious-io.js';
import { decode } from '../../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../ir.js';
import { addCost } from '../../primitives/cost.js';
import { plainForward } from '../../reference/forward.js';
import type { PartyId } from '../../ring/types.js';
import { runMal3, values } from '../../testing/cheat.js';
import { everyAlteration } from '../../testing/cheat-loop.js';
import { inputM } from '../input.js';
import { inputMaskCost, outputToClientCost } from '../client-io.js';
import { deriveSeeds } from '../epoch.js';
import { macCheck } from '../mac-check.js';
import { MaskRecorder, savedCost, masksCost, type MaskEntry, type MaskRequest, type MaskSource } from '../mask-source.js';
import { offlineBatch, offlineBatchCost } from '../mask-pool.js';
import { openLow } from '../open.js';
import { liftSigned } from '../ring128.js';
import { malForwardCost } from '../runner.js';
import { createMalSession, setupCost, type MalSession } from '../session.js';
import { shareModelReplicated } from '../weights.js';
import { clientInference, newMalEpoch, type MalEpoch } from '../../testing/mal-client.js';
import { andWordsB, reluBinCheckedM, reluBinM, reluBinPooledCostB, reluBinCheckedCostB } from './compare-bin.js';
import { maxPoolBinM } from './maxpool-bin.js';
import { daBitsCostB, daBitsM } from './dabit.js';
import { takeTriplesM, triplesSavedCostB } from './verify.js';

const F = 13;
const t = (shape: number[], vals: number[]): FloatTensor => ({ shape, data: Float64Array.from(vals) });
/** Conv (truncation, ReLU), MaxPool, Dense (ReLU), Dense: both binary comparisons, each with its daBits and triples. */
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [3, 3, 1], output: 'e', outputActivation: 'linear',
  nodes: [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 2, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: t([2, 2, 1, 2], [0.5, -0.25, 0.75, 0.5, -0.5, 0.25, 0.125, -1]), bias: t([2], [0.125, 0.25]) },
    { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'flatten', name: 'f', inputs: ['p'] },
    { kind: 'dense', name: 'd', inputs: ['f'], units: 3, activation: 'relu', kernel: t([2, 3], [1.5, -0.5, 0.25, 1, -1, 0.5]), bias: t([3], [-0.25, 0.5, 0]) },
    { kind: 'dense', name: 'e', inputs: ['d'], units: 2, activation: 'linear', kernel: t([3, 2], [1, -1, 0.5, 0.25, -0.75, 1]) },
  ],
} as ModelIR<FloatTensor>;
const X = Float64Array.from([0.5, -0.25, 1, 0.75, -1, 0.25, 0.5, 0.125, -0.5]);
const WANT = Array.from(plainForward(model, X, 1).data);
const parts = shareModelReplicated(model, F);
const N_IN = 9;
const OPTS = { comparisons: 'binary' as const };

async function inference(eps: [MalEpoch, MalEpoch, MalEpoch], label: string, source?: (p: PartyId) => MaskSource | undefined) {
  const r = await clientInference(eps, { x: X, f: F, inputShape: [1, 3, 3, 1], opts: OPTS, label, source });
  return { y: Array.from(decode(reconstructOutput(values(r), 2), F)), bytes: r.bytes, rounds: r.rounds };
}

const newEpoch = () => newMalEpoch(parts);
const close = (y: number[]): boolean => y.every((v, i) => Math.abs(v - WANT[i]!) <= 4 / 2 ** F);
const fullCost = () => addCost(setupCost(), inputMaskCost(N_IN), malForwardCost(model, 1, F, OPTS), outputToClientCost());

/** A source that logs the binary material it hands out (hex of this party's share vectors), then passes it on. */
class Spy implements MaskSource {
  constructor(private readonly inner: MaskSource, private readonly log: string[]) {}
  async take<T>(s: MalSession, req: MaskRequest, make: () => Promise<T>): Promise<T> {
    const v = await this.inner.take(s, req, make);
    if (req.kind === 'bin.triples') {
      const tr = v as { a: { a: Uint32Array }; b: { a: Uint32Array }; c: { a: Uint32Array } };
      for (const u of [tr.a.a, tr.b.a, tr.c.a]) this.log.push(`${req.kind}:${Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex')}`);
    }
    if (req.kind === 'bin.dabits') {
      const db = v as { arith: { x: { a: Uint32Array } }; bin: { a: Uint32Array } };
      this.log.push(`${req.kind}:${Buffer.from(db.arith.x.a.buffer, db.arith.x.a.byteOffset, db.arith.x.a.byteLength).toString('hex')}`);
    }
    return v;
  }
}
/** Every logged vector once (random 64-bit words and 128-bit shares: a repeat is a reuse). */
const distinct = (log: string[]): boolean => new Set(log).size === log.length;

describe('binary comparisons: daBits and AND triples in the mask pool', () => {
  it('the plan records them; a batch makes them (counters = declared); two pooled sessions: right output, online = inline less savedCost, each daBit and triple word once', async () => {
    const eps = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    const rec = await inference(eps, 'rec', (p) => recs[p]);
    expect(close(rec.y), `${rec.y} vs ${WANT}`).toBe(true);
    expect(rec.bytes).toBe(fullCost().bytes);
    expect(rec.rounds).toBe(fullCost().rounds);
    const plan = recs[0]!.plan;
    expect(recs[2]!.plan).toEqual(plan);
    // ReLU of 8 (conv), MaxPool 2x2 valid on 2x2x2 (2 windows, 3 comparisons each), ReLU of 3 (dense).
    expect(plan.map((q) => `${q.kind}(${q.n})`)).toEqual(['input(9)', 'trunc(8)', 'bin.dabits(8)', `bin.triples(${andWordsB(8, 32)})`, 'bin.dabits(6)',
      `bin.triples(${andWordsB(4, 32) + andWordsB(2, 32)})`, 'trunc(3)', 'bin.dabits(3)', `bin.triples(${andWordsB(3, 32)})`, 'trunc(2)']);
    // The saving of one pooled ReLU is what its layer declares: inline less pooled.
    const relu = addCost(daBitsCostB(3), triplesSavedCostB(andWordsB(3, 32)));
    expect(relu).toEqual({ rounds: reluBinCheckedCostB(3, 32).rounds - reluBinPooledCostB(3, 32).rounds, bytes: reluBinCheckedCostB(3, 32).bytes - reluBinPooledCostB(3, 32).bytes });
    const b = await runMal3((s) => offlineBatch(s, plan, 2, 'b0'), {
      seeds: (p) => deriveSeeds(eps[p].pair, 'offline:b0', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    });
    expect(b.bytes).toBe(offlineBatchCost(plan, 2).bytes);
    expect(b.rounds).toBe(offlineBatchCost(plan, 2).rounds);
    const entries = values(b);
    const logs: string[][] = [[], [], []];
    for (const k of [0, 1]) {
      const r = await inference(eps, `pooled${k}`, (p) => new Spy(entries[p][k]!, logs[p]!));
      expect(close(r.y), `pooled ${k}: ${r.y}`).toBe(true);
      expect(r.bytes).toBe(fullCost().bytes - savedCost(plan).bytes);
      expect(r.rounds).toBe(fullCost().rounds - savedCost(plan).rounds);
      // The triples save their 4 rounds online and all their bytes but the zero checks' hashes (96 per layer, in the MAC check's sigma round).
      expect(savedCost(plan).rounds).toBe(masksCost(plan).rounds);
      expect(masksCost(plan).bytes - savedCost(plan).bytes).toBe(3 * 96);
      expect(entries.every((es) => es[k]!.remaining === 0)).toBe(true);
    }
    for (const log of logs) {
      expect(log.length).toBe(2 * (3 + 3 * 3)); // per session 3 daBit calls and 3 triple calls (a, b, c)
      expect(distinct(log)).toBe(true);
    }
    // A spent entry hands out nothing again (E_INTERNAL), never a second copy.
    const again = await inference(eps, 'again', (p) => entries[p][0]).then(() => null, (e: unknown) => e);
    expect((again as { code?: string }).code).toBe('E_INTERNAL');
    expect(String((again as Error).message)).toMatch(/recorded no more requests/);
    // Inline again: same output.
    expect(close((await inference(eps, 'inline')).y)).toBe(true);
  }, 120_000);

  it('reuse across sessions: the same taken triples again are refused (E_INTERNAL); copies of them pass the run but the single-use check flags them (it has power)', async () => {
    const eps = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    await inference(eps, 'rec', (p) => recs[p]);
    const entries = values(await runMal3((s) => offlineBatch(s, recs[0]!.plan, 1, 'r'), {
      seeds: (p) => deriveSeeds(eps[p].pair, 'offline:r', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    }));
    // The mutant: a source that keeps what the first session took and hands it out again, in order (as is, or copied).
    const kept: unknown[][] = [[], [], []];
    const first = (p: PartyId): MaskSource => ({
      take: async <T>(s: MalSession, req: MaskRequest): Promise<T> => { const v = await entries[p][0]!.take<T>(s, req); kept[p]!.push(v); return v; },
    });
    const again = (items: unknown[]): MaskSource => {
      let i = 0;
      return { take: async <T>(): Promise<T> => items[i++] as T };
    };
    const logs: string[][] = [[], [], []];
    expect(close((await inference(eps, 'm1', (p) => new Spy(first(p), logs[p]!))).y)).toBe(true);
    for (const log of logs) expect(distinct(log)).toBe(true);
    const same = await inference(eps, 'm2', (p) => again(kept[p]!)).then(() => null, (e: unknown) => e);
    expect((same as { code?: string }).code).toBe('E_INTERNAL');
    expect(String((same as Error).message)).toMatch(/these triples were used before/);
    const copies: unknown[][] = kept.map((k) => k.map((v) => structuredClone(v)));
    const fromCopies = (p: PartyId): MaskSource => again(copies[p]!);
    const second = await inference(eps, 'm3', (p) => new Spy(fromCopies(p), logs[p]!));
    expect(close(second.y)).toBe(true); // reuse does not change the output: only the single-use checks see it
    for (const log of logs) expect(distinct(log)).toBe(false);
  }, 120_000);
});

const XS = [-9n, 0n, 13n, -1n, 5n], ELL = 6;
const plainRelu = XS.map((v) => (v < 0n ? 0n : v));

/** Offline batch (daBits, triples; its MAC check), then the runner's pooled ReLU, the MAC check and the opened output, in one session. */
async function pooledReluRun(s: MalSession): Promise<bigint[]> {
  const plan: MaskRequest[] = [{ kind: 'bin.dabits', n: XS.length, params: [] }, { kind: 'bin.triples', n: andWordsB(XS.length, ELL), params: [] }];
  const [entry] = await offlineBatch(s, plan, 1, 'h');
  s.masks = entry as MaskEntry;
  const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(XS.map((v) => BigInt.asUintN(64, v)))) : null, XS.length);
  const y = await reluBinCheckedM(s, x, ELL);
  await macCheck(s);
  const out = Array.from(await openLow(s, y)).map((v) => BigInt.asIntN(64, v));
  await macCheck(s);
  return out;
}

const IMG = [-5n, 7n, 3n, -2n, 0n, 6n, 6n, -7n];
async function pooledMaxPoolRun(s: MalSession): Promise<bigint[]> {
  const plan: MaskRequest[] = [{ kind: 'bin.dabits', n: 6, params: [] }, { kind: 'bin.triples', n: andWordsB(4, ELL) + andWordsB(2, ELL), params: [] }];
  const [entry] = await offlineBatch(s, plan, 1, 'm');
  s.masks = entry as MaskEntry;
  const x = await inputM(s, 0, s.party === 0 ? liftSigned(BigUint64Array.from(IMG.map((v) => BigInt.asUintN(64, v)))) : null, IMG.length);
  const y = await maxPoolBinM(s, x, { h: 2, w: 2, c: 2 }, { kh: 2, kw: 2, sh: 2, sw: 2 }, ELL);
  await macCheck(s);
  const out = Array.from(await openLow(s, y)).map((v) => BigInt.asIntN(64, v));
  await macCheck(s);
  return out;
}

describe('cheating-party harness over pooled binary material: made in an offline batch, then used', () => {
  it('ReLU (ell = 6) with pooled daBits and triples: every message of every party (offline batch, ANDs, e with rho and sigma, zero check, MAC checks, output), one alteration each', async () => {
    const { cases } = await everyAlteration(pooledReluRun, (v) => expect(v).toEqual(plainRelu), 20, { rotate: true });
    expect(cases).toBeGreaterThan(80);
  }, 600_000);

  it('MaxPool (2x2x2, window 2x2, ell = 6) with pooled daBits and triples (verified in the last level\'s opening): every message of every party, one alteration each', async () => {
    const { cases } = await everyAlteration(pooledMaxPoolRun, (v) => expect(v).toEqual([6n, 7n]), 20, { rotate: true });
    expect(cases).toBeGreaterThan(80);
  }, 600_000);
});

describe('pooled triples are used once within a session too', () => {
  it('a second verification with the same taken triples is refused (E_INTERNAL) before any message', async () => {
    const r = await runMal3(async (s) => {
      const [entry] = await offlineBatch(s, [{ kind: 'bin.dabits', n: 2, params: [] }, { kind: 'bin.triples', n: 64, params: [] }], 1, 't');
      s.masks = entry as MaskEntry;
      const x = await inputM(s, 0, s.party === 0 ? liftSigned(BigUint64Array.from([3n, BigInt.asUintN(64, -4n)])) : null, 2);
      const d = await daBitsM(s, 2);
      const tr = (await takeTriplesM(s, 64))!;
      await reluBinM(s, x, ELL, d, tr);
      return reluBinM(s, x, ELL, d, tr);
    });
    for (const o of r.outcomes) expect(o.status === 'rejected' && (o.reason as { code?: string }).code).toBe('E_INTERNAL');
  });
});
