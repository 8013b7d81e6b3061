/**
 * The range sentinel tests' model and inputs (parties/range-sentinel.test.ts in process, test/e2e-range-sentinel.test.ts
 * with party processes): IN -> Dense(H, relu; weights up to 2^16) -> Dense(C). An input in [0, 1e-3] (what the
 * import's samples looked like) keeps the first layer's values far inside the 32-bit comparison ring; one in [0.5, 1]
 * drives them out of it.
 */
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../protocol/ir.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';

export const SENTINEL_IN = 8;
export const SENTINEL_H = 16;
const C = 3;

export function sentinelModel(): ModelIR<FloatTensor> {
  const g = seededPrg(21);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [SENTINEL_IN], output: 'd2', outputActivation: 'softmax', labels: ['a', 'b', 'c'],
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: SENTINEL_H, activation: 'relu', kernel: t([SENTINEL_IN, SENTINEL_H], 2 ** 16), bias: t([SENTINEL_H], 1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: t([SENTINEL_H, C], 2 ** -10), bias: t([C], 0.1) },
    ],
  };
}

/** An input the samples would have looked like (its first layer's values below 2^15 / 8). */
export const smallInput = (seed: number): Float64Array => uniform(seededPrg(seed), SENTINEL_IN, 1e-3).map(Math.abs);
/** An input in [0.5, 1]: inside the declared range [0, 1], far beyond the samples. */
export const largeInput = (seed: number): Float64Array => uniform(seededPrg(seed), SENTINEL_IN, 1).map((v) => 0.5 + Math.abs(v) / 2);
