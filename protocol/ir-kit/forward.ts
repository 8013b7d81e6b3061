/**
 * The one plaintext forward pass of the layer IR, parameterised by its
 * arithmetic (arith.ts): float64 reals (protocol/reference/forward.ts,
 * model-import/reference.ts) or the secure runner's fixed point
 * (model-import/fixed-sim.ts). Each layer kind is written here once, with
 * the runner's geometry (TF 'same' padding, average pooling over unpadded
 * elements) and the runner's order of truncations.
 */
import { MpcError } from '../errors.js';
import { HARD_SIGMOID, type Activation, type FloatTensor, type LayerNode, type ModelIR, type SmoothActivationName } from '../ir.js';
import { smoothActivation } from '../layers/activations.js';
import { poolNoteFor } from './deferred.js';
import { bilinearPass, broadcastIndex, concatArrays, concatIndex, cropIndex, dilatePadIndex, gather, upsampleNearestIndex } from './layout.js';
import { convWindow, dilationOf, window2d } from '../layers/geometry.js';
import { sizeOf } from '../layers/types.js';
import type { Arith, CompareKind } from './arith.js';
import { outputShape } from './shapes.js';
import { IRValues } from './values.js';

/** A batch-first tensor in the arithmetic's units. */
export interface Values { shape: number[]; data: Float64Array }

/** Largest |v| of values in the arithmetic's units, as a real. */
function maxAbsReal(ar: Arith, ...xs: ArrayLike<number>[]): number {
  let m = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) { const v = Math.abs(x[i]!); if (v > m) m = v; }
  return ar.decode(m);
}

/** Tell ar.onCompare (if any) the largest magnitude the layer's comparisons see: `extra` (reals) added to max|x|, times `times`. */
function compared(ar: Arith, layer: string, kind: CompareKind, xs: ArrayLike<number>[], extra = 0, times = 1): void {
  if (ar.onCompare) ar.onCompare(layer, kind, times * maxAbsReal(ar, ...xs) + extra);
}

/** clip(a x + b, 0, 1) as activations-pl.ts computes it: the public product first, then the clamp (ReLU of t and of t - 1). */
function clampLinear(y: Float64Array, a: number, b: number, ar: Arith, layer: string): Float64Array {
  const off = ar.encode(b), one = ar.encode(1);
  for (let i = 0; i < y.length; i++) y[i] = ar.scale(y[i]!, a) + off;
  compared(ar, layer, 'sign', [y], 1);
  for (let i = 0; i < y.length; i++) { const t = y[i]!; y[i] = t < 0 ? 0 : t > one ? one : t; }
  return y;
}

/** A registered smooth activation (activations.ts): its float twin, or its fixed-point twin on ring values. */
function smooth(name: SmoothActivationName, y: Float64Array, ar: Arith, layer: string): Float64Array {
  const s = smoothActivation(name);
  if (!s) throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${layer}': activation '${name}': secure approximation not available`);
  if (ar.onSmoothInput) {
    let lo = Infinity, hi = -Infinity;
    for (const v of y) { if (v < lo) lo = v; if (v > hi) hi = v; }
    ar.onSmoothInput(layer, name, ar.decode(lo), ar.decode(hi));
  }
  // The approximation compares x (its sign) and |x| - B_k for its positive breakpoints (piecewise-poly.ts); |x| + B_K
  // (inputRange's end) bounds both.
  compared(ar, layer, 'sign', [y], Math.max(Math.abs(s.inputRange[0]), Math.abs(s.inputRange[1])));
  if (ar.kind === 'float') { for (let i = 0; i < y.length; i++) y[i] = s.float(y[i]!); return y; }
  const xr = BigUint64Array.from(y, (v) => BigInt.asUintN(64, BigInt(v)));
  // The secure engine's own truncations (three per element) count in the local-truncation risk like a layer's products.
  if (ar.truncations && s.truncated) { const t = s.truncated(xr, ar.fracBits!); ar.truncations(t.sum, t.largest); }
  // Stochastic rounding: one draw of the secure protocol's own rounding, where the approximation offers it.
  const ring = ar.rounding === 'stochastic' && s.fixedDraw ? s.fixedDraw(xr, ar.fracBits!) : s.fixed(xr, ar.fracBits!);
  for (let i = 0; i < y.length; i++) y[i] = Number(BigInt.asIntN(64, ring[i]!));
  return y;
}

function activate(a: Activation, y: Float64Array, ar: Arith, layer: string): Float64Array {
  if (a === 'linear') return y;
  if (a === 'hard_sigmoid' || a === 'hard_sigmoid_k2') return clampLinear(y, HARD_SIGMOID[a][0], HARD_SIGMOID[a][1], ar, layer);
  if (a === 'hard_silu') {
    const hs = clampLinear(Float64Array.from(y), HARD_SIGMOID.hard_sigmoid[0], HARD_SIGMOID.hard_sigmoid[1], ar, layer);
    for (let i = 0; i < y.length; i++) y[i] = ar.product(y[i]! * hs[i]!);
    return y;
  }
  if (a !== 'relu' && a !== 'relu6') return smooth(a, y, ar, layer);
  compared(ar, layer, 'sign', [y], a === 'relu6' ? 6 : 0);
  const six = ar.encode(6);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]! > 0 ? y[i]! : 0;
    y[i] = a === 'relu6' && v > six ? six : v;
  }
  return y;
}

type Win = Extract<LayerNode<FloatTensor>, { kind: 'conv2d' | 'depthwise_conv2d' }>;

/** Conv2D kernels [kh, kw, C, Co] transposed to [Co, kh * kw * C] (conv's dot products read them contiguously), per kernel array. */
const transposed = new WeakMap<ArrayLike<number>, Float64Array>();
function transposedKernel(K: Float64Array, R: number, Co: number): Float64Array {
  let t = transposed.get(K);
  if (!t) {
    t = new Float64Array(K.length);
    for (let r = 0; r < R; r++) for (let o = 0; o < Co; o++) t[o * R + r] = K[r * Co + o]!;
    transposed.set(K, t);
  }
  return t;
}

/**
 * Conv2D and DepthwiseConv2D (dilated: tap (ky, kx) reads the input d_h ky,
 * d_w kx cells from the window's corner). Each output element is the sum, in the order
 * (ky, kx, c), of the products of the nonzero inputs under the window with
 * their weights (padding and zero inputs add nothing). Conv2D gathers those
 * inputs once per output pixel and takes each output channel's sum as a dot
 * product with its transposed kernel row, four channels at a time: the same
 * terms added in the same order as an accumulation per output channel (so
 * the same float64 result, bit for bit), without loading and storing an
 * accumulator per product (1.5-2x faster on the zoo and pneumonia CNNs;
 * bench/forward-pass.ts, BENCHMARKS.md "Test suite time").
 */
function conv(node: Win, x: Values, ar: Arith): Values {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dwl] = dilationOf(node);
  const g = convWindow(H, W, node);
  const dw = node.kind === 'depthwise_conv2d';
  const dm = dw ? node.depthMultiplier : 1;
  const Co = dw ? C * dm : node.filters;
  const K = ar.weights(node.kernel), B = node.bias ? ar.weights(node.bias) : undefined;
  const out = new Float64Array(N * g.outH * g.outW * Co);
  const R = kh * kw * C;
  const Kt = dw ? undefined : transposedKernel(K, R, Co);
  const acc = new Float64Array(Co);
  // The nonzero inputs under one window (values, and their row in the kernel: (ky * kw + kx) * C + c).
  const pv = new Float64Array(R), pr = new Int32Array(R);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
    const oo = ((n * g.outH + oy) * g.outW + ox) * Co;
    if (Kt) {
      let m = 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky * dh - g.padTop;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw + kx * dwl - g.padLeft;
          if (ix < 0 || ix >= W) continue;
          const xo = ((n * H + iy) * W + ix) * C, ko = (ky * kw + kx) * C;
          for (let c = 0; c < C; c++) {
            const xv = x.data[xo + c]!;
            if (xv === 0) continue;
            pv[m] = xv;
            pr[m++] = ko + c;
          }
        }
      }
      let o = 0;
      for (; o + 4 <= Co; o += 4) {
        const b0 = o * R, b1 = b0 + R, b2 = b1 + R, b3 = b2 + R;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let j = 0; j < m; j++) {
          const v = pv[j]!, r = pr[j]!;
          s0 += v * Kt[b0 + r]!;
          s1 += v * Kt[b1 + r]!;
          s2 += v * Kt[b2 + r]!;
          s3 += v * Kt[b3 + r]!;
        }
        acc[o] = s0; acc[o + 1] = s1; acc[o + 2] = s2; acc[o + 3] = s3;
      }
      for (; o < Co; o++) {
        const b = o * R;
        let s = 0;
        for (let j = 0; j < m; j++) s += pv[j]! * Kt[b + pr[j]!]!;
        acc[o] = s;
      }
    } else {
      acc.fill(0);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky * dh - g.padTop;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw + kx * dwl - g.padLeft;
          if (ix < 0 || ix >= W) continue;
          const xo = ((n * H + iy) * W + ix) * C, ko = (ky * kw + kx) * C;
          for (let c = 0; c < C; c++) {
            const xv = x.data[xo + c]!;
            if (xv === 0) continue;
            for (let mm = 0; mm < dm; mm++) acc[c * dm + mm]! += xv * K[(ko + c) * dm + mm]!;
          }
        }
      }
    }
    for (let o = 0; o < Co; o++) out[oo + o] = ar.product(acc[o]!) + (B ? B[o]! : 0);
  }
  return { shape: [N, g.outH, g.outW, Co], data: activate(node.activation, out, ar, node.name) };
}

function dense(node: Extract<LayerNode<FloatTensor>, { kind: 'dense' }>, x: Values, ar: Arith): Values {
  const [N, din] = x.shape as [number, number];
  const U = node.units;
  const K = ar.weights(node.kernel), B = node.bias ? ar.weights(node.bias) : undefined;
  const y = new Float64Array(N * U);
  const acc = new Float64Array(U);
  for (let n = 0; n < N; n++) {
    acc.fill(0);
    for (let i = 0; i < din; i++) {
      const xv = x.data[n * din + i]!;
      if (xv === 0) continue;
      for (let u = 0; u < U; u++) acc[u]! += xv * K[i * U + u]!;
    }
    for (let u = 0; u < U; u++) y[n * U + u] = ar.product(acc[u]!) + (B ? B[u]! : 0);
  }
  return { shape: [N, U], data: activate(node.activation, y, ar, node.name) };
}

function pool(node: Extract<LayerNode<FloatTensor>, { kind: 'maxpool2d' | 'avgpool2d' }>, x: Values, ar: Arith): Values {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = node.poolSize, [sh, sw] = node.strides;
  const g = window2d(H, W, node.poolSize, node.strides, node.padding);
  const out = new Float64Array(N * g.outH * g.outW * C);
  const isMax = node.kind === 'maxpool2d';
  if (isMax) {
    // Differences of window values; 'same' windows that reach past the edge also compare with the padding constant.
    compared(ar, node.name, 'difference', [x.data], 0, 2);
    if (g.padTop + g.padLeft + g.padBottom + g.padRight > 0) compared(ar, node.name, 'padded', [x.data]);
  }
  let r = 0;
  for (let n = 0; n < N; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let c = 0; c < C; c++, r++) {
    let acc = isMax ? -Infinity : 0, cnt = 0;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh + ky - g.padTop;
      if (iy < 0 || iy >= H) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw + kx - g.padLeft;
        if (ix < 0 || ix >= W) continue;
        const v = x.data[((n * H + iy) * W + ix) * C + c]!;
        acc = isMax ? Math.max(acc, v) : acc + v;
        cnt++;
      }
    }
    out[r] = isMax ? acc : ar.divide(acc, cnt);
  }
  return { shape: [N, g.outH, g.outW, C], data: out };
}

/** One node's output from its inputs' values. */
export function forwardNode(node: LayerNode<FloatTensor>, ins: Values[], ar: Arith): Values {
  const x = ins[0]!;
  const N = x.shape[0]!;
  const shape = [N, ...outputShape(node, ins.map((v) => v.shape.slice(1)))];
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
      return conv(node, x, ar);
    case 'dense':
      return dense(node, x, ar);
    case 'activation':
      return { shape, data: activate(node.activation, Float64Array.from(x.data), ar, node.name) };
    case 'maxpool2d':
    case 'avgpool2d':
      return pool(node, x, ar);
    case 'global_avgpool2d': {
      const [, H, W, C] = x.shape as [number, number, number, number];
      const y = new Float64Array(N * C);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let p = 0; p < H * W; p++) acc += x.data[(n * H * W + p) * C + c]!;
        y[n * C + c] = ar.divide(acc, H * W);
      }
      return { shape, data: y };
    }
    case 'flatten':
    case 'reshape':
      return { shape, data: x.data };
    case 'zero_padding2d': {
      const [, H, W, C] = x.shape as [number, number, number, number];
      const [[t], [l]] = node.padding;
      const [H2, W2] = shape.slice(1) as [number, number];
      const y = new Float64Array(sizeOf(shape));
      for (let n = 0; n < N; n++) for (let iy = 0; iy < H; iy++) y.set(x.data.subarray((n * H + iy) * W * C, (n * H + iy + 1) * W * C), ((n * H2 + iy + t) * W2 + l) * C);
      return { shape, data: y };
    }
    case 'rescaling': {
      // As the runner: the offset alone when scale is 1 (no division, no truncation risk), a division when 1/scale is an
      // integer, else a product by the public scale; then + offset.
      const inv = 1 / node.scale;
      const off = ar.encode(node.offset);
      const y = new Float64Array(x.data.length);
      if (node.scale === 1) for (let i = 0; i < y.length; i++) y[i] = x.data[i]! + off;
      else if (Number.isInteger(inv) && inv >= 1 && inv < 2 ** 32) for (let i = 0; i < y.length; i++) y[i] = ar.divide(x.data[i]!, inv) + off;
      else for (let i = 0; i < y.length; i++) y[i] = ar.scale(x.data[i]!, node.scale) + off;
      return { shape, data: y };
    }
    case 'add': {
      const y = Float64Array.from(x.data);
      for (const o of ins.slice(1)) for (let i = 0; i < y.length; i++) y[i]! += o.data[i]!;
      return { shape, data: y };
    }
    case 'subtract':
      return { shape, data: x.data.map((v, i) => v - ins[1]!.data[i]!) };
    case 'average': {
      const y = Float64Array.from(x.data);
      for (const o of ins.slice(1)) for (let i = 0; i < y.length; i++) y[i]! += o.data[i]!;
      for (let i = 0; i < y.length; i++) y[i] = ar.divide(y[i]!, ins.length);
      return { shape, data: y };
    }
    case 'maximum': {
      compared(ar, node.name, 'difference', ins.map((t) => t.data), 0, 2);
      const y = Float64Array.from(x.data);
      for (const o of ins.slice(1)) for (let i = 0; i < y.length; i++) y[i] = Math.max(y[i]!, o.data[i]!);
      return { shape, data: y };
    }
    case 'multiply': {
      const full = (t: Values) => (t.data.length === sizeOf(shape) ? t.data : gather(t.data, broadcastIndex(t.shape.slice(1), shape.slice(1), N)));
      const a = full(ins[0]!), b = full(ins[1]!);
      return { shape, data: a.map((v, i) => ar.product(v * b[i]!)) };
    }
    case 'concatenate':
      return { shape, data: gather(concatArrays(ins.map((t) => t.data)), concatIndex(ins.map((t) => t.shape.slice(1)), node.axis, N)) };
    case 'cropping2d':
      return { shape, data: gather(x.data, cropIndex(x.shape.slice(1), node.cropping, N)) };
    case 'upsampling2d': {
      if (node.interpolation === 'nearest') return { shape, data: gather(x.data, upsampleNearestIndex(x.shape.slice(1), node.size, N)) };
      let cur = x.data, s = x.shape.slice(1);
      for (const axis of [0, 1] as const) {
        const p = bilinearPass(s, axis, node.size[axis], N);
        const lo = gather(cur, p.lo), hi = gather(cur, p.hi);
        cur = lo.map((v, i) => ar.scaled(v * ar.publicWeight(p.wLo[i]!) + hi[i]! * ar.publicWeight(p.wHi[i]!)));
        s = p.shape;
      }
      return { shape, data: cur };
    }
    case 'conv2d_transpose': {
      const xd = gather(x.data, dilatePadIndex(x.shape.slice(1), node.strides, node.pad, N));
      const [, H, W, C] = x.shape as [number, number, number, number];
      const dshape = [N, (H - 1) * node.strides[0] + 1 + node.pad[0][0] + node.pad[0][1], (W - 1) * node.strides[1] + 1 + node.pad[1][0] + node.pad[1][1], C];
      const asConv: Win = { kind: 'conv2d', name: node.name, inputs: node.inputs, filters: node.filters, kernelSize: node.kernelSize, strides: [1, 1], padding: 'valid', activation: node.activation, kernel: node.kernel, ...(node.bias ? { bias: node.bias } : {}) };
      return conv(asConv, { shape: dshape, data: xd }, ar);
    }
    case 'leaky_relu':
      compared(ar, node.name, 'sign', [x.data]);
      return { shape, data: x.data.map((v) => ar.scale(v, node.alpha) + ar.scale(v > 0 ? v : 0, 1 - node.alpha)) };
    case 'prelu': {
      compared(ar, node.name, 'sign', [x.data]);
      const A = ar.weights(node.kernel), C = A.length;
      return { shape, data: x.data.map((v, i) => { const r = v > 0 ? v : 0; return r + ar.product((v - r) * A[i % C]!); }) };
    }
    default:
      throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${(node as { name: string }).name}': kind '${(node as { kind: string }).kind}' has no plaintext definition`);
  }
}

/**
 * Forward pass of the IR in `ar`'s arithmetic on a real input batch
 * [N, ...inputShape] (encoded by `ar`); returns the model output, still
 * encoded (ar.decode gives reals). `onNode` sees every node's values.
 */
export function forwardIR(model: ModelIR<FloatTensor>, input: ArrayLike<number>, N: number, ar: Arith, onNode?: (name: string, v: Values) => void): Values {
  const per = sizeOf(model.inputShape);
  if (input.length !== per * N) throw new MpcError('E_SHAPE', `forward: input has ${input.length} values, expected ${N} x [${model.inputShape}]`);
  const x0 = new Float64Array(input.length);
  for (let i = 0; i < x0.length; i++) x0[i] = ar.encode(input[i]!);
  const vals = new IRValues<Values>(model, { shape: [N, ...model.inputShape], data: x0 }, 'E_SHAPE');
  // The secure runner moves a ReLU before a MaxPool after it (deferred.ts): that MaxPool compares the pre-activation values.
  const poolNotes = ar.onCompare ? poolNoteFor(model, ar.onCompare) : undefined;
  model.nodes.forEach((node, i) => {
    const pn = poolNotes?.get(i);
    const y = forwardNode(node, vals.inputsOf(node), pn ? { ...ar, onCompare: pn } : ar);
    vals.set(i, node, y);
    onNode?.(node.name, y);
  });
  return vals.output();
}

/** forwardIR, decoded to reals. */
export function forwardReals(model: ModelIR<FloatTensor>, input: ArrayLike<number>, N: number, ar: Arith): Values {
  const y = forwardIR(model, input, N, ar);
  return { shape: y.shape, data: ar.kind === 'float' ? y.data : y.data.map((v) => ar.decode(v)) };
}
