import { describe, expect, it } from 'vitest';
import { encode, encodeScalar } from '../fixed-point/fixed-point.js';
import { isMpcError } from '../errors.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { seededPrg, uniform } from '../seed-models.js';
import { randomSigned } from '../testing/values.js';
import { resolvePolicy, type PrivacyPolicy } from './policy.js';
import { privateOutput, privateOutputCost } from './private-output.js';
import { expectCost, k, open, plainArgmax, signed } from '../testing/privacy.js';

const policyError = (f: () => unknown) => {
  try { f(); } catch (e) { return isMpcError(e) && e.code === 'E_PRIVACY_POLICY' && e.httpStatus === 403; }
  return false;
};

describe('privacy policy (manifest option, per-request override only stricter)', () => {
  const manifest: PrivacyPolicy = { outputMode: 'label+confidence', confidenceThresholds: [0.5, 2], dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2, sampler: 'gamma-split', clip: 10 } };
  it('defaults to logits without DP; a request may ask for labels', () => {
    expect(resolvePolicy()).toMatchObject({ outputMode: 'logits', dp: null, charge: null, confidenceThresholds: [] });
    expect(resolvePolicy(undefined, { outputMode: 'label' }).outputMode).toBe('label');
    expect(resolvePolicy(undefined, { outputMode: 'label+confidence' }).confidenceThresholds).toEqual([1, 3]);
  });
  it('accepts stricter requests: label only, lower epsilon, larger sensitivity, exact sampler, smaller clip', () => {
    const r = resolvePolicy(manifest, { outputMode: 'label', dp: { epsilon: 0.25, sensitivity: 3, sampler: 'discrete-exact', clip: 5 } });
    expect(r).toMatchObject({ outputMode: 'label', confidenceThresholds: [], dp: { epsilon: 0.25, sensitivity: 3, sampler: 'discrete-exact', clip: 5 }, charge: { epsilon: 0.25, delta: 0 } });
    expect(r.noise).toEqual({ mechanism: 'laplace', sampler: 'discrete-exact', scale: 12 });
    expect(resolvePolicy(manifest).confidenceThresholds).toEqual([0.5, 2]);
    expect(resolvePolicy({ outputMode: 'logits' }, { dp: { mechanism: 'gaussian', epsilon: 0.5, delta: 1e-6, sensitivity: 1 } }).charge?.delta).toBe(1e-6);
  });
  it('refuses looser requests with E_PRIVACY_POLICY (HTTP 403)', () => {
    expect(policyError(() => resolvePolicy(manifest, { outputMode: 'logits' }))).toBe(true);
    expect(policyError(() => resolvePolicy(manifest, { dp: { epsilon: 2 } }))).toBe(true);
    expect(policyError(() => resolvePolicy(manifest, { dp: { mechanism: 'gaussian', delta: 1e-5 } }))).toBe(true);
    expect(policyError(() => resolvePolicy(manifest, { dp: { sensitivity: 1 } }))).toBe(true);
    expect(policyError(() => resolvePolicy(manifest, { dp: { clip: 20 } }))).toBe(true);
    expect(policyError(() => resolvePolicy({ ...manifest, dp: { ...manifest.dp!, sampler: 'discrete-exact' } }, { dp: { sampler: 'gamma-split' } }))).toBe(true);
    expect(policyError(() => resolvePolicy({ outputMode: 'logits' }, { dp: { epsilon: 1 } }))).toBe(true);
  });
});

/** A tiny dense classifier 8 - 12 relu - C. */
function model(C: number, seed: number): ModelIR<FloatTensor> {
  const g = seededPrg(seed);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape[0]! * (shape[1] ?? 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [8], output: 'd2', outputActivation: C === 1 ? 'sigmoid' : 'softmax',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 12, activation: 'relu', kernel: t([8, 12], 1), bias: t([12], 0.1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: t([12, C], 1), bias: t([C], 0.1) },
    ],
  };
}

describe('privateOutput (after secureForward: clip, noise, secure argmax)', () => {
  it("'label' returns only label shares equal to the argmax of the secure logits; costs what it declares", async () => {
    const N = 10, C = 6;
    const parts = shareModel(k, model(C, 3), 13);
    const xs = shareFor3(encode(uniform(seededPrg(4), N * 8, 1), 13));
    const policy = resolvePolicy({ outputMode: 'label' });
    const r = await run3(async (ctx) => {
      const logits = await secureForward(ctx, parts[ctx.party], { shape: [N, 8], data: xs[ctx.party] });
      return { logits, out: await privateOutput(ctx, logits, policy) };
    });
    const [o0, o1] = [r.results[0].out, r.results[1].out];
    expect(o0.mode).toBe('label');
    if (o0.mode !== 'label' || o1.mode !== 'label') return;
    expect(Object.keys(o0).sort()).toEqual(['label', 'mode', 'shape']);
    const logits = signed(open(r.results[0].logits.data, r.results[1].logits.data));
    expect(signed(open(o0.label, o1.label)).map(Number)).toEqual(plainArgmax(logits, N, C));

    const L = randomSigned(N * C, 30);
    const ls = shareFor3(L);
    const c = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: ls[ctx.party] }, resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [1, 4] })));
    expectCost(c, privateOutputCost(N, C, resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [1, 4] })));
  });

  it("'label+confidence' adds a bucket in 0..K; a single-logit (sigmoid) model gets label = (x > 0) and bucket from |x|", async () => {
    const xs = [3, -0.5, 0, 0.75, -7, 1.5];
    const X = BigUint64Array.from(xs.map((v) => encodeScalar(v, 13)));
    const s = shareFor3(X);
    const policy = resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [0.6, 2] });
    const r = await run3((ctx) => privateOutput(ctx, { shape: [6, 1], data: s[ctx.party] }, policy));
    const [o0, o1] = [r.results[0], r.results[1]];
    if (o0.mode !== 'label' || o1.mode !== 'label') throw new Error('expected labels');
    expect(signed(open(o0.label, o1.label)).map(Number)).toEqual([1, 0, 0, 1, 0, 1]);
    expect(signed(open(o0.confidence!, o1.confidence!)).map(Number)).toEqual([2, 0, 0, 1, 2, 1]);
    expect(o0.confidenceBuckets).toBe(3);
    expectCost(r, privateOutputCost(6, 1, policy));
  });

  it('DP on logits: clipping to [-clip, clip] then noise from each party (seeded here), 0 extra rounds for the noise', async () => {
    const N = 4, C = 5;
    const vals = [-30, -2.5, 0, 1.25, 30, 7, -7, 0.5, 4.99, -5.01, 100, -100, 3, 2, 1, 0, -1, -2, -3, 6];
    const X = BigUint64Array.from(vals.map((v) => encodeScalar(v, 13)));
    const s = shareFor3(X);
    // Tiny noise (b = 1e-9: one lattice step) to check the clipping; then real noise.
    const tiny = resolvePolicy({ outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1e6, sensitivity: 1e-3, clip: 5 } });
    const r = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, tiny, { rng: seededPrg(50 + ctx.party) }));
    if (r.results[0].mode !== 'logits' || r.results[1].mode !== 'logits') throw new Error('expected logits');
    const got = signed(open(r.results[0].logits, r.results[1].logits)).map((v) => Number(v) / 8192);
    got.forEach((g, i) => expect(Math.abs(g - Math.max(-5, Math.min(5, vals[i]!)))).toBeLessThan(30 / 8192));
    expectCost(r, privateOutputCost(N, C, tiny));
    const noisy = resolvePolicy({ outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 1 } });
    const q = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, noisy, { rng: seededPrg(60 + ctx.party) }));
    if (q.results[0].mode !== 'logits' || q.results[1].mode !== 'logits') throw new Error('expected logits');
    const diff = signed(open(q.results[0].logits, q.results[1].logits)).map((v, i) => Number(v) / 8192 - vals[i]!);
    expect(diff.filter((d) => d !== 0).length).toBeGreaterThan(15);
    expect(Math.max(...diff.map(Math.abs))).toBeLessThan(40);
    expect(q.rounds).toBe(0);
  });
});

describe('privateOutput for multi-label heads and masks (decision rules of output-kind.ts)', () => {
  const enc13 = (v: number) => encodeScalar(v, 13);
  const multiLabel = { fracBits: 13, classes: 4, outputShape: [4], outputActivation: 'sigmoid' as const };
  const mask = { fracBits: 13, classes: 12, outputShape: [2, 2, 3], outputActivation: 'softmax' as const };

  it('resolvePolicy picks the rule from the model\'s output; decision thresholds are per channel, from the manifest only, checked', () => {
    expect(resolvePolicy(undefined, { outputMode: 'label' }, multiLabel)).toMatchObject({ decision: 'threshold', decisionThresholds: [0.5, 0.5, 0.5, 0.5], decisionChannels: 4 });
    expect(resolvePolicy({ outputMode: 'label', decisionThresholds: [0.1, 0.2, 0.3, 0.4] }, {}, multiLabel).decisionThresholds).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(resolvePolicy({ outputMode: 'logits', decisionThresholds: [0.3] }, {}, multiLabel).decisionThresholds).toEqual([]);
    expect(resolvePolicy(undefined, { outputMode: 'label' }, { ...multiLabel, outputShape: [8, 8, 1] }).decision).toBe('threshold');
    expect(resolvePolicy(undefined, { outputMode: 'label' }, mask)).toMatchObject({ decision: 'pixel-argmax', decisionChannels: 3 });
    expect(resolvePolicy(undefined, { outputMode: 'label' }, { fracBits: 13, classes: 2, outputShape: [2], outputActivation: 'softmax' }).decision).toBe('argmax');
    const bad = (p: PrivacyPolicy, m: object = multiLabel) => { try { resolvePolicy(p, {}, m); } catch (e) { return isMpcError(e) && e.code === 'E_BAD_ARGUMENT' ? e.message : 'other'; } return 'accepted'; };
    expect(bad({ outputMode: 'label', decisionThresholds: [0.5, 0.5] })).toMatch(/1 or 4 values/);
    expect(bad({ outputMode: 'label', decisionThresholds: [1] })).toMatch(/\(0, 1\)/);
    expect(bad({ outputMode: 'label', decisionThresholds: [0.5] }, mask)).toMatch(/pixel-argmax/);
    expect(bad({ outputMode: 'label+confidence', confidenceThresholds: [0, 1] })).toMatch(/margins must be > 0/);
  });

  it("multi-label 'label': one bit per label against per-label thresholds, [N, C]; 'label+confidence' adds a bucket per label; cost as declared", async () => {
    const N = 3, C = 4;
    const ts = [0.5, 0.9, 0.1, 0.5];
    const vals = [0, Math.log(9) + 0.01, Math.log(1 / 9) - 0.01, -2, 5, 2, -3, 0.4, -50, -50, -50, -50];
    const s = shareFor3(BigUint64Array.from(vals.map(enc13)));
    const policy = resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [1, 3], decisionThresholds: ts }, {}, multiLabel);
    const r = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, policy));
    const [o0, o1] = [r.results[0], r.results[1]];
    if (o0.mode !== 'label' || o1.mode !== 'label') throw new Error('expected labels');
    expect(o0.shape).toEqual([N, C]);
    const want = vals.map((v, i) => (v >= Math.log(ts[i % C]! / (1 - ts[i % C]!)) ? 1 : 0));
    expect(signed(open(o0.label, o1.label)).map(Number)).toEqual(want);
    const margin = vals.map((v, i) => Math.abs(v - Math.log(ts[i % C]! / (1 - ts[i % C]!))));
    expect(signed(open(o0.confidence!, o1.confidence!)).map(Number)).toEqual(margin.map((m) => (m >= 3 ? 2 : m >= 1 ? 1 : 0)));
    expect(o0.confidenceBuckets).toBe(3);
    expectCost(r, privateOutputCost(N, C, policy));
  });

  it("mask with 3 softmax channels: 'label' is the class per pixel [N, H W]; with DP the noise comes first and adds no round", async () => {
    const N = 2, C = 12;
    const vals = Array.from(randomSigned(N * C, 20), (v) => BigInt.asIntN(64, v));
    const s = shareFor3(BigUint64Array.from(vals, (v) => BigInt.asUintN(64, v)));
    const policy = resolvePolicy(undefined, { outputMode: 'label' }, mask);
    const r = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, policy));
    const [o0, o1] = [r.results[0], r.results[1]];
    if (o0.mode !== 'label' || o1.mode !== 'label') throw new Error('expected labels');
    expect(o0.shape).toEqual([N, 4]);
    expect(signed(open(o0.label, o1.label)).map(Number)).toEqual(plainArgmax(vals, N * 4, 3));
    expectCost(r, privateOutputCost(N, C, policy));
    const noisy = resolvePolicy(undefined, { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 1 } }, mask);
    expect(privateOutputCost(N, C, noisy)).toEqual(privateOutputCost(N, C, policy));
    const q = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, noisy, { rng: seededPrg(70 + ctx.party) }));
    expectCost(q, privateOutputCost(N, C, noisy));
  });
});

describe("privateOutput with DP on the parties' 32-bit comparison ring (compareBits 32, radix 4)", () => {
  // The party servers compare on the 32-bit ring by default: exact for |a| < 2^31 ring units only. DP's clip bound
  // (up to 2^44 ring units) and noise (unbounded, scale up to 2^44) pass that range; before the fix the clip negated
  // every logit and the noisy argmax disagreed with the argmax of the noisy logits on 81 of 200 images.
  const narrow = { compareBits: 32 as const, compareRadix: 4 as const };
  const model13 = (classes: number) => ({ fracBits: 13, classes });

  it('a clip bound past 2^31 ring units (1e6 at f = 13) leaves logits inside it unchanged; costs what it declares', async () => {
    const N = 4, C = 5;
    const vals = [-30, -2.5, 0, 1.25, 30, 7, -7, 0.5, 4.99, -5.01, 100, -100, 3, 2, 1, 0, -1, -2, -3, 6];
    const s = shareFor3(BigUint64Array.from(vals.map((v) => encodeScalar(v, 13))));
    // Noise of scale 1e-5 (one lattice step at most): the clip alone decides the result.
    const policy = resolvePolicy({ outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1e12, sensitivity: 1e7, clip: 1e6 } }, {}, model13(C));
    const r = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, policy, { rng: seededPrg(50 + ctx.party) }), narrow);
    if (r.results[0].mode !== 'logits' || r.results[1].mode !== 'logits') throw new Error('expected logits');
    const got = signed(open(r.results[0].logits, r.results[1].logits)).map((v) => Number(v) / 8192);
    got.forEach((g, i) => expect(Math.abs(g - vals[i]!), `logit ${i}`).toBeLessThan(30 / 8192));
    expectCost(r, privateOutputCost(N, C, policy, 'direct', 32));
  });

  it("'label+confidence' with noise of scale 1e5 is the argmax and margin bucket of the noisy logits (the same seeded noise in 'logits')", async () => {
    const N = 200, C = 3;
    const vals = Array.from({ length: N * C }, (_, i) => (i % C) - 1 + (i % 7) / 8);
    const s = shareFor3(BigUint64Array.from(vals.map((v) => encodeScalar(v, 13))));
    const dp = { mechanism: 'laplace' as const, epsilon: 0.01, sensitivity: 1000 };
    const thresholds = [1e4, 1e5];
    const logits = resolvePolicy({ outputMode: 'logits', dp }, {}, model13(C));
    const label = resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: thresholds, dp }, {}, model13(C));
    const lg = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, logits, { rng: seededPrg(70 + ctx.party) }), narrow);
    const lb = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, label, { rng: seededPrg(70 + ctx.party) }), narrow);
    if (lg.results[0].mode !== 'logits' || lg.results[1].mode !== 'logits' || lb.results[0].mode !== 'label' || lb.results[1].mode !== 'label') throw new Error('modes');
    const noisy = signed(open(lg.results[0].logits, lg.results[1].logits));
    // The noise passes the 32-bit ring's range: this input exercises what the fix is about.
    expect(noisy.some((v) => v >= 1n << 31n || v < -(1n << 31n))).toBe(true);
    const want = plainArgmax(noisy, N, C);
    expect(signed(open(lb.results[0].label, lb.results[1].label)).map(Number)).toEqual(want);
    const buckets = want.map((w, r) => {
      const row = noisy.slice(r * C, (r + 1) * C);
      const second = row.filter((_, c) => c !== w).reduce((a, b) => (b > a ? b : a));
      const margin = Number(row[w]! - second) / 8192;
      return thresholds.filter((t) => margin >= t).length;
    });
    expect(signed(open(lb.results[0].confidence!, lb.results[1].confidence!)).map(Number)).toEqual(buckets);
    expectCost(lb, privateOutputCost(N, C, label, 'direct', 32));
  });

  it('multi-label threshold decisions of noisy logits are those of the noisy logits; without DP the narrow ring costs what it declares', async () => {
    const N = 50, C = 4;
    const multi = { fracBits: 13, classes: C, outputShape: [C], outputActivation: 'sigmoid' as const };
    const vals = Array.from({ length: N * C }, (_, i) => ((i * 37) % 11) - 5);
    const s = shareFor3(BigUint64Array.from(vals.map((v) => encodeScalar(v, 13))));
    const dp = { mechanism: 'laplace' as const, epsilon: 0.01, sensitivity: 1000 };
    const lg = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, resolvePolicy({ outputMode: 'logits', dp }, {}, multi), { rng: seededPrg(80 + ctx.party) }), narrow);
    const policy = resolvePolicy({ outputMode: 'label', dp }, {}, multi);
    const lb = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, policy, { rng: seededPrg(80 + ctx.party) }), narrow);
    if (lg.results[0].mode !== 'logits' || lg.results[1].mode !== 'logits' || lb.results[0].mode !== 'label' || lb.results[1].mode !== 'label') throw new Error('modes');
    const noisy = signed(open(lg.results[0].logits, lg.results[1].logits));
    expect(noisy.some((v) => v >= 1n << 31n || v < -(1n << 31n))).toBe(true);
    expect(signed(open(lb.results[0].label, lb.results[1].label)).map(Number)).toEqual(noisy.map((v) => (v >= 0n ? 1 : 0)));
    expectCost(lb, privateOutputCost(N, C, policy, 'direct', 32));
    // Without DP the logits stay in the range the importer bounded: the party's own ring, and its declared cost.
    const plain = resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [1, 3] }, {}, model13(C));
    const q = await run3((ctx) => privateOutput(ctx, { shape: [N, C], data: s[ctx.party] }, plain), narrow);
    if (q.results[0].mode !== 'label' || q.results[1].mode !== 'label') throw new Error('expected labels');
    expect(signed(open(q.results[0].label, q.results[1].label)).map(Number)).toEqual(plainArgmax(vals.map((v) => encodeScalar(v, 13)).map((v) => BigInt.asIntN(64, v)), N, C));
    expectCost(q, privateOutputCost(N, C, plain, 'direct', 32));
  });
});
