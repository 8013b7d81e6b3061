import { describe, expect, it } from 'vitest';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import { isMpcError } from '../errors.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { randomSigned } from '../testing/values.js';
import { logitOf, logitThreshold, marginUnits, thresholdDecisions, thresholdDecisionsCost } from './decisions.js';
import { expectCost, open, signed } from '../testing/privacy.js';

const F = 13;
const enc = (v: number): bigint => BigInt.asUintN(64, encodeScalar(v, F));

/** Plaintext twin: per element [x >= tau_c] and #{k : |x - tau_c| >= m_k} on the lattice. */
function plain(x: readonly bigint[], thresholds: readonly number[], margins: readonly number[]): { d: number[]; b: number[] } {
  const tau = thresholds.map((t) => logitThreshold(t, F));
  const m = margins.map((mu) => marginUnits(mu, F));
  const d: number[] = [], b: number[] = [];
  x.forEach((v, e) => {
    const w = v - tau[e % tau.length]!;
    d.push(w >= 0n ? 1 : 0);
    const a = w < 0n ? -w : w;
    b.push(m.filter((mk) => a >= mk).length);
  });
  return { d, b };
}

async function decide(X: BigUint64Array, thresholds: number[], margins: number[] = [], opts: { comparison?: 'direct' | 'securenn'; compareBits?: 32 | 64 } = {}) {
  const s = shareFor3(X);
  const r = await run3((ctx) => thresholdDecisions(ctx, s[ctx.party], { thresholds, confidenceThresholds: margins }), { fracBits: F, ...opts });
  const d = signed(open(r.results[0].decision, r.results[1].decision)).map(Number);
  const b = margins.length ? signed(open(r.results[0].bucket!, r.results[1].bucket!)).map(Number) : undefined;
  return { r, d, b };
}

describe('thresholdDecisions (per-element sigmoid decisions: one DReLU batch)', () => {
  it('logit(t) in fixed point: 0 at t = 0.5, rounded up to the lattice (the least lattice point at or above logit(t))', () => {
    expect(logitThreshold(0.5, F)).toBe(0n);
    expect(logitThreshold(0.9, F)).toBe(BigInt(Math.ceil(Math.log(9) * 2 ** F)));
    expect(logitThreshold(0.1, F)).toBe(BigInt(Math.ceil(-Math.log(9) * 2 ** F)));
    expect(logitThreshold(0.7, F)).toBe(6942n); // logit(0.7) 2^13 = 6941.06: rounding to nearest gave 6941
    expect(logitOf(0.75)).toBeCloseTo(Math.log(3), 12);
    expect(marginUnits(1e-9, F)).toBe(1n); // never 0: a bucket needs m >= 1 ring unit
    for (const bad of [0, 1, -0.1, NaN]) expect(() => logitThreshold(bad, F)).toThrow(/\(0, 1\)/);
  });

  it("on the lattice the decision is the logits mode's p >= t (sigmoid of the reconstructed logit, in float64), just below and at logit(t) 2^f", async () => {
    // The SDK's logits mode and mpc-import decide p >= t; with tau = round(logit(t) 2^f) the lattice point just below
    // logit(t) (when tau rounded down) was positive in the label modes and negative in logits mode (t = 0.7 at f = 13:
    // x = 6941 ring units, p = 0.69999...).
    const sig = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    const ts = [0.7, 0.3, 0.9, 0.1, 0.05, 0.95, 0.6, 0.4, 0.55, 0.999, 0.001, 0.62];
    const xs: bigint[] = [], thresholds: number[] = [];
    for (const t of ts) {
      const L = logitOf(t) * 2 ** F;
      for (const x of [Math.floor(L) - 1, Math.floor(L), Math.ceil(L), Math.ceil(L) + 1]) { xs.push(BigInt(x)); thresholds.push(t); }
    }
    // One threshold per channel: C = xs.length channels, one row.
    const { d } = await decide(BigUint64Array.from(xs, (x) => BigInt.asUintN(64, x)), thresholds);
    expect(d).toEqual(xs.map((x, i) => (sig(Number(x) / 2 ** F) >= thresholds[i]! ? 1 : 0)));
    expect(d.filter((_, i) => i % 4 === 1)).toEqual(ts.map(() => 0)); // floor(L) < L: negative, as p < t
  });

  it('edge cases at t = 0.5: the logit exactly at the threshold is positive (x >= tau, as the logits mode p >= 0.5); one unit below is not; all zero; large negative and positive', async () => {
    const big = 2 ** 40;
    const xs = [0, 2 ** -F, -(2 ** -F), 0, 0, -big, big, -1e6, 1e6, -3.25, 3.25];
    const { d } = await decide(BigUint64Array.from(xs.map(enc)), [0.5]);
    expect(d).toEqual([1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]);
    const zeros = await decide(new BigUint64Array(64), [0.5]);
    expect(zeros.d).toEqual(new Array(64).fill(1));
  });

  it('per-label thresholds (one per channel, 14 labels): at, one unit below and above each logit(t_c); random logits; equal to the plaintext twin; costs what it declares', async () => {
    const C = 14;
    const ts = Array.from({ length: C }, (_, c) => [0.5, 0.1, 0.9, 0.3, 0.999, 0.001, 0.62][c % 7]!);
    const tau = ts.map((t) => logitThreshold(t, F));
    const edge: bigint[] = [];
    for (const off of [0n, -1n, 1n]) for (let c = 0; c < C; c++) edge.push(BigInt.asUintN(64, tau[c]! + off));
    // Each label's buckets, deterministically: |x - tau_c| of 0.25, 1 and 3 (margins 0.5 and 2) on both sides. Random
    // logits alone (|x| < 64, 280 of them) miss bucket 0 in about one run in nine.
    const spread: bigint[] = [];
    for (const off of [0.25, 1, 3]) for (const sign of [1, -1]) for (let c = 0; c < C; c++) spread.push(BigInt.asUintN(64, tau[c]! + BigInt(sign * off * 2 ** F)));
    const rand = Array.from(randomSigned(20 * C, 20));
    const X = BigUint64Array.from([...edge, ...spread, ...rand]);
    const margins = [0.5, 2];
    const { r, d, b } = await decide(X, ts, margins);
    const want = plain(signed(X), ts, margins);
    expect(d).toEqual(want.d);
    expect(b).toEqual(want.b);
    expect(d.slice(0, C)).toEqual(new Array(C).fill(1));
    expect(d.slice(C, 2 * C)).toEqual(new Array(C).fill(0));
    expect(b!.slice(0, C)).toEqual(new Array(C).fill(0));
    const R = 3 * C + spread.length;
    expect(b!.slice(3 * C, R)).toEqual([0, 0, 1, 1, 2, 2].flatMap((k) => new Array(C).fill(k)));
    expect(d.slice(3 * C, R)).toEqual([1, 0, 1, 0, 1, 0].flatMap((k) => new Array(C).fill(k)));
    expect(new Set(d.slice(R)).size).toBe(2);
    expectCost(r, thresholdDecisionsCost(X.length, 2));
  });

  it('the paper\'s route (securenn) and the 32-bit comparison ring give the same bits and cost what they declare', async () => {
    const X = BigUint64Array.from([...Array.from(randomSigned(50, 24)), enc(0), enc(-1e-3), enc(3), enc(-2)]);
    const want = plain(signed(X), [0.5, 0.2], [1]);
    for (const opts of [{ comparison: 'securenn' as const }, { compareBits: 32 as const }]) {
      const { r, d, b } = await decide(X, [0.5, 0.2], [1], opts);
      expect(d).toEqual(want.d);
      expect(b).toEqual(want.b);
      expectCost(r, thresholdDecisionsCost(X.length, 1, opts.comparison ?? 'direct', opts.compareBits ?? 64));
    }
  });

  it('refuses logits that are not whole rows of the thresholds (E_SHAPE), before any message', async () => {
    const s = shareFor3(new BigUint64Array(5));
    const err = await run3((ctx) => thresholdDecisions(ctx, s[ctx.party], { thresholds: [0.5, 0.5] }), { fracBits: F }).catch((e: unknown) => e);
    expect(isMpcError(err) && err.code === 'E_SHAPE').toBe(true);
  });
});
