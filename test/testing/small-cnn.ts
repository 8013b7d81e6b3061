/**
 * The seed CNN's pattern at a small square size, for the concurrent-run tests: Conv2D(4, 3x3, same, relu) -
 * MaxPool(2, 1) - Conv2D(4, 3x3, stride 2, valid, relu) - MaxPool(2, 1) - Flatten - Dense(2). Weights drawn from
 * seededPrg(seed) in layer order (so a test's model is the same every run); `denseScale` bounds the Dense weights.
 */
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../protocol/ir.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';

export function smallMaxpoolCnn(side: number, seed: number, denseScale: number): ModelIR<FloatTensor> {
  const g = seededPrg(seed);
  const w = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  const p2 = Math.floor((side - 1 - 3) / 2) + 1 - 1; // after p1 (side - 1), c2 (3x3 stride 2 valid), p2 (2, 1)
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [side, side, 1], output: 'd', outputActivation: 'linear',
    nodes: [
      { kind: 'conv2d', name: 'c1', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: w([3, 3, 1, 4], 0.6), bias: w([4], 0.2) },
      { kind: 'maxpool2d', name: 'p1', inputs: ['c1'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      { kind: 'conv2d', name: 'c2', inputs: ['p1'], filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: 'valid', activation: 'relu', kernel: w([3, 3, 4, 4], 0.4), bias: w([4], 0.2) },
      { kind: 'maxpool2d', name: 'p2', inputs: ['c2'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      { kind: 'flatten', name: 'f', inputs: ['p2'] },
      { kind: 'dense', name: 'd', inputs: ['f'], units: 2, activation: 'linear', kernel: w([p2 * p2 * 4, 2], denseScale), bias: w([2], 0.2) },
    ],
  };
}
