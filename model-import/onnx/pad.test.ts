/**
 * ONNX Pad beyond zeros, refused before and mapped now (the differential
 * probe against onnxruntime, bench/onnx-oracle.ts, agrees on them): 'edge'
 * and 'reflect' as copies of input rows / columns (one-row crops and a
 * concatenation, free in the protocol), a constant value v as x - v, zero
 * padding, + v (public offsets), negative pads as a crop. Expectations are
 * written out by hand from the spec on one-channel maps (NCHW = HWC there).
 */
import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocol/errors.js';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, intTensor, node } from '../testing/onnx.js';

/** Pad of a one-channel H x W map: opset 13 (pads and value as inputs) or 10 (attributes). */
function padded(H: number, W: number, x: number[], pads: number[], mode: string, value?: number, opset = 13): number[] {
  const nodes = opset >= 11
    ? [node('Pad', ['x', 'p', ...(value !== undefined ? ['v'] : [])], ['y'], [attr('mode', mode)])]
    : [node('Pad', ['x'], ['y'], [attr('mode', mode), attr('pads', pads), ...(value !== undefined ? [attr('value', { float: value })] : [])])];
  const inits = opset >= 11 ? [intTensor('p', [8], pads), ...(value !== undefined ? [floatTensor('v', [], [value])] : [])] : [];
  const { ir } = loadOnnx(buildModel({ dims: [1, H, W], nodes, initializers: inits, opset }));
  return Array.from(referenceLogits(ir, Float32Array.from(x), 1));
}
const x23 = [1, 2, 3, 4, 5, 6], x33 = [1, 2, 3, 4, 5, 6, 7, 8, 9];

describe('ONNX Pad: edge, reflect, a constant value, negative pads', () => {
  it("edge, one row before and two columns after: the first row repeated, then each row's last value twice", () => {
    expect(padded(2, 3, x23, [0, 0, 1, 0, 0, 0, 0, 2], 'edge')).toEqual([1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6]);
  });

  it('reflect, two rows before and one column on each side: rows 2, 1 before (the edge row not repeated), columns 1 and 1', () => {
    expect(padded(3, 3, x33, [0, 0, 2, 1, 0, 0, 0, 1], 'reflect')).toEqual([8, 7, 8, 9, 8, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8]);
  });

  it('constant 0.5 (input constant_value, opset 13): the padded cells are 0.5', () => {
    expect(padded(1, 2, [1, 2], [0, 0, 1, 0, 0, 0, 0, 1], 'constant', 0.5)).toEqual([0.5, 0.5, 0.5, 1, 2, 0.5]);
  });

  it("constant -1.25 as the attribute 'value' (opset 10)", () => {
    expect(padded(1, 2, [1, 2], [0, 0, 0, 1, 0, 0, 0, 0], 'constant', -1.25, 10)).toEqual([-1.25, 1, 2]);
  });

  it('negative pads crop: -1 before the rows and -1 after the columns, +1 before the columns', () => {
    expect(padded(3, 3, x33, [0, 0, -1, 1, 0, 0, 0, -1], 'constant')).toEqual([0, 4, 5, 0, 7, 8]);
  });

  it('reflect by as many rows as the map has is refused (E_MODEL_FORMAT); a channel pad is E_UNSUPPORTED_LAYER naming input pads', () => {
    expect(() => padded(2, 3, x23, [0, 0, 2, 0, 0, 0, 0, 0], 'reflect')).toThrow(/\(Pad\): input 'pads' = \[0,0,2,0,0,0,0,0\] reflects more than the 2x3 input minus its edge row\/column/);
    let e: unknown;
    try { padded(2, 3, x23, [0, 1, 0, 0, 0, 0, 0, 0], 'constant'); } catch (err) { e = err; }
    expect((e as MpcError).code).toBe('E_UNSUPPORTED_LAYER');
    expect((e as MpcError).message).toMatch(/node #0 'y' \(Pad\): input 'pads' = \[0,1,0,0,0,0,0,0\] is not supported \(pads of H and W only: the batch and channel pads must be 0\)/);
  });

  it("mode 'wrap' (opset 19) is refused, naming the supported modes", () => {
    expect(() => padded(2, 3, x23, [0, 0, 1, 0, 0, 0, 0, 0], 'wrap')).toThrow(/attribute 'mode' = 'wrap' is not supported \(constant, edge, reflect\)/);
  });
});
