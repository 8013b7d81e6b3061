import { randomFillSync } from 'node:crypto';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { SeqModel } from './keras-writer.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { SequentialBuilder, prgFromSeed, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const tensor = (t: { shape: number[]; data: Float64Array }): tf.Tensor => tf.tensor(Float32Array.from(t.data), t.shape);
const act = (x: tf.Tensor, a: unknown): tf.Tensor => (a === 'relu' ? tf.relu(x) : a === 'relu6' ? tf.relu6(x) : x);

/** The unfolded Keras computation, straight from the layer specs (BatchNormalization with tf.batchNorm). */
function unfolded(m: SeqModel, input: Float32Array, batch: number): Float32Array {
  return tf.tidy(() => {
    let x: tf.Tensor = tf.tensor(input, [batch, ...m.inputShape]);
    for (const l of m.layers) {
      const c = l.config;
      const w = l.weights.map((v) => tensor(v.value));
      switch (l.className) {
        case 'Conv2D':
          x = act(tf.add(tf.conv2d(x as tf.Tensor4D, w[0] as tf.Tensor4D, c['strides'] as [number, number], c['padding'] as 'same'), w[1]!), c['activation']);
          break;
        case 'Dense':
          x = act(tf.add(tf.matMul(x as tf.Tensor2D, w[0] as tf.Tensor2D), w[1]!), c['activation']);
          break;
        case 'MaxPooling2D':
          x = tf.maxPool(x as tf.Tensor4D, c['pool_size'] as [number, number], c['strides'] as [number, number], c['padding'] as 'valid');
          break;
        case 'Flatten':
          x = tf.reshape(x, [batch, -1]);
          break;
        case 'ReLU':
          x = tf.relu(x);
          break;
        case 'BatchNormalization': {
          const [gamma, beta, mean, variance] = w as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          x = tf.batchNorm(x, mean, variance, beta, gamma, c['epsilon'] as number);
          break;
        }
        default:
          throw new Error(`unfolded: ${l.className}`);
      }
    }
    return Float32Array.from(x.dataSync());
  });
}

function randomInput(n: number): Float32Array {
  const u = new Uint32Array(n);
  randomFillSync(u);
  return Float32Array.from(u, (v) => v / 2 ** 32);
}

let k = 0;
async function check(b: SequentialBuilder, expectKinds: string[]): Promise<void> {
  for (const ext of ['keras', 'h5']) {
    const f = path.join(tmp.dir, `bn${++k}.${ext}`);
    await writeModelFile(b, f);
    const { ir } = await loadModel(f);
    expect(ir.nodes.map((n) => n.kind + ('activation' in n && n.activation !== 'linear' ? `+${n.activation}` : ''))).toEqual(expectKinds);
    const batch = 3;
    const x = randomInput(batch * b.inputShape.reduce((a, c) => a * c, 1));
    const got = await referenceLogits(ir, x, batch);
    const want = unfolded(b.build(), x, batch);
    expect(got.length).toBe(want.length);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!) / scale).toBeLessThan(2e-5);
  }
}

const B = (seed: number, shape = [14, 12, 3]): SequentialBuilder => new SequentialBuilder('bn', shape, prgFromSeed(seed));

describe('BatchNormalization folding (checked against the unfolded computation)', () => {
  it('backward into a linear Conv2D, then merges the ReLU after it', async () => {
    await check(B(1).conv2d(6, 3, 1, 'same', 'linear').batchNorm().raw('ReLU', {}, [], 'relu').pool('max', 2, 2).flatten().dense(3, 'linear'), ['conv2d+relu', 'maxpool2d', 'flatten', 'dense']);
  });

  it('backward into a linear Dense', async () => {
    await check(B(2).flatten().dense(10, 'linear').batchNorm().raw('ReLU', {}, [], 'relu').dense(2, 'linear'), ['flatten', 'dense+relu', 'dense']);
  });

  it('forward through max pooling into a valid Conv2D (BN after ReLU, all scales > 0)', async () => {
    await check(B(3).conv2d(5, 3, 1, 'same').batchNorm().pool('max', 2, 1).conv2d(4, 3, 1, 'valid').flatten().dense(2, 'linear'), ['conv2d+relu', 'maxpool2d', 'conv2d+relu', 'flatten', 'dense']);
  });

  it('forward through Flatten into a Dense', async () => {
    await check(B(4).conv2d(4, 3, 2, 'valid').batchNorm().flatten().dense(3, 'linear'), ['conv2d+relu', 'flatten', 'dense']);
  });

  it('forward between two Dense layers, and on the model input', async () => {
    await check(B(5, [20]).batchNorm().dense(8).batchNorm().dense(2, 'linear'), ['dense+relu', 'dense']);
  });

  it('as a 1x1 DepthwiseConv2D when the next Conv2D pads (same)', async () => {
    await check(B(6).conv2d(4, 3, 1, 'valid').batchNorm().conv2d(3, 3, 1, 'same').flatten().dense(2, 'linear'), ['conv2d+relu', 'depthwise_conv2d', 'conv2d+relu', 'flatten', 'dense']);
  });

  it('as a 1x1 DepthwiseConv2D when a negative scale meets max pooling', async () => {
    const b = B(7).conv2d(4, 3, 1, 'valid').batchNorm();
    const gamma = b.layers.at(-1)!.weights[0]!.value.data;
    gamma[1] = -gamma[1]!;
    await check(b.pool('max', 2, 2).flatten().dense(2, 'linear'), ['conv2d+relu', 'depthwise_conv2d', 'maxpool2d', 'flatten', 'dense']);
  });

  it('as reshape + 1x1 DepthwiseConv2D + reshape for a final BN on a flat tensor', async () => {
    await check(B(8, [16]).dense(6).batchNorm(), ['dense+relu', 'reshape', 'depthwise_conv2d', 'reshape']);
  });
});
