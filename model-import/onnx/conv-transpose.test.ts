/**
 * ConvTranspose forms the differential probe against onnxruntime
 * (bench/onnx-oracle.ts) found refused, now mapped, with expectations
 * computed by hand from the ONNX spec: output_shape (the pads follow from
 * it: total = stride (in - 1) + output_padding + kernel - output_shape, the
 * larger half at the start unless auto_pad is SAME_UPPER) and group > 1
 * (weight [C, M / group, kh, kw]; each input channel feeds the outputs of
 * its group only).
 */
import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocol/errors.js';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, node } from '../testing/onnx.js';

// x = [[1, 2], [3, 4]], w = [[1, 2], [3, 4]], kernel 2, stride 2: the full 4x4 output puts x[i][j] * w at rows 2i..2i+1,
// columns 2j..2j+1:
//   1  2  2  4
//   3  4  6  8
//   3  6  4  8
//   9 12 12 16
const x = Float32Array.from([1, 2, 3, 4]);
const w2 = floatTensor('w', [1, 1, 2, 2], [1, 2, 3, 4]);
const convT = (attrs: ReturnType<typeof attr>[]) => loadOnnx(buildModel({ dims: [1, 2, 2], nodes: [node('ConvTranspose', ['x', 'w'], ['y'], [attr('kernel_shape', [2, 2]), attr('strides', [2, 2]), ...attrs])], initializers: [w2] })).ir;

describe('ConvTranspose output_shape (the spec\'s pads rule)', () => {
  it('output_shape [3, 3] (total 2 * 1 + 0 + 2 - 3 = 1, NOTSET: the pad at the start): rows and columns 1..3 of the full output', () => {
    expect(Array.from(referenceLogits(convT([attr('output_shape', [3, 3])]), x, 1))).toEqual([4, 6, 8, 6, 4, 8, 12, 12, 16]);
  });

  it('output_shape [3, 3] with auto_pad SAME_UPPER (the pad at the end): rows and columns 0..2', () => {
    expect(Array.from(referenceLogits(convT([attr('output_shape', [3, 3]), attr('auto_pad', 'SAME_UPPER')]), x, 1))).toEqual([1, 2, 2, 3, 4, 6, 3, 6, 4]);
  });

  it('output_shape [4, 3] (pads 0 for rows, 1 for columns; pads given too are ignored, as the spec says)', () => {
    expect(Array.from(referenceLogits(convT([attr('output_shape', [4, 3]), attr('pads', [1, 1, 1, 1])]), x, 1))).toEqual([2, 2, 4, 4, 6, 8, 6, 4, 8, 12, 12, 16]);
  });

  it('output_shape larger than the full output (5 > 4 rows) is refused, naming the node, op and attribute', () => {
    let e: unknown;
    try { convT([attr('output_shape', [5, 4])]); } catch (err) { e = err; }
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe('E_UNSUPPORTED_LAYER');
    expect((e as MpcError).message).toMatch(/node #0 'y' \(ConvTranspose\): attribute 'output_shape' = \[5,4\] asks for 5 rows, more than the 4 the transposed convolution produces/);
  });
});

describe('ConvTranspose group > 1', () => {
  it('group 2, two outputs per group, 1x1 kernel on a 1x1 map: output o = x[floor(o / 2)] * w[floor(o / 2), o % 2] (+ bias)', () => {
    const w = floatTensor('w', [2, 2, 1, 1], [0.5, -1, 2, 3]), b = floatTensor('b', [4], [0.25, 0, 0, -1]);
    const { ir } = loadOnnx(buildModel({ dims: [2, 1, 1], nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['y'], [attr('group', 2)])], initializers: [w, b] }));
    // x = [3, 5]: [3 * 0.5 + 0.25, 3 * -1, 5 * 2, 5 * 3 - 1]
    expect(Array.from(referenceLogits(ir, Float32Array.from([3, 5]), 1))).toEqual([1.75, -3, 10, 14]);
  });

  it('group 3 does not divide 2 input channels: E_MODEL_FORMAT naming the attribute', () => {
    const w = floatTensor('w', [2, 1, 1, 1], [1, 1]);
    expect(() => loadOnnx(buildModel({ dims: [2, 1, 1], nodes: [node('ConvTranspose', ['x', 'w'], ['y'], [attr('group', 3)])], initializers: [w] }))).toThrow(/\(ConvTranspose\): attribute 'group' = 3 does not divide the 2 input channels/);
  });
});
