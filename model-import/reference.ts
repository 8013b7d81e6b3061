/**
 * Plaintext float32 reference forward pass of the IR with @tensorflow/tfjs
 * (pure JS CPU backend): the same ops Keras runs (TF 'same' padding,
 * average pooling that ignores padded cells), with BatchNorm already folded.
 * Inputs and outputs are batch-first NHWC float32, flat.
 */
import * as tf from '@tensorflow/tfjs';
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';
import { applyOutputActivation } from './output.js';
import { sizeOf } from './shapes.js';

export { applyOutputActivation };

let configured = false;
function ready(): void {
  if (configured) return;
  // PROD silences tfjs's "install tfjs-node" banner; the CPU backend initialises synchronously.
  tf.env().set('PROD', true);
  void tf.setBackend('cpu');
  if (tf.getBackend() !== 'cpu') throw new MpcError('E_INTERNAL', 'reference: the tfjs CPU backend did not initialise');
  configured = true;
}

function t(w: FloatTensor): tf.Tensor {
  return tf.tensor(Float32Array.from(w.data), w.shape, 'float32');
}

function activate(x: tf.Tensor, a: 'linear' | 'relu' | 'relu6'): tf.Tensor {
  return a === 'relu' ? tf.relu(x) : a === 'relu6' ? tf.relu6(x) : x;
}

function runNode(node: LayerNode<FloatTensor>, xs: tf.Tensor[], batch: number): tf.Tensor {
  const x = xs[0]!;
  switch (node.kind) {
    case 'conv2d': {
      let y = tf.conv2d(x as tf.Tensor4D, t(node.kernel) as tf.Tensor4D, node.strides, node.padding);
      if (node.bias) y = tf.add(y, t(node.bias));
      return activate(y, node.activation);
    }
    case 'depthwise_conv2d': {
      let y = tf.depthwiseConv2d(x as tf.Tensor4D, t(node.kernel) as tf.Tensor4D, node.strides, node.padding);
      if (node.bias) y = tf.add(y, t(node.bias));
      return activate(y, node.activation);
    }
    case 'dense': {
      let y = tf.matMul(x as tf.Tensor2D, t(node.kernel) as tf.Tensor2D);
      if (node.bias) y = tf.add(y, t(node.bias));
      return activate(y, node.activation);
    }
    case 'activation':
      return activate(x, node.activation);
    case 'maxpool2d':
      return tf.maxPool(x as tf.Tensor4D, node.poolSize, node.strides, node.padding);
    case 'avgpool2d':
      return tf.avgPool(x as tf.Tensor4D, node.poolSize, node.strides, node.padding);
    case 'global_avgpool2d':
      return tf.mean(x, [1, 2]);
    case 'flatten':
      return tf.reshape(x, [batch, -1]);
    case 'reshape':
      return tf.reshape(x, [batch, ...node.targetShape]);
    case 'zero_padding2d':
      return tf.pad(x, [[0, 0], node.padding[0], node.padding[1], [0, 0]]);
    case 'rescaling':
      return tf.add(tf.mul(x, tf.scalar(node.scale)), tf.scalar(node.offset));
    case 'add':
      return xs.slice(1).reduce((a, b) => tf.add(a, b), x);
  }
}

/** Outputs of the model before `outputActivation` (logits), flat [batch, ...outShape]. */
export function referenceLogits(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number): Float32Array {
  ready();
  const per = sizeOf(model.inputShape);
  if (input.length !== per * batch) throw new MpcError('E_SHAPE', `reference: input has ${input.length} values, expected ${batch} x [${model.inputShape}] = ${per * batch}`);
  return tf.tidy(() => {
    const vals = new Map<string, tf.Tensor>([['input', tf.tensor(Float32Array.from(input), [batch, ...model.inputShape], 'float32')]]);
    for (const node of model.nodes) vals.set(node.name, runNode(node, node.inputs.map((i) => vals.get(i)!), batch));
    const out = vals.get(model.output);
    if (!out) throw new MpcError('E_INTERNAL', `reference: output '${model.output}' was not computed`);
    return Float32Array.from(out.dataSync() as Float32Array);
  });
}

/** Model outputs after `outputActivation` (probabilities for softmax/sigmoid). */
export function referencePredict(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number): Float32Array {
  const logits = referenceLogits(model, input, batch);
  return applyOutputActivation(logits, batch, model.outputActivation);
}
