/**
 * A sound static bound on every value a secure comparison sees, for every
 * input in the model's declared input range (the preprocessing's range of
 * 8-bit pixels, protocol/input-preprocessing.ts inputBoundsOf, or
 * mpc-import --input-range): interval arithmetic through the layer IR, one
 * interval [lo, hi] per element.
 *
 *  - linear layers (Conv2D, DepthwiseConv2D, Dense, Conv2DTranspose; BatchNorm
 *    is already folded into them) in midpoint-radius form: with c = (lo + hi) / 2
 *    and r = (hi - lo) / 2, the output lies in W c + b ± |W| r, which is the
 *    exact range of an affine map over a box. The two passes are the IR
 *    toolkit's own forward pass (forward.ts forwardNode, float64) with the
 *    kernel W and with |W|, so the geometry is the runner's;
 *  - order-preserving layers (MaxPool, AveragePool, GlobalAveragePool,
 *    padding, cropping, reshape, concatenation, nearest and bilinear
 *    upsampling, Add, Average, Maximum) map lo to lo and hi to hi;
 *    Rescaling with a negative scale swaps them; Subtract takes lo_a - hi_b
 *    and hi_a - lo_b; Multiply the extremes of the four corner products;
 *  - activations map the interval through the function (ReLU, ReLU6,
 *    LeakyReLU, PReLU, the hard_* clamps), the smooth ones through their float
 *    twin widened by the approximation's error bound (maxAbsError) and 2 ulps
 *    at f = 12 (sigmoid, tanh are increasing; silu, gelu decrease then increase,
 *    their minimum at a known point).
 *
 * What each layer's comparisons see is reported as forward.ts does on actual
 * values (Arith.onCompare: the same kinds, extras and factors), so the
 * chooser (precision.ts) checks a sound bound and the samples' magnitudes with
 * one rule. The bound is on the real-valued network: the fixed-point values
 * differ from it by a few ulps per layer, far below the chooser's range
 * margin (4). Interval bounds ignore correlations between elements, so they
 * can be much larger than anything a real input reaches (a deep network's
 * bound grows with its depth); they are never smaller.
 */
import { MpcError } from '../protocol/errors.js';
import { floatArith, type CompareKind } from '../protocol/ir-kit/arith.js';
import { poolNoteFor } from '../protocol/ir-kit/deferred.js';
import { forwardNode } from '../protocol/ir-kit/forward.js';
import { broadcastIndex, gather } from '../protocol/ir-kit/layout.js';
import { HARD_SIGMOID, type Activation, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { smoothActivation } from '../protocol/layers/activations.js';
import { window2d } from '../protocol/layers/geometry.js';
import { sizeOf } from '../protocol/layers/types.js';
import type { RangeStat } from './precision.js';
import { IRValues } from '../protocol/ir-kit/values.js';

/** Elementwise interval of a batch-1 tensor. */
export interface Box { shape: number[]; lo: Float64Array; hi: Float64Array }

/** Where the smooth activations that are not monotone have their minimum (silu: x = -1.2785, gelu: x = -0.7518). */
const SMOOTH_MIN_AT: Partial<Record<string, number>> = { silu: -1.2784645, gelu: -0.7517916 };
/** Slack on a smooth approximation's output beyond its error bound: 2 ulps at the smallest f the chooser tries (12). */
const SMOOTH_SLACK = 2 / 2 ** 12;

const maxAbs = (...bs: Box[]): number => {
  let m = 0;
  for (const b of bs) for (let i = 0; i < b.lo.length; i++) m = Math.max(m, Math.abs(b.lo[i]!), Math.abs(b.hi[i]!));
  return m;
};

/** The input box: per channel (the last axis) [lo[c], hi[c]], or one [lo, hi] for every element. */
export function inputBox(inputShape: readonly number[], lo: readonly number[], hi: readonly number[]): Box {
  const n = sizeOf(inputShape as number[]), C = lo.length;
  if (hi.length !== C || (C !== 1 && inputShape[inputShape.length - 1] !== C)) throw new MpcError('E_BAD_ARGUMENT', `static bounds: ${C} channel ranges for an input [${inputShape.join(', ')}]`, { step: 'import.bounds' });
  const b: Box = { shape: [1, ...inputShape], lo: new Float64Array(n), hi: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const c = i % C;
    if (!(lo[c]! <= hi[c]!) || !Number.isFinite(lo[c]!) || !Number.isFinite(hi[c]!)) throw new MpcError('E_BAD_ARGUMENT', 'static bounds: an input range must be finite with lo <= hi', { step: 'import.bounds' });
    b.lo[i] = lo[c]!; b.hi[i] = hi[c]!;
  }
  return b;
}

/** Apply an order-preserving node to lo and to hi separately (swapping where the map reverses the order). */
function monotone(node: LayerNode<FloatTensor>, ins: Box[]): Box {
  const a = forwardNode(node, ins.map((b) => ({ shape: b.shape, data: b.lo })), floatArith);
  const z = forwardNode(node, ins.map((b) => ({ shape: b.shape, data: b.hi })), floatArith);
  const lo = new Float64Array(a.data.length), hi = new Float64Array(a.data.length);
  for (let i = 0; i < lo.length; i++) { lo[i] = Math.min(a.data[i]!, z.data[i]!); hi[i] = Math.max(a.data[i]!, z.data[i]!); }
  return { shape: a.shape, lo, hi };
}

type Linear = Extract<LayerNode<FloatTensor>, { kind: 'conv2d' | 'depthwise_conv2d' | 'dense' | 'conv2d_transpose' }>;

/** W c + b ± |W| r: the exact range of the affine map over the box (before the activation). */
function linear(node: Linear, x: Box): Box {
  const n = x.lo.length, c = new Float64Array(n), r = new Float64Array(n);
  for (let i = 0; i < n; i++) { c[i] = (x.lo[i]! + x.hi[i]!) / 2; r[i] = (x.hi[i]! - x.lo[i]!) / 2; }
  const plain = { ...node, activation: 'linear' as const };
  const mid = forwardNode(plain, [{ shape: x.shape, data: c }], floatArith);
  const absK: FloatTensor = { shape: node.kernel.shape, data: node.kernel.data.map(Math.abs) };
  const { bias: _b, ...noBias } = plain;
  const rad = forwardNode({ ...noBias, kernel: absK } as Linear, [{ shape: x.shape, data: r }], floatArith);
  const lo = new Float64Array(mid.data.length), hi = new Float64Array(mid.data.length);
  for (let i = 0; i < lo.length; i++) { lo[i] = mid.data[i]! - rad.data[i]!; hi[i] = mid.data[i]! + rad.data[i]!; }
  return { shape: mid.shape, lo, hi };
}

/** Map each interval through f, given where f has interior extremes (points to evaluate besides the ends). */
function through(b: Box, f: (v: number) => number, inner: readonly number[] = [], widen = 0): Box {
  const lo = new Float64Array(b.lo.length), hi = new Float64Array(b.lo.length);
  for (let i = 0; i < lo.length; i++) {
    const l = b.lo[i]!, h = b.hi[i]!;
    let mn = Math.min(f(l), f(h)), mx = Math.max(f(l), f(h));
    for (const p of inner) if (p > l && p < h) { mn = Math.min(mn, f(p)); mx = Math.max(mx, f(p)); }
    lo[i] = mn - widen; hi[i] = mx + widen;
  }
  return { shape: b.shape, lo, hi };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

function activate(a: Activation, y: Box, layer: string, note: Note): Box {
  if (a === 'linear') return y;
  if (a === 'hard_sigmoid' || a === 'hard_sigmoid_k2' || a === 'hard_silu') {
    const [s, o] = HARD_SIGMOID[a === 'hard_silu' ? 'hard_sigmoid' : a];
    const t = through(y, (v) => s * v + o);
    note(layer, 'sign', maxAbs(t) + 1);
    const hs = (v: number) => clamp01(s * v + o);
    // hard_silu x * hard_sigmoid(x): its minimum -0.375 at x = -1.5; increasing beyond, 0 below -3.
    return a === 'hard_silu' ? through(y, (v) => v * hs(v), [-1.5]) : through(y, hs);
  }
  if (a === 'relu' || a === 'relu6') {
    note(layer, 'sign', maxAbs(y) + (a === 'relu6' ? 6 : 0));
    return through(y, a === 'relu' ? (v) => Math.max(0, v) : (v) => Math.min(6, Math.max(0, v)));
  }
  const s = smoothActivation(a);
  if (!s) throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${layer}': activation '${a}': secure approximation not available`);
  note(layer, 'sign', maxAbs(y) + Math.max(Math.abs(s.inputRange[0]), Math.abs(s.inputRange[1])));
  const at = SMOOTH_MIN_AT[a];
  return through(y, (v) => s.float(v), at !== undefined ? [at] : [], s.maxAbsError + SMOOTH_SLACK);
}

type Note = (layer: string, kind: CompareKind, maxAbs: number) => void;

function multiply(ins: Box[], shape: number[]): Box {
  const full = (b: Box): Box => {
    if (b.lo.length === sizeOf(shape)) return b;
    const idx = broadcastIndex(b.shape.slice(1), shape.slice(1), 1);
    return { shape, lo: gather(b.lo, idx), hi: gather(b.hi, idx) };
  };
  const a = full(ins[0]!), b = full(ins[1]!);
  const lo = new Float64Array(a.lo.length), hi = new Float64Array(a.lo.length);
  for (let i = 0; i < lo.length; i++) {
    const p = [a.lo[i]! * b.lo[i]!, a.lo[i]! * b.hi[i]!, a.hi[i]! * b.lo[i]!, a.hi[i]! * b.hi[i]!];
    lo[i] = Math.min(...p); hi[i] = Math.max(...p);
  }
  return { shape, lo, hi };
}

/** One node's output box from its inputs' boxes; `note` hears what its comparisons see. */
export function boundNode(node: LayerNode<FloatTensor>, ins: Box[], note: Note): Box {
  const x = ins[0]!;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'dense':
    case 'conv2d_transpose':
      return activate(node.activation, linear(node, x), node.name, note);
    case 'activation':
      return activate(node.activation, x, node.name, note);
    case 'maxpool2d': {
      const y = monotone(node, ins);
      note(node.name, 'difference', 2 * maxAbs(x));
      // 'same' windows that reach past the edge also compare with the padding constant (as forward.ts notes it).
      const g = window2d(x.shape[1]!, x.shape[2]!, node.poolSize, node.strides, node.padding);
      if (g.padTop + g.padLeft + g.padBottom + g.padRight > 0) note(node.name, 'padded', maxAbs(x));
      return y;
    }
    case 'maximum':
      note(node.name, 'difference', 2 * maxAbs(...ins));
      return monotone(node, ins);
    case 'subtract': {
      const [a, b] = ins as [Box, Box];
      return { shape: a.shape, lo: a.lo.map((v, i) => v - b.hi[i]!), hi: a.hi.map((v, i) => v - b.lo[i]!) };
    }
    case 'multiply': {
      const shape = forwardNode(node, ins.map((b) => ({ shape: b.shape, data: b.lo })), floatArith).shape;
      return multiply(ins, shape);
    }
    case 'leaky_relu':
      note(node.name, 'sign', maxAbs(x));
      return through(x, (v) => (v > 0 ? v : node.alpha * v), [0]);
    case 'prelu': {
      note(node.name, 'sign', maxAbs(x));
      const A = node.kernel.data, C = A.length;
      const lo = new Float64Array(x.lo.length), hi = new Float64Array(x.lo.length);
      for (let i = 0; i < lo.length; i++) {
        const f = (v: number) => (v > 0 ? v : A[i % C]! * v);
        const p = [f(x.lo[i]!), f(x.hi[i]!), ...(x.lo[i]! < 0 && x.hi[i]! > 0 ? [0] : [])];
        lo[i] = Math.min(...p); hi[i] = Math.max(...p);
      }
      return { shape: x.shape, lo, hi };
    }
    default:
      // avgpool2d, global_avgpool2d, flatten, reshape, zero_padding2d, rescaling, add, average, concatenate,
      // cropping2d, upsampling2d: order-preserving (rescaling by a negative scale order-reversing) in every input.
      return monotone(node, ins);
  }
}

/**
 * The sound bound of every layer's compared magnitudes (reals) over the input
 * box, in the chooser's RangeStat form; with `comparesOutput` (secure argmax)
 * also the logits' differences, as precision.ts floatPass notes them.
 */
export function staticRanges(model: ModelIR<FloatTensor>, input: Box, comparesOutput = false): RangeStat[] {
  const seen = new Map<string, RangeStat>();
  const note: Note = (layer, kind, m) => {
    const key = `${layer}\u0000${kind}`, r = seen.get(key);
    if (!r) seen.set(key, { layer, kind, maxAbs: m });
    else r.maxAbs = Math.max(r.maxAbs, m);
  };
  const vals = new IRValues<Box>(model, input, 'E_SHAPE');
  // A ReLU the secure runner moves after its MaxPool (ir-kit/deferred.ts): that MaxPool compares the pre-activation values.
  const poolNotes = poolNoteFor(model, note);
  model.nodes.forEach((node, i) => vals.set(i, node, boundNode(node, vals.inputsOf(node), poolNotes.get(i) ?? note)));
  const out = vals.output();
  if (comparesOutput) {
    const m = maxAbs(out);
    note(`${model.output} (secure argmax)`, 'difference', 2 * m);
    note(`${model.output} (secure argmax)`, 'padded', m);
  }
  return [...seen.values()];
}

/** The output box (for tests: every actual output must lie inside it). */
export function outputBox(model: ModelIR<FloatTensor>, input: Box): Box {
  const vals = new Map<string, Box>([['input', input]]);
  for (const node of model.nodes) vals.set(node.name, boundNode(node, node.inputs.map((s) => vals.get(s)!), () => undefined));
  return vals.get(model.output)!;
}
