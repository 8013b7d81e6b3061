/**
 * Add / Sub of two computed NCHW maps of different shapes (ONNX's
 * multidirectional broadcasting, a 1 in C, H or W on one side), refused
 * before and mapped now by repeating the smaller map (a nearest upsampling
 * for H / W, copies concatenated for C: local, free in the protocol). The
 * differential probe against onnxruntime (bench/onnx-oracle.ts) agrees;
 * these expectations are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, node } from '../testing/onnx.js';
import type { NodeMsg, TensorMsg } from './schema.js';

// x: C = 2, H = 1, W = 2: channel 0 = [1, 3], channel 1 = [5, 9]; HWC order for the runner: [1, 5, 3, 9].
const xHwc = Float32Array.from([1, 5, 3, 9]);
const eye4 = floatTensor('eye', [4, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
/** nodes computing 'h' [1, 2, 1, 2], read back in ONNX's CHW order through Flatten + identity Gemm. */
const chw = (nodes: NodeMsg[], inits: TensorMsg[] = []): number[] => {
  const { ir } = loadOnnx(buildModel({ dims: [2, 1, 2], nodes: [...nodes, node('Flatten', ['h'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'eye'], ['y'], [attr('transB', 1)])], initializers: [...inits, eye4] }));
  return Array.from(referenceLogits(ir, xHwc, 1));
};

describe('Add / Sub of NCHW maps broadcasting a 1 in C, H or W', () => {
  it('x - GlobalAveragePool(x) ([1, 2, 1, 1] over H and W): each channel minus its mean (2 and 7)', () => {
    expect(chw([node('GlobalAveragePool', ['x'], ['m']), node('Sub', ['x', 'm'], ['h'])])).toEqual([-1, 1, -2, 2]);
  });

  it('GlobalAveragePool(x) - x (the broadcast operand first)', () => {
    expect(chw([node('GlobalAveragePool', ['x'], ['m']), node('Sub', ['m', 'x'], ['h'])])).toEqual([1, -1, 2, -2]);
  });

  it('x + s with s = Conv1x1(x) of one channel ([1, 1, 1, 2] over C): s = [6, 12] added to both channels', () => {
    expect(chw([node('Conv', ['x', 'w'], ['s']), node('Add', ['x', 's'], ['h'])], [floatTensor('w', [1, 2, 1, 1], [1, 1])])).toEqual([7, 15, 11, 21]);
  });

  it('[1, 2, 1, 1] + [1, 1, 1, 2] (both sides broadcast): GAP means [2, 7] plus the channel sum [6, 12]', () => {
    expect(chw([node('GlobalAveragePool', ['x'], ['m']), node('Conv', ['x', 'w'], ['s']), node('Add', ['m', 's'], ['h'])], [floatTensor('w', [1, 2, 1, 1], [1, 1])])).toEqual([8, 14, 13, 19]);
  });

  it('shapes that do not broadcast (3 against 2 columns) are refused, naming the node and both shapes', () => {
    const bytes = buildModel({ dims: [2, 1, 2], nodes: [node('Conv', ['x', 'w'], ['s'], [attr('pads', [0, 0, 0, 1])]), node('Add', ['x', 's'], ['y'], [], '/Add')], initializers: [floatTensor('w', [2, 2, 1, 1], [1, 0, 0, 1])] });
    expect(() => loadOnnx(bytes)).toThrow(/node #1 '\/Add' \(Add\): Add of \[1,2,1,2\] and \[1,2,1,3\] is not supported \(the same shape, or NCHW maps broadcasting a 1 in C, H or W\)/);
  });
});
