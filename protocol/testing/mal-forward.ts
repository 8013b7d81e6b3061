/**
 * A malicious-mode forward pass against the float64 plaintext twin (tests
 * only): the weights MACed at set-up (weights.ts), the input by P0
 * (inputM), malForward, the output opened (openLow) after the MAC check;
 * returns the opened output, the twin's, and the run's counters.
 */
import { expect } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { sizeOf } from '../layers/types.js';
import { plainForward } from '../reference/forward.js';
import { inputCost, inputM } from '../malicious/input.js';
import { macCheck, macCheckCost } from '../malicious/mac-check.js';
import { openLow, openLowCost } from '../malicious/open.js';
import { liftSigned } from '../malicious/ring128.js';
import { malForward, malForwardCost, type MalForwardOptions } from '../malicious/runner.js';
import { setupCost, type MalSession } from '../malicious/session.js';
import { prepareWeights, prepareWeightsCost, shareModelReplicated } from '../malicious/weights.js';
import type { Cost } from '../primitives/cost.js';
import { runMal3, values } from './cheat.js';

/** The contexts' default fracBits (runMal3). */
export const MAL_F = 13;

/** Weight elements of a model (kernels and biases). */
export const weightCount = (m: ModelIR<FloatTensor>): number => m.nodes.reduce((t, nd) => t + ('kernel' in nd ? nd.kernel.data.length + (nd.bias?.data.length ?? 0) : 0), 0);

export const maxAbsErr = (got: Float64Array, want: Float64Array): number => got.reduce((m, g, i) => Math.max(m, Math.abs(g - want[i]!)), 0);

/** Run `model` on x (batch N) in malicious mode; all three parties must open the same output, of the twin's shape. */
export async function malVsPlain(model: ModelIR<FloatTensor>, N: number, x: Float64Array, opts: MalForwardOptions = {}) {
  const parts = shareModelReplicated(model, MAL_F);
  const n = N * sizeOf(model.inputShape);
  const r = await runMal3(async (s: MalSession) => {
    const w = await prepareWeights(s, parts[s.party]);
    const xin = await inputM(s, 0, s.party === 0 ? liftSigned(encode(x, MAL_F)) : null, n);
    const y = await malForward(s, w, { shape: [N, ...model.inputShape], data: xin }, opts);
    const low = await openLow(s, y.data);
    await macCheck(s);
    return { shape: y.shape, out: decode(low, MAL_F) };
  });
  const plain = plainForward(model, x, N);
  const [v0, v1, v2] = values(r);
  expect(v1.out).toEqual(v0.out);
  expect(v2.out).toEqual(v0.out);
  expect(v0.shape).toEqual(plain.shape);
  return { got: v0.out, want: plain.data, r };
}

/** What the whole run above must send: set-up, weights, input, malForwardCost, the opening and the MAC check. */
export function malRunCost(model: ModelIR<FloatTensor>, N: number, opts: Pick<MalForwardOptions, 'primitives' | 'comparisons' | 'compareBits' | 'checkEveryBytes'> = {}): Cost {
  const fwd = malForwardCost(model, N, MAL_F, opts);
  const parts = [setupCost(), prepareWeightsCost(weightCount(model)), inputCost(N * sizeOf(model.inputShape)), fwd, openLowCost(N * sizeOf(plainOutShape(model))), macCheckCost()];
  return { rounds: parts.reduce((t, c) => t + c.rounds, 0), bytes: parts.reduce((t, c) => t + c.bytes, 0) };
}

function plainOutShape(model: ModelIR<FloatTensor>): number[] {
  return plainForward(model, new Float64Array(sizeOf(model.inputShape)), 1).shape.slice(1);
}
