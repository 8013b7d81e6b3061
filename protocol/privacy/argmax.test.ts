import { describe, expect, it } from 'vitest';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import { isMpcError } from '../errors.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { randomSigned } from '../testing/values.js';
import { argmaxCost, secureArgmax } from './argmax.js';
import { expectCost, open, plainArgmax, signed } from '../testing/privacy.js';

/** Random logits in (-2^40, 2^40) with ties, all-equal rows and negatives planted. */
function logits(m: number, n: number): BigUint64Array {
  const X = randomSigned(m * n, 41);
  if (m > 3) {
    for (let c = 0; c < n; c++) X[c] = 5n; // row 0: all equal -> 0
    for (let c = 0; c < n; c++) X[n + c] = BigInt.asUintN(64, -BigInt(1000 + c)); // row 1: all negative -> 0
    if (n >= 3) { X[2 * n + 1] = 1n << 41n; X[2 * n + n - 1] = 1n << 41n; } // row 2: tie between 1 and n-1 -> 1
  }
  return X;
}

describe('secure argmax (tournament of DReLU + SelectShare)', () => {
  for (const n of [1, 2, 3, 5, 10]) {
    it(`returns the plaintext argmax (lowest index on ties) for ${n} classes, batch of 20, index payload`, async () => {
      const m = 20;
      const X = logits(m, n);
      const xs = shareFor3(X);
      const r = await run3((ctx) => secureArgmax(ctx, xs[ctx.party], m, n));
      expect(signed(open(r.results[0].index, r.results[1].index)).map(Number)).toEqual(plainArgmax(signed(X), m, n));
      // The maximum comes along.
      const want = plainArgmax(signed(X), m, n).map((c, row) => signed(X)[row * n + c]);
      expect(signed(open(r.results[0].max, r.results[1].max))).toEqual(want);
      expectCost(r, argmaxCost(m, n));
    });
  }

  for (const n of [2, 7, 10]) {
    it(`one-hot payload: one-hot and index of the argmax for ${n} classes`, async () => {
      const m = 12;
      const X = logits(m, n);
      const xs = shareFor3(X);
      const r = await run3((ctx) => secureArgmax(ctx, xs[ctx.party], m, n, { payload: 'onehot' }));
      const want = plainArgmax(signed(X), m, n);
      expect(signed(open(r.results[0].index, r.results[1].index)).map(Number)).toEqual(want);
      const oh = signed(open(r.results[0].onehot!, r.results[1].onehot!)).map(Number);
      expect(oh).toEqual(want.flatMap((c) => Array.from({ length: n }, (_, i) => (i === c ? 1 : 0))));
      expectCost(r, argmaxCost(m, n, { payload: 'onehot' }));
    });
  }

  it('confidence bucket counts the thresholds the margin over the runner-up reaches', async () => {
    const m = 8, n = 4, f = 13;
    const T = [0.5, 2, 8];
    // Rows in real units; margins: 0 (tie), 0.25, 0.5 (on a threshold: DReLU(0) = 1), 1, 2, 7.99, 8, 100.
    const rows = [[1, 1, 0, -3], [0, 0.25, -1, -2], [-1, -1.5, -0.5, -4], [3, 0, 2, 1], [-5, -3, -7, -9], [0, 7.99, -20, 0], [8, 0, -1, -2], [-50, 0, 50, 10]];
    const X = BigUint64Array.from(rows.flat().map((v) => encodeScalar(v, f)));
    const xs = shareFor3(X);
    const r = await run3((ctx) => secureArgmax(ctx, xs[ctx.party], m, n, { confidenceThresholds: T }), { fracBits: f });
    // The same on the 32-bit comparison ring (the party servers' default): the winner is masked out by 2^29 there.
    const r32 = await run3((ctx) => secureArgmax(ctx, xs[ctx.party], m, n, { confidenceThresholds: T }), { fracBits: f, compareBits: 32 });
    const s = signed(X);
    const label = plainArgmax(s, m, n);
    const bucket = label.map((c, row) => {
      const top = s[row * n + c]!;
      const second = s.slice(row * n, row * n + n).filter((_, i) => i !== c).reduce((a, b) => (b > a ? b : a));
      return T.filter((t) => top - second >= encodeScalar(t, f)).length;
    });
    expect(bucket).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(signed(open(r.results[0].index, r.results[1].index)).map(Number)).toEqual(label);
    expect(signed(open(r.results[0].bucket!, r.results[1].bucket!)).map(Number)).toEqual(bucket);
    expectCost(r, argmaxCost(m, n, { confidenceThresholds: T }));
    expect(signed(open(r32.results[0].index, r32.results[1].index)).map(Number)).toEqual(label);
    expect(signed(open(r32.results[0].bucket!, r32.results[1].bucket!)).map(Number)).toEqual(bucket);
  });

  it('refuses a confidence bucket for one class and unsorted thresholds', async () => {
    const xs = shareFor3(new BigUint64Array(3));
    await expect(run3((ctx) => secureArgmax(ctx, xs[ctx.party], 3, 1, { confidenceThresholds: [1] }))).rejects.toSatisfy((e: unknown) => isMpcError(e) && e.code === 'E_BAD_ARGUMENT');
    const ys = shareFor3(new BigUint64Array(6));
    await expect(run3((ctx) => secureArgmax(ctx, ys[ctx.party], 3, 2, { confidenceThresholds: [2, 1] }))).rejects.toSatisfy((e: unknown) => isMpcError(e) && e.code === 'E_BAD_ARGUMENT');
  });
});
