/**
 * Conv and ConvTranspose 'dilations', refused before and mapped now as the
 * equivalent undilated kernel of (k - 1) d + 1 taps with zeros between them
 * (exact, at the larger kernel's cost). Expectations by hand from the
 * spec: Conv y[j] = sum_t x[j s + t d - pad] w[t]; ConvTranspose
 * y[i s + t d - pad] += x[i] w[t]. (The probe against onnxruntime agrees, except
 * where onnxruntime-web 1.20 combines dilations with output_padding: it
 * leaves those cells uninitialised.) Pooling dilations stay refused.
 */
import { describe, expect, it } from 'vitest';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, node } from '../testing/onnx.js';

const x = Float32Array.from([1, 2, 3, 4, 5]);
const run = (op: string, W: number, attrs: ReturnType<typeof attr>[], bias = false): number[] => {
  const inits = [floatTensor('w', [1, 1, 1, 2], [1, 10]), ...(bias ? [floatTensor('b', [1], [0.5])] : [])];
  const { ir } = loadOnnx(buildModel({ dims: [1, 1, W], nodes: [node(op, ['x', 'w', ...(bias ? ['b'] : [])], ['y'], [attr('kernel_shape', [1, 2]), ...attrs])], initializers: inits }));
  return Array.from(referenceLogits(ir, x.subarray(0, W), 1));
};

describe('Conv / ConvTranspose dilations as a zero-expanded kernel', () => {
  it('Conv, kernel [1, 10], dilation 2 on [1..5]: y[j] = x[j] + 10 x[j + 2] = [31, 42, 53]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 2])])).toEqual([31, 42, 53]);
  });

  it('Conv, dilation 2, stride 2, pads [1, 1]: taps at (-1, 1), (1, 3), (3, 5) with x[-1] = x[5] = 0: [0 + 20, 2 + 40, 4 + 0]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 2]), attr('strides', [1, 2]), attr('pads', [0, 1, 0, 1])])).toEqual([20, 42, 4]);
  });

  it('Conv, dilation 3, auto_pad SAME_UPPER on 5 (effective kernel 4: total 3, pads [1, 2]): taps (j - 1, j + 2): [0 + 30, 1 + 40, 2 + 50, 3, 4]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 3]), attr('auto_pad', 'SAME_UPPER')])).toEqual([30, 41, 52, 3, 4]);
  });

  it('ConvTranspose, kernel [1, 10], dilation 2 on [1..4]: y = [1, 2, 3 + 10, 4 + 20, 30, 40]', () => {
    expect(run('ConvTranspose', 4, [attr('dilations', [1, 2])])).toEqual([1, 2, 13, 24, 30, 40]);
  });

  it('ConvTranspose, dilation 2, output_padding 1 (< dilation), bias 0.5: one more cell holding the bias only', () => {
    expect(run('ConvTranspose', 4, [attr('dilations', [1, 2]), attr('output_padding', [0, 1]), attr('strides', [1, 1])], true)).toEqual([1.5, 2.5, 13.5, 24.5, 30.5, 40.5, 0.5]);
  });

  it('MaxPool dilations stay refused (a zero tap is not neutral for a max)', () => {
    expect(() => loadOnnx(buildModel({ dims: [1, 1, 5], nodes: [node('MaxPool', ['x'], ['y'], [attr('kernel_shape', [1, 2]), attr('dilations', [1, 2])])] }))).toThrow(/\(MaxPool\): attribute 'dilations' = \[1,2\] is not supported \(1 only\)/);
  });
});
