/**
 * Keras files with the layers the medical CNNs need, written by the
 * project's Keras writer (Sequential .keras and .h5, and a Keras 3
 * functional graph for the merges), imported and run by the plaintext
 * reference, against tfjs's own ops (an independent implementation of the
 * Keras semantics) or Keras's documented formulas.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../protocol/ir.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import type { JsonObject } from './keras-config.js';
import { writeKeras3Archive } from './keras-writer.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { prgFromSeed, SequentialBuilder, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

tf.env().set('PROD', true);
void tf.setBackend('cpu');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string): string => path.join(tmp.dir, `m${++n}.${ext}`);
const g = seededPrg(40);
const w = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: Float64Array.from(uniform(g, shape.reduce((x, y) => x * y, 1), a), Math.fround) });
const T = (v: FloatTensor) => tf.tensor(Float32Array.from(v.data), v.shape);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

const IN: [number, number, number] = [6, 5, 3];
const x = Float32Array.from(uniform(seededPrg(41), 2 * 90, 2));
const X = () => tf.tensor(x, [2, ...IN]) as tf.Tensor4D;

interface Case { what: string; cls: string; config: JsonObject; weights: { name: string; value: FloatTensor }[]; kind: string; want: () => tf.Tensor }
const sep = [w([3, 3, 3, 2]), w([1, 1, 6, 4]), w([4], 0.1)];
const ct = [w([3, 3, 2, 3]), w([2], 0.1)];
const ct2 = [w([2, 2, 2, 3])];
const ct3 = [w([2, 1, 2, 3]), w([2], 0.1)];
const alpha = w([1, 1, 3]);
const CASES: Case[] = [
  { what: 'SeparableConv2D (depth_multiplier 2, same, relu)', cls: 'SeparableConv2D', config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, activation: 'relu', use_bias: true }, weights: [{ name: 'depthwise_kernel', value: sep[0]! }, { name: 'pointwise_kernel', value: sep[1]! }, { name: 'bias', value: sep[2]! }], kind: 'conv2d',
    want: () => tf.relu(tf.add(tf.separableConv2d(X(), T(sep[0]!) as tf.Tensor4D, T(sep[1]!) as tf.Tensor4D, 1, 'same'), T(sep[2]!))) },
  { what: 'Conv2DTranspose 3x3 stride 2 same', cls: 'Conv2DTranspose', config: { filters: 2, kernel_size: [3, 3], strides: [2, 2], padding: 'same', activation: 'linear', use_bias: true, output_padding: null }, weights: [{ name: 'kernel', value: ct[0]! }, { name: 'bias', value: ct[1]! }], kind: 'conv2d_transpose',
    want: () => tf.add(tf.conv2dTranspose(X(), T(ct[0]!) as tf.Tensor4D, [2, 12, 10, 2], 2, 'same'), T(ct[1]!)) },
  { what: 'Conv2DTranspose 2x2 stride 2 valid, no bias', cls: 'Conv2DTranspose', config: { filters: 2, kernel_size: [2, 2], strides: [2, 2], padding: 'valid', activation: 'linear', use_bias: false }, weights: [{ name: 'kernel', value: ct2[0]! }], kind: 'conv2d_transpose',
    want: () => tf.conv2dTranspose(X(), T(ct2[0]!) as tf.Tensor4D, [2, 12, 10, 2], 2, 'valid') },
  // Strides larger than the kernel, 'valid': Keras's output length is in * stride + max(k - stride, 0) (deconv_output_length),
  // 6 * 3 = 18 and 5 * 2 = 10: the last s - k rows/columns hold only the bias.
  { what: 'Conv2DTranspose 2x1 strides (3, 2) valid (stride > kernel)', cls: 'Conv2DTranspose', config: { filters: 2, kernel_size: [2, 1], strides: [3, 2], padding: 'valid', activation: 'linear', use_bias: true }, weights: [{ name: 'kernel', value: ct3[0]! }, { name: 'bias', value: ct3[1]! }], kind: 'conv2d_transpose',
    want: () => tf.add(tf.conv2dTranspose(X(), T(ct3[0]!) as tf.Tensor4D, [2, 18, 10, 2], [3, 2], 'valid'), T(ct3[1]!)) },
  { what: 'UpSampling2D bilinear 2x2 (half-pixel centres)', cls: 'UpSampling2D', config: { size: [2, 2], interpolation: 'bilinear' }, weights: [], kind: 'upsampling2d', want: () => tf.image.resizeBilinear(X(), [12, 10], false, true) },
  { what: 'UpSampling2D nearest 2x3', cls: 'UpSampling2D', config: { size: [2, 3], interpolation: 'nearest' }, weights: [], kind: 'upsampling2d', want: () => tf.image.resizeNearestNeighbor(X(), [12, 15], false, false) },
  { what: 'Cropping2D ((1, 2), (0, 1))', cls: 'Cropping2D', config: { cropping: [[1, 2], [0, 1]] }, weights: [], kind: 'cropping2d', want: () => tf.slice(X(), [0, 1, 0, 0], [2, 3, 4, 3]) },
  { what: 'LeakyReLU (negative_slope 0.2)', cls: 'LeakyReLU', config: { negative_slope: 0.2 }, weights: [], kind: 'leaky_relu', want: () => tf.leakyRelu(X(), 0.2) },
  { what: 'PReLU (shared_axes [1, 2])', cls: 'PReLU', config: { shared_axes: [1, 2] }, weights: [{ name: 'alpha', value: alpha }], kind: 'prelu', want: () => tf.prelu(X(), T(alpha)) },
];

describe('Keras layers for the medical CNNs: import + plaintext reference vs tfjs', () => {
  for (const c of CASES) {
    it(c.what, async () => {
      for (const ext of ['keras', 'h5']) {
        const b = new SequentialBuilder('m', IN, prgFromSeed(1)).raw(c.cls, c.config, c.weights, 'layer');
        const f = file(ext);
        await writeModelFile(b, f, { kerasVersion: '2.12.0' });
        const { ir } = await loadModel(f);
        expect(ir.nodes.map((nd) => nd.kind)).toContain(c.kind);
        const want = tf.tidy(() => Float32Array.from(c.want().dataSync()));
        const got = referenceLogits(ir, x, 2);
        expect(got).toHaveLength(want.length);
        expect(maxAbs(got, want), `${c.what} (.${ext})`).toBeLessThan(1e-5);
      }
    });
  }

  it('hard_sigmoid follows the file\'s Keras version (3: relu6(x + 3) / 6; 2: clip(0.2 x + 0.5, 0, 1)); hard_silu = x * relu6(x + 3) / 6', async () => {
    const xs = Float32Array.of(-4, -3, -1, 0, 1, 2.5, 3, 4);
    const run = async (ext: string, act: string) => {
      const b = new SequentialBuilder('h', [8], prgFromSeed(1)).raw('Activation', { activation: act }, [], 'a');
      const f = file(ext);
      await writeModelFile(b, f, { kerasVersion: '2.12.0' });
      const { ir } = await loadModel(f);
      return Array.from(referenceLogits(ir, xs, 1));
    };
    const k3 = Array.from(xs, (v) => Math.min(Math.max(v + 3, 0), 6) / 6), k2 = Array.from(xs, (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1));
    expect(maxAbs(await run('keras', 'hard_sigmoid'), k3)).toBeLessThan(1e-6);
    expect(maxAbs(await run('h5', 'hard_sigmoid'), k2)).toBeLessThan(1e-6);
    expect(maxAbs(await run('keras', 'hard_silu'), Array.from(xs, (v, i) => v * k3[i]!))).toBeLessThan(1e-6);
    expect(maxAbs(await run('keras', 'hard_swish'), Array.from(xs, (v, i) => v * k3[i]!))).toBeLessThan(1e-6);
  });

  it('merges in a Keras 3 functional graph: Subtract, Average, Maximum, Concatenate (channels), Multiply (x by a [1, 1, C] gate), x + 3.0 and x * 0.5', async () => {
    const kt = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });
    const layer = (className: string, name: string, config: JsonObject, args: unknown[]): JsonObject => ({
      module: 'keras.layers', class_name: className, config: { name, trainable: true, dtype: 'float32', ...config }, registered_name: null, name,
      inbound_nodes: args.length ? [{ args: args as JsonObject[], kwargs: {} }] : [],
    });
    const c = [w([1, 1, 3, 3]), w([3], 0.1)];
    const cfg: JsonObject = {
      module: 'keras.src.models.functional', class_name: 'Functional',
      config: {
        name: 'merges', trainable: true,
        layers: [
          layer('InputLayer', 'input_layer', { batch_shape: [null, ...IN], sparse: false }, []),
          layer('Conv2D', 'conv', { filters: 3, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', activation: 'linear', use_bias: true }, [kt('input_layer')]),
          layer('Subtract', 'sub', {}, [[kt('input_layer'), kt('conv')]]),
          layer('Average', 'avg', {}, [[kt('input_layer'), kt('conv'), kt('sub')]]),
          layer('Maximum', 'max', {}, [[kt('avg'), kt('conv')]]),
          layer('GlobalAveragePooling2D', 'gap', { keepdims: true }, [kt('max')]),
          layer('Multiply', 'gate', {}, [[kt('max'), kt('gap')]]),
          layer('Add', 'plus3', {}, [kt('gate'), 3.0]),
          layer('Multiply', 'half', {}, [kt('plus3'), 0.5]),
          layer('Concatenate', 'cat', { axis: -1 }, [[kt('half'), kt('sub')]]),
        ],
        input_layers: [['input_layer', 0, 0]], output_layers: [['cat', 0, 0]],
      },
      registered_name: 'Functional',
    };
    const f = file('keras');
    await writeKeras3Archive(f, cfg, [{ path: 'layers/conv2d', name: 'conv', tensors: c }]);
    const { ir } = await loadModel(f);
    expect(ir.nodes.map((nd) => nd.kind)).toEqual(['conv2d', 'subtract', 'average', 'maximum', 'global_avgpool2d', 'reshape', 'multiply', 'rescaling', 'rescaling', 'concatenate']);
    const want = tf.tidy(() => {
      const a = X();
      const cv = tf.add(tf.conv2d(a, T(c[0]!) as tf.Tensor4D, 1, 'valid'), T(c[1]!));
      const sub = tf.sub(a, cv), avg = tf.div(tf.addN([a, cv, sub]), 3), mx = tf.maximum(avg, cv);
      const gated = tf.mul(mx, tf.mean(mx, [1, 2], true));
      return Float32Array.from(tf.concat([tf.mul(tf.add(gated, 3), 0.5), sub], -1).dataSync());
    });
    expect(maxAbs(referenceLogits(ir, x, 2), want)).toBeLessThan(1e-5);
  });
});

describe('smooth activations: the importer checks their inputs on the samples against the approximation\'s range', () => {
  it('reports each layer\'s input range and warns where it leaves the registered inputRange', async () => {
    const { registerSmoothActivation, unregisterSmoothActivation } = await import('../protocol/layers/activations.js');
    const { standinSigmoid } = await import('../protocol/testing/smooth-standins.js');
    const { agreementReport, formatReport } = await import('./agreement.js');
    registerSmoothActivation({ ...standinSigmoid, inputRange: [-1, 1] });
    try {
      const ir = {
        formatVersion: 1 as const, inputShape: [4], output: 'b', outputActivation: 'linear' as const,
        nodes: [
          { kind: 'activation' as const, name: 'a', inputs: ['input'], activation: 'sigmoid' as const },
          { kind: 'dense' as const, name: 'b', inputs: ['a'], units: 2, activation: 'sigmoid' as const, kernel: w([4, 2]), bias: w([2]) },
        ],
      };
      const samples = [{ name: 's0', input: Float32Array.of(-3, 0.5, 0.25, 2) }, { name: 's1', input: Float32Array.of(0, 0.1, -0.2, 0.3) }];
      const r = await agreementReport(ir, samples, 13);
      expect(r.smoothRanges).toHaveLength(2);
      const a = r.smoothRanges!.find((x) => x.layer === 'a')!;
      expect([a.min, a.max, a.inside]).toEqual([-3, 2, false]);
      expect(r.smoothRanges!.find((x) => x.layer === 'b')!.inside).toBe(true);
      const text = formatReport(r);
      expect(text).toMatch(/WARNING: layer 'a' sigmoid: inputs on the samples reach \[-3(\.0+)?, 2(\.0+)?\], outside the approximation's range \[-1, 1\]/);
      expect(text).not.toMatch(/WARNING: layer 'b'/);
    } finally {
      unregisterSmoothActivation('sigmoid');
    }
  });
});
