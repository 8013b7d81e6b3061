import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { fixedLogits } from './fixed-sim.js';
import { referenceLogits } from './reference.js';
import { seedBuilder } from './seed-models.js';
import { seededUniform } from '../protocol/testing/seeded.js';
import { maxAbsDiff } from './testing/fixtures.js';

const t = (shape: number[], v: number[]): FloatTensor => ({ shape, data: Float64Array.from(v) });
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[]): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes.at(-1)!.name, outputActivation: 'linear' });

describe('fixed-point simulation (what the secure runner computes, up to one unit per op)', () => {
  it('rounds inputs and weights to f bits, truncates the product (nearest or floor), then adds the bias', () => {
    // f = 8: x = [128, -64], w = [77, 179], acc = -1600 = -6.25 * 256; nearest -6, floor -7; + b 26.
    const m = model([2], [{ kind: 'dense', name: 'd', inputs: ['input'], units: 1, activation: 'linear', kernel: t([2, 1], [0.3, 0.7]), bias: t([1], [0.1]) }]);
    expect(Array.from(fixedLogits(m, Float32Array.of(0.5, -0.25), 1, { fracBits: 8 }))).toEqual([20 / 256]);
    expect(Array.from(fixedLogits(m, Float32Array.of(0.5, -0.25), 1, { fracBits: 8, rounding: 'floor' }))).toEqual([19 / 256]);
  });

  it('stochastic rounding lands on floor or floor + 1, the + 1 as often as the dropped fraction (the protocol\'s truncations)', () => {
    // acc = -1600 = -6.25 * 256: floor -7, floor + 1 = -6 with probability 0.75; + b 26 (as the first test).
    const m = model([2], [{ kind: 'dense', name: 'd', inputs: ['input'], units: 1, activation: 'linear', kernel: t([2, 1], [0.3, 0.7]), bias: t([1], [0.1]) }]);
    const n = 4000, seen = new Map<number, number>();
    for (let i = 0; i < n; i++) { const y = fixedLogits(m, Float32Array.of(0.5, -0.25), 1, { fracBits: 8, rounding: 'stochastic' })[0]! * 256; seen.set(y, (seen.get(y) ?? 0) + 1); }
    expect([...seen.keys()].sort()).toEqual([19, 20]);
    expect(Math.abs(seen.get(20)! / n - 0.75)).toBeLessThan(0.04); // 6 sigma of the binomial
  });

  it('adds up the local truncation rule\'s risk (|x| / 2^64 per truncated element), products and divisions apart', () => {
    const m = model([2], [{ kind: 'dense', name: 'd', inputs: ['input'], units: 1, activation: 'linear', kernel: t([2, 1], [0.3, 0.7]), bias: t([1], [0.1]) }]);
    const risk = { products: 0, divisions: 0 };
    fixedLogits(m, Float32Array.of(0.5, -0.25), 1, { fracBits: 8, risk });
    // acc = -1600 (first test).
    expect(risk).toEqual({ products: 1600 / 2 ** 64, divisions: 0 });
    const p = model([1, 2, 1], [{ kind: 'avgpool2d', name: 'p', inputs: ['input'], poolSize: [1, 2], strides: [1, 2], padding: 'valid' }]);
    fixedLogits(p, Float32Array.of(1, 2), 1, { fracBits: 8, risk });
    expect(risk).toEqual({ products: 1600 / 2 ** 64, divisions: 768 / 2 ** 64 });
  });

  it('clamps ReLU6 at exactly 6 and ReLU at 0', () => {
    const m = model([3], [{ kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu6' }]);
    expect(Array.from(fixedLogits(m, Float32Array.of(7.3, -2, 2.5), 1))).toEqual([6, 0, 2.5]);
  });

  it('average pooling with same padding divides by the unpadded window size', () => {
    const m = model([3, 3, 1], [{ kind: 'avgpool2d', name: 'p', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'same' }]);
    const y = fixedLogits(m, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), 1, { fracBits: 8 });
    expect(Array.from(y)).toEqual([3, 4.5, 7.5, 9]);
    // (1 + 2 + 4 + 5) / 4 = 3 exactly; (3 + 6) / 2 = 4.5 exactly at f = 8; 1/3 rounds.
    const m3 = model([1, 3, 1], [{ kind: 'avgpool2d', name: 'p', inputs: ['input'], poolSize: [1, 3], strides: [1, 3], padding: 'valid' }]);
    expect(fixedLogits(m3, Float32Array.of(0, 0, 1), 1, { fracBits: 8 })[0]).toBe(85 / 256);
    expect(fixedLogits(m3, Float32Array.of(0, 0, 1), 1, { fracBits: 8, rounding: 'floor' })[0]).toBe(85 / 256);
    expect(fixedLogits(m3, Float32Array.of(0, 1, 1), 1, { fracBits: 8 })[0]).toBe(171 / 256);
    expect(fixedLogits(m3, Float32Array.of(0, 1, 1), 1, { fracBits: 8, rounding: 'floor' })[0]).toBe(170 / 256);
  });

  it('Rescaling divides by 255 like the runner (one division by a public integer)', () => {
    const m = model([2], [{ kind: 'rescaling', name: 'r', inputs: ['input'], scale: 1 / 255, offset: 0 }]);
    const y = fixedLogits(m, Float32Array.of(255, 128), 1, { fracBits: 13, rounding: 'floor' });
    expect(y[0]).toBe(1);
    expect(y[1]).toBe(Math.floor((128 * 8192) / 255) / 8192);
    const m2 = model([1], [{ kind: 'rescaling', name: 'r', inputs: ['input'], scale: 1 / 127.5, offset: -1 }]);
    expect(fixedLogits(m2, Float32Array.of(255), 1)[0]).toBeCloseTo(1, 3);
  });

  it('tracks the float model on the seed CNN; the error shrinks with more fractional bits', async () => {
    const ir = seedBuilder('cnn-maxpool', { seed: 5 }).expectedIR();
    // A fixed input (seeded stream): `e20 < e13` compares two errors of one draw, and e13 (the larger of two logits'
    // errors) lands near 0 for some draws. With fresh random inputs 860 draws gave e20 / e13 up to 0.74 (e13 down to
    // 6.6e-5, e20 up to 4.5e-5), so about 1 run in a few thousand failed by chance. This draw: e13 3.8e-4, e20 / e13 0.06.
    const x = Float32Array.from(seededUniform(13)(150 * 125, 0, 1));
    const fl = await referenceLogits(ir, x, 1);
    const e13 = maxAbsDiff(fl, fixedLogits(ir, x, 1, { fracBits: 13 }));
    const e20 = maxAbsDiff(fl, fixedLogits(ir, x, 1, { fracBits: 20 }));
    expect(e13).toBeLessThan(0.05);
    expect(e20).toBeLessThan(e13);
    expect(e20).toBeLessThan(1e-3);
  });
});
