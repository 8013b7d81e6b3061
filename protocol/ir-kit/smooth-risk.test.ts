/**
 * The local-truncation risk (arith.ts FixedRisk) of a smooth activation: the
 * secure piecewise engine (piecewise-poly.ts steps 4-5) truncates w = 4 u u and
 * z = a_3 u + a_2 2^f by f bits and p + 4 (a_1 u + a_0 2^f) by F + 2 bits, three
 * local truncations per element, each failing with probability about |v| / 2^64.
 * The importer's chooser must count them, or it picks local truncation for a
 * model whose expected wrong elements exceed its limit. The expectation is
 * recomputed here from the table, step by step (tail elements: w left out, since
 * z = 0 there and p = z w = 0 whatever w's truncation gives).
 */
import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR, type Activation } from '../ir.js';
import { buildSegments, tableFor, W_EXTRA_BITS } from '../primitives/piecewise-fit.js';
import { SIGMOID_SPEC } from '../primitives/sigmoid.js';
import { fixedArith, type FixedRisk } from './arith.js';
import { forwardIR } from './forward.js';

const model = (activation: Activation): ModelIR<FloatTensor> => ({
  formatVersion: IR_FORMAT_VERSION, inputShape: [8], output: 'a', outputActivation: 'linear',
  nodes: [{ kind: 'activation', name: 'a', inputs: ['input'], activation }],
});

function expectedSigmoid(xs: number[], f: number): { sum: number; largest: number } {
  const t = tableFor(SIGMOID_SPEC, buildSegments(SIGMOID_SPEC), f);
  const one = 2n ** BigInt(f), four = 2n ** BigInt(W_EXTRA_BITS);
  const fl = (a: bigint, d: bigint): bigint => (a >= 0n ? a / d : -((-a + d - 1n) / d));
  let sum = 0, largest = 0;
  for (const v of xs) {
    const T = BigInt(Math.abs(Math.round(v * 2 ** f)));
    let s = 0;
    while (s < t.B.length && T >= t.B[s]!) s++;
    const U = T - t.M[s]!, A = t.A[s]!;
    const w = four * U * U, z = A[3]! * U + A[2]! * one;
    const p = fl(z, one) * fl(w, one) + four * (A[1]! * U + A[0]! * one);
    for (const a of s < t.B.length ? [w, z, p] : [z, p]) {
      const m = Math.abs(Number(a));
      sum += m;
      largest = Math.max(largest, m);
    }
  }
  return { sum, largest };
}

describe('fixed arithmetic: local-truncation risk of smooth activations', () => {
  const f = 16;
  const xs = [-7.9, -3.3, -0.6, 0, 0.4, 2.7, 5.1, 400];

  it('sigmoid: risk.products counts its three truncations per element, with the magnitudes truncated (not 0)', () => {
    const risk: FixedRisk = { products: 0, divisions: 0, largest: 0 };
    forwardIR(model('sigmoid'), xs, 1, fixedArith({ fracBits: f, risk }));
    const e = expectedSigmoid(xs, f);
    expect(e.sum).toBeGreaterThan(2 ** 40);
    expect(risk.products).toBeGreaterThan(0);
    expect(risk.products / (e.sum / 2 ** 64)).toBeCloseTo(1, 9);
    expect(risk.largest).toBe(e.largest);
    expect(risk.divisions).toBe(0);
  });

  it('silu, tanh, gelu also add to risk.products; relu (no truncation) adds nothing', () => {
    for (const a of ['silu', 'tanh', 'gelu'] as const) {
      const risk: FixedRisk = { products: 0, divisions: 0 };
      forwardIR(model(a), xs, 1, fixedArith({ fracBits: f, risk }));
      expect(risk.products, a).toBeGreaterThan(2 ** 30 / 2 ** 64);
    }
    const risk: FixedRisk = { products: 0, divisions: 0 };
    forwardIR(model('relu'), xs, 1, fixedArith({ fracBits: f, risk }));
    expect(risk.products).toBe(0);
  });
});
