/**
 * Keras dilation_rate (atrous convolution, the DeepLabV3 / DeepLabV3+
 * family): Conv2D, DepthwiseConv2D and SeparableConv2D with dilation_rate,
 * written by the project's Keras writer (.keras and .h5), imported as the
 * IR's dilation (the kernel as it is, not zero-expanded) and run by the
 * plaintext reference against tfjs's own dilated ops (tf.conv2d /
 * depthwiseConv2d / separableConv2d with dilations: an independent
 * implementation of the TF semantics, 'same' padding of the dilated
 * extent); random inputs with edge values. Then a small DeepLabV3+-like
 * functional model (dilated depthwise backbone; ASPP with a 1x1 branch,
 * 3x3 branches at d = 1, 2, 3, a separable one at d = 3, one at d = 12 on an
 * 8x6 map, image pooling + bilinear UpSampling; Concatenate; a decoder with
 * the low-level features and a bilinear x2 upsampling) against tfjs, through
 * mpc-import (precision chosen on samples) and the secure forward of its
 * three bundles (three parties in memory).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { PartyId } from '../protocol/ring/types.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { loadBundle } from './bundle.js';
import { main } from './cli.js';
import { fixedLogits } from './fixed-sim.js';
import type { JsonObject } from './keras-config.js';
import { writeKeras3Functional, type FuncLayer } from './keras-writer.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { inputBox, outputBox } from './static-bounds.js';
import { irToKeras } from './keras-from-ir.js';
import { dilatedExtent } from '../protocol/layers/geometry.js';
import type { FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';
import { prgFromSeed, SequentialBuilder, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';
import { saveTfjsLayers } from './testing/tfjs-save.js';

tf.env().set('PROD', true);
void tf.setBackend('cpu');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string): string => path.join(tmp.dir, `f${++n}.${ext}`);
const g = seededPrg(91);
const w = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: Float64Array.from(uniform(g, shape.reduce((x, y) => x * y, 1), a), Math.fround) });
const T = (v: FloatTensor) => tf.tensor(Float32Array.from(v.data), v.shape);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };
const T4 = (t: tf.Tensor) => t as tf.Tensor4D;

describe('Keras dilation_rate: one layer against tfjs (.keras and .h5)', () => {
  const IN: [number, number, number] = [7, 6, 3];
  const x = Float32Array.from(uniform(seededPrg(92), 2 * 126, 2));
  // Edge values: zeros, the largest magnitudes, one sign change per row.
  [0, 0, 2, -2, 1e-6, -1e-6, 2, -2].forEach((v, i) => { x[i * 15] = v; });
  const X = () => T4(tf.tensor(x, [2, ...IN]));
  type Case = { what: string; cls: string; config: JsonObject; weights: { name: string; value: FloatTensor }[]; want: () => tf.Tensor; kinds: string[] };
  const k1 = w([3, 3, 3, 4]), b1 = w([4], 0.1), k2 = w([2, 3, 3, 2]), dk = w([3, 3, 3, 2]), db = w([6], 0.1), sk = w([3, 3, 3, 1]), sp = w([1, 1, 3, 4]), sb = w([4], 0.1), k5 = w([3, 3, 3, 2]);
  const cases: Case[] = [
    { what: 'Conv2D 3x3 dilation 2 same, relu', cls: 'Conv2D', config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [2, 2], groups: 1, activation: 'relu', use_bias: true }, weights: [{ name: 'kernel', value: k1 }, { name: 'bias', value: b1 }],
      want: () => tf.relu(tf.add(tf.conv2d(X(), T4(T(k1)), 1, 'same', 'NHWC', [2, 2]), T(b1))), kinds: ['conv2d'] },
    { what: 'Conv2D 2x3 dilation (3, 2) valid', cls: 'Conv2D', config: { filters: 2, kernel_size: [2, 3], strides: [1, 1], padding: 'valid', dilation_rate: [3, 2], groups: 1, activation: 'linear', use_bias: false }, weights: [{ name: 'kernel', value: k2 }],
      want: () => tf.conv2d(X(), T4(T(k2)), 1, 'valid', 'NHWC', [3, 2]), kinds: ['conv2d'] },
    { what: 'Conv2D 3x3 dilation 5 same (d > the 7x6 map: the centre tap, and one more where it reaches)', cls: 'Conv2D', config: { filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: 5, groups: 1, activation: 'linear', use_bias: false }, weights: [{ name: 'kernel', value: k5 }],
      want: () => tf.conv2d(X(), T4(T(k5)), 1, 'same', 'NHWC', [5, 5]), kinds: ['conv2d'] },
    { what: 'DepthwiseConv2D 3x3 dilation 3 same, multiplier 2', cls: 'DepthwiseConv2D', config: { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, dilation_rate: [3, 3], activation: 'linear', use_bias: true }, weights: [{ name: 'depthwise_kernel', value: dk }, { name: 'bias', value: db }],
      want: () => tf.add(tf.depthwiseConv2d(X(), T4(T(dk)), 1, 'same', 'NHWC', [3, 3]), T(db)), kinds: ['depthwise_conv2d'] },
    { what: 'SeparableConv2D 3x3 dilation 2 same (the dilation on the depthwise step), relu', cls: 'SeparableConv2D', config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, dilation_rate: [2, 2], activation: 'relu', use_bias: true }, weights: [{ name: 'depthwise_kernel', value: sk }, { name: 'pointwise_kernel', value: sp }, { name: 'bias', value: sb }],
      want: () => tf.relu(tf.add(tf.separableConv2d(X(), T4(T(sk)), T4(T(sp)), 1, 'same', [2, 2], 'NHWC'), T(sb))), kinds: ['depthwise_conv2d', 'conv2d'] },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const want = tf.tidy(() => Float32Array.from(c.want().dataSync()));
      for (const ext of ['keras', 'h5']) {
        const f = file(ext);
        await writeModelFile(new SequentialBuilder('dil', IN, prgFromSeed(1)).raw(c.cls, c.config, c.weights, 'atrous'), f, { kerasVersion: '2.12.0' });
        const { ir } = await loadModel(f);
        expect(ir.nodes.map((nd) => nd.kind), ext).toEqual(c.kinds);
        const conv = ir.nodes[0]! as { dilation?: [number, number]; kernel: FloatTensor; kernelSize: [number, number] };
        // The IR keeps the kernel as it is (no zero expansion) with the dilation beside it.
        expect(conv.dilation, ext).toEqual(Array.isArray(c.config['dilation_rate']) ? c.config['dilation_rate'] : [5, 5]);
        expect(conv.kernel.shape.slice(0, 2), ext).toEqual(conv.kernelSize);
        const got = referenceLogits(ir, x, 2);
        expect(got, ext).toHaveLength(want.length);
        expect(maxAbs(got, want), `${c.what} (.${ext})`).toBeLessThan(1e-5);
      }
    });
  }
});

describe('TF.js Layers model.json with a dilated DepthwiseConv2D (tfjs-layers 4.x ignores that dilation)', () => {
  async function saved(kerasVersion?: string | null): Promise<{ file: string; x: Float32Array; k: tf.Tensor4D }> {
    const dir = path.join(tmp.dir, `tfjs${++n}`);
    mkdirSync(dir);
    const input = tf.input({ shape: [7, 6, 2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, name: 'dw_atrous' }).apply(input) as tf.SymbolicTensor });
    const k = T4(T(w([3, 3, 2, 1])));
    model.layers[1]!.setWeights([k]);
    const x = Float32Array.from(uniform(seededPrg(97), 84, 1));
    const file = await saveTfjsLayers(model, dir);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: Record<string, unknown> };
    expect(String(json.modelTopology['keras_version'])).toMatch(/^tfjs-layers/);
    if (kerasVersion) json.modelTopology['keras_version'] = kerasVersion;
    // Without keras_version the reader takes generatedBy, which tfjs-layers' model.save() writes as below (training.js).
    if (kerasVersion === null) { delete json.modelTopology['keras_version']; (json as Record<string, unknown>)['generatedBy'] = 'TensorFlow.js tfjs-layers v4.22.0'; }
    writeFileSync(file, JSON.stringify(json));
    return { file, x, k };
  }

  it('written by tfjs-layers itself: refused, naming the layer and why', async () => {
    const s = await saved();
    await expect(loadModel(s.file)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/^layer 'dw_atrous' \(DepthwiseConv2D\): dilation_rate \[2,2\] in a model written by tfjs-layers.*ignores its dilation/) });
  });

  it('written by tfjs-layers without keras_version (generatedBy \'TensorFlow.js tfjs-layers v...\' names the writer): refused too', async () => {
    const s = await saved(null);
    expect(String((JSON.parse(readFileSync(s.file, 'utf8')) as { generatedBy?: unknown }).generatedBy)).toMatch(/^TensorFlow\.js tfjs-layers v/);
    await expect(loadModel(s.file)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/^layer 'dw_atrous' \(DepthwiseConv2D\): dilation_rate \[2,2\] in a model written by TensorFlow\.js tfjs-layers v/) });
  });

  it('converted from Keras (keras_version 2.12.0): imports with the dilation, as tf.depthwiseConv2d computes it', async () => {
    const s = await saved('2.12.0');
    const { ir } = await loadModel(s.file);
    const want = tf.tidy(() => Float32Array.from(tf.depthwiseConv2d(T4(tf.tensor(s.x, [1, 7, 6, 2])), s.k, 1, 'same', 'NHWC', [2, 2]).dataSync()));
    expect(maxAbs(referenceLogits(ir, s.x, 1), want)).toBeLessThan(1e-5);
  });
});

describe('the Keras twin of a dilated IR (keras-from-ir.ts writes dilation_rate back)', () => {
  it('Conv2D, DepthwiseConv2D and SeparableConv2D with dilation_rate: the twin imports to the same dilations and outputs', async () => {
    const IN: [number, number, number] = [9, 8, 3];
    const kb = (shape: number[]) => [{ name: 'kernel', value: w(shape) }, { name: 'bias', value: w([shape[3]!], 0.1) }];
    const f = file('keras');
    await writeModelFile(new SequentialBuilder('dil', IN, prgFromSeed(1))
      .raw('Conv2D', { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [2, 3], groups: 1, activation: 'relu', use_bias: true }, kb([3, 3, 3, 4]), 'c')
      .raw('DepthwiseConv2D', { kernel_size: [3, 3], strides: [1, 1], padding: 'valid', depth_multiplier: 1, dilation_rate: [2, 2], activation: 'linear', use_bias: false }, [{ name: 'depthwise_kernel', value: w([3, 3, 4, 1]) }], 'dw')
      .raw('SeparableConv2D', { filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, dilation_rate: [4, 4], activation: 'linear', use_bias: true }, [{ name: 'depthwise_kernel', value: w([3, 3, 4, 1]) }, { name: 'pointwise_kernel', value: w([1, 1, 4, 2]) }, { name: 'bias', value: w([2], 0.1) }], 's'), f);
    const { ir } = await loadModel(f);
    const twin = path.join(tmp.dir, 'twin.keras');
    await writeKeras3Functional(twin, irToKeras(ir, 'twin'));
    const back = (await loadModel(twin)).ir;
    const dils = (m: ModelIR<FloatTensor>) => m.nodes.flatMap((nd) => ('dilation' in nd && nd.dilation ? [nd.dilation] : []));
    expect(dils(ir)).toEqual([[2, 3], [2, 2], [4, 4]]);
    expect(dils(back)).toEqual(dils(ir));
    const x = Float32Array.from(uniform(seededPrg(96), 2 * 216, 1));
    expect(maxAbs(referenceLogits(back, x, 2), referenceLogits(ir, x, 2))).toBeLessThan(1e-6);
  });
});

describe('a DeepLabV3+-like model (ASPP d = 1, 2, 3, 12, image pooling, bilinear upsampling, Concatenate) through mpc-import and the secure forward', () => {
  const IN: [number, number, number] = [16, 12, 3];
  const L = (className: string, name: string, inputs: string[], config: JsonObject, weights: { name: string; value: FloatTensor }[] = []): FuncLayer => ({ className, name, inputs, config: { data_format: 'channels_last', ...config }, weights });
  const conv = (filters: number, k: number, d: number, act: string, s = 1): JsonObject => ({ filters, kernel_size: [k, k], strides: [s, s], padding: 'same', dilation_rate: [d, d], groups: 1, activation: act, use_bias: true });
  const W = {
    stem: [w([3, 3, 3, 4], 0.4), w([4], 0.05)], dw: [w([3, 3, 4, 1], 0.5), w([4], 0.05)], pw: [w([1, 1, 4, 6], 0.5), w([6], 0.05)],
    a0: [w([1, 1, 6, 3], 0.4), w([3], 0.05)], a1: [w([3, 3, 6, 3], 0.3), w([3], 0.05)], a2: [w([3, 3, 6, 3], 0.3), w([3], 0.05)],
    a3: [w([3, 3, 6, 1], 0.5), w([1, 1, 6, 3], 0.4), w([3], 0.05)], a12: [w([3, 3, 6, 3], 0.3), w([3], 0.05)], ip: [w([1, 1, 6, 3], 0.4), w([3], 0.05)],
    proj: [w([1, 1, 15, 4], 0.4), w([4], 0.05)], dec: [w([3, 3, 8, 2], 0.3), w([2], 0.05)],
  };
  const kb = (v: FloatTensor[]) => [{ name: 'kernel', value: v[0]! }, { name: 'bias', value: v[1]! }];
  const layers: FuncLayer[] = [
    L('Conv2D', 'stem', ['input_layer'], conv(4, 3, 1, 'relu', 2), kb(W.stem)),
    L('DepthwiseConv2D', 'bb_dw', ['stem'], { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, dilation_rate: [2, 2], activation: 'relu', use_bias: true }, [{ name: 'depthwise_kernel', value: W.dw[0]! }, { name: 'bias', value: W.dw[1]! }]),
    L('Conv2D', 'bb_pw', ['bb_dw'], conv(6, 1, 1, 'relu'), kb(W.pw)),
    L('Conv2D', 'aspp0', ['bb_pw'], conv(3, 1, 1, 'relu'), kb(W.a0)),
    L('Conv2D', 'aspp1', ['bb_pw'], conv(3, 3, 1, 'relu'), kb(W.a1)),
    L('Conv2D', 'aspp2', ['bb_pw'], conv(3, 3, 2, 'relu'), kb(W.a2)),
    L('SeparableConv2D', 'aspp3', ['bb_pw'], { filters: 3, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, dilation_rate: [3, 3], activation: 'relu', use_bias: true }, [{ name: 'depthwise_kernel', value: W.a3[0]! }, { name: 'pointwise_kernel', value: W.a3[1]! }, { name: 'bias', value: W.a3[2]! }]),
    L('Conv2D', 'aspp12', ['bb_pw'], conv(3, 3, 12, 'relu'), kb(W.a12)),
    L('AveragePooling2D', 'img_pool', ['bb_pw'], { pool_size: [8, 6], strides: [8, 6], padding: 'valid' }),
    L('Conv2D', 'img_conv', ['img_pool'], conv(3, 1, 1, 'relu'), kb(W.ip)),
    L('UpSampling2D', 'img_up', ['img_conv'], { size: [8, 6], interpolation: 'bilinear' }),
    L('Concatenate', 'aspp_cat', ['aspp0', 'aspp1', 'aspp2', 'aspp3', 'img_up'], { axis: -1 }),
    L('Conv2D', 'aspp_proj', ['aspp_cat'], conv(4, 1, 1, 'relu'), kb(W.proj)),
    L('Concatenate', 'dec_cat', ['aspp_proj', 'stem'], { axis: -1 }),
    L('Conv2D', 'dec_conv', ['dec_cat'], conv(2, 3, 1, 'linear'), kb(W.dec)),
    L('UpSampling2D', 'logits', ['dec_conv'], { size: [2, 2], interpolation: 'bilinear' }),
  ];
  // aspp12 (d 12 on the 8x6 map: only the centre tap reads the map) feeds the concatenation in place of nothing:
  // it is added to aspp1 so that it reaches the output.
  layers.splice(layers.findIndex((l) => l.name === 'aspp_cat'), 0, L('Add', 'aspp1_12', ['aspp1', 'aspp12'], {}));
  layers.find((l) => l.name === 'aspp_cat')!.inputs[1] = 'aspp1_12';

  const want = (x: Float32Array, N: number) => tf.tidy(() => {
    const c = (t: tf.Tensor4D, v: FloatTensor[], s: number, d: number, act: boolean) => { const y = tf.add(tf.conv2d(t, T4(T(v[0]!)), s, 'same', 'NHWC', [d, d]), T(v[1]!)); return T4(act ? tf.relu(y) : y); };
    const stem = c(T4(tf.tensor(x, [N, ...IN])), W.stem, 2, 1, true);
    const bb = c(T4(tf.relu(tf.add(tf.depthwiseConv2d(stem, T4(T(W.dw[0]!)), 1, 'same', 'NHWC', [2, 2]), T(W.dw[1]!)))), W.pw, 1, 1, true);
    const a3 = tf.relu(tf.add(tf.separableConv2d(bb, T4(T(W.a3[0]!)), T4(T(W.a3[1]!)), 1, 'same', [3, 3], 'NHWC'), T(W.a3[2]!)));
    const ip = tf.image.resizeBilinear(c(T4(tf.avgPool(bb, [8, 6], [8, 6], 'valid')), W.ip, 1, 1, true), [8, 6], false, true);
    const cat = tf.concat([c(bb, W.a0, 1, 1, true), tf.add(c(bb, W.a1, 1, 1, true), c(bb, W.a12, 1, 12, true)), c(bb, W.a2, 1, 2, true), a3, ip], 3);
    const dec = c(T4(tf.concat([c(T4(cat), W.proj, 1, 1, true), stem], 3)), W.dec, 1, 1, false);
    return Float32Array.from(tf.image.resizeBilinear(dec, [16, 12], false, true).dataSync());
  });

  it('imports with the dilations (kernels as they are), matches tfjs, and the secure forward of the mpc-import bundles matches the plaintext reference', async () => {
    const f = path.join(tmp.dir, 'deeplab.keras');
    await writeKeras3Functional(f, { name: 'deeplabish', inputShape: IN, layers, output: 'logits' });
    const { ir } = await loadModel(f);
    const dil = Object.fromEntries(ir.nodes.filter((nd) => 'dilation' in nd && nd.dilation).map((nd) => [nd.name, (nd as { dilation: number[] }).dilation]));
    expect(dil).toEqual({ 'bb_dw': [2, 2], 'aspp2': [2, 2], 'aspp3/depthwise': [3, 3], 'aspp12': [12, 12] });
    const N = 2;
    const x = Float32Array.from(uniform(seededPrg(93), N * 576, 1), (v) => (v + 1) / 2);
    x[0] = 0; x[1] = 1;
    expect(maxAbs(referenceLogits(ir, x, N), want(x, N))).toBeLessThan(1e-5);

    // mpc-import: the precision chosen on random samples, three share bundles.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(tmp.dir, 'deeplab-bundles');
    try {
      expect(await main([f, '--out', out, '--no-labels', '--random', '2', '--output-activation', 'softmax', '--no-progress'])).toBe(0);
    } finally { vi.restoreAllMocks(); }
    const bundles = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p));
    const m = bundles[0]!.manifest;
    const fb = m.fracBits;
    const xs = shareFor3(encode(x, fb));
    const r = await run3((ctx) => secureForward(ctx, bundles[ctx.party]!.model, { shape: [N, ...IN], data: xs[ctx.party]! }), { fracBits: fb, ...(m.truncation ? { truncation: m.truncation } : {}), ...(m.compareBits ? { compareBits: m.compareBits } : {}) });
    const got = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), fb);
    expect(r.results[0].shape).toEqual([N, 16, 12, 2]);
    // Against the fixed-point simulation of the same settings: a few units of 2^-f per truncation on the way (local
    // truncation's rare wrong element is kept below 1e-6 per inference by the chooser).
    expect(maxAbs(got, fixedLogits(ir, x, N, { fracBits: fb, ...(m.truncation ? { truncation: m.truncation } : {}) }))).toBeLessThan(64 / 2 ** fb);
    expect(maxAbs(got, want(x, N))).toBeLessThan(1e-2);
  }, 180_000);

  it('the sound bound (static-bounds.ts, interval arithmetic through forwardNode) equals the zero-expanded kernels\' and holds the outputs', async () => {
    const f = path.join(tmp.dir, 'deeplab-bounds.keras');
    await writeKeras3Functional(f, { name: 'deeplabish', inputShape: IN, layers, output: 'logits' });
    const { ir } = await loadModel(f);
    const expand = (nd: LayerNode<FloatTensor>): LayerNode<FloatTensor> => {
      if ((nd.kind !== 'conv2d' && nd.kind !== 'depthwise_conv2d') || !nd.dilation) return nd;
      const [kh, kw] = nd.kernelSize, d = nd.dilation, [eh, ew] = dilatedExtent(nd.kernelSize, d), CM = nd.kernel.shape[2]! * nd.kernel.shape[3]!;
      const data = new Float64Array(eh * ew * CM);
      for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) data.set(nd.kernel.data.subarray((ky * kw + kx) * CM, (ky * kw + kx + 1) * CM), (ky * d[0] * ew + kx * d[1]) * CM);
      const { dilation: _d, ...rest } = nd;
      return { ...rest, kernelSize: [eh, ew], kernel: { shape: [eh, ew, nd.kernel.shape[2]!, nd.kernel.shape[3]!], data } } as LayerNode<FloatTensor>;
    };
    const big: ModelIR<FloatTensor> = { ...ir, nodes: ir.nodes.map(expand) };
    const box = inputBox(IN, [0], [1]);
    const a = outputBox(ir, box), b = outputBox(big, box);
    const scale = 1 + Math.max(...Array.from(a.hi, Math.abs), ...Array.from(a.lo, Math.abs));
    expect(maxAbs(a.lo, b.lo) + maxAbs(a.hi, b.hi)).toBeLessThan(1e-12 * scale);
    const x = Float32Array.from(uniform(seededPrg(94), 576, 1), (v) => (v + 1) / 2);
    const y = referenceLogits(ir, x, 1);
    for (let i = 0; i < y.length; i++) expect(y[i]! >= a.lo[i]! - 1e-5 && y[i]! <= a.hi[i]! + 1e-5).toBe(true);
  });

});

