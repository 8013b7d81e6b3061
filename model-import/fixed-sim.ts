/**
 * Plaintext fixed-point simulation of what the secure runner
 * (protocol/layers/runner.ts) computes, in ring units held as exact integers
 * in float64:
 *  - inputs, weights, biases: round(v * 2^f) (fixed-point/encode);
 *  - Conv2D / DepthwiseConv2D / Dense: sum of integer products, then
 *    truncation acc / 2^f rounded, then + bias; ReLU max(x, 0); ReLU6 clamps
 *    at 6 * 2^f;
 *  - average pooling: sum / n rounded, n the unpadded window size; global
 *    average pooling sum / (H W) rounded; max pooling ignores padding;
 *  - Rescaling: x / k rounded when 1/scale is an integer k, else
 *    x * round(scale 2^24) / 2^24 rounded; then + round(offset 2^f).
 * "Rounded" is to nearest by default (option: floor). The secure protocol's
 * local truncation and division land on floor or floor + 1 (and fail with
 * probability ~2^(l_x+1-64)), so each op differs by at most one unit; on
 * average they round to nearest, which keeps the simulation unbiased. Sums of
 * products are accumulated in float64, exact while |acc| < 2^53.
 */
import { MpcError } from '../protocol/errors.js';
import type { Activation, FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';
import { applyOutputActivation } from './output.js';
import { inferShapes, pad1d, sizeOf } from './shapes.js';

const SCALE_BITS = 24;

export interface FixedSimOptions {
  fracBits?: number;
  /**
   * How truncations and divisions round: 'nearest' (default; unbiased, like the
   * protocol's SecureML truncation on average, which lands on floor or floor + 1
   * with probability following the fraction) or 'floor' (always down).
   */
  rounding?: 'nearest' | 'floor';
  /** Filled with the local-truncation risk of this input (FixedSimRisk). */
  risk?: FixedSimRisk;
}

/**
 * Expected number of wrong elements per run of the protocol's local rule
 * (truncate.ts: an element x fails with probability about |x| / 2^64), summed
 * over this input's truncations. `products`: truncations after products
 * (Conv2D, DepthwiseConv2D, Dense, a non-integer Rescaling), which the exact
 * protocol (--truncation exact) removes; `divisions`: AveragePooling and
 * integer Rescaling divisions, local in both modes. Values add up over calls.
 */
export interface FixedSimRisk {
  products: number;
  divisions: number;
}

type Div = (a: number, d: number) => number;
const floorDiv: Div = (a, d) => Math.floor(a / d);
const nearestDiv: Div = (a, d) => Math.floor((2 * a + d) / (2 * d));

const q = (v: number, scale: number): number => Math.round(v * scale);

function quantize(t: FloatTensor | undefined, scale: number): Float64Array | undefined {
  if (!t) return undefined;
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = q(t.data[i]!, scale);
  return out;
}

function activate(y: Float64Array, a: Activation, six: number): void {
  if (a === 'linear') return;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]! > 0 ? y[i]! : 0;
    y[i] = a === 'relu6' && v > six ? six : v;
  }
}

type Win = Extract<LayerNode<FloatTensor>, { kind: 'conv2d' | 'depthwise_conv2d' }>;

function conv(node: Win, x: Float64Array, s: number[], batch: number, scale: number, K: Float64Array, B: Float64Array | undefined, div: Div): Float64Array {
  const [H, W, C] = s as [number, number, number];
  const [kh, kw] = node.kernelSize;
  const [sh, sw] = node.strides;
  const ph = pad1d(H, kh, sh, node.padding);
  const pw = pad1d(W, kw, sw, node.padding);
  const dw = node.kind === 'depthwise_conv2d';
  const dm = dw ? node.depthMultiplier : 1;
  const Co = dw ? C * dm : node.filters;
  const out = new Float64Array(batch * ph.out * pw.out * Co);
  const acc = new Float64Array(Co);
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < ph.out; oy++)
      for (let ox = 0; ox < pw.out; ox++) {
        acc.fill(0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - ph.before;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pw.before;
            if (ix < 0 || ix >= W) continue;
            const xo = ((n * H + iy) * W + ix) * C;
            const ko = (ky * kw + kx) * C;
            for (let c = 0; c < C; c++) {
              const xv = x[xo + c]!;
              if (xv === 0) continue;
              if (dw) for (let m = 0; m < dm; m++) acc[c * dm + m]! += xv * K[(ko + c) * dm + m]!;
              else {
                const kr = (ko + c) * Co;
                for (let o = 0; o < Co; o++) acc[o]! += xv * K[kr + o]!;
              }
            }
          }
        }
        const oo = ((n * ph.out + oy) * pw.out + ox) * Co;
        for (let o = 0; o < Co; o++) out[oo + o] = div(acc[o]!, scale) + (B ? B[o]! : 0);
      }
  return out;
}

function pool(node: Extract<LayerNode<FloatTensor>, { kind: 'maxpool2d' | 'avgpool2d' }>, x: Float64Array, s: number[], batch: number, div: Div): Float64Array {
  const [H, W, C] = s as [number, number, number];
  const [kh, kw] = node.poolSize;
  const [sh, sw] = node.strides;
  const ph = pad1d(H, kh, sh, node.padding);
  const pw = pad1d(W, kw, sw, node.padding);
  const out = new Float64Array(batch * ph.out * pw.out * C);
  const isMax = node.kind === 'maxpool2d';
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < ph.out; oy++)
      for (let ox = 0; ox < pw.out; ox++)
        for (let c = 0; c < C; c++) {
          let acc = isMax ? -Infinity : 0;
          let cnt = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky - ph.before;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw + kx - pw.before;
              if (ix < 0 || ix >= W) continue;
              const v = x[((n * H + iy) * W + ix) * C + c]!;
              acc = isMax ? Math.max(acc, v) : acc + v;
              cnt++;
            }
          }
          out[((n * ph.out + oy) * pw.out + ox) * C + c] = isMax ? acc : div(acc, cnt);
        }
  return out;
}

/** Fixed-point logits (decoded to reals) of the IR on a float input batch. */
export function fixedLogits(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number, opts: FixedSimOptions = {}): Float64Array {
  const f = opts.fracBits ?? 13;
  const scale = 2 ** f;
  const round = opts.rounding === 'floor' ? floorDiv : nearestDiv;
  const risk = opts.risk;
  // divP truncates a product, divD divides by a public count; both add their local-rule risk when asked.
  const divP: Div = risk ? (a, d) => { risk.products += Math.abs(a) / 2 ** 64; return round(a, d); } : round;
  const divD: Div = risk ? (a, d) => { risk.divisions += Math.abs(a) / 2 ** 64; return round(a, d); } : round;
  const shapes = inferShapes(model);
  const per = sizeOf(model.inputShape);
  if (input.length !== per * batch) throw new MpcError('E_SHAPE', `fixed-sim: input has ${input.length} values, expected ${batch} x [${model.inputShape}]`);
  const x0 = new Float64Array(input.length);
  for (let i = 0; i < x0.length; i++) x0[i] = q(input[i]!, scale);
  const vals = new Map<string, Float64Array>([['input', x0]]);
  const six = 6 * scale;
  for (const node of model.nodes) {
    const x = vals.get(node.inputs[0]!)!;
    const s = shapes.get(node.inputs[0]!)!;
    let y: Float64Array;
    switch (node.kind) {
      case 'conv2d':
      case 'depthwise_conv2d':
        y = conv(node, x, s, batch, scale, quantize(node.kernel, scale)!, quantize(node.bias, scale), divP);
        activate(y, node.activation, six);
        break;
      case 'dense': {
        const K = quantize(node.kernel, scale)!;
        const B = quantize(node.bias, scale);
        const din = s[0]!;
        const U = node.units;
        y = new Float64Array(batch * U);
        const acc = new Float64Array(U);
        for (let n = 0; n < batch; n++) {
          acc.fill(0);
          for (let i = 0; i < din; i++) {
            const xv = x[n * din + i]!;
            if (xv === 0) continue;
            for (let u = 0; u < U; u++) acc[u]! += xv * K[i * U + u]!;
          }
          for (let u = 0; u < U; u++) y[n * U + u] = divP(acc[u]!, scale) + (B ? B[u]! : 0);
        }
        activate(y, node.activation, six);
        break;
      }
      case 'activation':
        y = Float64Array.from(x);
        activate(y, node.activation, six);
        break;
      case 'maxpool2d':
      case 'avgpool2d':
        y = pool(node, x, s, batch, divD);
        break;
      case 'global_avgpool2d': {
        const [H, W, C] = s as [number, number, number];
        y = new Float64Array(batch * C);
        for (let n = 0; n < batch; n++)
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let p = 0; p < H * W; p++) acc += x[(n * H * W + p) * C + c]!;
            y[n * C + c] = divD(acc, H * W);
          }
        break;
      }
      case 'flatten':
      case 'reshape':
        y = x;
        break;
      case 'zero_padding2d': {
        const [H, W, C] = s as [number, number, number];
        const [[t, b], [l, r]] = node.padding;
        const H2 = H + t + b;
        const W2 = W + l + r;
        y = new Float64Array(batch * H2 * W2 * C);
        for (let n = 0; n < batch; n++) for (let iy = 0; iy < H; iy++) y.set(x.subarray(((n * H + iy) * W) * C, ((n * H + iy) * W + W) * C), ((n * H2 + iy + t) * W2 + l) * C);
        break;
      }
      case 'rescaling': {
        const inv = 1 / node.scale;
        const off = Math.round(node.offset * scale);
        y = new Float64Array(x.length);
        if (Number.isInteger(inv) && inv >= 1 && inv < 2 ** 32) for (let i = 0; i < x.length; i++) y[i] = divD(x[i]!, inv) + off;
        else {
          const sc = Math.round(node.scale * 2 ** SCALE_BITS);
          for (let i = 0; i < x.length; i++) y[i] = divP(x[i]! * sc, 2 ** SCALE_BITS) + off;
        }
        break;
      }
      case 'add': {
        y = Float64Array.from(x);
        for (const other of node.inputs.slice(1)) {
          const z = vals.get(other)!;
          for (let i = 0; i < y.length; i++) y[i]! += z[i]!;
        }
        break;
      }
    }
    vals.set(node.name, y);
  }
  const out = vals.get(model.output)!;
  const logits = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) logits[i] = out[i]! / scale;
  return logits;
}

/** Fixed-point outputs after the model's output activation. */
export function fixedPredict(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number, opts: FixedSimOptions = {}): Float32Array {
  return applyOutputActivation(fixedLogits(model, input, batch, opts), batch, model.outputActivation);
}
