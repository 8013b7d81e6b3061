import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { dealSeeds } from '../correlated/prg.js';
import { decode } from '../fixed-point/fixed-point.js';
import { isMpcError } from '../errors.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import type { PartyId } from '../ring/types.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { runMal3, values } from '../testing/cheat.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { inputMaskCost, outputToClientCost } from './client-io.js';
import { deriveSeeds, epochSetupCost, setupEpoch } from './epoch.js';
import { MaskRecorder, savedCost, type MaskEntry, type MaskRequest } from './mask-source.js';
import { MaskPool, materialBytes, offlineBatch, offlineBatchCost, offlineChecks } from './mask-pool.js';
import { macCheckCost } from './mac-check.js';
import { malForwardCost } from './runner.js';
import { createMalSession, setupCost, type MalSession } from './session.js';
import { shareModelReplicated } from './weights.js';
import { clientInference, malEpochRun, type MalEpoch } from '../testing/mal-client.js';
import { reconstructOutput } from '../../client-sdk/src/malicious-io.js';

const F = 13;
const t = (shape: number[], vals: number[]): FloatTensor => ({ shape, data: Float64Array.from(vals) });
/** Conv (truncation, ReLU), MaxPool, Dense: every kind of mask (input, trunc, compare). */
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [3, 3, 1], output: 'd', outputActivation: 'linear',
  nodes: [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 2, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: t([2, 2, 1, 2], [0.5, -0.25, 0.75, 0.5, -0.5, 0.25, 0.125, -1]), bias: t([2], [0.125, 0.25]) },
    { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'flatten', name: 'f', inputs: ['p'] },
    { kind: 'dense', name: 'd', inputs: ['f'], units: 2, activation: 'linear', kernel: t([2, 2], [1.5, -0.5, 0.25, 1]) },
  ],
} as ModelIR<FloatTensor>;
const X = Float64Array.from([0.5, -0.25, 1, 0.75, -1, 0.25, 0.5, 0.125, -0.5]);
const WANT = Array.from(plainForward(model, X, 1).data);
const parts = shareModelReplicated(model, F);
const weightCount = 8 + 2 + 4;
const N_IN = 9;

async function newEpoch(): Promise<[MalEpoch, MalEpoch, MalEpoch]> {
  const r = await malEpochRun(parts);
  expect(r.bytes).toBe(epochSetupCost(weightCount).bytes);
  expect(r.rounds).toBe(epochSetupCost(weightCount).rounds);
  return values(r);
}

/** One client inference in the epoch (session `label`), masks from `source(p)` when given. Returns the client's output and the run's counters. */
async function inference(eps: [MalEpoch, MalEpoch, MalEpoch], label: string, opts: { source?: (p: PartyId) => MaskRecorder | MaskEntry | undefined; x?: Float64Array } = {}) {
  const r = await clientInference(eps, { x: opts.x ?? X, f: F, inputShape: [1, 3, 3, 1], opts: {}, label, source: opts.source });
  return { y: Array.from(decode(reconstructOutput(values(r), 2), F)), bytes: r.bytes, rounds: r.rounds };
}

const close = (y: number[]): boolean => y.every((v, i) => Math.abs(v - WANT[i]!) <= 4 / 2 ** F);
const fullCost = (): Cost => addCost(setupCost(), inputMaskCost(N_IN), malForwardCost(model, 1, F), outputToClientCost());

describe('epoch (a malicious set-up per model load) and the mask pool (offline phase)', () => {
  it('two sessions in one epoch give the right output; each costs the session set-up, not the weights again', async () => {
    const eps = await newEpoch();
    for (const label of ['s1', 's2']) {
      const r = await inference(eps, label);
      expect(close(r.y), `${label}: ${r.y} vs ${WANT}`).toBe(true);
      expect(r.bytes).toBe(fullCost().bytes);
      expect(r.rounds).toBe(fullCost().rounds);
    }
  });

  it('derived seeds differ per label and per pair; the same label gives the same seeds', () => {
    const dealt = dealSeeds();
    const a = deriveSeeds(dealt[0].pair, 'x', randomBytes(16)), b = deriveSeeds(dealt[0].pair, 'y', randomBytes(16));
    const a2 = deriveSeeds(dealt[1].pair, 'x', randomBytes(16));
    expect(Buffer.from(a.pair[1]!).equals(Buffer.from(b.pair[1]!))).toBe(false);
    expect(Buffer.from(a.pair[1]!).equals(Buffer.from(a2.pair[0]!))).toBe(true); // P0 and P1 derive the same s01
    expect(Buffer.from(a.pair[1]!).equals(Buffer.from(a.pair[2]!))).toBe(false);
    expect(a.pair[0]).toBeUndefined();
  });

  it('records the plan, makes an offline batch (declared cost = counters), and a session with an entry sends the plan\'s cost less, with the right output', async () => {
    const eps = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    const rec = await inference(eps, 'rec', { source: (p) => recs[p] });
    expect(close(rec.y)).toBe(true);
    const plan = recs[0]!.plan;
    expect(recs[1]!.plan).toEqual(plan);
    expect(plan.map((q) => q.kind)).toEqual(['input', 'trunc', 'compare', 'compare', 'trunc']);
    // Offline batch of 2 inferences.
    const b = await runMal3((s) => offlineBatch(s, plan, 2, 'b0'), {
      seeds: (p) => deriveSeeds(eps[p].pair, 'offline:b0', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    });
    expect(b.bytes).toBe(offlineBatchCost(plan, 2).bytes);
    expect(b.rounds).toBe(offlineBatchCost(plan, 2).rounds);
    const entries = values(b);
    expect(entries[0].map((e) => e.id)).toEqual(['b0.0', 'b0.1']);
    const pools = entries.map((es) => { const pool = new MaskPool(); pool.add(es, materialBytes(es[0])); return pool; });
    expect(pools[0]!.bytes).toBeGreaterThan(0);
    for (const k of [0, 1]) {
      const ids = pools.map((pool) => pool.propose());
      expect(ids).toEqual([`b0.${k}`, `b0.${k}`, `b0.${k}`]);
      const taken = pools.map((pool) => pool.take(ids[0]!));
      const r = await inference(eps, `pooled${k}`, { source: (p) => taken[p] });
      expect(close(r.y), `pooled ${k}: ${r.y}`).toBe(true);
      const online = fullCost().bytes - savedCost(plan).bytes; // savedCost: what the inline run pays for the masks (its choice of maker, trunc.ts usesSplitMask)
      expect(r.bytes).toBe(online);
      expect(r.rounds).toBe(fullCost().rounds - savedCost(plan).rounds);
      expect(r.bytes).toBeLessThan(fullCost().bytes / 5);
      expect(taken.every((e) => e.remaining === 0)).toBe(true);
    }
    expect(pools.map((pool) => pool.propose())).toEqual([null, null, null]);
    // Empty pool: made inline, same output.
    expect(close((await inference(eps, 'inline')).y)).toBe(true);
  });

  it('a pool entry whose plan differs from the run fails loudly (E_INTERNAL) and hands out no mask', async () => {
    const eps = await newEpoch();
    const wrong: MaskRequest[] = [{ kind: 'input', n: N_IN, params: [] }, { kind: 'trunc', n: 5, params: [F, 48] }];
    const b = values(await runMal3((s) => offlineBatch(s, wrong, 1, 'w'), {
      seeds: (p) => deriveSeeds(eps[p].pair, 'offline:w', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    }));
    const err = await inference(eps, 'mismatch', { source: (p) => b[p][0] }).then(() => null, (e: unknown) => e);
    expect(isMpcError(err) && err.code).toBe('E_INTERNAL');
    expect(String((err as Error).message)).toMatch(/request 1 of the run is trunc\(n = 8, 13, 48\), the pool entry w\.0 recorded trunc\(n = 5, 13, 48\)/);
  });

  it('interim MAC checks in an offline batch (checkEveryBytes 1: after every request but the last): counters = offlineBatchCost with the checks; the entries give the right output', async () => {
    const eps = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    await inference(eps, 'rec', { source: (p) => recs[p] });
    const plan = recs[0]!.plan;
    const opts = { checkEveryBytes: 1 };
    const checks = offlineChecks(plan, 2, opts);
    expect(checks.size).toBe(2 * plan.length - 1);
    expect(offlineChecks(plan, 2).size).toBe(0); // the default bound (1 GiB) is far above this plan
    const b = await runMal3((s) => offlineBatch(s, plan, 2, 'i', opts), {
      seeds: (p) => deriveSeeds(eps[p].pair, 'offline:i', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    });
    const want = offlineBatchCost(plan, 2, opts);
    expect(b.bytes).toBe(want.bytes);
    expect(b.rounds).toBe(want.rounds);
    // The difference from the batch without interim checks is exactly one MAC check per interim check.
    expect(b.bytes - offlineBatchCost(plan, 2).bytes).toBe(checks.size * macCheckCost().bytes);
    expect(b.rounds - offlineBatchCost(plan, 2).rounds).toBe(checks.size * macCheckCost().rounds);
    const entries = values(b);
    for (const k of [0, 1]) {
      const r = await inference(eps, `ipooled${k}`, { source: (p) => entries[p][k] });
      expect(close(r.y), `pooled ${k}: ${r.y}`).toBe(true);
    }
  });

  it('masks made under another key are caught by the session\'s MAC check (E_INTEGRITY)', async () => {
    const eps = await newEpoch(), other = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    await inference(eps, 'rec', { source: (p) => recs[p] });
    const b = values(await runMal3((s) => offlineBatch(s, recs[0]!.plan, 1, 'o'), {
      seeds: (p) => deriveSeeds(other[p].pair, 'offline:o', randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: other[ctx.party].alpha }),
    }));
    const err = await inference(eps, 'foreign', { source: (p) => b[p][0] }).then(() => null, (e: unknown) => e);
    expect(isMpcError(err) && err.code).toBe('E_INTEGRITY');
  });

  it('a bad batch size is refused (E_BAD_ARGUMENT) at every party', async () => {
    const r = await runMal3((s) => offlineBatch(s, [], 0, 'z'));
    for (const o of r.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code).toBe('E_BAD_ARGUMENT');
  });
});

describe('cheating-party harness over the epoch set-up and the offline batch', () => {
  it('epoch set-up: every message of every party altered: E_INTEGRITY at every honest party (no epoch), the next set-up succeeds', async () => {
    const counts = await everyAlteration((s: MalSession) => setupEpoch(s, parts[s.party]), (w) => expect(w.nodes.length).toBe(4), 4);
    expect(counts.cases).toBeGreaterThan(20);
  }, 120_000);

  it('offline batch: every message of every party altered: E_INTEGRITY at every honest party (no entry), the next batch succeeds', async () => {
    const plan: MaskRequest[] = [{ kind: 'input', n: 2, params: [] }, { kind: 'trunc', n: 2, params: [F, 20] }, { kind: 'compare', n: 2, params: [6] }];
    const counts = await everyAlteration((s: MalSession) => offlineBatch(s, plan, 1, 'c'), (es) => expect(es.map((e) => e.remaining)).toEqual([3]), 10);
    expect(counts.cases).toBeGreaterThan(50);
  }, 300_000);

  it('offline batch with interim MAC checks (checkEveryBytes 1): every message of every party altered: E_INTEGRITY at every honest party (no entry)', async () => {
    const plan: MaskRequest[] = [{ kind: 'input', n: 2, params: [] }, { kind: 'trunc', n: 2, params: [F, 20] }];
    const counts = await everyAlteration((s: MalSession) => offlineBatch(s, plan, 1, 'c', { checkEveryBytes: 1 }), (es) => expect(es.map((e) => e.remaining)).toEqual([2]), 10);
    expect(counts.cases).toBeGreaterThan(50);
  }, 300_000);
});
