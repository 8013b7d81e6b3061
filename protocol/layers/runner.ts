/**
 * The layer runner: executes a ModelIR over shares, batch first, one node at
 * a time; every comparison of a layer (all images of the batch, all
 * elements) goes through one protocol call, so a batch shares every round.
 *
 * Fixed point: inputs, weights and biases carry f fractional bits; each
 * product is truncated by f before the bias is added: locally (truncate.ts)
 * or, when the model asks for it (ctx.truncation 'exact'), with P2
 * (truncate-exact.ts).
 */
import { pushDown, withCompareBits, type PartyContext } from '../context.js';
import { assert, MpcError } from '../errors.js';
import { HARD_SIGMOID, type Activation, type LayerNode, type ModelIR } from '../ir.js';
import { beaverBilinear, matmulOp } from '../primitives/matmul.js';
import { maxPool } from '../primitives/maxpool.js';
import { adjacentAxis, adjacentPairs, maxPool2, reluMaxAdjacent } from './pool-pairs.js';
import { relu } from '../primitives/relu.js';
import { reluDirect } from '../primitives/relu-direct.js';
import { fusesIntoDense, reluIntoDense } from '../primitives/relu-dense.js';
import { divideByPublic, truncate } from '../primitives/truncate.js';
import { truncateExact } from '../primitives/truncate-exact.js';
import { concatU64 } from '../ring/ops.js';
import { giveBackU8, scratchU64 } from '../ring/scratch.js';
import type { AShare } from '../ring/types.js';
import { conv2dOp, depthwiseOp, type ConvShape } from './conv.js';
import { conv2dTransposeOp, transposeOutSize } from './conv-transpose.js';
import { convWindow, dilationOf, window2d, type Window2D } from './geometry.js';
import { dilatedConvOp } from './conv-dilated.js';
import { sizeOf, type ShareTensor } from './types.js';
import { gatherWindows, sumRows } from './windows.js';
import { clampLinear, hardSilu, leakyRelu, maximum2, multiply, prelu, truncCostFor, type PlOps } from './activations-pl.js';
import type { Cost } from '../primitives/cost.js';
import { requireSmoothActivation } from './activations.js';
import { bilinearPass, broadcastIndex, concatArrays, concatIndex, cropIndex, gather, upsampleNearestIndex } from '../ir-kit/layout.js';

import { SCALE_BITS } from '../ir-kit/arith.js';
import { deferredActivations, type Deferred } from '../ir-kit/deferred.js';

export { deferredActivations } from '../ir-kit/deferred.js';
import { IRValues } from '../ir-kit/values.js';

/**
 * Largest number of comparisons in one protocol call. Bigger layers (VGG16's
 * first ReLU has 3.2M) run in sequential chunks to bound memory: a
 * comparison holds ~64 bytes of Z_p shares per bit array at every party.
 */
export const DEFAULT_MAX_COMPARISONS_PER_CALL = 1 << 20;

/** Apply f to consecutive ranges [r0, r0 + rows) of `rowsTotal` rows of `width` elements each, at most `limit` elements per call. */
async function chunkedRows(limit: number, rowsTotal: number, width: number, f: (r0: number, rows: number, i: number) => Promise<AShare>, outWidth: number): Promise<AShare> {
  const rowsPer = Math.max(1, Math.floor(limit / width));
  if (rowsTotal <= rowsPer) return f(0, rowsTotal, 0);
  const out = new BigUint64Array(rowsTotal * outWidth);
  for (let r = 0, i = 0; r < rowsTotal; r += rowsPer, i++) out.set(await f(r, Math.min(rowsPer, rowsTotal - r), i), r * outWidth);
  return out as AShare;
}

/** chunkedRows over the rows of x: f gets each slice of x. */
function chunked(limit: number, x: BigUint64Array, rowsTotal: number, width: number, f: (part: AShare, rows: number, i: number) => Promise<AShare>, outWidth: number): Promise<AShare> {
  return chunkedRows(limit, rowsTotal, width, (r0, rows, i) => f(x.subarray(r0 * width, (r0 + rows) * width) as AShare, rows, i), outWidth);
}

/** Truncate a product by `bits` (default f) the way the model asks: locally or exactly (ctx.truncation). */
async function truncateProduct(ctx: PartyContext, x: AShare, label: string, bits: number = ctx.fracBits): Promise<AShare> {
  return ctx.truncation === 'exact' ? truncateExact(ctx, x, bits, `${label}:trunc`) : truncate(ctx, x, bits);
}

const tensor = (shape: number[], data: BigUint64Array): ShareTensor => ({ shape, data: data as AShare });

/** Add a per-channel vector (broadcast over all leading dims). P2 holds no bias and skips. */
function addBias(ctx: PartyContext, x: BigUint64Array, bias: BigUint64Array): void {
  if (ctx.party === 2) return;
  const C = bias.length;
  // Read only by the add below: a scratch buffer (ring/scratch.ts).
  const tiled = scratchU64('bias.tiled', x.length);
  for (let o = 0; o < x.length; o += C) tiled.set(bias, o);
  ctx.kernels.add(x, tiled, x);
}

/** Add a public constant: P0 adds it, P1 does not. */
function addPublic(ctx: PartyContext, x: BigUint64Array, c: bigint): BigUint64Array {
  const out = new BigUint64Array(x.length);
  if (ctx.party === 0) ctx.kernels.addScalar(x, c, out);
  else out.set(x);
  return out;
}

/** Whether a Rescaling's 1/scale is an integer divisor (a local division by it, not a product by the scale). */
const integerInverse = (scale: number): boolean => { const inv = 1 / scale; return Number.isInteger(inv) && inv >= 1 && inv < 2 ** 32; };

/**
 * Rescaling's declared cost for n elements: nothing for scale 1 (the offset alone) or an integer 1/scale (a local
 * division, 8 bytes of P0-P1 PRG output per element); else the product's truncation by 24 bits (truncCostFor).
 */
export const rescalingCost = (ctx: Pick<PartyContext, 'truncation'>, scale: number, n: number): Cost =>
  (scale === 1 || integerInverse(scale) ? { rounds: 0, bytes: 0 } : truncCostFor(ctx, n));

/** The runner's ReLU (chunked to `limit` comparisons per call) and truncation, for activations-pl.ts. */
function plOps(ctx: PartyContext, limit: number): PlOps {
  return {
    relu: (v, label) => chunked(limit, v, v.length, 1, (part, _rows, i) => (ctx.comparison === 'direct' ? reluDirect : relu)(ctx, part, i ? `${label}#${i}` : label), 1),
    trunc: (v, bits, label) => truncateProduct(ctx, v as AShare, label, bits),
  };
}

async function activate(ctx: PartyContext, x: ShareTensor, act: Activation, label: string, limit: number): Promise<ShareTensor> {
  if (act === 'linear') return x;
  const ops = plOps(ctx, limit);
  const reluAll = (v: BigUint64Array) => ops.relu(v, label);
  if (act === 'relu') return tensor(x.shape, await reluAll(x.data));
  if (act === 'hard_sigmoid' || act === 'hard_sigmoid_k2') return tensor(x.shape, await clampLinear(ctx, ops, x.data, HARD_SIGMOID[act][0], HARD_SIGMOID[act][1], label));
  if (act === 'hard_silu') return tensor(x.shape, await hardSilu(ctx, ops, x.data, label));
  if (act !== 'relu6') return tensor(x.shape, await requireSmoothActivation(act, label.replace(/\.act$/, '')).secure(ctx, x.data, ctx.fracBits, label));
  // relu6(x) = relu(x) - relu(x - 6): both ReLUs in one protocol call.
  const six = BigInt(6) << BigInt(ctx.fracBits);
  const both = await reluAll(concatU64([x.data, addPublic(ctx, x.data, BigInt.asUintN(64, -six))]));
  const n = x.data.length;
  const out = new BigUint64Array(n);
  ctx.kernels.sub(both.subarray(0, n), both.subarray(n), out);
  return tensor(x.shape, out);
}

function nhwc(t: ShareTensor, node: LayerNode<ShareTensor>): [number, number, number, number] {
  assert(t.shape.length === 4, 'E_SHAPE', `layer '${node.name}' (${node.kind}) expects a 4-D NHWC input, got rank ${t.shape.length}`);
  return t.shape as [number, number, number, number];
}

/** fuseRelu: the ReLU after a MaxPool (ir-kit/deferred.ts) runs inside its last comparison pass, or apart under this label. */
async function runNode(ctx: PartyContext, node: LayerNode<ShareTensor>, ins: ShareTensor[], limit: number, keyPrefix: string, fuseRelu: string | null = null): Promise<ShareTensor> {
  const x = ins[0]!;
  const k = ctx.kernels;
  const label = node.name;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      const [N, H, W, C] = nhwc(x, node);
      const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, dil = dilationOf(node);
      const g = convWindow(H, W, node);
      const s: ConvShape = { N, H, W, C, kh, kw, sh, sw, g };
      assert(node.kernel.shape[2] === C, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[2]} input channels, input has ${C}`);
      // Dilated: the phases of the input through the same kernels (conv-dilated.ts), the multiply-adds of the undilated kernel.
      const op = dil[0] * dil[1] > 1 ? dilatedConvOp({ N, H, W, C, kh, kw, strides: node.strides, dilation: dil, g }, node.kind === 'conv2d' ? { filters: node.filters } : { dm: node.depthMultiplier }, label)
        : node.kind === 'conv2d' ? conv2dOp(s, node.filters, label) : depthwiseOp(s, node.depthMultiplier, label);
      const Co = node.kind === 'conv2d' ? node.filters : C * node.depthMultiplier;
      const z = await truncateProduct(ctx, await beaverBilinear(ctx, op, x.data, node.kernel.data, `${keyPrefix}${node.name}:kernel`), label);
      if (node.bias) addBias(ctx, z, node.bias.data);
      return activate(ctx, tensor([N, g.outH, g.outW, Co], z), node.activation, `${label}.act`, limit);
    }
    case 'dense': {
      assert(x.shape.length === 2, 'E_SHAPE', `layer '${node.name}' (dense) expects a 2-D input, got rank ${x.shape.length}`);
      const [N, din] = x.shape as [number, number];
      assert(node.kernel.shape[0] === din, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[0]} inputs, got ${din}`);
      const z = await truncateProduct(ctx, await beaverBilinear(ctx, matmulOp(N, din, node.units, label), x.data, node.kernel.data, `${keyPrefix}${node.name}:kernel`), label);
      if (node.bias) addBias(ctx, z, node.bias.data);
      return activate(ctx, tensor([N, node.units], z), node.activation, `${label}.act`, limit);
    }
    case 'activation':
      return activate(ctx, x, node.activation, label, limit);
    case 'maxpool2d':
    case 'avgpool2d': {
      const [N, H, W, C] = nhwc(x, node);
      const g = window2d(H, W, node.poolSize, node.strides, node.padding);
      const n = node.poolSize[0] * node.poolSize[1];
      const m = N * g.outH * g.outW * C;
      const shape = [N, g.outH, g.outW, C];
      if (node.kind === 'maxpool2d') {
        // Padded positions hold the public constant -pushDown (-2^60, or -2^29 on the 32-bit comparison ring), below any activation in range (P0's share; P1's is 0).
        const fill = ctx.party === 0 ? BigInt.asUintN(64, -pushDown(ctx)) : 0n;
        const pool1d = async (v: BigUint64Array, h: number, w: number, k2: [number, number], s2: [number, number], g2: Window2D, tag: string, fuse = false): Promise<{ y: AShare; fused: boolean }> => {
          const axis = adjacentAxis(h, w, k2, s2, g2);
          // The ReLU fused into a pass over adjacent pairs (pool-pairs.ts), unless one image exceeds the limit.
          const fusedPairs = fuse && axis ? await reluMaxAdjacent(ctx, v, N, h, w, C, axis, limit, tag) : null;
          if (fusedPairs) return { y: fusedPairs, fused: true };
          const pairs = adjacentPairs(v, N, h, w, C, k2, s2, g2, ctx.party === 2);
          if (pairs) {
            // Windows of two adjacent values: the two operands are contiguous slices, no gathering (same protocol as maxPool's one level).
            const { X, Y } = pairs;
            const best = await chunkedRows(limit, X.length, 2, (r0, rows, i) => maxPool2(ctx, X.subarray(r0, r0 + rows), Y.subarray(r0, r0 + rows), `${i ? `${tag}#${i}` : tag}.l0`), 1);
            // maxOfPairs is done with X and Y (its result is a fresh array, never either of them): back to the lend
            // pool (after a failure they are left to the GC).
            giveBackU8(X, Y);
            return { y: best, fused: false };
          }
          const { rows } = gatherWindows(v, N, h, w, C, k2, s2, g2, fill);
          const mm = N * g2.outH * g2.outW * C, nn = k2[0] * k2[1];
          // The ReLU fuses into the tournament's last level (maxpool.ts) for windows of 2 or more.
          const f = fuse && nn >= 2;
          // The fused last level compares 3 values per window (2 elements, 1 difference): windows of 2 would reach
          // 1.5x the limit at `limit / 2` windows per call, so those chunk at limit / 3 windows (wider windows stay
          // within the limit: 3 m <= nn m).
          const lim = f && nn === 2 ? Math.floor((2 * limit) / 3) : limit;
          return { y: await chunked(lim, rows, mm, nn, (part, r, i) => maxPool(ctx, part, r, nn, i ? `${tag}#${i}` : tag, f), 1), fused: f };
        };
        const [ph, pw] = node.poolSize, [sh, sw] = node.strides;
        const fuse = fuseRelu !== null && ctx.comparison === 'direct';
        // Overlapping windows: max is separable, so pool along W, then along H.
        // Comparisons drop from (ph*pw - 1) per output to (pw - 1) per (row, output column)
        // plus (ph - 1) per output (2x2 stride 1: ~2 per output instead of 3); same rounds.
        const res = ph === 1 || pw === 1 || (sh >= ph && sw >= pw) ? await pool1d(x.data, H, W, node.poolSize, node.strides, g, label, fuse)
          : await pool1d((await pool1d(x.data, H, W, [1, pw], [1, sw], { ...g, outH: H, padTop: 0, padBottom: 0 }, `${label}.w`)).y, H, g.outW, [ph, 1], [sh, 1], { ...g, padLeft: 0, padRight: 0 }, `${label}.h`, fuse);
        const out = tensor(shape, res.y);
        return fuseRelu !== null && !res.fused ? activate(ctx, out, 'relu', fuseRelu, limit) : out;
      }
      // AveragePooling: TF divides by the number of real (unpadded) elements.
      const { rows, counts } = gatherWindows(x.data, N, H, W, C, node.poolSize, node.strides, g, 0n);
      return tensor(shape, divideByPublic(ctx, sumRows(k.add, rows, m, n) as AShare, counts));
    }
    case 'global_avgpool2d': {
      const [N, H, W, C] = nhwc(x, node);
      // Sum over H*W per (image, channel): view as [N, H*W, C] and add the H*W slices.
      const acc = new BigUint64Array(N * C);
      for (let b = 0; b < N; b++) {
        const a = acc.subarray(b * C, (b + 1) * C);
        for (let p = 0; p < H * W; p++) k.add(a, x.data.subarray((b * H * W + p) * C, (b * H * W + p + 1) * C), a);
      }
      return tensor([N, C], divideByPublic(ctx, acc as AShare, Uint32Array.of(H * W)));
    }
    case 'flatten':
      return tensor([x.shape[0]!, sizeOf(x.shape.slice(1))], x.data);
    case 'reshape': {
      assert(sizeOf(node.targetShape) === sizeOf(x.shape.slice(1)), 'E_SHAPE', `layer '${node.name}': cannot reshape [${x.shape.slice(1)}] to [${node.targetShape}]`);
      return tensor([x.shape[0]!, ...node.targetShape], x.data);
    }
    case 'zero_padding2d': {
      const [N, H, W, C] = nhwc(x, node);
      const [[t, b], [l, r]] = node.padding;
      const H2 = H + t + b, W2 = W + l + r;
      const out = new BigUint64Array(N * H2 * W2 * C);
      for (let n = 0; n < N; n++) for (let y = 0; y < H; y++) {
        const src = x.data.subarray(((n * H + y) * W) * C, ((n * H + y) * W + W) * C);
        out.set(src, ((n * H2 + y + t) * W2 + l) * C);
      }
      return tensor([N, H2, W2, C], out);
    }
    case 'rescaling': {
      // y = x * scale + offset with public scale and offset. Scale 1 (an offset alone: ONNX Clip / Pad constants,
      // Keras constant adds) is no division: no PRG words, no truncation risk (ir-kit/forward.ts does the same).
      let y: AShare;
      const inv = 1 / node.scale;
      if (node.scale === 1) y = x.data;
      else if (integerInverse(node.scale)) y = divideByPublic(ctx, x.data, Uint32Array.of(inv));
      else {
        const sc = BigInt.asUintN(64, BigInt(Math.round(node.scale * 2 ** SCALE_BITS)));
        const t = new BigUint64Array(x.data.length);
        k.mulScalar(x.data, sc, t);
        y = await truncateProduct(ctx, t as AShare, label, SCALE_BITS);
      }
      const off = BigInt.asUintN(64, BigInt(Math.round(node.offset * 2 ** ctx.fracBits)));
      return tensor(x.shape, node.offset === 0 ? y : addPublic(ctx, y, off));
    }
    case 'add': {
      assert(ins.length === 2 && sizeOf(ins[0]!.shape) === sizeOf(ins[1]!.shape), 'E_SHAPE', `layer '${node.name}' (add) needs two inputs of the same shape`);
      const out = new BigUint64Array(x.data.length);
      k.add(ins[0]!.data, ins[1]!.data, out);
      return tensor(x.shape, out);
    }
    case 'subtract': {
      const out = new BigUint64Array(x.data.length);
      k.sub(ins[0]!.data, ins[1]!.data, out);
      return tensor(x.shape, out);
    }
    case 'average': {
      const acc = BigUint64Array.from(x.data);
      for (const o of ins.slice(1)) k.add(acc, o.data, acc);
      return tensor(x.shape, divideByPublic(ctx, acc as AShare, Uint32Array.of(ins.length)));
    }
    case 'maximum': {
      // Pairwise: max(max(x0, x1), x2), ...; each level one ReLU call.
      let acc: BigUint64Array = x.data;
      for (let i = 1; i < ins.length; i++) acc = await maximum2(ctx, plOps(ctx, limit), acc, ins[i]!.data, i > 1 ? `${label}#${i}` : label);
      return tensor(x.shape, acc);
    }
    case 'multiply': {
      const [a, b] = ins as [ShareTensor, ShareTensor];
      const shape = [x.shape[0]!, ...a.shape.slice(1).map((d, i) => Math.max(d, b.shape[i + 1]!))];
      const full = (t: ShareTensor) => (sizeOf(t.shape) === sizeOf(shape) ? t.data : gather(t.data, broadcastIndex(t.shape.slice(1), shape.slice(1), shape[0]!)) as AShare);
      return tensor(shape, await multiply(ctx, plOps(ctx, limit), full(a), full(b), label));
    }
    case 'concatenate': {
      const shapes = ins.map((t) => t.shape.slice(1));
      const out = gather(concatArrays(ins.map((t) => t.data as BigUint64Array)), concatIndex(shapes, node.axis, x.shape[0]!));
      return tensor([x.shape[0]!, ...shapes[0]!.map((d, i) => (i === node.axis ? shapes.reduce((t, s) => t + s[i]!, 0) : d))], out);
    }
    case 'cropping2d': {
      const [N, H, W, C] = nhwc(x, node);
      const [[t, b], [l, r]] = node.cropping;
      return tensor([N, H - t - b, W - l - r, C], gather(x.data, cropIndex([H, W, C], node.cropping, N)));
    }
    case 'upsampling2d': {
      const [N, H, W, C] = nhwc(x, node);
      if (node.interpolation === 'nearest') return tensor([N, H * node.size[0], W * node.size[1], C], gather(x.data, upsampleNearestIndex([H, W, C], node.size, N)));
      // Bilinear: along H, then along W; each output is lo round(w_lo 2^24) + hi round(w_hi 2^24), truncated by 24 bits.
      let cur: BigUint64Array = x.data, shape = [H, W, C];
      for (const axis of [0, 1] as const) {
        const p = bilinearPass(shape, axis, node.size[axis], N);
        const wl = BigUint64Array.from(p.wLo, (w) => BigInt(Math.round(w * 2 ** SCALE_BITS)));
        const wh = BigUint64Array.from(p.wHi, (w) => BigInt(Math.round(w * 2 ** SCALE_BITS)));
        const lo = gather(cur, p.lo), hi = gather(cur, p.hi);
        k.mul(lo, wl, lo); k.mul(hi, wh, hi); k.add(lo, hi, lo);
        cur = await truncateProduct(ctx, lo as AShare, `${label}.${axis ? 'w' : 'h'}`, SCALE_BITS);
        shape = p.shape;
      }
      return tensor([N, ...shape], cur);
    }
    case 'conv2d_transpose': {
      const [N, H, W, C] = nhwc(x, node);
      assert(node.kernel.shape[2] === C, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[2]} input channels, input has ${C}`);
      // Sub-pixel decomposition (conv-transpose.ts): s_h s_w stride-1 convolutions of the undilated input, same result as the dilated one.
      const op = conv2dTransposeOp({ N, H, W, C, kh: node.kernelSize[0], kw: node.kernelSize[1], strides: node.strides, pad: node.pad }, node.filters, label);
      const outH = transposeOutSize(H, node.kernelSize[0], node.strides[0], node.pad[0]), outW = transposeOutSize(W, node.kernelSize[1], node.strides[1], node.pad[1]);
      assert(outH >= 1 && outW >= 1, 'E_SHAPE', `layer '${node.name}' (conv2d_transpose): the padded, dilated input is smaller than the ${node.kernelSize.join('x')} window`);
      const z = await truncateProduct(ctx, await beaverBilinear(ctx, op, x.data, node.kernel.data, `${keyPrefix}${node.name}:kernel`), label);
      if (node.bias) addBias(ctx, z, node.bias.data);
      return activate(ctx, tensor([N, outH, outW, node.filters], z), node.activation, `${label}.act`, limit);
    }
    case 'leaky_relu':
      return tensor(x.shape, await leakyRelu(ctx, plOps(ctx, limit), x.data, node.alpha, label));
    case 'prelu':
      return tensor(x.shape, await prelu(ctx, plOps(ctx, limit), x.data, node.kernel.data, label));
    default: {
      const n: never = node;
      throw new MpcError('E_UNSUPPORTED_LAYER', `layer kind '${(n as LayerNode<ShareTensor>).kind}' is not supported by the secure runner`);
    }
  }
}

/**
 * Dense layer `node` on the pre-activation `a` of `from`, whose ReLU runs inside its product (relu-dense.ts): `src` is
 * the producer's comparison ring (its ReLU), `ctx` the consumer's (its own activation, as runNode runs it).
 */
async function reluDenseNode(ctx: PartyContext, src: PartyContext, node: LayerNode<ShareTensor> & { kind: 'dense' }, a: ShareTensor, from: LayerNode<ShareTensor>, keyPrefix: string, limit: number): Promise<ShareTensor> {
  const [N, din] = a.shape as [number, number];
  assert(node.kernel.shape[0] === din, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[0]} inputs, got ${din}`);
  const y = await reluIntoDense(src, a.data, node.kernel.data, N, din, node.units, `${keyPrefix}${node.name}:kernel`, `${from.name}.act`);
  const z = await truncateProduct(ctx, y, node.name);
  if (node.bias) addBias(ctx, z, node.bias.data);
  return activate(ctx, tensor([N, node.units], z), node.activation, `${node.name}.act`, limit);
}

export interface ForwardOptions {
  /** Called after each node with its name and index (progress, per-layer timing). */
  onNode?: (name: string, index: number, total: number) => void;
  /** Largest number of comparisons per protocol call (default DEFAULT_MAX_COMPARISONS_PER_CALL). */
  maxComparisonsPerCall?: number;
  /** false: apply each layer's ReLU where the model has it, not after the following MaxPool (deferredActivations). Default true. */
  reluAfterMaxPool?: boolean;
  /**
   * true: a ReLU moved after a MaxPool runs inside the pool's last comparison pass (relu-max-pairs.ts; the seed CNN
   * 45 -> 33 rounds, +9% bytes). Default false: on the 2-core benchmark machine the fused runs were slower than the
   * unfused ones (BENCHMARKS.md "Seed CNN: the ReLU fused into the MaxPool").
   */
  fuseReluIntoMaxPool?: boolean;
  /**
   * true: a dense layer's ReLU whose only reader is a small dense layer (3 rows K N <= FUSE_MAX_WORDS) runs with that
   * layer's product in its rounds, in runs with the weights' mask kept ('use'): relu-dense.ts, one round fewer per
   * such pair (Network A 9 -> 8), 24 K N bytes per row from P2 instead of the opening of E. Default false.
   */
  fuseReluIntoDense?: boolean;
  /**
   * Prefix of the keys under which ctx.weightMasks keeps the masks of this
   * model's weights ('<prefix><layer>:kernel'); distinct models sharing one
   * context (a PATE ensemble's teachers) need distinct prefixes. Default ''.
   */
  weightKeyPrefix?: string;
}

/**
 * Secure forward pass. `input` is this party's share of the fixed-point
 * input [N, ...inputShape] (P2: a zero placeholder of that shape). Returns
 * this party's share of the output logits (P2: a placeholder). ReLU / ReLU6
 * before a MaxPool run after it (ir-kit/deferred.ts) unless
 * opts.reluAfterMaxPool is false.
 */
export async function secureForward(ctx: PartyContext, model: ModelIR<ShareTensor>, input: ShareTensor, opts: ForwardOptions = {}): Promise<ShareTensor> {
  assert(sizeOf(input.shape.slice(1)) === sizeOf(model.inputShape) && input.data.length === sizeOf(input.shape), 'E_SHAPE', `input: expected [N, ${model.inputShape.join(', ')}], got [${input.shape.join(', ')}] with ${input.data.length} elements`, { party: ctx.party });
  const values = new IRValues<ShareTensor>(model, tensor([input.shape[0]!, ...model.inputShape], input.data), 'E_BAD_ARGUMENT');
  const limit = opts.maxComparisonsPerCall ?? DEFAULT_MAX_COMPARISONS_PER_CALL;
  const deferred = opts.reluAfterMaxPool === false ? new Map() as Deferred : deferredActivations(model);
  const producers = new Set([...deferred.values()].map((d) => d.producer));
  // A node the importer marked for the 64-bit ring (its sound range bound, model-import/static-bounds.ts) runs its
  // comparisons there, a deferred activation on its source node's ring.
  const wide = (n: LayerNode<ShareTensor> | undefined) => n?.compareBits === 64 ? withCompareBits(ctx, 64) : ctx;
  // Dense layers whose ReLU runs inside the next dense layer's product (relu-dense.ts): consumer index -> producer.
  const fusedDense = new Map<number, LayerNode<ShareTensor> & { kind: 'dense' }>();
  for (let i = 0; i < model.nodes.length; i++) {
    const node = model.nodes[i]!;
    const ins = values.inputsOf(node);
    const q = model.nodes[i + 1];
    if (opts.fuseReluIntoDense === true && node.kind === 'dense' && node.activation === 'relu' && !producers.has(i) && !deferred.has(i)
      && q?.kind === 'dense' && q.inputs.length === 1 && q.inputs[0] === node.name && node.name !== model.output
      && model.nodes.every((o, t) => t === i + 1 || !o.inputs.includes(node.name)) && wide(node).comparison === 'direct'
      && ctx.weightMasks?.mode === 'use' && ins[0]!.shape[0]! * node.units <= limit && fusesIntoDense(ins[0]!.shape[0]!, node.units, q.units)) fusedDense.set(i + 1, node);
    const run = producers.has(i) || fusedDense.get(i + 1) === node ? { ...node, activation: 'linear' } as LayerNode<ShareTensor> : node;
    const after = deferred.get(i);
    const from = fusedDense.get(i);
    const out = await ctx.step(`layer:${node.name}`, async () => {
      // run, not node: a consumer whose own ReLU is fused into the next dense layer leaves it to that layer.
      if (from && run.kind === 'dense') return reluDenseNode(wide(node), wide(from), run, ins[0]!, from, opts.weightKeyPrefix ?? '', limit);
      const src = after ? wide(model.nodes.find((n) => n.name === after.from)) : ctx;
      // A ReLU moved after a MaxPool runs inside the pool's last comparison pass (pool-pairs.ts, maxpool.ts) where both are on one ring.
      const fuse = after?.activation === 'relu' && node.kind === 'maxpool2d' && src.compareBits === wide(node).compareBits && opts.fuseReluIntoMaxPool === true;
      const y = await runNode(wide(node), run, ins, limit, opts.weightKeyPrefix ?? '', fuse ? `${after.from}.act` : null);
      return after && !fuse ? activate(src, y, after.activation, `${after.from}.act`, limit) : y;
    });
    values.set(i, node, out);
    opts.onNode?.(node.name, i, model.nodes.length);
  }
  return values.output();
}
