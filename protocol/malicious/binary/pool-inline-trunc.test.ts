/**
 * A whole pooled binary inference in which the truncation masks are made inline (review of s42-pool against
 * s42-trunc): the binary comparisons' daBits and triples come from a pool entry (their ANDs verified in e's opening,
 * the zero checks deferred to the next MAC check's sigma round, verify.ts openVerifiedBodyB), while each truncation
 * mask is made inline (trunc-mask.ts splitMaskFrom: its own ANDs, its own cut-and-choose and zero check, with the
 * session's pending ANDs and stock set aside). The split mask of the 256-unit dense layer is made right after the
 * MaxPool's pooled verification, while that zero check still waits. Checked: the output against the plaintext, the
 * counters against the declared costs, nothing left pending or unchecked at the end, and that an altered AND
 * message of the cheater (pooled ReLU, pooled MaxPool, the inline split mask) or its deferred zero-check hashes is
 * E_INTEGRITY at both honest parties, with no output.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconstructOutput } from '../../../client-sdk/src/malicious-io.js';
import { decode } from '../../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../ir.js';
import { addCost } from '../../primitives/cost.js';
import { plainForward } from '../../reference/forward.js';
import type { PartyId } from '../../ring/types.js';
import { runMal3, values, type CheatPlan } from '../../testing/cheat.js';
import { inputMaskCost, outputToClientCost } from '../client-io.js';
import { deriveSeeds } from '../epoch.js';
import { MaskRecorder, savedCost, type MaskEntry, type MaskRequest, type MaskSource } from '../mask-source.js';
import { offlineBatch } from '../mask-pool.js';
import { malForwardCost } from '../runner.js';
import { createMalSession, setupCost, type MalSession } from '../session.js';
import { TRUNC_ELL, usesSplitMask } from '../trunc.js';
import { shareModelReplicated } from '../weights.js';
import { clientInference, newMalEpoch, type MalEpoch } from '../../testing/mal-client.js';
import { binaryState } from './state.js';

const F = 13;
const H = 256; // above the online threshold of the split mask (trunc.ts usesSplitMask: 215 at ell = 48), so the inline mask is the split one
const t = (shape: number[], vals: number[]): FloatTensor => ({ shape, data: Float64Array.from(vals) });
/** Deterministic weights in [-1, 1) (a fixed pattern; no randomness needed). */
const w = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => (((i * 37 + k * 11) % 64) - 32) / 32);
/** Conv (trunc 8, ReLU), MaxPool, Dense 256 (trunc 256: the split mask, ReLU), Dense 2 (trunc 2). */
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [3, 3, 1], output: 'e', outputActivation: 'linear',
  nodes: [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 2, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: t([2, 2, 1, 2], [0.5, -0.25, 0.75, 0.5, -0.5, 0.25, 0.125, -1]), bias: t([2], [0.125, 0.25]) },
    { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'flatten', name: 'f', inputs: ['p'] },
    { kind: 'dense', name: 'd', inputs: ['f'], units: H, activation: 'relu', kernel: t([2, H], w(2 * H, 1)), bias: t([H], w(H, 2).map((v) => v / 4)) },
    { kind: 'dense', name: 'e', inputs: ['d'], units: 2, activation: 'linear', kernel: t([H, 2], w(2 * H, 3).map((v) => v / 8)) },
  ],
} as ModelIR<FloatTensor>;
const X = Float64Array.from([0.5, -0.25, 1, 0.75, -1, 0.25, 0.5, 0.125, -0.5]);
const WANT = Array.from(plainForward(model, X, 1).data);
const parts = shareModelReplicated(model, F);
const N_IN = 9;
const OPTS = { comparisons: 'binary' as const };

const newEpoch = () => newMalEpoch(parts);

/** The pool entry's binary material, but every truncation mask made inline (the entry's own is taken and dropped, so the order stays). */
class InlineTrunc implements MaskSource {
  constructor(private readonly entry: MaskEntry) {}
  async take<T>(s: MalSession, req: MaskRequest, make: () => Promise<T>): Promise<T> {
    if (req.kind !== 'trunc') return this.entry.take<T>(s, req);
    await this.entry.take<unknown>(s, req);
    return make();
  }
}

async function inference(eps: [MalEpoch, MalEpoch, MalEpoch], label: string, source?: (p: PartyId) => MaskSource | undefined, plan?: CheatPlan) {
  const left: number[] = [];
  const after = (s: MalSession): void => { const st = binaryState(s); left[s.party] = st.pending.length + st.zeroChecks.length + (st.stock ? 1 : 0); };
  const r = await clientInference(eps, { x: X, f: F, inputShape: [1, 3, 3, 1], opts: OPTS, label, source, after, ...(plan ? { plan } : {}) });
  return { r, left };
}

const close = (y: number[]): boolean => y.every((v, i) => Math.abs(v - WANT[i]!) <= 8 / 2 ** F);
const fullCost = () => addCost(setupCost(), inputMaskCost(N_IN), malForwardCost(model, 1, F, OPTS), outputToClientCost());

describe('a pooled binary inference whose truncation masks are made inline (splitMaskFrom between pooled ANDs)', () => {
  it('right output, counters = declared, nothing left unchecked; an altered AND (pooled or the split mask\'s) or deferred zero-check hash: E_INTEGRITY at both honest parties', async () => {
    expect(usesSplitMask(H, F, TRUNC_ELL)).toBe(true); // the 256-unit layer's mask runs splitMaskFrom (its ANDs inline)
    const eps = await newEpoch();
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    const rec = await inference(eps, 'rec', (p) => recs[p]);
    const plan = recs[0]!.plan;
    expect(plan.map((q) => q.kind)).toEqual(['input', 'trunc', 'bin.dabits', 'bin.triples', 'bin.dabits', 'bin.triples', 'trunc', 'bin.dabits', 'bin.triples', 'trunc']);
    expect(close(Array.from(decode(reconstructOutput(values(rec.r), 2), F)))).toBe(true);
    expect(rec.r.bytes).toBe(fullCost().bytes);
    expect(rec.r.rounds).toBe(fullCost().rounds);
    const batch = async (count: number, id: string): Promise<[MaskEntry[], MaskEntry[], MaskEntry[]]> => values(await runMal3((s) => offlineBatch(s, plan, count, id), {
      seeds: (p) => deriveSeeds(eps[p].pair, `offline:${id}`, randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    }));
    const entries = await batch(1, 'b0');
    // Honest: binary material pooled, truncation masks inline.
    const ok = await inference(eps, 'ok', (p) => new InlineTrunc(entries[p][0]!));
    const y = Array.from(decode(reconstructOutput(values(ok.r), 2), F));
    expect(close(y), `${y} vs ${WANT}`).toBe(true);
    // Online = the inline run less what the entry's masks save (all but the truncation masks, made inline here).
    const saved = savedCost(plan.filter((q) => q.kind !== 'trunc'));
    expect(ok.r.bytes).toBe(fullCost().bytes - saved.bytes);
    expect(ok.r.rounds).toBe(fullCost().rounds - saved.rounds);
    expect(ok.left).toEqual([0, 0, 0]);
    // The cheater's messages: its AND messages (pooled ReLU and MaxPool, the inline split mask's) and its zero-check hashes.
    const cheater: PartyId = 1;
    const sent = ok.r.transports[cheater].sent.map((m, i) => ({ i, tag: m.tag }));
    const ands = sent.filter((m) => /andB/.test(m.tag)), zero = sent.filter((m) => /zeroB/.test(m.tag));
    expect(zero.length).toBeGreaterThanOrEqual(1);
    // Every AND message of the cheater (the pooled ReLUs' and MaxPool's, the inline split mask's) and its zero-check hashes.
    const picks = [...ands, ...zero];
    expect(ands.length).toBeGreaterThan(20);
    const more = await batch(picks.length, 'b1');
    for (const [k, m] of picks.entries()) {
      const bad = await inference(eps, `cheat${k}`, (p) => new InlineTrunc(more[p][k]!), { cheater, index: m.i, tamper: 'flip' });
      expect(bad.r.transports[cheater].altered?.tag, `message ${m.i} ${m.tag}`).toBe(m.tag);
      for (const p of [0, 2] as const) {
        const o = bad.r.outcomes[p];
        expect(o.status, `P${p}, altered ${m.tag}`).toBe('rejected');
        expect((o as PromiseRejectedResult).reason?.code, `P${p}, altered ${m.tag}`).toBe('E_INTEGRITY');
      }
    }
  }, 300_000);
});
