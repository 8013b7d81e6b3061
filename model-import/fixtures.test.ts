import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedLogits } from './fixed-sim.js';
import { readImageInput } from './images.js';
import { loadModel, type LoadedModel } from './load.js';
import { argmaxRows } from './output.js';
import { referenceLogits, referencePredict } from './reference.js';
import { FIXTURE_MODELS, fixtureModel, golden, goldenImage, haveFixtures, KERAS_FIXTURES, maxAbsDiff, readF32 } from './testing/fixtures.js';

const cache = new Map<string, LoadedModel>();
async function model(dir: string): Promise<LoadedModel> {
  let m = cache.get(dir);
  if (!m) cache.set(dir, (m = await loadModel(fixtureModel(dir))));
  return m;
}

describe.skipIf(!haveFixtures)('real Keras fixtures (the import acceptance set)', () => {
  it.each(Object.keys(FIXTURE_MODELS))('%s loads into the IR', async (dir) => {
    const m = await model(dir);
    expect(m.ir.nodes.length).toBeGreaterThan(3);
    expect(m.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    for (const n of m.ir.nodes) {
      expect(['batchnorm']).not.toContain(n.kind);
      if ('activation' in n) expect(['linear', 'relu', 'relu6']).toContain(n.activation);
    }
  });

  const withExact = Object.keys(FIXTURE_MODELS).filter((d) => golden(d)?.exact_inputs?.length);
  it('10 fixtures have exact golden inputs', () => expect(withExact).toHaveLength(10));

  it.each(withExact)('%s reproduces the Keras outputs on its exact inputs to 1e-4', async (dir) => {
    const m = await model(dir);
    for (const e of golden(dir)!.exact_inputs!) {
      expect(e.shape).toEqual(m.ir.inputShape);
      const y = await referencePredict(m.ir, readF32(path.join(KERAS_FIXTURES, dir, 'golden', e.file)), 1);
      expect(maxAbsDiff(y, e.output)).toBeLessThan(1e-4);
    }
  });

  it('recognises each writer: formats, Keras versions, output activations', async () => {
    const kinds = Object.fromEntries(await Promise.all(Object.keys(FIXTURE_MODELS).map(async (d) => [d, (await model(d)).format] as const)));
    expect(kinds['karancraze-mnist']).toBe('keras-h5');
    expect(kinds['aslaskin-mnist-keras3']).toBe('keras-v3');
    expect(kinds['angel-mnist-tfjs']).toBe('tfjs-layers');
    expect((await model('karancraze-mnist')).kerasVersion).toBe('2.1.4');
    expect((await model('ravneet-pneumonia')).ir.outputActivation).toBe('sigmoid');
    expect((await model('nakul-pneumonia256')).ir.outputActivation).toBe('softmax');
  });

  it('keeps the in-model Rescaling and drops the identity Resizing (nakul, nested Sequential)', async () => {
    const { ir } = await model('nakul-pneumonia256');
    expect(ir.nodes[0]).toMatchObject({ kind: 'rescaling', inputs: ['input'], offset: 0 });
    expect((ir.nodes[0] as { scale: number }).scale).toBeCloseTo(1 / 255, 12);
    expect(ir.nodes.some((n) => n.name.startsWith('resizing'))).toBe(false);
  });

  it('folds trab-pneumonia-bn\'s BatchNorms (after ReLU) forward into the next Conv2D / Dense', async () => {
    const { ir } = await model('trab-pneumonia-bn');
    expect(ir.nodes.map((n) => n.kind)).toEqual(['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'dense', 'dense', 'dense', 'dense']);
  });

  it('imports the MobileNetV2-style aryan-pneumonia (nested functional, DepthwiseConv2D, ReLU6, ZeroPadding2D, Add, BN)', async () => {
    const m = await model('aryan-pneumonia');
    const kinds = new Set(m.ir.nodes.map((n) => n.kind));
    for (const k of ['zero_padding2d', 'conv2d', 'depthwise_conv2d', 'add', 'global_avgpool2d', 'dense']) expect(kinds).toContain(k);
    expect(m.ir.nodes.some((n) => 'activation' in n && n.activation === 'relu6')).toBe(true);
    expect(m.ir.inputShape).toEqual([224, 224, 3]);
    expect(m.ir.outputActivation).toBe('softmax');
    // No golden (Keras 3 cannot rebuild it): run it on X-rays with its Teachable-Machine preprocessing
    // (x / 127.5 - 1) and check the fixed-point simulation against the float model. IM-0001 is a
    // borderline case (logits 1.38 vs 1.43), so only the logit error is bounded there.
    for (const img of ['NORMAL/IM-0001-0001.jpeg', 'PNEUMONIA/person85_bacteria_422.jpeg']) {
      const x = readImageInput(path.join(KERAS_FIXTURES, '..', 'xray', img), m.ir.inputShape, 'symmetric');
      const fl = await referenceLogits(m.ir, x, 1);
      const p = await referencePredict(m.ir, x, 1);
      expect(p[0]! + p[1]!).toBeCloseTo(1, 5);
      const fx = fixedLogits(m.ir, x, 1, { fracBits: 13 });
      expect(maxAbsDiff(fl, fx)).toBeLessThan(0.06);
      expect(maxAbsDiff(fl, fixedLogits(m.ir, x, 1, { fracBits: 16 }))).toBeLessThan(0.01);
      if (Math.abs(fl[0]! - fl[1]!) > 0.2) expect(argmaxRows(fx, 1)).toEqual(argmaxRows(fl, 1));
    }
  });

  it('angel-mnist-tfjs (no exact inputs) matches its golden results on the decoded sample PNGs', async () => {
    const m = await model('angel-mnist-tfjs');
    const g = golden('angel-mnist-tfjs')!;
    for (const r of g.results) {
      const x = readImageInput(goldenImage(r.image), m.ir.inputShape, 'unit');
      const y = await referencePredict(m.ir, x, 1);
      expect(argmaxRows(await referenceLogits(m.ir, x, 1), 1)[0]).toBe(r.pred);
      // PNG decoding and Pillow-style resizing are reproduced exactly, so this is tight.
      expect(maxAbsDiff(y, r.output)).toBeLessThan(1e-4);
    }
  });

  it.each([
    ['templinb-cnn-keras3', 'unit'],
    ['ravneet-pneumonia', 'unit'],
    ['aslaskin-mnist-keras3', 'unit'],
  ] as const)('%s: the golden results on every sample image agree (own JPEG/PNG decoding and resizing)', async (dir, scaling) => {
    const m = await model(dir);
    for (const r of golden(dir)!.results) {
      const x = readImageInput(goldenImage(r.image), m.ir.inputShape, scaling);
      const y = await referencePredict(m.ir, x, 1);
      // One grey level of JPEG decoding difference moves the outputs a little; decisions match unless borderline.
      expect(maxAbsDiff(y, r.output)).toBeLessThan(0.03);
      if (y.length === 1 && Math.abs(r.output[0]! - 0.5) > 0.03) expect(y[0]! > 0.5 ? 1 : 0).toBe(r.output[0]! > 0.5 ? 1 : 0);
      if (y.length > 1) expect(argmaxRows(y, 1)[0]).toBe(argmaxRows(r.output, 1)[0]);
    }
  });

  it('the weights-only karancraze mnist_weights.h5 needs a config, and with mnist.h5\'s config equals mnist.h5', async () => {
    const wfile = path.join(KERAS_FIXTURES, 'karancraze-mnist', 'mnist_weights.h5');
    await expect(loadModel(wfile)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    const m = await loadModel(wfile, { configFrom: fixtureModel('karancraze-mnist') });
    const e = golden('karancraze-mnist')!.exact_inputs![0]!;
    const y = await referencePredict(m.ir, readF32(path.join(KERAS_FIXTURES, 'karancraze-mnist', 'golden', e.file)), 1);
    expect(maxAbsDiff(y, e.output)).toBeLessThan(1e-4);
  });
});
