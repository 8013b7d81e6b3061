/**
 * The three real torch.onnx exports (../shared/fixtures/onnx: DenseNet-121
 * with a CheXNet head, MobileNetV2, the seed CNN on 150x125x1): they import,
 * the plaintext forward pass matches onnxruntime's logits within 1e-4 on two
 * real X-rays and the fixed-point simulation gives the same decisions. The
 * secure runs (all three models, three party processes, within 1e-3 of
 * onnxruntime's probabilities) are in test/e2e-onnx.test.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedLogits } from '../fixed-sim.js';
import { loadModel } from '../load.js';
import { referenceLogits } from '../reference.js';
import { maxAbsDiff } from '../testing/fixtures.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { inferShapes } from '../shapes.js';
import { FIXTURES } from '../testing/fixtures.js';
import { haveOnnxFixtures, onnxGolden, onnxInputHwc, onnxModelFile } from '../testing/onnx.js';

const KERAS_DENSENET = path.join(FIXTURES, 'zoo', 'densenet121-chexnet', 'model.keras');

if (!haveOnnxFixtures) console.warn('ONNX fixture tests skipped: ../shared/fixtures/onnx is absent');

const argmax = (a: ArrayLike<number>): number => { let k = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[k]!) k = i; return k; };

describe.skipIf(!haveOnnxFixtures)('ONNX fixtures: import, plaintext vs onnxruntime (max |logit error| < 1e-4 on two X-rays)', () => {
  const cases: [string, number, string[], 'softmax' | 'sigmoid'][] = [
    ['seed-cnn-torch', 2, ['conv2d', 'maxpool2d', 'flatten', 'dense'], 'softmax'],
    ['torchvision-mobilenet_v2', 2, ['depthwise_conv2d', 'add', 'global_avgpool2d', 'zero_padding2d'], 'softmax'],
    ['torchvision-densenet121-chexnet', 14, ['concatenate', 'avgpool2d', 'maxpool2d', 'depthwise_conv2d'], 'sigmoid'],
  ];
  for (const [m, outputs, kinds, head] of cases) {
    it(`${m}: ${outputs} logits, IR ${kinds.join(', ')}; fixed point (f = 16) gives the same ${head === 'sigmoid' ? 'per-label decisions (first input)' : 'argmax'}`, async () => {
      const loaded = await loadModel(onnxModelFile(m));
      const g = onnxGolden(m);
      const [C, H, W] = g.input_shape_nchw as [number, number, number];
      expect(loaded.format).toBe('onnx');
      expect(loaded.onnx).toMatchObject({ opset: 13, producer: expect.stringMatching(/pytorch/) });
      expect(loaded.ir.inputShape).toEqual([H, W, C]);
      expect(loaded.ir.outputActivation).toBe('linear'); // the graphs end in logits
      for (const k of kinds) expect(loaded.ir.nodes.some((n) => n.kind === k), k).toBe(true);
      for (let i = 0; i < 2; i++) {
        const x = onnxInputHwc(m, i);
        const y = referenceLogits(loaded.ir, x, 1);
        expect(y).toHaveLength(outputs);
        expect(maxAbsDiff(y, g.outputs[i]!), `${m} input ${i}`).toBeLessThan(1e-4);
        // DenseNet-121's second input runs over shares in test/e2e-onnx.test.ts, which checks its decisions; its simulation here would cost ~7 s of CI.
        if (head === 'sigmoid' && i === 1) continue;
        const fx = fixedLogits(loaded.ir, x, 1, { fracBits: 16 });
        if (head === 'softmax') expect(argmax(fx)).toBe(argmax(g.outputs[i]!));
        else expect(Array.from(fx, (v) => v > 0)).toEqual(g.outputs[i]!.map((v) => v > 0));
      }
    }, 300_000);
  }

  it('the preprocessing recorded for an ONNX file follows PyTorch conventions: RGB models x/255 with ImageNet mean/std, grayscale x/255 (both marked assumed)', async () => {
    const rgb = await loadModel(onnxModelFile('torchvision-mobilenet_v2'));
    expect(rgb.preprocessing?.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(rgb.preprocessing?.assumed).toBe(true);
    const gray = await loadModel(onnxModelFile('seed-cnn-torch'));
    expect(gray.preprocessing?.preprocessing).toMatchObject({ colorMode: 'grayscale', scaling: 'unit' });
    expect(gray.preprocessing?.preprocessing.mean).toBeUndefined();
  }, 60_000);
});

describe.skipIf(!haveOnnxFixtures || !existsSync(KERAS_DENSENET))('the ONNX path costs what the Keras path costs on the same architecture', () => {
  it('DenseNet-121 from torch.onnx and from Keras (zoo): the same IR layers with the same shapes (the ONNX side adds only a data-free reshape and flatten after the global pooling; torchvision concatenates all earlier features at once where Keras appends one, the same output copied either way)', async () => {
    const sig = (ir: ModelIR<FloatTensor>): string[] => {
      const shapes = inferShapes(ir);
      return ir.nodes
        .filter((n) => n.kind !== 'reshape' && n.kind !== 'flatten')
        .map((n) => [n.kind, 'activation' in n ? n.activation : '', 'kernel' in n && n.kernel ? n.kernel.shape.join('x') : '', 'strides' in n ? n.strides.join('x') : '', 'padding' in n ? JSON.stringify(n.padding) : '', n.kind === 'concatenate' ? '' : n.inputs.map((i) => shapes.get(i)!.join('x')).join('+'), shapes.get(n.name)!.join('x')].join(' '))
        .sort();
    };
    const onnx = (await loadModel(onnxModelFile('torchvision-densenet121-chexnet'))).ir;
    const keras = (await loadModel(KERAS_DENSENET)).ir;
    expect(sig(onnx)).toEqual(sig(keras));
    expect(onnx.nodes.length - keras.nodes.length).toBe(2);
  }, 120_000);
});
