/**
 * The malicious-mode layer runner (docs/MALICIOUS.md): runs a ModelIR over
 * MACed replicated shares in Z_2^128 (rep.ts), the weights MACed at session
 * set-up (weights.ts), batch first, one node at a time, with the same
 * fixed-point rules as the semi-honest runner (protocol/layers/runner.ts):
 * inputs, weights and biases carry f fractional bits, each product is
 * truncated by f before the bias is added.
 *
 *  - Conv2D: im2col as an index map (tensor.ts), then one matmulM
 *    (Araki et al. product with resharing on value and MAC, product.ts);
 *    Dense: one matmulM. BatchNorm arrives folded into them (model-import).
 *  - Add, Subtract, Flatten, Reshape, ZeroPadding2D: local on the four share
 *    vectors. AveragePooling2D / GlobalAveragePooling2D: the window sums are
 *    local; the division is a public product by round(2^24 / count) and a
 *    truncation by 24 bits (SCALE_BITS, as the semi-honest Rescaling) at
 *    ell = scaledTruncEll (ranges.ts: 57 for 32-bit comparisons, exact for
 *    every result in the comparisons' range). Rescaling: the same product,
 *    plus a public offset. Products' truncations by f run at
 *    ell = productTruncEll (max(48, 32 + f)).
 *  - The other layers live beside this file, which only dispatches:
 *    layers-linear.ts (DepthwiseConv2D, hence SeparableConv2D, Conv2DTranspose,
 *    Concatenate, Cropping2D, UpSampling2D nearest and bilinear, Average),
 *    layers-activations.ts (relu, relu6, hard_sigmoid(_k2), hard_silu,
 *    LeakyReLU, PReLU, Maximum, Multiply) and layers-smooth.ts (sigmoid,
 *    silu, tanh, gelu: the semi-honest piecewise cubics folded on |x|, over
 *    reluM / dreluM, mulM and truncM).
 *  - Truncation (`truncM`, probabilistic, Catrina and de Hoogh 2010), ReLU
 *    (`reluM`) and MaxPool (`maxPoolM`, one image per call) come from the
 *    primitives table (primitives.ts); a layer that needs one that is not
 *    there, an activation the service registered another approximation for,
 *    and any layer kind not above, is refused up front by
 *    `checkMaliciousModel` with E_UNSUPPORTED_LAYER naming the layer, its
 *    kind and the option, "not yet in malicious mode": never a semi-honest
 *    fallback.
 *  - Comparisons run at the width ell = MAL_COMPARE_BITS (or the option
 *    compareBits), 64 for a node model-import marked compareBits: 64; each
 *    needs |x| < 2^(ell-1) for its compared values (the layer files state
 *    which values those are).
 *
 * Nothing leaves the parties here: the output is a MACed tensor; the MAC
 * check and the release to the client are client-io.ts's (outputToClient),
 * which runs macCheck before any output share is sent.
 *
 * Cost: the sum of its layers' (matmulCostM per product layer over
 * N·outputs elements, plus the primitives' own); `malForwardCost` adds it up
 * for the linear layers and the primitives' declared costs.
 */
import { assert, MpcError } from '../errors.js';
import { SMOOTH_ACTIVATIONS, type Activation, type LayerNode, type ModelIR, type SmoothActivationName } from '../ir.js';
import { SCALE_BITS } from '../ir-kit/arith.js';
import { convWindow, dilationOf, window2d } from '../layers/geometry.js';
import { sizeOf } from '../layers/types.js';
import { addM, addPublicM, subM, type MShare } from './rep.js';
import { liftSigned, type Vec128 } from './ring128.js';
import { matmulCostM, matmulM } from './product.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { inferShapes } from '../ir-kit/shapes.js';
import type { MalSession } from './session.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { gatherZeroM, im2colIndex, padIndex, poolIndex, tileM, type MTensor } from './tensor.js';
import { concatM, sliceM } from './mvec.js';
import { DEFAULT_MAL_PRIMITIVES, primitivesFor, type MalComparisons, type MalPrimitives } from './primitives.js';
import { averageM, bilinearM, convLikeM, layoutM, malLinearCost, publicFixed, scaleEachM } from './layers-linear.js';
import { builtInSmooth, MAL_SMOOTH_MAX_F } from './layers-smooth.js';
import { activateM, malActivationCost, malNonlinearCost, MAL_PL_ACTIVATIONS, nonlinearM, type MalActOps } from './layers-activations.js';
import { IRValues } from '../ir-kit/values.js';
import { leakyWeight, MAL_COMPARE_BITS, productTruncEll, scaledTruncBits, scaledTruncEll } from './ranges.js';
import { MAX_TRUNC_ELL } from './trunc.js';

/** The default width of the runner's comparisons (ranges.ts, with the truncation widths derived from it). */
export { MAL_COMPARE_BITS };

export interface MalForwardOptions {
  /** The non-linear primitives (default: those built, primitives.ts; `comparisons` picks the table when this is not given). */
  primitives?: MalPrimitives;
  /** 'binary': ReLU (and relu6, the hard sigmoids, LeakyReLU, PReLU, Maximum) through the binary domain (primitives.ts BINARY_COMPARE_PRIMITIVES); default 'arithmetic'. */
  comparisons?: MalComparisons;
  /** Bit length ell of compared values, |x| < 2^(ell-1) (default MAL_COMPARE_BITS; MaxPool inputs |x| < 2^(ell-2)); a node marked compareBits: 64 uses 64. */
  compareBits?: number;
  /** Called after each node. */
  onNode?: (name: string, index: number, total: number) => void;
  /** Run a MAC check between layers once the layers since the last one declare this many bytes (default MAL_CHECK_EVERY_BYTES). */
  checkEveryBytes?: number;
}

/**
 * Memory bound of a forward pass. Every product's output waits in the
 * session's pending list (64 bytes per element at each party) until the next
 * MAC check (mac-check.ts step 2), so one check at the output holds a whole
 * forward pass's products: several GB per party for the seed CNN. The pass
 * therefore runs a MAC check (SPDZ_2k's MACCheck, as at the output; the key
 * is never opened, so checks may repeat) after a layer once the layers since
 * the last check declare at least this many bytes (all parties together);
 * a party then holds about 2/3 of that in pending values, plus one layer's.
 * Decided from the declared costs alone, so the three parties agree, with
 * masks from a pool or made inline; malForwardCost counts each check. No
 * check after the last layer (the output's own follows).
 */
export const MAL_CHECK_EVERY_BYTES = 2 ** 30;

const notYet = (node: { name: string; kind: string }, what: string): MpcError =>
  new MpcError('E_UNSUPPORTED_LAYER', `layer '${node.name}' (${node.kind}): ${what} is not yet in malicious mode`, { step: 'mal.model' });

/** What a node needs beyond linear operations and products, or why it is refused (null: supported). */
function refusal(node: LayerNode<unknown>, f: number, p: MalPrimitives): MpcError | null {
  const needTrunc = (bits: number, why: string) => (bits > 0 && !p.trunc ? notYet(node, `${why} needs truncation, which`) : null);
  const needRelu = (why: string) => (p.relu ? null : notYet(node, `${why} needs ReLU, which`));
  const act = (a: Activation): MpcError | null => {
    if (a === 'linear') return null;
    if (SMOOTH_ACTIVATIONS.includes(a as SmoothActivationName)) {
      if (!builtInSmooth(a as SmoothActivationName)) return notYet(node, `the '${a}' activation without its built-in piecewise cubic (another approximation is registered)`);
      if (f > MAL_SMOOTH_MAX_F) return notYet(node, `the '${a}' activation at f = ${f} (its truncations are exact for f <= ${MAL_SMOOTH_MAX_F})`);
      return needTrunc(f, `the '${a}' activation`);
    }
    if (!MAL_PL_ACTIVATIONS.includes(a)) return notYet(node, `the '${a}' activation`);
    if (a === 'relu') return p.relu ? null : notYet(node, 'the ReLU activation');
    return needRelu(`the '${a}' activation`) ?? (a === 'relu6' ? null : needTrunc(SCALE_BITS, `the '${a}' activation`));
  };
  switch (node.kind) {
    case 'conv2d':
    case 'dense':
    case 'depthwise_conv2d':
    case 'conv2d_transpose':
      return needTrunc(f, 'the product') ?? act(node.activation);
    case 'activation':
      return act(node.activation);
    case 'maxpool2d':
      return p.maxPool ? null : notYet(node, 'MaxPool');
    case 'avgpool2d':
    case 'global_avgpool2d':
      return needTrunc(SCALE_BITS, 'the division by the window size');
    case 'average':
      return needTrunc(SCALE_BITS, 'the division by the number of inputs');
    case 'rescaling':
      return node.scale === 1 ? null : needTrunc(SCALE_BITS, 'the public scale');
    case 'upsampling2d':
      return node.interpolation === 'nearest' ? null : needTrunc(SCALE_BITS, 'bilinear interpolation');
    case 'multiply':
      return needTrunc(f, 'the product');
    case 'maximum':
      return needRelu('Maximum');
    case 'leaky_relu':
      // Its slope terms alpha x and (1 - alpha) relu(x) are truncated apart (layers-activations.ts): past 63 bits no
      // truncation is exact over the comparisons' range, and a wrong term opens with the MAC check passing.
      if (scaledTruncBits(MAL_COMPARE_BITS, leakyWeight(node.alpha)) > MAX_TRUNC_ELL) return notYet(node, `LeakyReLU with alpha = ${node.alpha} (its slope terms need a ${scaledTruncBits(MAL_COMPARE_BITS, leakyWeight(node.alpha))}-bit truncation, at most ${MAX_TRUNC_ELL} is exact: |alpha| and |1 - alpha| up to 64)`);
      return needRelu('LeakyReLU') ?? needTrunc(SCALE_BITS, 'the slope product');
    case 'prelu':
      return needRelu('PReLU') ?? needTrunc(SCALE_BITS, 'the slope product');
    case 'flatten':
    case 'reshape':
    case 'zero_padding2d':
    case 'add':
    case 'subtract':
    case 'concatenate':
    case 'cropping2d':
      return null;
    default:
      return notYet(node, 'this layer kind');
  }
}

/**
 * Refuse a model the malicious runner cannot run yet, before anything runs:
 * E_UNSUPPORTED_LAYER naming the first such layer. Parties call it at model
 * load in malicious mode.
 */
export function checkMaliciousModel(model: ModelIR<unknown>, fracBits: number, primitives: MalPrimitives = DEFAULT_MAL_PRIMITIVES): void {
  for (const node of model.nodes) {
    const e = refusal(node as LayerNode<unknown>, fracBits, primitives);
    if (e) throw e;
  }
}

const tensor = (shape: number[], data: MShare): MTensor => ({ shape, data });

class MalRunner {
  private readonly f: number;
  private readonly baseEll: number;
  /** The current node's comparison width: 64 where model-import marked the node (compareBits), else the run's. */
  private ell: number;
  private ops: MalActOps;
  constructor(private readonly s: MalSession, private readonly p: MalPrimitives, opts: MalForwardOptions) {
    this.f = s.ctx.fracBits;
    this.baseEll = this.ell = opts.compareBits ?? MAL_COMPARE_BITS;
    this.ops = this.opsAt(this.ell);
  }

  private opsAt(ell: number): MalActOps {
    const { s, p } = this;
    return {
      s, f: this.f, ell,
      trunc: (x, bits) => this.trunc(x, bits),
      truncScaled: (x, w) => this.trunc(x, SCALE_BITS, scaledTruncEll(ell, w)),
      truncProduct: (x) => this.trunc(x, this.f, productTruncEll(this.f, ell)),
      relu: (x) => { assert(p.relu, 'E_INTERNAL', 'malicious runner: ReLU missing after the model check'); return p.relu(s, x, ell); },
    };
  }

  /** (m x k)(k x n) then the truncation by f (ell: productTruncEll): in one round when the table has matmulTrunc (product-trunc.ts), else matmulM then trunc. */
  private async matmulTrunc(X: MShare, Y: MShare, m: number, k: number, n: number): Promise<MShare> {
    const ell = productTruncEll(this.f, this.ell);
    if (this.f > 0 && this.p.matmulTrunc && this.p.trunc) return this.p.matmulTrunc(this.s, X, Y, m, k, n, this.f, ell);
    return this.trunc(await matmulM(this.s, X, Y, m, k, n), this.f, ell);
  }

  /** x / 2^bits for |x| < 2^(ell-1) (ell: the table's default, TRUNC_ELL, when absent; ranges.ts gives the runner's). */
  private async trunc(x: MShare, bits: number, ell?: number): Promise<MShare> {
    if (bits === 0) return x;
    assert(this.p.trunc, 'E_INTERNAL', 'malicious runner: truncation missing after the model check');
    return this.p.trunc(this.s, x, bits, ell);
  }

  private async activate(t: MTensor, act: Activation): Promise<MTensor> {
    return tensor(t.shape, await activateM(this.ops, t.data, act));
  }

  /** Sum the taps of a pool index map and divide by the counts: (sum · round(2^24 / count)) >> 24, at ell = scaledTruncEll (ranges.ts). */
  private async average(x: MShare, idx: Int32Array, counts: Uint32Array, m: number): Promise<MShare> {
    const g = gatherZeroM(x, idx);
    let acc = sliceM(g, 0, m);
    for (let t = 1; t * m < g.n; t++) acc = addM(acc, sliceM(g, t * m, (t + 1) * m), this.s.ctx.kernels);
    return this.ops.truncScaled(scaleEachM(this.s, acc, publicFixed(Array.from(counts, (c) => 1 / c), SCALE_BITS)));
  }

  async node(node: LayerNode<MTensor>, ins: MTensor[]): Promise<MTensor> {
    const ell = node.compareBits ?? this.baseEll;
    if (ell !== this.ell) { this.ell = ell; this.ops = this.opsAt(ell); }
    const s = this.s, x = ins[0]!;
    const nhwc = (): [number, number, number, number] => {
      assert(x.shape.length === 4, 'E_SHAPE', `layer '${node.name}' (${node.kind}) expects a 4-D NHWC input, got rank ${x.shape.length}`);
      return x.shape as [number, number, number, number];
    };
    switch (node.kind) {
      case 'conv2d': {
        const [N, H, W, C] = nhwc();
        const [kh, kw] = node.kernelSize, [sh, sw] = node.strides;
        assert(node.kernel.shape[2] === C, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[2]} input channels, input has ${C}`);
        const g = convWindow(H, W, node);
        const rows = N * g.outH * g.outW, K = kh * kw * C;
        const cols = gatherZeroM(x.data, im2colIndex(N, H, W, C, kh, kw, sh, sw, g, dilationOf(node)));
        let z = await this.matmulTrunc(cols, node.kernel.data, rows, K, node.filters);
        if (node.bias) z = addM(z, tileM(node.bias.data, rows), s.ctx.kernels);
        return this.activate(tensor([N, g.outH, g.outW, node.filters], z), node.activation);
      }
      case 'dense': {
        assert(x.shape.length === 2, 'E_SHAPE', `layer '${node.name}' (dense) expects a 2-D input, got rank ${x.shape.length}`);
        const [N, din] = x.shape as [number, number];
        assert(node.kernel.shape[0] === din, 'E_SHAPE', `layer '${node.name}': kernel expects ${node.kernel.shape[0]} inputs, got ${din}`);
        let z = await this.matmulTrunc(x.data, node.kernel.data, N, din, node.units);
        if (node.bias) z = addM(z, tileM(node.bias.data, N), s.ctx.kernels);
        return this.activate(tensor([N, node.units], z), node.activation);
      }
      case 'activation':
        return this.activate(x, node.activation);
      case 'depthwise_conv2d':
      case 'conv2d_transpose':
        return this.activate(await convLikeM(this.ops, node, x), node.activation);
      case 'concatenate':
      case 'cropping2d':
        return layoutM(node, ins);
      case 'upsampling2d':
        return node.interpolation === 'nearest' ? layoutM(node, ins) : bilinearM(this.ops, node, x);
      case 'average':
        return averageM(this.ops, node, ins);
      case 'leaky_relu':
      case 'prelu':
      case 'maximum':
      case 'multiply':
        return nonlinearM(this.ops, node, ins);
      case 'maxpool2d': {
        const [N, H, W, C] = nhwc();
        const g = window2d(H, W, node.poolSize, node.strides, node.padding);
        assert(this.p.maxPool, 'E_INTERNAL', 'malicious runner: MaxPool missing after the model check');
        const per = H * W * C, outs: MShare[] = [];
        // maxPoolM takes one image (its fixed signature); the images of a batch run one after the other.
        for (let b = 0; b < N; b++) {
          outs.push(await this.p.maxPool(s, sliceM(x.data, b * per, (b + 1) * per), { h: H, w: W, c: C }, { kh: node.poolSize[0], kw: node.poolSize[1], sh: node.strides[0], sw: node.strides[1], padding: node.padding }, this.ell));
        }
        return tensor([N, g.outH, g.outW, C], outs.length === 1 ? outs[0]! : concatM(outs));
      }
      case 'avgpool2d': {
        const [N, H, W, C] = nhwc();
        const g = window2d(H, W, node.poolSize, node.strides, node.padding);
        const { idx, counts, m } = poolIndex(N, H, W, C, node.poolSize, node.strides, g);
        return tensor([N, g.outH, g.outW, C], await this.average(x.data, idx, counts, m));
      }
      case 'global_avgpool2d': {
        const [N, H, W, C] = nhwc();
        const { idx, counts, m } = poolIndex(N, H, W, C, [H, W], [H, W], window2d(H, W, [H, W], [H, W], 'valid'));
        return tensor([N, C], await this.average(x.data, idx, counts, m));
      }
      case 'flatten':
        return tensor([x.shape[0]!, sizeOf(x.shape.slice(1))], x.data);
      case 'reshape':
        assert(sizeOf(node.targetShape) === sizeOf(x.shape.slice(1)), 'E_SHAPE', `layer '${node.name}': cannot reshape [${x.shape.slice(1)}] to [${node.targetShape}]`);
        return tensor([x.shape[0]!, ...node.targetShape], x.data);
      case 'zero_padding2d': {
        const [N, H, W, C] = nhwc();
        const [[t, b], [l, r]] = node.padding;
        return tensor([N, H + t + b, W + l + r, C], gatherZeroM(x.data, padIndex(N, H, W, C, node.padding)));
      }
      case 'rescaling': {
        let y = x.data;
        if (node.scale !== 1) y = await this.ops.truncScaled(scaleEachM(s, y, publicFixed(new Float64Array(y.n).fill(node.scale), SCALE_BITS)));
        if (node.offset !== 0) y = addPublicM(s.party, s.alpha, y, publicFixed(new Float64Array(y.n).fill(node.offset), this.f), s.ctx.kernels);
        return tensor(x.shape, y);
      }
      case 'add':
      case 'subtract': {
        assert(ins.length === 2 && sizeOf(ins[0]!.shape) === sizeOf(ins[1]!.shape), 'E_SHAPE', `layer '${node.name}' (${node.kind}) needs two inputs of the same shape`);
        return tensor(x.shape, (node.kind === 'add' ? addM : subM)(ins[0]!.data, ins[1]!.data));
      }
      default:
        throw notYet(node, 'this layer kind');
    }
  }
}

/**
 * Malicious-mode forward pass: `input` is this party's MACed share of the
 * fixed-point input [N, ...inputShape] (client-io.ts inputFromClient, or
 * inputM), `model` the session's MACed weights (weights.ts prepareWeights).
 * Refuses an unsupported model before any message (checkMaliciousModel).
 * Returns the MACed output; nothing is opened or released here.
 */
export async function malForward(s: MalSession, model: ModelIR<MTensor>, input: MTensor, opts: MalForwardOptions = {}): Promise<MTensor> {
  const prims = opts.primitives ?? primitivesFor(opts.comparisons);
  checkMaliciousModel(model, s.ctx.fracBits, prims);
  assert(sizeOf(input.shape.slice(1)) === sizeOf(model.inputShape) && input.data.n === sizeOf(input.shape), 'E_SHAPE', `malicious input: expected [N, ${model.inputShape.join(', ')}], got [${input.shape.join(', ')}] with ${input.data.n} elements`, { party: s.party });
  const runner = new MalRunner(s, prims, opts);
  const checks = interimChecks(model, input.shape[0]!, s.ctx.fracBits, opts);
  const values = new IRValues<MTensor>(model, tensor([input.shape[0]!, ...model.inputShape], input.data), 'E_BAD_ARGUMENT');
  for (let i = 0; i < model.nodes.length; i++) {
    const node = model.nodes[i]!;
    const ins = values.inputsOf(node);
    values.set(i, node, await s.ctx.step(`layer:${node.name}`, () => runner.node(node, ins)));
    if (checks.has(i)) await macCheck(s);
    opts.onNode?.(node.name, i, model.nodes.length);
  }
  return values.output();
}

/** The layers after which malForward runs a MAC check (MAL_CHECK_EVERY_BYTES); none when the primitives declare no costs. */
function interimChecks(model: ModelIR<unknown>, N: number, fracBits: number, opts: Pick<MalForwardOptions, 'primitives' | 'comparisons' | 'compareBits' | 'checkEveryBytes'>): Set<number> {
  const p = opts.primitives ?? primitivesFor(opts.comparisons);
  const every = opts.checkEveryBytes ?? MAL_CHECK_EVERY_BYTES;
  const out = new Set<number>();
  if (!p.truncCost || !p.reluCost || !p.maxPoolCost) return out;
  let since = 0;
  nodeCostsM(model, N, fracBits, opts).forEach((c, i, all) => {
    since += c.bytes;
    if (since >= every && i < all.length - 1) { out.add(i); since = 0; }
  });
  return out;
}

/**
 * The declared cost of malForward on a batch of N (checked against the
 * counters in runner.test.ts): per product layer one matmulCostM over its
 * N·outputs elements and, for f > 0, one truncation; per ReLU, MaxPool
 * (per image) and average the primitives' declared costs; a MAC check
 * (macCheckCost) per interim check (MAL_CHECK_EVERY_BYTES). Layers run one
 * after the other, so rounds add up.
 */
export function malForwardCost(model: ModelIR<unknown>, N: number, fracBits: number, opts: Pick<MalForwardOptions, 'primitives' | 'comparisons' | 'compareBits' | 'checkEveryBytes'> = {}): Cost {
  const checks = interimChecks(model, N, fracBits, opts);
  return addCost(...nodeCostsM(model, N, fracBits, opts), ...[...checks].map(() => macCheckCost()));
}

/** Each node's declared cost (malForwardCost without the interim MAC checks). */
function nodeCostsM(model: ModelIR<unknown>, N: number, fracBits: number, opts: Pick<MalForwardOptions, 'primitives' | 'comparisons' | 'compareBits'>): Cost[] {
  const p = opts.primitives ?? primitivesFor(opts.comparisons), baseEll = opts.compareBits ?? MAL_COMPARE_BITS;
  checkMaliciousModel(model, fracBits, p);
  const shapes = inferShapes(model);
  const need = <T>(c: T | undefined, what: string): T => { if (!c) throw new MpcError('E_INTERNAL', `malForwardCost: no declared cost for ${what}`); return c; };
  const trunc = (n: number, bits: number, ell?: number): Cost[] => (bits > 0 ? [need(p.truncCost, 'truncation')(n, bits, ell)] : []);
  const perNode: Cost[] = [];
  for (const node of model.nodes) {
    const costs: Cost[] = [];
    const ell = node.compareBits ?? baseEll, productEll = productTruncEll(fracBits, ell);
    const parts = {
      relu: (n: number) => need(p.reluCost, 'ReLU')(n, ell),
      trunc: (n: number, bits: number) => trunc(n, bits),
      truncScaled: (n: number, w?: number) => trunc(n, SCALE_BITS, scaledTruncEll(ell, w)),
      truncProduct: (n: number) => trunc(n, fracBits, productEll),
    };
    const out = N * sizeOf(shapes.get(node.name)!);
    const inShape = shapes.get(node.inputs[0]!)!;
    if (node.kind === 'conv2d' || node.kind === 'dense') {
      const cols = node.kind === 'dense' ? node.units : node.filters, rows = out / cols;
      if (fracBits > 0 && p.matmulTrunc && p.trunc) costs.push(need(p.matmulTruncCost, 'matrix product with truncation')(rows, cols, fracBits, productEll));
      else costs.push(matmulCostM(rows, cols), ...parts.truncProduct(out));
    }
    else if (node.kind === 'maxpool2d') for (let b = 0; b < N; b++) costs.push(need(p.maxPoolCost, 'MaxPool')({ h: inShape[0]!, w: inShape[1]!, c: inShape[2]! }, { kh: node.poolSize[0], kw: node.poolSize[1], sh: node.strides[0], sw: node.strides[1], padding: node.padding }, ell));
    else if (node.kind === 'avgpool2d' || node.kind === 'global_avgpool2d' || (node.kind === 'rescaling' && node.scale !== 1)) costs.push(...parts.truncScaled(out));
    else costs.push(...(malLinearCost(node, N, out, inShape, parts) ?? malNonlinearCost(node, out, parts) ?? []));
    if ('activation' in node) costs.push(...malActivationCost(node.activation, out, fracBits, ell, parts));
    perNode.push(addCost(...costs));
  }
  return perNode;
}

/** The fixed-point input lifted into Z_2^128 (for inputM by a party in tests and benchmarks). */
export const liftInput = (x: BigUint64Array): Vec128 => liftSigned(x);
