/**
 * Cases found by the differential probe against onnxruntime
 * (bench/onnx-oracle.ts), stated here from the ONNX spec alone (no runtime
 * needed): auto_pad SAME where stride > kernel makes the spec's total
 * padding negative. The spec gives pads = total / 2 split by SAME_UPPER /
 * SAME_LOWER and says nothing of a negative total; TF clamps it to 0 and
 * onnxruntime 1.20 shifts the windows into the input (Conv and pooling by
 * different amounts; ConvTranspose clamps, shrinking the output below the
 * spec's input * stride). The importer used to clamp silently (a different
 * answer from onnxruntime); it now refuses these windows by name, and keeps
 * the unambiguous total of -1 (every reading starts at cell 0). And the
 * ceil_mode rule where onnxruntime 1.20 departs from the spec (it keeps a
 * window starting in the right padding and outputs -3.4e38 for it): the
 * importer follows the spec and PyTorch.
 */
import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocol/errors.js';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, node } from '../testing/onnx.js';

const one = floatTensor('w', [1, 1, 1, 1], [1]);
const model = (op: string, H: number, W: number, attrs: ReturnType<typeof attr>[], weight = true): Uint8Array =>
  buildModel({ dims: [1, H, W], nodes: [node(op, weight ? ['x', 'w'] : ['x'], ['y'], attrs)], initializers: weight ? [one] : [] });

function refusal(bytes: Uint8Array): MpcError {
  try { loadOnnx(bytes); } catch (e) { if (e instanceof MpcError) return e; throw e; }
  throw new Error('imported, expected a refusal');
}

describe('auto_pad SAME with a negative total padding (stride > kernel)', () => {
  it('Conv SAME_UPPER, 1x1 kernel, stride 5 on 5 rows (total (1-1)*5 + 1 - 5 = -4): refused, naming node, op, attribute and total', () => {
    const e = refusal(model('Conv', 5, 5, [attr('kernel_shape', [1, 1]), attr('strides', [5, 5]), attr('auto_pad', 'SAME_UPPER')]));
    expect(e.code).toBe('E_UNSUPPORTED_LAYER');
    expect(e.message).toMatch(/node #0 'y' \(Conv\): attribute 'auto_pad' = 'SAME_UPPER' with stride 5 and kernel 1 on 5 rows gives a negative total padding \(-4\)/);
    expect(e.message).toMatch(/explicit pads/);
  });

  it('MaxPool SAME_LOWER, kernel 1, stride 5 on 7 columns (total 5 + 1 - 7 = -1) imports: windows at cells 0 and 5', () => {
    // 7 columns, stride 5: out 2, windows start at 0 and 5 (total -1: no reading moves them).
    const { ir } = loadOnnx(model('MaxPool', 1, 7, [attr('kernel_shape', [1, 1]), attr('strides', [1, 5]), attr('auto_pad', 'SAME_LOWER')], false));
    expect(Array.from(referenceLogits(ir, Float32Array.from([10, 11, 12, 13, 14, 15, 16]), 1))).toEqual([10, 15]);
  });

  it('MaxPool SAME_LOWER, kernel 1, stride 5 on 5 columns (total -4): refused (onnxruntime reads cell 1, TF cell 0)', () => {
    const e = refusal(model('MaxPool', 3, 5, [attr('kernel_shape', [1, 1]), attr('strides', [1, 5]), attr('auto_pad', 'SAME_LOWER')], false));
    expect(e.code).toBe('E_UNSUPPORTED_LAYER');
    expect(e.message).toMatch(/\(MaxPool\): attribute 'auto_pad' = 'SAME_LOWER' with stride 5 and kernel 1 on 5 columns gives a negative total padding \(-4\)/);
  });

  it('AveragePool SAME_UPPER, kernel 2, stride 5 on 5 rows (total -3): refused', () => {
    const e = refusal(model('AveragePool', 5, 5, [attr('kernel_shape', [2, 2]), attr('strides', [5, 5]), attr('auto_pad', 'SAME_UPPER')], false));
    expect(e.message).toMatch(/\(AveragePool\): .* negative total padding \(-3\)/);
  });

  it('Conv SAME_UPPER, 1x1 kernel, stride 2 on 4x4 (total -1) imports and reads cells 0 and 2 of each axis', () => {
    const { ir } = loadOnnx(model('Conv', 4, 4, [attr('kernel_shape', [1, 1]), attr('strides', [2, 2]), attr('auto_pad', 'SAME_UPPER')]));
    const x = Float32Array.from({ length: 16 }, (_, i) => i); // row-major 4x4, one channel: HWC = CHW
    expect(Array.from(referenceLogits(ir, x, 1))).toEqual([0, 2, 8, 10]);
  });

  it('ConvTranspose SAME_UPPER, 1x1 kernel, stride 2 (total 2*(3-1) + 0 + 1 - 6 = -1): refused (the spec wants 6 rows, onnxruntime gives 5)', () => {
    const e = refusal(model('ConvTranspose', 3, 3, [attr('kernel_shape', [1, 1]), attr('strides', [2, 2]), attr('auto_pad', 'SAME_UPPER')]));
    expect(e.code).toBe('E_UNSUPPORTED_LAYER');
    expect(e.message).toMatch(/node #0 'y' \(ConvTranspose\): attribute 'auto_pad' = 'SAME_UPPER' with stride 2 > kernel 1 \+ output_padding 0 on 3 rows gives a negative total padding \(-1\)/);
  });

  it('ConvTranspose SAME_UPPER, 1x1 kernel, stride 2, output_padding 1 (total 0) imports: input * stride rows, x at the even cells', () => {
    const { ir } = loadOnnx(model('ConvTranspose', 2, 2, [attr('kernel_shape', [1, 1]), attr('strides', [2, 2]), attr('output_padding', [1, 1]), attr('auto_pad', 'SAME_UPPER')]));
    expect(Array.from(referenceLogits(ir, Float32Array.from([1, 2, 3, 4]), 1))).toEqual([1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
  });
});

describe('ceil_mode: a window that would start in the right padding is dropped (the ONNX spec; onnxruntime 1.20 keeps it)', () => {
  // MaxPool / AveragePool spec: "Sliding windows that would start in the right padded region are ignored" (as PyTorch).
  it('MaxPool kernel 2, stride 2, pads right 1 on 4 columns: ceil((4 + 1 - 2) / 2) + 1 = 3 windows, the third starts at 4 (the right pad): 2 outputs', () => {
    const { ir } = loadOnnx(model('MaxPool', 1, 4, [attr('kernel_shape', [1, 2]), attr('strides', [1, 2]), attr('pads', [0, 0, 0, 1]), attr('ceil_mode', 1)], false));
    expect(Array.from(referenceLogits(ir, Float32Array.from([1, 5, 3, 2]), 1))).toEqual([5, 3]);
  });

  it('MaxPool kernel 2, stride 2 on 5 columns: the last window starts inside the input (at 4) and is kept: 3 outputs', () => {
    const { ir } = loadOnnx(model('MaxPool', 1, 5, [attr('kernel_shape', [1, 2]), attr('strides', [1, 2]), attr('ceil_mode', 1)], false));
    expect(Array.from(referenceLogits(ir, Float32Array.from([1, 5, 3, 2, -4]), 1))).toEqual([5, 3, -4]);
  });
});
