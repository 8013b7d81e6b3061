import { randomFillSync } from 'node:crypto';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../protocol/ir.js';
import type { JsonObject } from './keras-config.js';
import { writeKeras3Archive } from './keras-writer.js';
import { loadModel } from './load.js';
import { referencePredict } from './reference.js';
import { prgFromSeed, uniform } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const g = prgFromSeed(21);
const w = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
const kt = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });
const layer = (className: string, name: string, config: JsonObject, args: unknown[]): JsonObject => ({
  module: 'keras.layers',
  class_name: className,
  config: { name, trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, ...config },
  registered_name: null,
  name,
  inbound_nodes: args.length ? [{ args: args as JsonObject[], kwargs: {} }] : [],
});
const conv = (filters: number, activation: string): JsonObject => ({ filters, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation, use_bias: true });

/** A Keras 3 functional residual block: conv_a(relu) -> conv_b -> add(conv_a, conv_b) -> ReLU -> GAP -> Dense(softmax). */
function residual(name: string, headActivation = 'softmax'): JsonObject {
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name,
      trainable: true,
      layers: [
        layer('InputLayer', 'input_layer', { batch_shape: [null, 8, 8, 3], sparse: false }, []),
        layer('Conv2D', 'conv_a', conv(4, 'relu'), [kt('input_layer')]),
        layer('Conv2D', 'conv_b', conv(4, 'linear'), [kt('conv_a')]),
        layer('Add', 'add', {}, [[kt('conv_a'), kt('conv_b')]]),
        layer('ReLU', 'relu', { max_value: null, negative_slope: 0, threshold: 0 }, [kt('add')]),
        layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }, [kt('relu')]),
        layer('Dense', 'head', { units: 3, activation: headActivation, use_bias: true }, [kt('gap')]),
      ],
      input_layers: [['input_layer', 0, 0]],
      output_layers: [['head', 0, 0]],
    },
    registered_name: 'Functional',
  };
}

const weights = { a: [w([3, 3, 3, 4], 0.5), w([4], 0.1)], b: [w([3, 3, 4, 4], 0.5), w([4], 0.1)], head: [w([4, 3], 0.8), w([3], 0.1)] };

function expected(x: Float32Array, batch: number, outer?: FloatTensor[]): Float32Array {
  // Without `outer`: the block with its softmax head; with it: linear head, then Dense(1, sigmoid).
  return tf.tidy(() => {
    const t = (v: FloatTensor): tf.Tensor => tf.tensor(Float32Array.from(v.data), v.shape);
    const inp = tf.tensor(x, [batch, 8, 8, 3]) as tf.Tensor4D;
    const a = tf.relu(tf.add(tf.conv2d(inp, t(weights.a[0]!) as tf.Tensor4D, 1, 'same'), t(weights.a[1]!))) as tf.Tensor4D;
    const b = tf.add(tf.conv2d(a, t(weights.b[0]!) as tf.Tensor4D, 1, 'same'), t(weights.b[1]!));
    const pooled = tf.mean(tf.relu(tf.add(a, b)), [1, 2]);
    let y = tf.add(tf.matMul(pooled as tf.Tensor2D, t(weights.head[0]!) as tf.Tensor2D), t(weights.head[1]!));
    if (!outer) y = tf.softmax(y);
    if (outer) y = tf.sigmoid(tf.add(tf.matMul(y as tf.Tensor2D, t(outer[0]!) as tf.Tensor2D), t(outer[1]!)));
    return Float32Array.from(y.dataSync());
  });
}

function input(n: number): Float32Array {
  const u = new Uint32Array(n);
  randomFillSync(u);
  return Float32Array.from(u, (v) => v / 2 ** 32);
}

describe('Keras 3 functional models (args / keras_history inbound nodes)', () => {
  it('imports a residual block with Add and keeps the graph', async () => {
    const f = path.join(tmp.dir, 'residual.keras');
    await writeKeras3Archive(f, residual('resnetish'), [
      { path: 'layers/conv2d', name: 'conv_a', tensors: weights.a },
      { path: 'layers/conv2d_1', name: 'conv_b', tensors: weights.b },
      { path: 'layers/dense', name: 'head', tensors: weights.head },
    ]);
    const { ir } = await loadModel(f);
    expect(ir.nodes.map((n) => [n.name, n.kind, n.inputs])).toEqual([
      ['conv_a', 'conv2d', ['input']],
      ['conv_b', 'conv2d', ['conv_a']],
      ['add', 'add', ['conv_a', 'conv_b']],
      ['relu', 'activation', ['add']],
      ['gap', 'global_avgpool2d', ['relu']],
      ['head', 'dense', ['gap']],
    ]);
    expect(ir.outputActivation).toBe('softmax');
    const x = input(2 * 8 * 8 * 3);
    const y = await referencePredict(ir, x, 2);
    const want = expected(x, 2);
    for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(want[i]!, 6);
  });

  const outerW = [w([3, 1], 0.8), w([1], 0.1)];
  const nested = (headActivation: string): JsonObject => ({
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'outer',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 8, 8, 3], name: 'outer_input' }, registered_name: null },
          residual('inner', headActivation),
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'final', units: 1, activation: 'sigmoid', use_bias: true }, registered_name: null },
        ],
      },
      registered_name: null,
  });
  const nestedVars = [
    { path: 'layers/functional/layers/conv2d', name: 'conv_a', tensors: weights.a },
    { path: 'layers/functional/layers/conv2d_1', name: 'conv_b', tensors: weights.b },
    { path: 'layers/functional/layers/dense', name: 'head', tensors: weights.head },
    { path: 'layers/dense', name: 'final', tensors: outerW },
  ];

  it('imports a functional model nested in a Sequential (weights at layers/functional/layers/...)', async () => {
    const f = path.join(tmp.dir, 'nested-ok.keras');
    await writeKeras3Archive(f, nested('linear'), nestedVars);
    const { ir } = await loadModel(f);
    expect(ir.nodes.map((n) => n.name)).toEqual(['conv_a', 'conv_b', 'add', 'relu', 'gap', 'head', 'final']);
    expect(ir.outputActivation).toBe('sigmoid');
    const x = input(8 * 8 * 3);
    const y = await referencePredict(ir, x, 1);
    expect(y[0]).toBeCloseTo(expected(x, 1, outerW)[0]!, 6);
  });

  it('a softmax inside a nested model is refused when more layers follow it', async () => {
    const f = path.join(tmp.dir, 'nested.keras');
    await writeKeras3Archive(f, nested('softmax'), nestedVars);
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'head' \(Dense\) in inner: softmax/) });
  });
});
