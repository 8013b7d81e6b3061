/**
 * keras.applications families beyond the zoo fixtures, as the small
 * structures that set them apart, written by the project's Keras writer
 * (.keras and .h5), imported and run by the plaintext reference against
 * tfjs's own ops (an independent implementation of the Keras semantics):
 *  - EfficientNet B0-B7 with ImageNet weights: Rescaling(1/255) ->
 *    Normalization -> Rescaling(1 / sqrt(std)) with one scale per channel
 *    (refused before as "per-channel values are not supported");
 *  - RegNetX/Y (Conv2D groups = C / group width), ConvNeXt's Conv2D with
 *    groups = C (a depthwise 7x7), a grouped conv with a multiplier
 *    (refused before as "groups=... is not supported");
 *  - the layers no family here can run (LayerNormalization, Permute,
 *    TFOpLambda): refused naming the layer and class.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../protocol/ir.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import type { JsonObject } from './keras-config.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { prgFromSeed, SequentialBuilder, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

tf.env().set('PROD', true);
void tf.setBackend('cpu');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string): string => path.join(tmp.dir, `f${++n}.${ext}`);
const g = seededPrg(77);
const w = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: Float64Array.from(uniform(g, shape.reduce((x, y) => x * y, 1), a), Math.fround) });
const T = (v: FloatTensor) => tf.tensor(Float32Array.from(v.data), v.shape);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

async function both(build: () => SequentialBuilder, check: (ir: Awaited<ReturnType<typeof loadModel>>['ir'], ext: string) => void): Promise<void> {
  for (const ext of ['keras', 'h5']) {
    const f = file(ext);
    await writeModelFile(build(), f, { kerasVersion: '2.12.0' });
    check((await loadModel(f)).ir, ext);
  }
}

describe('EfficientNet (keras.applications, ImageNet weights): a per-channel Rescaling after Normalization', () => {
  // keras.applications.efficientnet: Rescaling(1/255) -> Normalization(axis=-1) -> Rescaling([1 / sqrt(s) for s in IMAGENET_STDDEV_RGB]) -> stem.
  const IN: [number, number, number] = [7, 6, 3];
  const px = Float32Array.from(uniform(seededPrg(78), 2 * 126, 1), (v) => Math.round((v + 1) * 127.5));
  const mean = [0.485, 0.456, 0.406], variance = [0.229, 0.224, 0.225], inv = variance.map((s) => 1 / Math.sqrt(s));
  const stem = w([3, 3, 3, 4]), bn = [w([4], 0.3), w([4], 0.2), w([4], 0.2), { shape: [4], data: Float64Array.from([0.5, 0.8, 1.1, 0.9]) }];
  const build = (scale: unknown, offset: unknown = 0.0) => new SequentialBuilder('effnet', IN, prgFromSeed(1))
    .raw('Rescaling', { scale: 1 / 255, offset: 0.0 }, [], 'rescaling')
    .raw('Normalization', { axis: [3], invert: false, mean, variance }, [], 'normalization')
    .raw('Rescaling', { scale: scale as JsonObject, offset: offset as JsonObject }, [], 'rescaling_1')
    .raw('ZeroPadding2D', { padding: [[0, 1], [0, 1]], data_format: 'channels_last' }, [], 'stem_conv_pad')
    .raw('Conv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', activation: 'linear', use_bias: false, groups: 1, dilation_rate: [1, 1] }, [{ name: 'kernel', value: stem }], 'stem_conv')
    .raw('BatchNormalization', { axis: 3, epsilon: 1e-3, center: true, scale: true }, [{ name: 'gamma', value: bn[0]! }, { name: 'beta', value: bn[1]! }, { name: 'moving_mean', value: bn[2]! }, { name: 'moving_variance', value: bn[3]! }], 'stem_bn')
    .raw('Activation', { activation: 'relu' }, [], 'stem_activation');
  const want = (sc: number[], off: number[]) => tf.tidy(() => {
    let t = tf.div(tf.tensor(px, [2, ...IN]), 255);
    t = tf.div(tf.sub(t, tf.tensor1d(mean)), tf.sqrt(tf.tensor1d(variance)));
    t = tf.add(tf.mul(t, tf.tensor1d(sc)), tf.tensor1d(off));
    t = tf.pad(t, [[0, 0], [0, 1], [0, 1], [0, 0]]);
    const c = tf.conv2d(t as tf.Tensor4D, T(stem) as tf.Tensor4D, 2, 'valid');
    const y = tf.batchNorm(c, T(bn[2]!), T(bn[3]!), T(bn[1]!), T(bn[0]!), 1e-3);
    return Float32Array.from(tf.relu(y).dataSync());
  });

  it('imports the list scale (Keras 3 config) and computes x * scale[c] per channel, as Keras', async () => {
    await both(() => build(inv), (ir, ext) => {
      expect(ir.nodes.some((nd) => nd.kind === ('batchnorm' as string)), ext).toBe(false);
      expect(maxAbs(referenceLogits(ir, px, 2), want(inv, [0, 0, 0])), ext).toBeLessThan(1e-5);
    });
  });

  it('a per-channel offset, [1, 1, C]-shaped values and the Keras 3 {__numpy__} wrapper broadcast the same way', async () => {
    const off = [0.1, -0.2, 0.3];
    await both(() => build({ class_name: '__numpy__', config: { value: [[inv]], dtype: 'float32' } }, off), (ir, ext) => {
      expect(maxAbs(referenceLogits(ir, px, 2), want(inv, off)), ext).toBeLessThan(1e-5);
    });
  });

  it('one repeated value stays a plain Rescaling (one public division/scaling, no secure product)', async () => {
    await both(() => build([2, 2, 2]), (ir, ext) => {
      expect(ir.nodes.filter((nd) => nd.kind === 'rescaling'), ext).toHaveLength(2);
      expect(maxAbs(referenceLogits(ir, px, 2), want([2, 2, 2], [0, 0, 0])), ext).toBeLessThan(1e-5);
    });
  });

  it('values that would vary over H or W (shape [3, 1], or a count other than C) are refused naming the layer', async () => {
    for (const bad of [[[1], [2], [3]], [1, 2, 3, 4]]) {
      const f = file('keras');
      await writeModelFile(build(bad), f);
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'rescaling_1' \(Rescaling\): 'scale' of shape \[(3,1|4)\] is not supported \(one number, or one per channel: 3 values/) });
    }
  });
});

describe('grouped Conv2D (RegNet, ResNeXt-style; ConvNeXt groups = C): TF grouped-conv semantics', () => {
  const IN: [number, number, number] = [6, 5, 6];
  const x = Float32Array.from(uniform(seededPrg(79), 2 * 180, 2));
  /** tfjs has no groups: split the channels and the filters into `groups` contiguous blocks, convolve each, concatenate. */
  const grouped = (k: FloatTensor, b: FloatTensor | undefined, groups: number, strides: number, pad: 'same' | 'valid') => tf.tidy(() => {
    const xs = tf.split(tf.tensor(x, [2, ...IN]), groups, 3), ks = tf.split(T(k), groups, 3);
    const y = tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, strides, pad)), 3);
    return Float32Array.from((b ? tf.add(y, T(b)) : y).dataSync());
  });
  const cases: { what: string; groups: number; filters: number; k: number; strides: number; pad: 'same' | 'valid'; kind: string }[] = [
    { what: 'RegNetX block conv: 3x3, groups 3 (group width 2), stride 2, same', groups: 3, filters: 6, k: 3, strides: 2, pad: 'same', kind: 'conv2d' },
    { what: 'groups 2 widening 6 -> 8 channels, valid', groups: 2, filters: 8, k: 3, strides: 1, pad: 'valid', kind: 'conv2d' },
    { what: 'ConvNeXt: 7x7, groups = C = filters (a depthwise conv), same', groups: 6, filters: 6, k: 7, strides: 1, pad: 'same', kind: 'depthwise_conv2d' },
    { what: 'groups = C with 2 filters per group (depthwise, multiplier 2)', groups: 6, filters: 12, k: 3, strides: 1, pad: 'same', kind: 'depthwise_conv2d' },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const k = w([c.k, c.k, 6 / c.groups, c.filters]), b = w([c.filters], 0.1);
      const build = () => new SequentialBuilder('regnet', IN, prgFromSeed(1))
        .raw('Conv2D', { filters: c.filters, kernel_size: [c.k, c.k], strides: [c.strides, c.strides], padding: c.pad, groups: c.groups, activation: 'linear', use_bias: true, dilation_rate: [1, 1] }, [{ name: 'kernel', value: k }, { name: 'bias', value: b }], 'grouped');
      const want = grouped(k, b, c.groups, c.strides, c.pad);
      await both(build, (ir, ext) => {
        expect(ir.nodes.map((nd) => nd.kind), ext).toEqual([c.kind]);
        const got = referenceLogits(ir, x, 2);
        expect(got, ext).toHaveLength(want.length);
        expect(maxAbs(got, want), `${c.what} (.${ext})`).toBeLessThan(1e-5);
      });
    });
  }

  it('groups that do not divide the channels, or a kernel of the ungrouped shape, are coded errors naming the layer', async () => {
    const bad = (groups: number, kshape: number[]) => () => new SequentialBuilder('regnet', IN, prgFromSeed(1))
      .raw('Conv2D', { filters: 6, kernel_size: [3, 3], strides: [1, 1], padding: 'same', groups, activation: 'linear', use_bias: false }, [{ name: 'kernel', value: w(kshape) }], 'grouped');
    for (const ext of ['keras', 'h5']) {
      let f = file(ext);
      await writeModelFile(bad(4, [3, 3, 1, 6])(), f);
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/'grouped' \(Conv2D\): groups=4 does not divide 6 input channels and 6 filters/) });
      f = file(ext);
      await writeModelFile(bad(3, [3, 3, 6, 6])(), f);
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_WEIGHT_SHAPE', message: expect.stringMatching(/'grouped' \(Conv2D\): kernel has shape \[3,3,6,6\] but the layer needs \[3,3,2,6\]/) });
    }
  });
});

describe('NASNetMobile reduction cell pieces: SeparableConv2D stride 2 valid after ZeroPadding2D((0, 1), (0, 1)); ZeroPadding2D then Cropping2D((1, 0), (1, 0)) then AveragePooling2D(1, strides 2)', () => {
  const IN: [number, number, number] = [7, 6, 3];
  const x = Float32Array.from(uniform(seededPrg(80), 2 * 126, 2));
  it('SeparableConv2D strides 2 (the stride on the depthwise step, as Keras)', async () => {
    const dw = w([3, 3, 3, 1]), pw = w([1, 1, 3, 4]);
    const build = () => new SequentialBuilder('nasnet', IN, prgFromSeed(1))
      .raw('ZeroPadding2D', { padding: [[0, 1], [0, 1]] }, [], 'pad')
      .raw('SeparableConv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', depth_multiplier: 1, activation: 'linear', use_bias: false }, [{ name: 'depthwise_kernel', value: dw }, { name: 'pointwise_kernel', value: pw }], 'sep');
    const want = tf.tidy(() => Float32Array.from(tf.separableConv2d(tf.pad(tf.tensor(x, [2, ...IN]), [[0, 0], [0, 1], [0, 1], [0, 0]]) as tf.Tensor4D, T(dw) as tf.Tensor4D, T(pw) as tf.Tensor4D, 2, 'valid').dataSync()));
    await both(build, (ir, ext) => expect(maxAbs(referenceLogits(ir, x, 2), want), ext).toBeLessThan(1e-5));
  });
  it('the shifted path of _adjust_block: pad, crop, 1x1 average pool with stride 2', async () => {
    const build = () => new SequentialBuilder('nasnet', IN, prgFromSeed(1))
      .raw('ZeroPadding2D', { padding: [[0, 1], [0, 1]] }, [], 'pad')
      .raw('Cropping2D', { cropping: [[1, 0], [1, 0]] }, [], 'crop')
      .raw('AveragePooling2D', { pool_size: [1, 1], strides: [2, 2], padding: 'valid' }, [], 'pool');
    const want = tf.tidy(() => Float32Array.from(tf.avgPool(tf.slice(tf.pad(tf.tensor(x, [2, ...IN]), [[0, 0], [0, 1], [0, 1], [0, 0]]), [0, 1, 1, 0], [2, 7, 6, 3]) as tf.Tensor4D, 1, 2, 'valid').dataSync()));
    await both(build, (ir, ext) => {
      const got = referenceLogits(ir, x, 2);
      expect(got, ext).toHaveLength(want.length);
      expect(maxAbs(got, want), ext).toBeLessThan(1e-6);
    });
  });
});

describe('InceptionResNetV2 (keras.applications, Keras 3): the scaled residual CustomScaleLayer([x, up]) = x + up * scale', () => {
  it('a block35: two branches, Concatenate, 1x1 up conv, CustomScaleLayer, ReLU, then AveragePooling2D(3, strides 1, same): matches tfjs', async () => {
    const { writeKeras3Archive } = await import('./keras-writer.js');
    const IN: [number, number, number] = [5, 4, 4];
    const x = Float32Array.from(uniform(seededPrg(95), 2 * 80, 2));
    const kt = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });
    const layer = (className: string, name: string, config: JsonObject, args: unknown[], module = 'keras.layers'): JsonObject => ({
      module, class_name: className, config: { name, trainable: true, dtype: 'float32', ...config }, registered_name: module === 'keras.layers' ? null : className, name,
      inbound_nodes: args.length ? [{ args: args as JsonObject[], kwargs: {} }] : [],
    });
    const conv = (filters: number, k: number, activation: string): JsonObject => ({ filters, kernel_size: [k, k], strides: [1, 1], padding: 'same', activation, use_bias: true, groups: 1 });
    const b0 = [w([1, 1, 4, 2]), w([2], 0.1)], b1a = [w([1, 1, 4, 2]), w([2], 0.1)], b1b = [w([3, 3, 2, 2]), w([2], 0.1)], up = [w([1, 1, 4, 4]), w([4], 0.1)];
    const cfg: JsonObject = {
      module: 'keras.src.models.functional', class_name: 'Functional',
      config: {
        name: 'inception_resnet_v2', trainable: true,
        layers: [
          layer('InputLayer', 'input_layer', { batch_shape: [null, ...IN], sparse: false }, []),
          layer('Conv2D', 'branch_0', conv(2, 1, 'relu'), [kt('input_layer')]),
          layer('Conv2D', 'branch_1a', conv(2, 1, 'relu'), [kt('input_layer')]),
          layer('Conv2D', 'branch_1b', conv(2, 3, 'relu'), [kt('branch_1a')]),
          layer('Concatenate', 'block35_1_mixed', { axis: 3 }, [[kt('branch_0'), kt('branch_1b')]]),
          layer('Conv2D', 'block35_1_conv', conv(4, 1, 'linear'), [kt('block35_1_mixed')]),
          layer('CustomScaleLayer', 'custom_scale_layer', { scale: 0.17 }, [[kt('input_layer'), kt('block35_1_conv')]], 'keras.src.applications.inception_resnet_v2'),
          layer('Activation', 'block35_1_ac', { activation: 'relu' }, [kt('custom_scale_layer')]),
          layer('AveragePooling2D', 'avg', { pool_size: [3, 3], strides: [1, 1], padding: 'same' }, [kt('block35_1_ac')]),
        ],
        input_layers: [['input_layer', 0, 0]], output_layers: [['avg', 0, 0]],
      },
      registered_name: 'Functional',
    };
    const f = file('keras');
    await writeKeras3Archive(f, cfg, [
      { path: 'layers/conv2d', name: 'branch_0', tensors: b0 }, { path: 'layers/conv2d_1', name: 'branch_1a', tensors: b1a },
      { path: 'layers/conv2d_2', name: 'branch_1b', tensors: b1b }, { path: 'layers/conv2d_3', name: 'block35_1_conv', tensors: up },
    ]);
    const { ir } = await loadModel(f);
    expect(ir.nodes.map((nd) => nd.kind)).toEqual(['conv2d', 'conv2d', 'conv2d', 'concatenate', 'conv2d', 'rescaling', 'add', 'activation', 'avgpool2d']);
    const want = tf.tidy(() => {
      const a = tf.tensor(x, [2, ...IN]) as tf.Tensor4D;
      const cv = (t: tf.Tensor4D, p: FloatTensor[]) => tf.add(tf.conv2d(t, T(p[0]!) as tf.Tensor4D, 1, 'same'), T(p[1]!)) as tf.Tensor4D;
      const mixed = tf.concat([tf.relu(cv(a, b0)), tf.relu(cv(tf.relu(cv(a, b1a)), b1b))], 3) as tf.Tensor4D;
      const y = tf.relu(tf.add(a, tf.mul(cv(mixed, up), 0.17))) as tf.Tensor4D;
      return Float32Array.from(tf.avgPool(y, 3, 1, 'same').dataSync());
    });
    expect(maxAbs(referenceLogits(ir, x, 2), want)).toBeLessThan(1e-5);
  });

  it('another form (three inputs, a scale that is not a number) is refused naming the layer', async () => {
    const { writeKeras3Archive } = await import('./keras-writer.js');
    const kt = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });
    const cfg: JsonObject = {
      module: 'keras.src.models.functional', class_name: 'Functional',
      config: {
        name: 'm', trainable: true,
        layers: [
          { class_name: 'InputLayer', config: { name: 'input_layer', batch_shape: [null, 4, 4, 2] }, name: 'input_layer', inbound_nodes: [] },
          { class_name: 'CustomScaleLayer', config: { name: 'sc', scale: 'x' }, name: 'sc', inbound_nodes: [{ args: [[kt('input_layer'), kt('input_layer')]], kwargs: {} }] },
        ],
        input_layers: [['input_layer', 0, 0]], output_layers: [['sc', 0, 0]],
      },
    };
    const f = file('keras');
    await writeKeras3Archive(f, cfg, []);
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'sc' \(CustomScaleLayer\): only InceptionResNetV2's two-input form with a number scale/) });
  });
});

describe('layers of other families the protocol does not run: refused naming the layer and class (E_UNSUPPORTED_LAYER)', () => {
  const cases: [string, string, JsonObject, RegExp][] = [
    ['ConvNeXt LayerNormalization', 'LayerNormalization', { axis: [-1], epsilon: 1e-6, center: true, scale: true }, /'ln' \(LayerNormalization\): this layer type is not supported by the secure protocol \(it normalises by the mean and variance of the values themselves, a division by a secret value \(ConvNeXt, ViT\)\); supported: Activation, .*SeparableConv2D, .*and the inference no-ops \(Dropout, /],
    ['a Permute (NHWC <-> NCHW)', 'Permute', { dims: [3, 1, 2] }, /'ln' \(Permute\): this layer type is not supported by the secure protocol \(the runner keeps one channels-last layout; axes cannot be moved\); supported: /],
    ['a TFOpLambda (tf.math op in a Keras 2 graph)', 'TFOpLambda', { function: 'math.multiply' }, /'ln' \(TFOpLambda\): this layer type is not supported by the secure protocol \(code, not a layer, in the file; rebuild it with Keras layers\); supported: /],
    ['an InceptionResNetV2 Lambda (scaled residual)', 'Lambda', { function: ['x', null, null], arguments: { scale: 0.17 } }, /'ln' \(Lambda\): this layer type is not supported by the secure protocol \(code, not a layer/],
    ['a Conv1D', 'Conv1D', { filters: 2, kernel_size: [3] }, /'ln' \(Conv1D\): this layer type is not supported by the secure protocol \(2-D images only\)/],
  ];
  it.each(cases)('%s', async (_what, cls, config, msg) => {
    const f = file('keras');
    await writeModelFile(new SequentialBuilder('other', [4, 4, 3], prgFromSeed(1)).raw(cls, config, [], 'ln'), f);
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(msg) });
  });
});

describe('a stem of these families through the secure runner (three parties in memory)', () => {
  // EfficientNet's per-channel Rescaling, a RegNet grouped conv, ResNet50V2's MaxPooling2D(1, strides 2) shortcut,
  // ConvNeXt's groups = C conv, InceptionV3's AveragePooling2D(3, strides 1, same): tfjs for the float model, and the
  // secure result against the fixed-point simulation.
  it('imports, matches tfjs in float, and the secure output is what the fixed-point simulation predicts', async () => {
    const IN: [number, number, number] = [6, 5, 3];
    const px = Float32Array.from(uniform(seededPrg(90), 90, 1), (v) => Math.round((v + 1) * 127.5));
    const sc = [2.09, 2.11, 2.1], k1 = w([3, 3, 3, 6]), b1 = w([6], 0.1), k2 = w([3, 3, 2, 6]), k3 = w([3, 3, 1, 6]), dk = w([3 * 3 * 6, 2]), db = w([2], 0.1);
    const b = new SequentialBuilder('stem', IN, prgFromSeed(1))
      .raw('Rescaling', { scale: 1 / 255, offset: 0.0 }, [], 'rescaling')
      .raw('Rescaling', { scale: sc, offset: -1.0 }, [], 'rescaling_1')
      .raw('Conv2D', { filters: 6, kernel_size: [3, 3], strides: [1, 1], padding: 'same', groups: 1, activation: 'relu', use_bias: true }, [{ name: 'kernel', value: k1 }, { name: 'bias', value: b1 }], 'stem')
      .raw('Conv2D', { filters: 6, kernel_size: [3, 3], strides: [1, 1], padding: 'same', groups: 3, activation: 'relu', use_bias: false }, [{ name: 'kernel', value: k2 }], 'grouped')
      .raw('MaxPooling2D', { pool_size: [1, 1], strides: [2, 2], padding: 'valid' }, [], 'shortcut_pool')
      .raw('Conv2D', { filters: 6, kernel_size: [3, 3], strides: [1, 1], padding: 'same', groups: 6, activation: 'linear', use_bias: false }, [{ name: 'kernel', value: k3 }], 'dwconv')
      .raw('AveragePooling2D', { pool_size: [3, 3], strides: [1, 1], padding: 'same' }, [], 'branch_pool')
      .raw('Flatten', {}, [], 'flatten')
      .raw('Dense', { units: 2, activation: 'linear', use_bias: true }, [{ name: 'kernel', value: dk }, { name: 'bias', value: db }], 'head');
    const f = file('keras');
    await writeModelFile(b, f);
    const loaded = await loadModel(f);
    expect(loaded.ir.nodes.map((nd) => nd.kind)).toEqual(['rescaling', 'depthwise_conv2d', 'conv2d', 'conv2d', 'maxpool2d', 'depthwise_conv2d', 'avgpool2d', 'flatten', 'dense']);
    const want = tf.tidy(() => {
      let t: tf.Tensor4D = tf.add(tf.mul(tf.div(tf.tensor(px, [1, ...IN]), 255), tf.tensor1d(sc)), -1) as tf.Tensor4D;
      t = tf.relu(tf.add(tf.conv2d(t, T(k1) as tf.Tensor4D, 1, 'same'), T(b1))) as tf.Tensor4D;
      const xs = tf.split(t, 3, 3), ks = tf.split(T(k2), 3, 3);
      t = tf.relu(tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, 1, 'same')), 3)) as tf.Tensor4D;
      t = tf.maxPool(t, 1, 2, 'valid');
      t = tf.depthwiseConv2d(t, tf.reshape(T(k3), [3, 3, 6, 1]) as tf.Tensor4D, 1, 'same');
      t = tf.avgPool(t, 3, 1, 'same');
      return Float32Array.from(tf.add(tf.matMul(tf.reshape(t, [1, -1]) as tf.Tensor2D, T(dk) as tf.Tensor2D), T(db)).dataSync());
    });
    const ref = referenceLogits(loaded.ir, px, 1);
    expect(maxAbs(ref, want)).toBeLessThan(1e-4);

    const { decode, encode } = await import('../protocol/fixed-point/fixed-point.js');
    const { getKernels } = await import('../protocol/kernels/index.js');
    const { secureForward } = await import('../protocol/layers/runner.js');
    const { reconstruct } = await import('../protocol/sharing/sharing.js');
    const { run3, shareFor3 } = await import('../protocol/testing/run3.js');
    const { loadBundle, writeBundles } = await import('./bundle.js');
    const { fixedLogits } = await import('./fixed-sim.js');
    const out = path.join(tmp.dir, 'stem-bundles');
    writeBundles(loaded, out, { fracBits: 13 });
    const models = ([0, 1, 2] as const).map((p) => loadBundle(out, p).model);
    const xs = shareFor3(encode(px, 13));
    const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, ...IN], data: xs[ctx.party]! }), { fracBits: 13 });
    const secure = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), 13);
    expect(maxAbs(secure, fixedLogits(loaded.ir, px, 1, { fracBits: 13 }))).toBeLessThan(64 / 8192);
    expect(maxAbs(secure, want)).toBeLessThan(0.05);
  });
});

describe('the supported Keras classes an error lists are the converter\'s', () => {
  it('SUPPORTED_KERAS_LAYERS equals the classes layer-map.ts has a case for', async () => {
    const { readFileSync } = await import('node:fs');
    const { SUPPORTED_KERAS_LAYERS } = await import('./layer-map.js');
    const src = readFileSync(new URL('./layer-map.ts', import.meta.url), 'utf8');
    const cases = [...src.matchAll(/^\s*case '([A-Za-z0-9]+)':/gm)].map((m) => m[1]!).sort();
    expect(cases.length).toBeGreaterThan(30);
    expect([...SUPPORTED_KERAS_LAYERS].sort()).toEqual(cases);
  });
});
