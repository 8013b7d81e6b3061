/**
 * Plaintext float64 twin of the layer runner: the same IR, the same geometry,
 * in ordinary floating point. The secure runner is compared with it; the
 * Keras-semantics reference (tfjs) in model-import/ is compared with Keras.
 */
import { assert } from '../errors.js';
import type { Activation, FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { window2d } from '../layers/geometry.js';
import { sizeOf } from '../layers/types.js';

interface T { shape: number[]; data: Float64Array }

const act = (a: Activation, v: number): number => (a === 'relu' ? Math.max(v, 0) : a === 'relu6' ? Math.min(Math.max(v, 0), 6) : v);

function conv(x: T, node: Extract<LayerNode<FloatTensor>, { kind: 'conv2d' | 'depthwise_conv2d' }>): T {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides;
  const g = window2d(H, W, node.kernelSize, node.strides, node.padding);
  const dw = node.kind === 'depthwise_conv2d';
  const dm = dw ? node.depthMultiplier : 1;
  const Co = dw ? C * dm : node.filters;
  const K = node.kernel.data, B = node.bias?.data;
  const out = new Float64Array(N * g.outH * g.outW * Co);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
    const o = ((n * g.outH + oy) * g.outW + ox) * Co;
    for (let ky = 0; ky < kh; ky++) {
      const y = oy * sh + ky - g.padTop;
      if (y < 0 || y >= H) continue;
      for (let kx = 0; kx < kw; kx++) {
        const xx = ox * sw + kx - g.padLeft;
        if (xx < 0 || xx >= W) continue;
        const xi = ((n * H + y) * W + xx) * C;
        for (let c = 0; c < C; c++) {
          const v = x.data[xi + c]!;
          if (dw) for (let m = 0; m < dm; m++) out[o + c * dm + m]! += v * K[((ky * kw + kx) * C + c) * dm + m]!;
          else {
            const kb = ((ky * kw + kx) * C + c) * Co;
            for (let f = 0; f < Co; f++) out[o + f]! += v * K[kb + f]!;
          }
        }
      }
    }
    for (let f = 0; f < Co; f++) out[o + f] = act(node.activation, out[o + f]! + (B ? B[f]! : 0));
  }
  return { shape: [N, g.outH, g.outW, Co], data: out };
}

function node1(node: LayerNode<FloatTensor>, ins: T[]): T {
  const x = ins[0]!;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
      return conv(x, node);
    case 'dense': {
      const [N, din] = x.shape as [number, number];
      const u = node.units, K = node.kernel.data, B = node.bias?.data;
      const out = new Float64Array(N * u);
      for (let n = 0; n < N; n++) for (let j = 0; j < u; j++) {
        let s = B ? B[j]! : 0;
        for (let i = 0; i < din; i++) s += x.data[n * din + i]! * K[i * u + j]!;
        out[n * u + j] = act(node.activation, s);
      }
      return { shape: [N, u], data: out };
    }
    case 'activation':
      return { shape: x.shape, data: x.data.map((v) => act(node.activation, v)) };
    case 'maxpool2d':
    case 'avgpool2d': {
      const [N, H, W, C] = x.shape as [number, number, number, number];
      const g = window2d(H, W, node.poolSize, node.strides, node.padding);
      const out = new Float64Array(N * g.outH * g.outW * C);
      let r = 0;
      for (let n = 0; n < N; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let c = 0; c < C; c++, r++) {
        let best = -Infinity, sum = 0, cnt = 0;
        for (let ky = 0; ky < node.poolSize[0]; ky++) for (let kx = 0; kx < node.poolSize[1]; kx++) {
          const y = oy * node.strides[0] + ky - g.padTop, xx = ox * node.strides[1] + kx - g.padLeft;
          if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
          const v = x.data[((n * H + y) * W + xx) * C + c]!;
          best = Math.max(best, v); sum += v; cnt++;
        }
        out[r] = node.kind === 'maxpool2d' ? best : sum / cnt;
      }
      return { shape: [N, g.outH, g.outW, C], data: out };
    }
    case 'global_avgpool2d': {
      const [N, H, W, C] = x.shape as [number, number, number, number];
      const out = new Float64Array(N * C);
      for (let n = 0; n < N; n++) for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) out[n * C + c]! += x.data[(n * H * W + p) * C + c]! / (H * W);
      return { shape: [N, C], data: out };
    }
    case 'flatten':
      return { shape: [x.shape[0]!, sizeOf(x.shape.slice(1))], data: x.data };
    case 'reshape':
      return { shape: [x.shape[0]!, ...node.targetShape], data: x.data };
    case 'zero_padding2d': {
      const [N, H, W, C] = x.shape as [number, number, number, number];
      const [[t, b], [l, r]] = node.padding;
      const H2 = H + t + b, W2 = W + l + r;
      const out = new Float64Array(N * H2 * W2 * C);
      for (let n = 0; n < N; n++) for (let y = 0; y < H; y++) out.set(x.data.subarray((n * H + y) * W * C, (n * H + y + 1) * W * C), ((n * H2 + y + t) * W2 + l) * C);
      return { shape: [N, H2, W2, C], data: out };
    }
    case 'rescaling':
      return { shape: x.shape, data: x.data.map((v) => v * node.scale + node.offset) };
    case 'add':
      return { shape: x.shape, data: x.data.map((v, i) => v + ins[1]!.data[i]!) };
  }
}

/** Float64 forward pass; returns logits (before outputActivation) [N, ...]. */
export function plainForward(model: ModelIR<FloatTensor>, input: Float64Array, N: number): T {
  assert(input.length === N * sizeOf(model.inputShape), 'E_SHAPE', `plainForward: expected ${N} x [${model.inputShape}] input`);
  const values = new Map<string, T>([['input', { shape: [N, ...model.inputShape], data: input }]]);
  for (const node of model.nodes) values.set(node.name, node1(node, node.inputs.map((s) => values.get(s)!)));
  return values.get(model.output)!;
}

export function softmaxRows(x: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(x[r * cols + c]! - m);
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= s;
  }
  return out;
}
