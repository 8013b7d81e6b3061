/**
 * Conv models of realistic structure for the end-to-end probe's `--arch convnet` (bench/e2e-oracle.ts): unlike
 * keras-oracle-gen.ts's random layer soup on a 4..8 pixel image, a small medical-imaging CNN as people build them:
 *   input 32..64 square, 1 or 3 channels
 *   -> 1..2 blocks Conv2D 3x3 'same' + BatchNormalization + ReLU, MaxPooling2D 2x2
 *   -> a residual block: Conv-BN-ReLU-Conv-BN, Add with its input (a 1x1 Conv2D shortcut where the channels change), ReLU
 *   -> AveragePooling2D 2x2 -> one more Conv-BN-ReLU block -> GlobalAveragePooling2D -> Dense (2..4, softmax).
 * Weights He-uniform (limit sqrt(6 / fan_in)), as Keras initialises a ReLU network, so activations keep their scale
 * through the blocks (keras-oracle-gen's uniform(0.8) would grow them ~5x per 3x3x16 conv); BatchNormalization gets
 * non-trivial moving statistics. Every draw comes from the seeded PRG (protocol/correlated/prg.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Prg } from '../../protocol/correlated/prg.js';
import { uniform } from '../../protocol/seed-models.js';
import { int, pick, type Generated, type Step } from './keras-oracle-gen.js';

type Sym = tf.SymbolicTensor;

export function convnetModel(g: Prg): Generated {
  const side = pick(g, [32, 40, 48, 64] as const);
  const inputShape = [side, side, pick(g, [1, 3] as const)];
  const steps: Step[] = [];
  const input = tf.input({ shape: inputShape });
  const add = (kind: string, desc: string, t: Sym): Sym => { steps.push({ kind, desc }); return t; };
  const conv = (x: Sym, filters: number, k = 3): Sym => add('Conv2D', `${k}x${k} ${filters}`, tf.layers.conv2d({ filters, kernelSize: k, padding: 'same', useBias: k === 1 }).apply(x) as Sym);
  const bn = (x: Sym): Sym => add('BatchNormalization', '', tf.layers.batchNormalization({}).apply(x) as Sym);
  const relu = (x: Sym): Sym => add('ReLU', '', tf.layers.activation({ activation: 'relu' }).apply(x) as Sym);
  const block = (x: Sym, filters: number): Sym => relu(bn(conv(x, filters)));
  let x: Sym = input;
  let ch = int(g, 4, 8);
  const first = int(g, 1, 2);
  for (let i = 0; i < first; i++) x = block(x, ch);
  x = add('MaxPooling2D', '2x2', tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as Sym);
  // The residual block (a 1x1 projection on the shortcut when it widens the channels).
  const wider = int(g, 0, 1) === 1 ? ch * 2 : ch;
  const shortcut = wider === ch ? x : conv(x, wider, 1);
  const y = bn(conv(block(x, wider), wider));
  x = relu(add('Add', 'residual', tf.layers.add().apply([y, shortcut]) as Sym));
  ch = wider;
  x = add('AveragePooling2D', '2x2', tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as Sym);
  x = block(x, ch);
  x = add('GlobalAveragePooling2D', '', tf.layers.globalAveragePooling2d({}).apply(x) as Sym);
  const units = int(g, 2, 4);
  x = add('Dense', `${units} softmax`, tf.layers.dense({ units, activation: 'softmax' }).apply(x) as Sym);
  const model = tf.model({ inputs: input, outputs: x });
  for (const l of model.layers) {
    const ws = l.weights;
    if (ws.length === 0) continue;
    l.setWeights(ws.map((w) => {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const n = w.name;
      // Kernels: He-uniform over the fan-in (all dimensions but the last); biases, beta and moving means small.
      const v = n.includes('kernel') ? uniform(g, size, Math.sqrt(6 / (size / shape[shape.length - 1]!)))
        : n.includes('moving_variance') ? uniform(g, size, 0.5).map((u) => 0.5 + Math.abs(u))
          : n.includes('gamma') ? uniform(g, size, 0.3).map((u) => 1 + u)
            : uniform(g, size, 0.1);
      return tf.tensor(Float32Array.from(v), shape);
    }));
  }
  return { model, steps, inputShape };
}
