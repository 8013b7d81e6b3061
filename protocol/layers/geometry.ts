/**
 * Output sizes and padding of windows (convolution and pooling), with
 * TensorFlow's 'same' rule: out = ceil(in / stride), total padding
 * max((out - 1) * stride + k - in, 0), the smaller half on top/left
 * (asymmetric when the total is odd).
 */
import { assert } from '../errors.js';
import type { Padding } from '../ir.js';

export interface Window1D { out: number; padBefore: number; padAfter: number }

export function window1d(size: number, k: number, stride: number, padding: Padding): Window1D {
  assert(k >= 1 && stride >= 1, 'E_BAD_ARGUMENT', `window: kernel ${k} and stride ${stride} must be positive`);
  if (padding === 'valid') {
    assert(size >= k, 'E_SHAPE', `window: input size ${size} is smaller than the window ${k} ('valid' padding)`);
    return { out: Math.floor((size - k) / stride) + 1, padBefore: 0, padAfter: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const padBefore = Math.floor(total / 2);
  return { out, padBefore, padAfter: total - padBefore };
}

export interface Window2D {
  outH: number; outW: number; padTop: number; padLeft: number; padBottom: number; padRight: number;
}

export function window2d(H: number, W: number, k: [number, number], s: [number, number], padding: Padding): Window2D {
  const h = window1d(H, k[0], s[0], padding), w = window1d(W, k[1], s[1], padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore, padBottom: h.padAfter, padRight: w.padAfter };
}

/** A convolution node's dilation [d_h, d_w]: [1, 1] where the node has none. */
export function dilationOf(node: { dilation?: [number, number] }): [number, number] {
  return node.dilation ?? [1, 1];
}

/** The extent of a kernel of k taps dilated by d: (k - 1) d + 1 per axis (TF's and ONNX's effective kernel: padding and output size). */
export function dilatedExtent(k: [number, number], d: [number, number]): [number, number] {
  return [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1];
}

/** A convolution node's window geometry: window2d of its dilated extent. */
export function convWindow(H: number, W: number, node: { kernelSize: [number, number]; strides: [number, number]; padding: Padding; dilation?: [number, number] }): Window2D {
  return window2d(H, W, dilatedExtent(node.kernelSize, dilationOf(node)), node.strides, node.padding);
}
