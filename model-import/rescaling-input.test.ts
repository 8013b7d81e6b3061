/**
 * A per-channel Rescaling reading the model's input (now an affine node, folded like BatchNorm) is the
 * model's own normalisation: the importer must ask the client for raw 0..255 pixels (not x/255 on top)
 * and the imported graph must apply it exactly once, folded forward into a 'valid' conv, kept as a
 * 1x1 depthwise step before a 'same' conv (zero padding of the normalised image is not a fold).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject } from './keras-config.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { prgFromSeed, SequentialBuilder, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

tf.env().set('PROD', true);
void tf.setBackend('cpu');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('per-channel Rescaling on the input (EfficientNet-style mean/std in the model)', () => {
  const IN: [number, number, number] = [5, 5, 3];
  const scale = [1 / 58.4, 1 / 57.1, 1 / 57.4], offset = [-2.12, -2.04, -1.8];
  const kernel = { shape: [3, 3, 3, 2], data: Float64Array.from({ length: 54 }, (_, i) => Math.fround(((i * 37) % 11) / 10 - 0.5)) };
  const px = Float32Array.from({ length: 75 }, (_, i) => (i * 53) % 256);

  it.each([['same', 'depthwise_conv2d,conv2d,flatten'], ['valid', 'conv2d,flatten']] as const)('raw pixels in, normalised once, as Keras (conv padding %s: nodes %s)', async (pad, kinds) => {
    for (const ext of ['keras', 'h5']) {
      const f = path.join(tmp.dir, `pc-${pad}.${ext}`);
      await writeModelFile(new SequentialBuilder('pc', IN, prgFromSeed(1))
        .raw('Rescaling', { scale: scale as unknown as JsonObject, offset: offset as unknown as JsonObject }, [], 'rescaling')
        .raw('Conv2D', { filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: pad, activation: 'linear', use_bias: false, groups: 1, dilation_rate: [1, 1] }, [{ name: 'kernel', value: kernel }], 'c')
        .raw('Flatten', {}, [], 'f'), f, { kerasVersion: '2.12.0' });
      const m = await loadModel(f);
      expect(m.preprocessing?.preprocessing.scaling, ext).toBe('raw');
      expect(m.preprocessing?.assumed, ext).toBe(false);
      expect(m.ir.nodes.map((n) => n.kind).join(','), ext).toBe(kinds);
      const want = tf.tidy(() => {
        const x = tf.add(tf.mul(tf.tensor(px, [1, ...IN]), tf.tensor1d(scale)), tf.tensor1d(offset)) as tf.Tensor4D;
        return Float32Array.from(tf.conv2d(x, tf.tensor(Float32Array.from(kernel.data), kernel.shape as [number, number, number, number]), 1, pad).dataSync());
      });
      const got = referenceLogits(m.ir, px, 1);
      expect(got.length).toBe(want.length);
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err, ext).toBeLessThan(1e-5);
    }
  });
});
