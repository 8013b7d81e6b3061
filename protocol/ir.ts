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
/**
 * A share bundle's irFormatVersion where a node has a dilation other than [1, 1]. A party build from before
 * dilations knows only 1 and no `dilation` field: it would load a dilated node as an undilated one and compute
 * another convolution without an error. Writing 2 for those bundles makes such a build refuse them at load
 * (E_BUNDLE_INTEGRITY); bundles without a dilation keep 1 and load on every build.
 */
export const IR_FORMAT_VERSION_DILATED = 2;

/** The irFormatVersion a bundle of these nodes needs (IR_FORMAT_VERSION_DILATED where one is dilated). */
export function irFormatVersionOf(nodes: readonly object[]): number {
  return nodes.some((n) => 'dilation' in n && Array.isArray(n.dilation) && n.dilation.some((d) => d !== 1)) ? IR_FORMAT_VERSION_DILATED : IR_FORMAT_VERSION;
}

export type Padding = 'valid' | 'same';
/**
 * Activations the secure protocol runs inside the network. relu, relu6 and
 * the piecewise-linear hard_* are exact (protocol/layers/activations-pl.ts):
 * hard_sigmoid is Keras 3's relu6(x + 3) / 6, hard_sigmoid_k2 Keras 2's
 * clip(0.2 x + 0.5, 0, 1), hard_silu x * hard_sigmoid(x) (Keras 3; Keras 2
 * has no such activation). The smooth ones run through a secure
 * approximation registered in protocol/layers/activations.ts.
 */
export type Activation = 'linear' | 'relu' | 'relu6' | 'hard_sigmoid' | 'hard_sigmoid_k2' | 'hard_silu' | SmoothActivationName;
export type SmoothActivationName = 'sigmoid' | 'silu' | 'tanh' | 'gelu';
/** Slope and offset of the hard sigmoids: clip(a x + b, 0, 1). */
export const HARD_SIGMOID: Readonly<Record<'hard_sigmoid' | 'hard_sigmoid_k2', readonly [number, number]>> = Object.freeze({ hard_sigmoid: [1 / 6, 0.5] as const, hard_sigmoid_k2: [0.2, 0.5] as const });
export const SMOOTH_ACTIVATIONS: readonly SmoothActivationName[] = ['sigmoid', 'silu', 'tanh', 'gelu'];
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
  /**
   * 64: this layer's comparisons run on the 64-bit comparison ring whatever the
   * context's (model-import's sound range bound needs it here; the runner
   * escalates this node only). Absent: the context's ring.
   */
  compareBits?: 64;
}

export interface Conv2DNode<W> extends NodeBase {
  kind: 'conv2d';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  /**
   * Atrous convolution: taps d apart ([d_h, d_w]; Keras dilation_rate, ONNX dilations). The window spans
   * (k - 1) d + 1 cells per axis ('same' padding and the output size use that extent, as TF). Absent: [1, 1].
   */
  dilation?: [number, number];
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
  /** As Conv2DNode's. */
  dilation?: [number, number];
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
/** Elementwise merges of two or more same-shape inputs (Average divides by the count). */
export interface MergeNode extends NodeBase {
  kind: 'subtract' | 'average' | 'maximum';
}
/** Secret x secret elementwise product of two inputs; numpy broadcasting of equal-rank shapes (squeeze-excite's [1, 1, C] over [H, W, C]). */
export interface MultiplyNode extends NodeBase {
  kind: 'multiply';
}
/** Concatenation along `axis` of the shape without batch (0-based; the channel axis is rank - 1). */
export interface ConcatenateNode extends NodeBase {
  kind: 'concatenate';
  axis: number;
}
/**
 * Conv2DTranspose as a stride-1 'valid' convolution of the input with zeros
 * inserted between rows/columns (stride - 1) and padded by `pad`
 * ([[top, bottom], [left, right]]); kernel [kh, kw, Cin, Cout] already
 * flipped and transposed from Keras's [kh, kw, Cout, Cin] at import.
 */
export interface Conv2DTransposeNode<W> extends NodeBase {
  kind: 'conv2d_transpose';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  pad: [[number, number], [number, number]];
  activation: Activation;
  kernel: W;
  bias?: W;
}
export interface UpSampling2DNode extends NodeBase {
  kind: 'upsampling2d';
  size: [number, number];
  /** bilinear: TF's resize with half-pixel centres (Keras UpSampling2D). */
  interpolation: 'nearest' | 'bilinear';
}
export interface Cropping2DNode extends NodeBase {
  kind: 'cropping2d';
  /** [[top, bottom], [left, right]] */
  cropping: [[number, number], [number, number]];
}
/** y = x if x >= 0, else alpha x, with a public alpha (Keras LeakyReLU). */
export interface LeakyReluNode extends NodeBase {
  kind: 'leaky_relu';
  alpha: number;
}
/** y = x if x >= 0, else alpha x, with a per-channel secret alpha (Keras PReLU, shared over H and W): kernel [C]. */
export interface PReluNode<W> extends NodeBase {
  kind: 'prelu';
  kernel: W;
  /** Never present (kept so every node with a kernel has the same fields). */
  bias?: W;
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
  | AddNode
  | MergeNode
  | MultiplyNode
  | ConcatenateNode
  | Conv2DTransposeNode<W>
  | UpSampling2DNode
  | Cropping2DNode
  | LeakyReluNode
  | PReluNode<W>;

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
