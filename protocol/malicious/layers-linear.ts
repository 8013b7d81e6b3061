/**
 * The malicious runner's linear layers beyond Conv2D and Dense (runner.ts
 * dispatches here): over MACed replicated shares in Z_2^128 (rep.ts), with
 * the same fixed-point rules as the semi-honest runner
 * (protocol/layers/runner.ts) so that the float64 twin (ir-kit/forward.ts)
 * is the reference for both.
 *
 *  - DepthwiseConv2D (SeparableConv2D arrives as depthwise + 1x1 Conv2D from
 *    model-import; dilated: the taps d apart in the index maps): one Araki et al. product (product.ts productM) of the
 *    input and the secret kernel for the bilinear map
 *    z[r, c dm + m] = sum_taps x[tap(r, c)] w[tap, c, m] (the taps as index
 *    maps, tensor.ts), then truncM by f (ell = productTruncEll, ranges.ts);
 *    bias and activation as Conv2D.
 *  - Conv2DTranspose: the IR's stride-1 'valid' convolution of the
 *    zero-dilated, padded input (ir-kit/layout.ts dilatePadIndex composed
 *    with im2col: one index map), then matmulM and truncM by f (same ell).
 *  - Concatenate, Cropping2D, UpSampling2D nearest: index maps (local).
 *  - UpSampling2D bilinear: per axis, the two taps (index maps) times the
 *    public weights round(w 2^24) (local), added, then truncM by 24 bits
 *    (SCALE_BITS), as the semi-honest runner.
 *  - Average of k inputs: the sum (local) times round(2^24 / k) (public,
 *    local), then truncM by 24 bits.
 *
 * Range precondition (ranges.ts): every value below 2^(c-1) ring units, c
 * the comparison width (32 by default). The divisions by 2^24 run truncM at
 * ell = scaledTruncEll(c) = c + 24 + 1 (57; SCALED_TRUNC_ELL; the extra bit
 * for the rounding of the public weights), exact for |x round(w 2^24)| <
 * 2^56, i.e. for every result below 2^31 ring units of bilinear upsampling
 * and Average (with TRUNC_ELL = 48 they were exact only
 * for |x| < 2^23 ring units, 2^(23-f) reals, and silently wrong past it:
 * fuzz-findings.test.ts). The truncations by f of a convolution run at
 * ell = productTruncEll(f, c) = max(48, c + f) (52 at f = 20), exact for a
 * result in the range. For c = 64 both are MAX_TRUNC_ELL = 63 (ranges.ts).
 *
 * Cost: depthwise and transposed convolutions mulCostM(outputs) plus
 * truncCost(outputs, f, productTruncEll); bilinear two truncations at
 * scaledTruncEll (one per axis, of the pass's outputs); Average one
 * truncation of its outputs at scaledTruncEll; the index maps nothing.
 * malLinearCost declares it per node.
 */
import { assert } from '../errors.js';
import type { LayerNode } from '../ir.js';
import { SCALE_BITS } from '../ir-kit/arith.js';
import { bilinearPass, broadcastIndex, concatIndex, cropIndex, dilatePadIndex, upsampleNearestIndex } from '../ir-kit/layout.js';
import { convWindow, dilationOf, window2d } from '../layers/geometry.js';
import { sizeOf } from '../layers/types.js';
import { transposeOutSize } from '../layers/conv-transpose.js';
import type { Cost } from '../primitives/cost.js';
import { add128Kernels, mul128Kernels } from './gemm128.js';
import { addM, type MShare } from './rep.js';
import { alloc128, fromBigints, type Vec128 } from './ring128.js';
import { matmulCostM, matmulM, mulCostM, productM } from './product.js';
import type { MalSession } from './session.js';
import { gather128, gatherZeroM, im2colIndex, type MTensor } from './tensor.js';
import { concatM } from './mvec.js';

/** What a layer module needs from the runner: the session, the fraction bits, and its truncations (the primitives table's). */
export interface MalLayerOps {
  readonly s: MalSession;
  readonly f: number;
  /** x / 2^bits at the default bound TRUNC_ELL (layers-smooth.ts's inner truncations). */
  trunc(x: MShare, bits: number): Promise<MShare>;
  /** x / 2^SCALE_BITS after a public product x round(a 2^24), at ell = scaledTruncEll (ranges.ts). */
  truncScaled(x: MShare, maxWeight?: number): Promise<MShare>;
  /** x / 2^f after a product of two values, at ell = productTruncEll (ranges.ts). */
  truncProduct(x: MShare): Promise<MShare>;
}

export const tensorM = (shape: number[], data: MShare): MTensor => ({ shape, data });

const mapM = (x: MShare, f: (v: Vec128) => Vec128): MShare => ({ n: x.n, x: { a: f(x.x.a), b: f(x.x.b) }, m: { a: f(x.m.a), b: f(x.m.b) } });

/** [c ∘ x] for a public vector c (n elements): local on the four share vectors. */
export function scaleEachM(s: MalSession, x: MShare, c: Vec128): MShare {
  return mapM(x, (v) => mul128Kernels(s.ctx.kernels, v, c, alloc128(x.n)));
}

/** A public vector of real scales as round(c 2^bits), lifted into Z_2^128 (c may be negative); one BigInt per distinct value, not per element. */
export function publicFixed(values: ArrayLike<number>, bits: number): Vec128 {
  const out = alloc128(values.length), seen = new Map<number, Vec128>();
  for (let e = 0; e < values.length; e++) {
    const v = values[e]!;
    let w = seen.get(v);
    if (!w) seen.set(v, (w = fromBigints([BigInt(Math.round(v * 2 ** bits))])));
    out.set(w, 4 * e);
  }
  return out;
}

/** n copies of the ring element v (an integer, may be negative). */
export function filled128(v: bigint, n: number): Vec128 {
  const w = fromBigints([v]), out = alloc128(n);
  for (let e = 0; e < n; e++) out.set(w, 4 * e);
  return out;
}

/** idx[i] of the composition: first `outer`, then `inner` (-1 stays -1). */
function compose(outer: Int32Array, inner: Int32Array): Int32Array {
  return outer.map((j) => (j < 0 ? -1 : inner[j]!));
}

/**
 * Depthwise convolution as a bilinear map of (input, kernel): per tap, the
 * input element under it for every output (r, c, m) and the kernel element
 * (tap, c, m), multiplied elementwise and summed over taps (local, the
 * context's Z_2^64 kernels). Output channel order c dm + m (Keras).
 */
function depthwiseMap(s: MalSession, N: number, H: number, W: number, C: number, dm: number, node: { kernelSize: [number, number]; strides: [number, number]; padding: 'valid' | 'same'; dilation?: [number, number] }) {
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dw] = dilationOf(node);
  const g = convWindow(H, W, node);
  const rows = N * g.outH * g.outW, Co = C * dm, n = rows * Co, taps = kh * kw;
  const xIdx = new Int32Array(taps * n).fill(-1), wIdx = new Int32Array(taps * n);
  for (let t = 0; t < taps; t++) {
    const ky = Math.floor(t / kw), kx = t % kw;
    let o = t * n;
    for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
      const y = oy * sh + ky * dh - g.padTop, xx = ox * sw + kx * dw - g.padLeft;
      const inside = y >= 0 && y < H && xx >= 0 && xx < W;
      for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++, o++) {
        if (inside) xIdx[o] = ((b * H + y) * W + xx) * C + c;
        wIdx[o] = t * Co + c * dm + m;
      }
    }
  }
  const k = s.ctx.kernels;
  const f = (x: Vec128, w: Vec128, out: Vec128): Vec128 => {
    out.fill(0);
    const tmp = alloc128(n);
    for (let t = 0; t < taps; t++) {
      mul128Kernels(k, gather128(x, xIdx.subarray(t * n, (t + 1) * n)), gather128(w, wIdx.subarray(t * n, (t + 1) * n)), tmp);
      add128Kernels(k, out, tmp, out);
    }
    return out;
  };
  return { sizeZ: n, f, shape: [N, g.outH, g.outW, Co] };
}

/** Output shape and the pre-activation MACed values of a depthwise or transposed convolution (truncated, bias added). */
export async function convLikeM(o: MalLayerOps, node: LayerNode<MTensor> & { kind: 'depthwise_conv2d' | 'conv2d_transpose' }, x: MTensor): Promise<MTensor> {
  assert(x.shape.length === 4, 'E_SHAPE', `layer '${node.name}' (${node.kind}) expects a 4-D NHWC input, got rank ${x.shape.length}`);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  assert(node.kernel.shape[2] === C, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[2]} input channels, input has ${C}`);
  let z: MShare, shape: number[];
  if (node.kind === 'depthwise_conv2d') {
    const map = depthwiseMap(o.s, N, H, W, C, node.depthMultiplier, node);
    z = await productM(o.s, map, x.data, node.kernel.data, 'depthwise');
    shape = map.shape;
  } else {
    const [kh, kw] = node.kernelSize;
    const Hd = (H - 1) * node.strides[0] + 1 + node.pad[0][0] + node.pad[0][1], Wd = (W - 1) * node.strides[1] + 1 + node.pad[1][0] + node.pad[1][1];
    const outH = transposeOutSize(H, kh, node.strides[0], node.pad[0]), outW = transposeOutSize(W, kw, node.strides[1], node.pad[1]);
    assert(outH >= 1 && outW >= 1, 'E_SHAPE', `layer '${node.name}' (conv2d_transpose): the padded, dilated input is smaller than the ${kh}x${kw} window`);
    const g = window2d(Hd, Wd, node.kernelSize, [1, 1], 'valid');
    const idx = compose(im2colIndex(N, Hd, Wd, C, kh, kw, 1, 1, g), dilatePadIndex([H, W, C], node.strides, node.pad, N));
    const rows = N * outH * outW;
    z = await matmulM(o.s, gatherZeroM(x.data, idx), node.kernel.data, rows, kh * kw * C, node.filters);
    shape = [N, outH, outW, node.filters];
  }
  z = await o.truncProduct(z);
  if (node.bias) z = addM(z, tileLastM(node.bias.data, z.n));
  return tensorM(shape, z);
}

/** A per-channel vector (last axis) repeated over all positions, n elements in all (a bias, PReLU's slopes): an index map. */
export function tileLastM(b: MShare, n: number): MShare {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i % b.n;
  return gatherZeroM(b, idx);
}

/** Concatenate, Cropping2D, UpSampling2D nearest: index maps, no message. */
export function layoutM(node: LayerNode<MTensor> & { kind: 'concatenate' | 'cropping2d' | 'upsampling2d' }, ins: MTensor[]): MTensor {
  const x = ins[0]!, N = x.shape[0]!;
  if (node.kind === 'concatenate') {
    const shapes = ins.map((t) => t.shape.slice(1));
    assert(shapes.every((sh) => sh.length === shapes[0]!.length && sh.every((d, i) => i === node.axis || d === shapes[0]![i])), 'E_SHAPE', `layer '${node.name}' (concatenate): inputs [${shapes.map((sh) => sh.join('x')).join(', ')}] differ off axis ${node.axis}`);
    const out = gatherZeroM(concatM(ins.map((t) => t.data)), concatIndex(shapes, node.axis, N));
    return tensorM([N, ...shapes[0]!.map((d, i) => (i === node.axis ? shapes.reduce((t, sh) => t + sh[i]!, 0) : d))], out);
  }
  assert(x.shape.length === 4, 'E_SHAPE', `layer '${node.name}' (${node.kind}) expects a 4-D NHWC input, got rank ${x.shape.length}`);
  const [, H, W, C] = x.shape as [number, number, number, number];
  if (node.kind === 'cropping2d') {
    const [[t, b], [l, r]] = node.cropping;
    assert(H - t - b >= 1 && W - l - r >= 1, 'E_SHAPE', `layer '${node.name}' (cropping2d): cropping ${t + b}x${l + r} of a ${H}x${W} map leaves nothing`);
    return tensorM([N, H - t - b, W - l - r, C], gatherZeroM(x.data, cropIndex([H, W, C], node.cropping, N)));
  }
  return tensorM([N, H * node.size[0], W * node.size[1], C], gatherZeroM(x.data, upsampleNearestIndex([H, W, C], node.size, N)));
}

/** Bilinear upsampling: per axis, lo round(w_lo 2^24) + hi round(w_hi 2^24) (local), truncated by 24 bits (scaledTruncEll). */
export async function bilinearM(o: MalLayerOps, node: LayerNode<MTensor> & { kind: 'upsampling2d' }, x: MTensor): Promise<MTensor> {
  const N = x.shape[0]!;
  let cur = x.data, shape = x.shape.slice(1);
  for (const axis of [0, 1] as const) {
    const p = bilinearPass(shape, axis, node.size[axis], N);
    const lo = scaleEachM(o.s, gatherZeroM(cur, p.lo), publicFixed(p.wLo, SCALE_BITS));
    const hi = scaleEachM(o.s, gatherZeroM(cur, p.hi), publicFixed(p.wHi, SCALE_BITS));
    cur = await o.truncScaled(addM(lo, hi, o.s.ctx.kernels));
    shape = p.shape;
  }
  return tensorM([N, ...shape], cur);
}

/** Average of k same-shape inputs: the sum times round(2^24 / k), truncated by 24 bits (scaledTruncEll). */
export async function averageM(o: MalLayerOps, node: LayerNode<MTensor>, ins: MTensor[]): Promise<MTensor> {
  const n = ins[0]!.data.n;
  assert(ins.length >= 2 && ins.every((t) => t.data.n === n), 'E_SHAPE', `layer '${node.name}' (average) needs two or more inputs of the same shape`);
  let acc = ins[0]!.data;
  for (const t of ins.slice(1)) acc = addM(acc, t.data, o.s.ctx.kernels);
  return tensorM(ins[0]!.shape, await o.truncScaled(scaleEachM(o.s, acc, publicFixed(new Float64Array(n).fill(1 / ins.length), SCALE_BITS))));
}

/** Numpy broadcasting of t to `shape` (with batch; equal rank), as an index map: squeeze-excite's [N, 1, 1, C] over [N, H, W, C]. */
export function broadcastM(t: MTensor, shape: number[]): MShare {
  return sizeOf(t.shape) === sizeOf(shape) ? t.data : gatherZeroM(t.data, broadcastIndex(t.shape.slice(1), shape.slice(1), shape[0]!));
}

/** The declared costs of the runner's truncations on n elements (none when the table has no truncation cost). */
export interface MalTruncCosts {
  /** By bits at TRUNC_ELL. */
  trunc(n: number, bits: number): Cost[];
  /** By SCALE_BITS at scaledTruncEll (maxWeight: ranges.ts). */
  truncScaled(n: number, maxWeight?: number): Cost[];
  /** By f at productTruncEll. */
  truncProduct(n: number): Cost[];
}

/**
 * Declared cost of the layers above on a batch (`out` output elements,
 * `inShape` the first input's shape without batch), or null for a node kind
 * that is not one of them. c: the primitives table's truncation costs at
 * the runner's widths (ranges.ts).
 */
export function malLinearCost(node: LayerNode<unknown>, N: number, out: number, inShape: number[], c: MalTruncCosts): Cost[] | null {
  switch (node.kind) {
    case 'depthwise_conv2d':
      return [mulCostM(out), ...c.truncProduct(out)];
    case 'conv2d_transpose':
      return [matmulCostM(out / node.filters, node.filters), ...c.truncProduct(out)];
    case 'concatenate':
    case 'cropping2d':
      return [];
    case 'upsampling2d': {
      if (node.interpolation === 'nearest') return [];
      const [H, W, C] = inShape as [number, number, number];
      return [...c.truncScaled(N * H * node.size[0] * W * C), ...c.truncScaled(out)];
    }
    case 'average':
      return c.truncScaled(out);
    default:
      return null;
  }
}
