import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encode } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { plainForward } from '../reference/forward.js';
import type { AShare } from '../ring/types.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { seededPrg, uniform } from '../seed-models.js';
import { randomSigned } from '../testing/values.js';
import { fileStore } from '../../parties/accountant-store.js';
import { PrivacyAccountant } from './accountant.js';
import { addNoiseShares } from './dp-noise.js';
import { pateAggregate, pateCalibrate, pateCost } from './pate.js';
import { expectCost, k, open, plainArgmax, signed } from '../testing/privacy.js';

const D = 12, H = 16, C = 4, T = 5, M = 16, F = 13;

/** A tiny dense teacher (12 - 16 relu - 4), "trained" by hospital `seed` (random He-uniform weights). */
function teacher(seed: number): ModelIR<FloatTensor> {
  const g = seededPrg(seed);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [D], output: 'd2', outputActivation: 'softmax',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: H, activation: 'relu', kernel: t([D, H], Math.sqrt(6 / D)), bias: t([H], 0.05) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: t([H, C], Math.sqrt(6 / H)), bias: t([C], 0.05) },
    ],
  };
}

/** Plaintext majority vote per query (ties to the lowest class) from per-teacher argmax labels [T][M]. */
function majority(votes: number[][]): number[] {
  return Array.from({ length: M }, (_, q) => {
    const counts = new Array<number>(C).fill(0);
    votes.forEach((v) => counts[v[q]!]!++);
    return counts.indexOf(Math.max(...counts));
  });
}

async function runPate(noise: ReturnType<typeof pateCalibrate>['noise'] | null) {
  const teachers = Array.from({ length: T }, (_, i) => teacher(100 + i));
  const parts = teachers.map((m) => shareModel(k, m, F));
  const x = uniform(seededPrg(7), M * D, 1);
  const xs = shareFor3(encode(x, F));
  const r = await run3(async (ctx) => {
    const logits: AShare[] = [];
    for (const p of parts) logits.push((await secureForward(ctx, p[ctx.party], { shape: [M, D], data: xs[ctx.party] })).data);
    const label = await pateAggregate(ctx, logits, M, C, { noise, rng: seededPrg(900 + ctx.party) });
    return { label, logits };
  }, { fracBits: F });
  const plainVotes = teachers.map((m) => {
    const y = plainForward(m, x, M).data;
    return { votes: plainArgmax(Array.from(y, (v) => BigInt(Math.round(v * 1e9))), M, C), y };
  });
  const secureVotes = r.results[0].logits.map((l, t) => plainArgmax(signed(open(l, r.results[1].logits[t]!)), M, C));
  return { label: signed(open(r.results[0].label, r.results[1].label)).map(Number), plainVotes, secureVotes };
}

/** Rows where every teacher's top logit beats its runner-up by at least 0.01 (far above fixed-point error) and the vote has no tie. */
function clearRows(plainVotes: { y: Float64Array }[], votes: number[][]): number[] {
  return Array.from({ length: M }, (_, q) => q).filter((q) => {
    const sure = plainVotes.every(({ y }) => { const row = Array.from(y.subarray(q * C, q * C + C)).sort((a, b) => b - a); return row[0]! - row[1]! > 0.01; });
    const counts = new Array<number>(C).fill(0);
    votes.forEach((v) => counts[v[q]!]!++);
    const top = Math.max(...counts);
    return sure && counts.filter((c) => c === top).length === 1;
  });
}

describe('PATE private labelling (teachers vote inside the protocol, Report Noisy Max)', () => {
  it('with noise off, returns the plaintext majority label of 5 secret-shared teacher models', async () => {
    const { label, plainVotes, secureVotes } = await runPate(null);
    // Exact against the votes of the secure logits (ties to the lowest class).
    expect(label).toEqual(majority(secureVotes));
    // And against the float64 plaintext teachers wherever fixed point cannot flip a vote.
    const want = majority(plainVotes.map((p) => p.votes));
    const sure = Array.from({ length: M }, (_, q) => q).filter((q) => plainVotes.every(({ y }) => { const row = Array.from(y.subarray(q * C, q * C + C)).sort((a, b) => b - a); return row[0]! - row[1]! > 0.01; }));
    expect(sure.length).toBeGreaterThan(M / 2);
    for (const q of sure) expect(label[q]).toBe(want[q]);
    // The teachers disagree somewhere (otherwise the vote is trivial).
    expect(new Set(secureVotes.map((v) => v.join())).size).toBeGreaterThan(1);
  });

  it('with Laplace noise (b = 2 / epsilon) keeps clear majorities at large epsilon, and the accountant records epsilon per query', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pate-'));
    try {
      const { noise, charge } = pateCalibrate({ mechanism: 'laplace', epsilon: 200 });
      expect(noise.scale).toBe(0.01);
      const acc = await PrivacyAccountant.open({ store: fileStore(join(dir, 'p.json')), budget: { epsilon: 5000, delta: 0 } });
      const res = await acc.reserve('student-model', charge, M);
      const { label, plainVotes, secureVotes } = await runPate(noise);
      await res.commit();
      const want = majority(secureVotes);
      const rows = clearRows(plainVotes, secureVotes);
      expect(rows.length).toBeGreaterThan(0);
      // b = 0.01 votes: a 1-vote lead survives unless the noise difference exceeds 1 (probability < 1e-40).
      for (const q of rows) expect(label[q]).toBe(want[q]);
      expect(acc.report('student-model')).toMatchObject({ queries: M, basic: { epsilon: 200 * M, delta: 0 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with strong noise (epsilon 0.02: b = 100 votes) the label no longer follows the majority', async () => {
    const { label, secureVotes } = await runPate(pateCalibrate({ mechanism: 'laplace', epsilon: 0.02 }).noise);
    const want = majority(secureVotes);
    expect(label.filter((l, q) => l !== want[q]).length).toBeGreaterThan(M / 4);
    expect(label.every((l) => l >= 0 && l < C)).toBe(true);
  });

  it('costs what it declares (argmax of T m rows with one-hot payload, then argmax of m rows)', async () => {
    const m = 6, n = 5, t = 7;
    const L = Array.from({ length: t }, () => randomSigned(m * n, 30));
    const shares = L.map((l) => shareFor3(l));
    const r = await run3((ctx) => pateAggregate(ctx, shares.map((s) => s[ctx.party]), m, n));
    const votes = L.map((l) => plainArgmax(signed(l), m, n));
    const want = Array.from({ length: m }, (_, q) => { const c = new Array<number>(n).fill(0); votes.forEach((v) => c[v[q]!]!++); return c.indexOf(Math.max(...c)); });
    expect(signed(open(r.results[0], r.results[1])).map(Number)).toEqual(want);
    expectCost(r, pateCost(t, m, n));
  });

  it("on the parties' 32-bit comparison ring, the noisy max is the argmax of the noisy counts even where the noise passes 2^31 ring units; cost as declared", async () => {
    const m = 40, n = 3, t = 5;
    const L = Array.from({ length: t }, () => randomSigned(m * n, 30));
    const shares = L.map((l) => shareFor3(l));
    const narrow = { compareBits: 32 as const, compareRadix: 4 as const, fracBits: F };
    const noise = pateCalibrate({ mechanism: 'laplace', epsilon: 1e-5 }).noise; // b = 2e5 votes: 1.6e9 ring units at f = 13
    const r = await run3((ctx) => pateAggregate(ctx, shares.map((s) => s[ctx.party]), m, n, { noise, rng: seededPrg(910 + ctx.party) }), narrow);
    // The same noise, drawn on zeros from the same seeded sources (the argmaxes draw nothing from opts.rng).
    const z = await run3((ctx) => addNoiseShares(ctx, new BigUint64Array(m * n) as AShare, noise, { rng: seededPrg(910 + ctx.party) }), narrow);
    const drawn = signed(open(z.results[0], z.results[1]));
    expect(drawn.some((v) => v >= 1n << 31n || v < -(1n << 31n))).toBe(true);
    const votes = L.map((l) => plainArgmax(signed(l), m, n));
    const counts = Array.from({ length: m * n }, (_, i) => BigInt(votes.filter((v) => v[Math.floor(i / n)] === i % n).length) << BigInt(F));
    const want = plainArgmax(counts.map((c, i) => c + drawn[i]!), m, n);
    expect(signed(open(r.results[0], r.results[1])).map(Number)).toEqual(want);
    expectCost(r, pateCost(t, m, n, 'direct', 32, true));
  });
});
