/**
 * Plaintext tfjs timing for the benchmark ratio: builds a tf.LayersModel from
 * the IR with the same weights (pure-JS CPU backend, float32) and times predict().
 */
import * as tf from '@tensorflow/tfjs';
import { performance } from 'node:perf_hooks';
import type { FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';

function layerFor(node: LayerNode<FloatTensor>): tf.layers.Layer {
  const w = (t: FloatTensor) => tf.tensor(Float32Array.from(t.data), t.shape);
  switch (node.kind) {
    case 'conv2d':
      return tf.layers.conv2d({ filters: node.filters, kernelSize: node.kernelSize, strides: node.strides, padding: node.padding, activation: node.activation as 'linear' | 'relu' | 'relu6', useBias: !!node.bias, weights: node.bias ? [w(node.kernel), w(node.bias)] : [w(node.kernel)] });
    case 'dense':
      return tf.layers.dense({ units: node.units, activation: node.activation as 'linear' | 'relu' | 'relu6', useBias: !!node.bias, weights: node.bias ? [w(node.kernel), w(node.bias)] : [w(node.kernel)] });
    case 'maxpool2d':
      return tf.layers.maxPooling2d({ poolSize: node.poolSize, strides: node.strides, padding: node.padding });
    case 'avgpool2d':
      return tf.layers.averagePooling2d({ poolSize: node.poolSize, strides: node.strides, padding: node.padding });
    case 'flatten':
      return tf.layers.flatten();
    default:
      throw new Error(`tfjs timing: layer kind ${node.kind} not used by the seed models`);
  }
}

export async function tfjsPredictMs(model: ModelIR<FloatTensor>, x: Float64Array, N: number, reps: number): Promise<number> {
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.inputLayer({ inputShape: model.inputShape }));
  for (const node of model.nodes) m.add(layerFor(node));
  const input = tf.tensor(Float32Array.from(x), [N, ...model.inputShape]);
  (m.predict(input) as tf.Tensor).dataSync(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const y = m.predict(input) as tf.Tensor;
    y.dataSync();
    times.push(performance.now() - t);
    y.dispose();
  }
  input.dispose();
  m.dispose();
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** tfjsPredictMs, or NaN (logged) where the tfjs twin does not build the model's layers (the zoo models'). */
/** NaN (with the reason logged) when tfjs cannot time the model, or when MPC_BENCH_NO_TFJS=1 (the GPU script: VGG16's tfjs pass takes a minute there). */
export async function tfjsPredictMsOrNaN(model: ModelIR<FloatTensor>, x: Float64Array, N: number, reps: number, log: (s: string) => void): Promise<number> {
  if (process.env.MPC_BENCH_NO_TFJS === '1') { log('tfjs timing skipped: MPC_BENCH_NO_TFJS=1'); return NaN; }
  try {
    return await tfjsPredictMs(model, x, N, reps);
  } catch (e) {
    log(`tfjs timing skipped: ${(e as Error).message}`);
    return NaN;
  }
}
