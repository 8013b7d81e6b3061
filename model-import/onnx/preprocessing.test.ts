/**
 * The preprocessing recorded for an ONNX file whose graph normalises its own
 * input (a torch model wrapped with its Normalize, `(x - mean) / std` or
 * `x / 255` as the first nodes). Recording torchvision's mean/std there
 * normalises twice, silently.
 */
import { describe, expect, it } from 'vitest';
import { pixelsToInput } from '../../protocol/input-preprocessing.js';
import { referenceLogits } from '../reference.js';
import { attr, buildModel, encodeModel, floatTensor, node } from '../testing/onnx.js';
import { loadOnnx } from './load.js';
import type { ModelMsg, NodeMsg, TensorMsg } from './schema.js';

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];
const W = Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => ((i * 5) % 7) / 7 - 0.4);

/** x [N, C, 2, 2] -> `head` nodes reading 'x' and ending in 'h' -> Flatten -> Gemm to 2 logits. */
function model(C: number, head: NodeMsg[], inits: TensorMsg[], viaConstantNode = false): Uint8Array {
  const w = W.slice(0, C * 4 * 2);
  const nodes = [...head, node('Flatten', ['h'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'w'], ['y'], [attr('transB', 1)])];
  if (viaConstantNode) {
    // The constants as Constant nodes (torch.onnx's form for tensors created in forward) instead of initializers.
    const consts = inits.map((t) => node('Constant', [], [t.name!], [attr('value', { ...t, name: '' } as TensorMsg)]));
    return buildModel({ dims: [C, 2, 2], nodes: [...consts, ...nodes], initializers: [floatTensor('w', [2, C * 4], w)] });
  }
  return buildModel({ dims: [C, 2, 2], nodes, initializers: [...inits, floatTensor('w', [2, C * 4], w)] });
}

const normalise: NodeMsg[] = [node('Sub', ['x', 'mean'], ['s']), node('Div', ['s', 'std'], ['h'])];
const normInits = [floatTensor('mean', [1, 3, 1, 1], MEAN), floatTensor('std', [1, 3, 1, 1], STD)];

describe('ONNX: a graph that normalises its own input', () => {
  it('plain RGB graph: torchvision convention (x/255, ImageNet mean/std), assumed', () => {
    const p = loadOnnx(model(3, [node('Identity', ['x'], ['h'])], [])).preprocessing!;
    expect(p.preprocessing).toMatchObject({ scaling: 'unit', mean: MEAN, std: STD });
    expect(p.assumed).toBe(true);
  });

  for (const viaConstantNode of [false, true]) {
    it(`(x - mean) / std in the graph${viaConstantNode ? ' (Constant nodes)' : ''}: x/255 only (ToTensor), so the pixels are normalised once; the IR then equals the model on x/255`, () => {
      const o = loadOnnx(model(3, normalise, normInits, viaConstantNode));
      const p = o.preprocessing!;
      expect(p.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' });
      expect(p.source).toMatch(/normalises its input itself/);
      expect(p.assumed).toBe(true);
      // End to end on one pixel pattern: the recorded preprocessing then the IR = Gemm(((px / 255) - mean) / std) by hand.
      const px = Array.from({ length: 12 }, (_, i) => (i * 37) % 256);
      const y = referenceLogits(o.ir, pixelsToInput(px, p.preprocessing), 1);
      for (let u = 0; u < 2; u++) {
        let want = 0;
        // IR input is HWC; the Gemm reads the NCHW flatten: (c * 2 + h) * 2 + w.
        for (let c = 0; c < 3; c++) for (let hw = 0; hw < 4; hw++) want += ((px[hw * 3 + c]! / 255 - MEAN[c]!) / STD[c]!) * W[u * 12 + c * 4 + hw]!;
        expect(y[u]).toBeCloseTo(want, 4);
      }
    });
  }

  it('a Shape node also reading the input (dynamic-batch arithmetic) does not hide the normalisation', () => {
    const head = [node('Shape', ['x'], ['xs']), ...normalise];
    const p = loadOnnx(model(3, head, normInits)).preprocessing!;
    expect(p.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' });
  });

  it('the same normalisation as per-channel Mul then Add (x * (1/std) + (-mean/std)) is found too', () => {
    const head = [node('Mul', ['x', 'a'], ['m']), node('Add', ['m', 'b'], ['h'])];
    const inits = [floatTensor('a', [3, 1, 1], STD.map((s) => 1 / s)), floatTensor('b', [3, 1, 1], MEAN.map((m, c) => -m / STD[c]!))];
    const p = loadOnnx(model(3, head, inits)).preprocessing!;
    expect(p.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' });
  });

  it('x / 255 (or x * (1/255)) in the graph: raw pixels in, for grayscale and RGB', () => {
    for (const [C, head, inits] of [
      [1, [node('Div', ['x', 'k'], ['h'])], [floatTensor('k', [], [255])]],
      [3, [node('Mul', ['x', 'k'], ['m']), node('Sub', ['m', 'mean'], ['s']), node('Div', ['s', 'std'], ['h'])], [floatTensor('k', [], [1 / 255]), ...normInits]],
    ] as const) {
      const p = loadOnnx(model(C, [...head], [...inits])).preprocessing!;
      expect(p.preprocessing.scaling, `C = ${C}`).toBe('raw');
      expect(p.preprocessing.mean).toBeUndefined();
      expect(p.source).toMatch(/normalises its input itself/);
    }
  });

  it('a constant op that is no normalisation (x * 2 on a grayscale input) keeps the default', () => {
    const p = loadOnnx(model(1, [node('Mul', ['x', 'k'], ['h'])], [floatTensor('k', [], [2])])).preprocessing!;
    expect(p.preprocessing).toEqual({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' });
    expect(p.source).not.toMatch(/normalises/);
  });
});

describe('ONNX: a Resize to fixed sizes on an input of any size sizes the image', () => {
  /** x [N, 3, H?, W?] -> Resize(sizes [1, 3, 2, 2]) -> Flatten -> Gemm. */
  function anySize(attrs: ReturnType<typeof attr>[], hw: (number | null)[] = [null, null]): Uint8Array {
    const dim = [{ dim_param: 'N' }, { dim_value: 3 }, ...hw.map((d, i) => (d === null ? { dim_param: `s${i}` } : { dim_value: d }))];
    const m = {
      ir_version: 7, producer_name: 'test', opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [node('Resize', ['x', '', '', 'sz'], ['h'], attrs), node('Flatten', ['h'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'w'], ['y'], [attr('transB', 1)])],
        initializer: [{ name: 'sz', dims: [4], data_type: 7, int64_data: [1, 3, 2, 2] } as unknown as TensorMsg, floatTensor('w', [2, 12], W)],
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim } } } }],
        output: [{ name: 'y' }],
      },
    };
    return encodeModel(m as unknown as ModelMsg);
  }
  const linear = [attr('mode', 'linear'), attr('coordinate_transformation_mode', 'pytorch_half_pixel')];

  it("linear, half-pixel (F.interpolate(size=..., mode='bilinear')) -> tf-bilinear; with antialias refused (by the converter)", () => {
    const p = loadOnnx(anySize(linear), { inputShape: [2, 2, 3] }).preprocessing!;
    expect(p.preprocessing.resize).toBe('tf-bilinear');
    expect(p.source).toMatch(/tf-bilinear resize from its Resize node/);
    expect(() => loadOnnx(anySize([...linear, attr('antialias', 1)]), { inputShape: [2, 2, 3] })).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER' }));
  });

  it('a fixed input size keeps the default (the client sized the image)', () => {
    expect(loadOnnx(anySize(linear, [2, 2])).preprocessing!.preprocessing.resize).toBe('bilinear');
  });

  it('nearest (asymmetric, floor), align_corners, or --input-shape other than the sizes: E_UNSUPPORTED_LAYER naming the node', () => {
    expect(() => loadOnnx(anySize([attr('mode', 'nearest'), attr('coordinate_transformation_mode', 'asymmetric'), attr('nearest_mode', 'floor')]), { inputShape: [2, 2, 3] })).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/\(Resize\)/) }));
    expect(() => loadOnnx(anySize([attr('mode', 'linear'), attr('coordinate_transformation_mode', 'align_corners')]), { inputShape: [2, 2, 3] })).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER' }));
    expect(() => loadOnnx(anySize(linear), { inputShape: [1, 1, 3] })).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/--input-shape 2,2,3/) }));
  });
});
