/**
 * The layer IR shared by model-import (which produces it from Keras files)
 * and the layer runner (which executes it over shares or in plaintext).
 *
 * Tensors are batch-first NHWC (Keras channels_last); shapes in the IR omit
 * the batch dimension. A model is a list of nodes in topological order; each
 * node names its inputs ('input' is the model input), so residual Add blocks
 * are expressible. Weights are generic: W = FloatTensor in the plaintext IR,
 * ShareTensor in a party's share bundle.
 */
export const IR_FORMAT_VERSION = 1;

export type Padding = 'valid' | 'same';
/** Activations the secure protocol runs inside the network. */
export type Activation = 'linear' | 'relu' | 'relu6';
/** Activations applied by the client after reconstruction (final layer only). */
export type OutputActivation = 'linear' | 'softmax' | 'sigmoid';

export interface FloatTensor {
  shape: number[];
  data: Float64Array;
}

interface NodeBase {
  name: string;
  /** Names of the nodes this node reads; 'input' is the model input. */
  inputs: string[];
}

export interface Conv2DNode<W> extends NodeBase {
  kind: 'conv2d';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  activation: Activation;
  /** kernel [kh, kw, Cin, Cout] (Keras layout); bias [Cout] (BatchNorm already folded in). */
  kernel: W;
  bias?: W;
}

export interface DepthwiseConv2DNode<W> extends NodeBase {
  kind: 'depthwise_conv2d';
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  depthMultiplier: number;
  activation: Activation;
  /** kernel [kh, kw, Cin, depthMultiplier]; bias [Cin * depthMultiplier]. */
  kernel: W;
  bias?: W;
}

export interface DenseNode<W> extends NodeBase {
  kind: 'dense';
  units: number;
  activation: Activation;
  /** kernel [in, units]; bias [units]. */
  kernel: W;
  bias?: W;
}

export interface ActivationNode extends NodeBase {
  kind: 'activation';
  activation: Activation;
}

export interface Pool2DNode extends NodeBase {
  kind: 'maxpool2d' | 'avgpool2d';
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

export interface GlobalAvgPool2DNode extends NodeBase {
  kind: 'global_avgpool2d';
}

export interface FlattenNode extends NodeBase {
  kind: 'flatten';
}

export interface ReshapeNode extends NodeBase {
  kind: 'reshape';
  /** Target shape without the batch dimension. */
  targetShape: number[];
}

export interface ZeroPadding2DNode extends NodeBase {
  kind: 'zero_padding2d';
  /** [[top, bottom], [left, right]] */
  padding: [[number, number], [number, number]];
}

/** y = x * scale + offset with public scale and offset (Keras Rescaling). */
export interface RescalingNode extends NodeBase {
  kind: 'rescaling';
  scale: number;
  offset: number;
}

export interface AddNode extends NodeBase {
  kind: 'add';
}

export type LayerNode<W> =
  | Conv2DNode<W>
  | DepthwiseConv2DNode<W>
  | DenseNode<W>
  | ActivationNode
  | Pool2DNode
  | GlobalAvgPool2DNode
  | FlattenNode
  | ReshapeNode
  | ZeroPadding2DNode
  | RescalingNode
  | AddNode;

export interface ModelIR<W = FloatTensor> {
  formatVersion: typeof IR_FORMAT_VERSION;
  /** Input shape without batch, e.g. [150, 125, 1]. */
  inputShape: number[];
  nodes: LayerNode<W>[];
  /** Name of the node whose output is the model output (logits before outputActivation). */
  output: string;
  outputActivation: OutputActivation;
  /** Human-readable class labels, if known. */
  labels?: string[];
}
