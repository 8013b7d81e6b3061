/**
 * Defects found by the differential probe against tfjs-layers
 * (bench/keras-oracle.ts: random tfjs-layers models saved as TF.js Layers
 * files, imported, the plaintext reference compared with tfjs's predict).
 * Each case is built with tf.layers, saved with saveTfjsLayers and imported
 * with loadModel, the CLI's entry point; tfjs's predict is the oracle where
 * it follows Keras's documented semantics.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { PartyId } from '../protocol/ring/types.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { fixedPredict } from './fixed-sim.js';
import { loadModel } from './load.js';
import { modelOutput, softmaxGroupOf } from './output.js';
import { loadBundle, writeBundles } from './bundle.js';
import { referencePredict } from './reference.js';
import { tempDir } from './testing/fixtures.js';
import { saveTfjsLayers } from './testing/tfjs-save.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

tf.env().set('PROD', true);
void tf.setBackend('cpu');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const g = seededPrg(4242);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let e = a.length === b.length ? 0 : Infinity; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

/** Random weights from the seeded PRG (tfjs's initialisers are not seeded from node:crypto). */
function setWeights(m: tf.LayersModel): void {
  for (const l of m.layers) if (l.weights.length) l.setWeights(l.weights.map((w) => tf.tensor(Float32Array.from(uniform(g, w.shape.reduce((a, b) => a! * b!, 1)!, 0.8)), w.shape as number[])));
}

/** Build, save as TF.js Layers, import; return tfjs's predict, the input and the imported model. */
async function roundTrip(inputShape: number[], body: (x: tf.SymbolicTensor) => tf.SymbolicTensor, batch = 2) {
  const input = tf.input({ shape: inputShape });
  const model = tf.model({ inputs: input, outputs: body(input) });
  setWeights(model);
  const x = Float32Array.from(uniform(g, batch * inputShape.reduce((a, b) => a * b, 1), 1));
  const want = tf.tidy(() => (model.predict(tf.tensor(x, [batch, ...inputShape])) as tf.Tensor).dataSync() as Float32Array).slice();
  const dir = path.join(tmp.dir, `m${++n}`);
  mkdirSync(dir);
  const loaded = await loadModel(await saveTfjsLayers(model, dir));
  tf.disposeVariables();
  return { want, x, batch, ir: loaded.ir };
}

describe('a final softmax over a dense [H, W, C] output (segmentation head): one distribution per position, over C', () => {
  it('Conv2D(activation="softmax") as the last layer: the reference and the fixed-point simulation softmax each pixel over its channels, as Keras', async () => {
    const r = await roundTrip([5, 4, 2], (x) => tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'softmax' }).apply(x) as tf.SymbolicTensor);
    expect(r.ir.outputActivation).toBe('softmax');
    // The precision chooser and the agreement report take their probabilities through the same groups.
    expect(softmaxGroupOf(r.ir)).toBe(3);
    expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
    expect(maxDiff(fixedPredict(r.ir, r.x, r.batch, { fracBits: 16 }), r.want)).toBeLessThan(2e-3);
  });

  it('a Softmax layer after Reshape to [H*W, C] (rank 2): per row of C', async () => {
    const r = await roundTrip([3, 4, 2], (x) => {
      const c = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
      return tf.layers.softmax({ axis: -1 }).apply(tf.layers.reshape({ targetShape: [12, 4] }).apply(c) as tf.SymbolicTensor) as tf.SymbolicTensor;
    });
    expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
  });

  it('a final softmax over a flat vector is still one distribution over all values (the class head)', async () => {
    const r = await roundTrip([3, 3, 2], (x) => tf.layers.dense({ units: 5, activation: 'softmax' }).apply(tf.layers.flatten().apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor);
    expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
  });
});

describe('Reshape with an unknown dimension (TF.js Layers writes the -1 of target_shape as null)', () => {
  it('Reshape([-1, C]) and Reshape([H, -1, C]) from a TF.js model.json import and match tfjs', async () => {
    for (const targetShape of [[-1, 3], [4, -1, 3]]) {
      const r = await roundTrip([4, 5, 2], (x) => {
        const c = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
        return tf.layers.reshape({ targetShape }).apply(c) as tf.SymbolicTensor; // (tfjs's Flatten cannot follow: it does not resolve the -1)
      });
      expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want), JSON.stringify(targetShape)).toBeLessThan(1e-5);
    }
  });

  it('two unknown dimensions are refused naming the layer (E_MODEL_FORMAT)', async () => {
    const dir = path.join(tmp.dir, `m${++n}`);
    mkdirSync(dir);
    const input = tf.input({ shape: [4, 5, 2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.reshape({ targetShape: [4, 5, 2] }).apply(input) as tf.SymbolicTensor });
    const file = await saveTfjsLayers(model, dir);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: { config: { layers: { config: Record<string, unknown> }[] } } };
    json.modelTopology.config.layers[1]!.config['target_shape'] = [null, null, 2];
    writeFileSync(file, JSON.stringify(json));
    await expect(loadModel(file)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/Reshape.*one unknown dimension/) });
    // One unknown that the input's size does not fill: refused at import, naming the layer.
    json.modelTopology.config.layers[1]!.config['target_shape'] = [null, 7];
    writeFileSync(file, JSON.stringify(json));
    await expect(loadModel(file)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/Reshape.*\[null,7\] does not divide the input \[4,5,2\]/) });
    tf.disposeVariables();
  });
});

describe('merges that broadcast (Keras: a lower-rank input gets axes after the batch, then numpy broadcasting)', () => {
  const se = (merge: () => tf.layers.Layer, rank1: boolean) => (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const c = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    const d = tf.layers.dense({ units: 3, activation: 'relu' }).apply(tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const s = rank1 ? d : (tf.layers.reshape({ targetShape: [1, 1, 3] }).apply(d) as tf.SymbolicTensor);
    return merge().apply([c, s]) as tf.SymbolicTensor;
  };
  const cases: [string, () => tf.layers.Layer][] = [['Add', () => tf.layers.add()], ['Multiply', () => tf.layers.multiply()], ['Maximum', () => tf.layers.maximum()], ['Average', () => tf.layers.average()]];
  for (const [name, merge] of cases) {
    for (const rank1 of [false, true]) {
      it(`${name} of a [H, W, C] map and a ${rank1 ? '[C] vector' : '[1, 1, C] map'} (a squeeze-excite gate) imports and matches tfjs`, async () => {
        const r = await roundTrip([5, 6, 2], se(merge, rank1));
        expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
      });
    }
  }

  it('a merge that would broadcast the channels ([H, W, C] with [H, W, 1]) is refused naming the layer (E_UNSUPPORTED_LAYER)', async () => {
    const dir = path.join(tmp.dir, `m${++n}`);
    mkdirSync(dir);
    const input = tf.input({ shape: [4, 4, 3] });
    const one = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.add().apply([input, one]) as tf.SymbolicTensor });
    await expect(loadModel(await saveTfjsLayers(model, dir))).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/\(Add\).*broadcast/) });
    tf.disposeVariables();
  });
});

describe('the secure run of the fixed imports (three parties in memory, f = 13)', () => {
  it('a [1, 1, C] gate added to a map (reshape + nearest upsampling) and a per-pixel softmax head: the reconstructed output matches tfjs', async () => {
    const f = 13;
    const r = await roundTrip([5, 6, 2], (x) => {
      const c = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
      const d = tf.layers.dense({ units: 3 }).apply(tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor) as tf.SymbolicTensor;
      const s = tf.layers.add().apply([c, d]) as tf.SymbolicTensor;
      return tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax' }).apply(s) as tf.SymbolicTensor;
    }, 1);
    const out = path.join(tmp.dir, `bundle${++n}`);
    writeBundles({ ir: r.ir, format: 'tfjs-layers', sourceHash: '0'.repeat(64), sourceFile: 'model.json' }, out, { fracBits: f });
    const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p).model);
    const xs = shareFor3(encode(r.x, f));
    const res = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, ...r.ir.inputShape], data: xs[ctx.party]! }), { fracBits: f });
    const logits = Float32Array.from(decode(reconstruct(getKernels(), res.results[0].data, res.results[1].data), f));
    expect(maxDiff(modelOutput(r.ir, logits, 1), r.want)).toBeLessThan(5e-3);
  });
  it('Reshape with an unknown dimension (null in model.json) then Dense on the sequence: the bundle runs and matches tfjs (the runner needs the resolved target shape)', async () => {
    const f = 13;
    const r = await roundTrip([4, 5, 2], (x) => {
      const c = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
      const s = tf.layers.reshape({ targetShape: [-1, 3] }).apply(c) as tf.SymbolicTensor;
      return tf.layers.dense({ units: 2 }).apply(s) as tf.SymbolicTensor;
    }, 1);
    const out = path.join(tmp.dir, `bundle${++n}`);
    writeBundles({ ir: r.ir, format: 'tfjs-layers', sourceHash: '0'.repeat(64), sourceFile: 'model.json' }, out, { fracBits: f });
    const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p).model);
    const xs = shareFor3(encode(r.x, f));
    const res = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, ...r.ir.inputShape], data: xs[ctx.party]! }), { fracBits: f });
    expect(res.results[0].shape).toEqual([1, 20, 2]);
    const logits = Float32Array.from(decode(reconstruct(getKernels(), res.results[0].data, res.results[1].data), f));
    expect(maxDiff(modelOutput(r.ir, logits, 1), r.want)).toBeLessThan(5e-3);
  });
});

describe('a Sequential whose first layer is a model (Sequential([base_model, ...]), transfer learning)', () => {
  it('takes the input shape from the nested model when the outer list has no InputLayer (TF.js writes none)', async () => {
    const dir = path.join(tmp.dir, `m${++n}`);
    mkdirSync(dir);
    const i = tf.input({ shape: [6, 5, 2] });
    const base = tf.model({ inputs: i, outputs: tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }).apply(i) as tf.SymbolicTensor });
    const model = tf.sequential({ layers: [base as unknown as tf.layers.Layer, tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    setWeights(base);
    setWeights(model);
    const x = Float32Array.from(uniform(g, 2 * 60, 1));
    const want = tf.tidy(() => (model.predict(tf.tensor(x, [2, 6, 5, 2])) as tf.Tensor).dataSync() as Float32Array).slice();
    const ir = (await loadModel(await saveTfjsLayers(model, dir))).ir;
    tf.disposeVariables();
    expect(ir.inputShape).toEqual([6, 5, 2]);
    expect(maxDiff(referencePredict(ir, x, 2), want)).toBeLessThan(1e-5);
  });
});

describe('Dense on an input of rank > 1 (Keras applies the kernel on the last axis only)', () => {
  it('Dense on a [H, W, C] map is a 1x1 convolution per pixel: imports and matches tfjs (was refused: "flatten first")', async () => {
    const r = await roundTrip([4, 5, 3], (x) => tf.layers.dense({ units: 4, activation: 'relu' }).apply(tf.layers.conv2d({ filters: 3, kernelSize: 2 }).apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor);
    expect(r.ir.nodes.some((nd) => nd.kind === 'dense')).toBe(false);
    expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
  });

  it('Dense on a [N, C] sequence (after Reshape), without bias, then Flatten and a class head: matches tfjs', async () => {
    const r = await roundTrip([4, 5, 3], (x) => {
      const s = tf.layers.reshape({ targetShape: [20, 3] }).apply(x) as tf.SymbolicTensor;
      const d = tf.layers.dense({ units: 2, useBias: false }).apply(s) as tf.SymbolicTensor;
      return tf.layers.dense({ units: 3, activation: 'softmax' }).apply(tf.layers.flatten().apply(d) as tf.SymbolicTensor) as tf.SymbolicTensor;
    });
    expect(maxDiff(referencePredict(r.ir, r.x, r.batch), r.want)).toBeLessThan(1e-5);
  });
});

describe('bilinear UpSampling2D: tfjs-layers resizes without half-pixel centres, Keras (tf.image.resize) with them', () => {
  const build = (x: tf.SymbolicTensor): tf.SymbolicTensor => tf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' }).apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
  async function saved(kerasVersion?: string): Promise<{ file: string; x: Float32Array; conv: tf.Tensor4D }> {
    const dir = path.join(tmp.dir, `m${++n}`);
    mkdirSync(dir);
    const input = tf.input({ shape: [4, 3, 2] });
    const model = tf.model({ inputs: input, outputs: build(input) });
    setWeights(model);
    const x = Float32Array.from(uniform(g, 24, 1));
    const conv = tf.tidy(() => tf.conv2d(tf.tensor(x, [1, 4, 3, 2]) as tf.Tensor4D, model.layers[1]!.getWeights()[0] as tf.Tensor4D, 1, 'valid').add(model.layers[1]!.getWeights()[1]!) as tf.Tensor4D);
    const file = await saveTfjsLayers(model, dir);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: Record<string, unknown> };
    expect(String(json.modelTopology['keras_version'])).toMatch(/^tfjs-layers/);
    if (kerasVersion) json.modelTopology['keras_version'] = kerasVersion;
    writeFileSync(file, JSON.stringify(json));
    tf.disposeVariables();
    return { file, x, conv };
  }

  it('a model.json written by tfjs-layers itself is refused, naming the layer and why (its answer would differ from the one it was trained with)', async () => {
    const s = await saved();
    await expect(loadModel(s.file)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/UpSampling2D.*bilinear.*half-pixel/) });
  });

  it('a model.json converted from Keras (keras_version 2.12.0) imports with Keras\'s half-pixel bilinear', async () => {
    const s = await saved('2.12.0');
    const ir = (await loadModel(s.file)).ir;
    const want = tf.image.resizeBilinear(s.conv, [8, 9], false, true).dataSync();
    expect(maxDiff(referencePredict(ir, s.x, 1), want)).toBeLessThan(1e-5);
  });
});
