/**
 * Keras twins of the ONNX fixtures (model-import/keras-from-ir.ts): the
 * torch.onnx MobileNetV2 (width 1.0) and seed CNN written back as Keras 3
 * functional files in keras.applications' style, then imported by the Keras
 * importer. The twin has the ONNX model's architecture (the same IR layers
 * with the same shapes) and its weights: its plaintext logits match
 * onnxruntime's within 1e-4 on the two golden inputs. bench/onnx.ts times
 * the MobileNetV2 pair.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../../protocol/ir.js';
import { irToKeras } from '../keras-from-ir.js';
import { writeKeras3Functional } from '../keras-writer.js';
import { loadModel } from '../load.js';
import { referenceLogits } from '../reference.js';
import { prgFromSeed, uniform } from '../seed-models.js';
import { inferShapes } from '../shapes.js';
import { maxAbsDiff, tempDir } from '../testing/fixtures.js';
import { haveOnnxFixtures, onnxGolden, onnxInputHwc, onnxModelFile } from '../testing/onnx.js';

const tmp = tempDir('keras-twin-');
afterAll(() => tmp.cleanup());

/** Per node (reshape/flatten left out: data-free): kind, activation, kernel shape, strides, padding, input and output shapes. */
function signature(ir: ModelIR<FloatTensor>): string[] {
  const shapes = inferShapes(ir);
  const shape = (n: string) => (n === 'input' ? ir.inputShape : shapes.get(n)!).join('x');
  return ir.nodes
    .filter((n) => n.kind !== 'reshape' && n.kind !== 'flatten')
    .map((n) => [n.kind, 'activation' in n ? n.activation : '', 'kernel' in n && n.kernel ? n.kernel.shape.join('x') : '', 'strides' in n ? n.strides.join('x') : '', 'padding' in n ? JSON.stringify(n.padding) : '', n.inputs.map(shape).join('+'), shape(n.name)].join(' '));
}

async function twin(ir: ModelIR<FloatTensor>, name: string, head: 'linear' | 'softmax' | 'sigmoid'): Promise<ModelIR<FloatTensor>> {
  const file = path.join(tmp.dir, `${name}.keras`);
  await writeKeras3Functional(file, irToKeras(ir, name, head));
  const loaded = await loadModel(file);
  expect(loaded.format).toBe('keras-v3');
  return loaded.ir;
}

describe.skipIf(!haveOnnxFixtures)('Keras twins of the torch.onnx fixtures (same architecture, same weights)', () => {
  for (const [m, head, layers] of [
    ['torchvision-mobilenet_v2', 'softmax', ['Conv2D', 'DepthwiseConv2D', 'ReLU', 'ZeroPadding2D', 'Add', 'GlobalAveragePooling2D', 'Dense']],
    ['seed-cnn-torch', 'softmax', ['Conv2D', 'ReLU', 'MaxPooling2D', 'Flatten', 'Dense']],
  ] as const) {
    it(`${m}: the Keras importer sees the ONNX IR's layers and shapes; plaintext logits within 1e-4 of onnxruntime on both golden inputs`, async () => {
      const onnx = (await loadModel(onnxModelFile(m))).ir;
      const model = irToKeras(onnx, m.replace(/\W/g, '_'), head);
      expect(new Set(model.layers.map((l) => l.className))).toEqual(new Set(layers));
      expect(model.layers.some((l) => l.className === 'BatchNormalization')).toBe(false); // folded by the ONNX importer, written folded
      const keras = await twin(onnx, m.replace(/\W/g, '_'), head);
      expect(keras.outputActivation).toBe(head);
      expect(signature(keras)).toEqual(signature(onnx));
      const g = onnxGolden(m);
      for (let i = 0; i < 2; i++) {
        const x = onnxInputHwc(m, i);
        const y = referenceLogits(keras, x, 1);
        expect(maxAbsDiff(y, g.outputs[i]!), `${m} input ${i} vs onnxruntime`).toBeLessThan(1e-4);
        // The twin's weights are the ONNX IR's rounded to float32: the two plaintexts agree far below the tolerance.
        expect(maxAbsDiff(y, referenceLogits(onnx, x, 1)), `${m} input ${i} vs the ONNX plaintext`).toBeLessThan(1e-5);
      }
    }, 120_000);
  }
});

describe('irToKeras on a small graph (concatenate, pools, a sigmoid inside, flatten before Dense)', () => {
  const g = prgFromSeed(23);
  const w = (shape: number[]): FloatTensor => ({ shape, data: uniform(g, shape.reduce((a, b) => a * b, 1), 0.5) });
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'conv2d', name: 'a', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: w([3, 3, 2, 4]), bias: w([4]) },
    { kind: 'depthwise_conv2d', name: 'b', inputs: ['a'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'sigmoid', kernel: w([3, 3, 4, 1]), bias: w([4]) },
    { kind: 'concatenate', name: 'c', inputs: ['a', 'b'], axis: 2 },
    { kind: 'avgpool2d', name: 'd', inputs: ['c'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
    { kind: 'maxpool2d', name: 'e', inputs: ['d'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'flatten', name: 'f', inputs: ['e'] },
    { kind: 'dense', name: 'g', inputs: ['f'], units: 3, activation: 'linear', kernel: w([72, 3]), bias: w([3]) },
  ];
  const ir: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [8, 8, 2], nodes, output: 'g', outputActivation: 'linear' };

  it('the Keras import computes the same logits; the flatten is written since Dense needs it', async () => {
    const model = irToKeras(ir, 'small', 'sigmoid');
    expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'ReLU', 'DepthwiseConv2D', 'Activation', 'Concatenate', 'AveragePooling2D', 'MaxPooling2D', 'Flatten', 'Dense']);
    expect(model.layers.find((l) => l.className === 'Concatenate')!.config['axis']).toBe(-1);
    const keras = await twin(ir, 'small', 'sigmoid');
    expect(keras.outputActivation).toBe('sigmoid');
    const x = Float32Array.from(uniform(g, 8 * 8 * 2, 1));
    expect(maxAbsDiff(referenceLogits(keras, x, 1), referenceLogits(ir, x, 1))).toBeLessThan(1e-5);
  });

  it('a kind it cannot write is refused with E_UNSUPPORTED_LAYER naming the node', () => {
    const bad: ModelIR<FloatTensor> = { ...ir, nodes: [...nodes.slice(0, 2), { kind: 'multiply', name: 'm', inputs: ['a', 'b'] }], output: 'm' };
    expect(() => irToKeras(bad, 'bad')).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'m' \(multiply\)/) }));
  });
});
