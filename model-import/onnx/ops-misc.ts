/**
 * ONNX activations, elementwise arithmetic and layout operators -> IR:
 * Relu, LeakyRelu, PRelu, Clip (ReLU / ReLU6, other bounds by shifted ReLUs), HardSigmoid, HardSwish (and
 * x * HardSigmoid(x) as exported before opset 14), Sigmoid (x * Sigmoid(x)
 * as SiLU), Tanh, Softmax
 * (final only); Add, Sub, Mul, Div (of two tensors (Add / Sub of NCHW maps
 * broadcast by upsampling / concatenating copies), or of a tensor and a
 * constant: a Rescaling for a scalar, a per-channel affine node folded like
 * BatchNorm otherwise); Concat, Flatten, Reshape, Squeeze, Unsqueeze;
 * Identity, Dropout and Cast to float (removed).
 */
import { smoothActivation } from '../../protocol/layers/activations.js';
import { HARD_SIGMOID, type Activation } from '../../protocol/ir.js';
import type { AffineNode, WorkNode } from '../graph.js';
import type { OnnxNode, OnnxTensor } from './read.js';
import { attrFloat, attrInt, attrInts, checkAttrs, irAxis, malformed, numel, unsupported, type ActVal, type Ctx } from './context.js';

function activation(ctx: Ctx, n: OnnxNode, x: ActVal, a: Activation, nonneg: boolean): void {
  ctx.emit(n, [{ kind: 'activation', name: n.outputs[0]!, inputs: [x.ir], activation: a }], { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}), nonneg });
}

export function relu(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  activation(ctx, n, ctx.act(n, 0), 'relu', true);
}

export function leakyRelu(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['alpha']);
  const x = ctx.act(n, 0);
  ctx.emit(n, [{ kind: 'leaky_relu', name: n.outputs[0]!, inputs: [x.ir], alpha: attrFloat(n, 'alpha', 0.01) }], { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}), nonneg: false });
}

/** A constant broadcast against x, as one value per IR channel (last axis); undefined when it varies over H or W. */
function perChannel(x: ActVal, t: OnnxTensor): Float64Array | undefined {
  const r = x.dims.length, d = [...new Array(Math.max(r - t.dims.length, 0)).fill(1), ...t.dims];
  if (d.length !== r) return undefined;
  const C = x.dims[1]!;
  const len = r === 4 ? C : x.dims[1]!;
  if (numel(t.dims) === 1) return new Float64Array(len).fill(t.data[0]!);
  if (r === 4 && d[0] === 1 && d[1] === C && d[2] === 1 && d[3] === 1) return Float64Array.from(t.data);
  if (r === 2 && d[0] === 1 && d[1] === len) return Float64Array.from({ length: len }, (_, j) => t.data[x.perm ? x.perm[j]! : j]!);
  return undefined;
}

export function prelu(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  const x = ctx.act(n, 0);
  const slope = ctx.konst(n, 1, 'the slope')!;
  // ONNX broadcasts the slope from the right: per channel of NCHW is [C, 1, 1] (as torch exports nn.PReLU(C)); a [C] slope would be per column.
  const s = slope && perChannel(x, slope);
  if (!s) throw unsupported(n, `a slope of dims [${slope?.dims ?? []}] is not supported (one value, or one per channel: [C, 1, 1])`);
  ctx.emit(n, [{ kind: 'prelu', name: n.outputs[0]!, inputs: [x.ir], kernel: { shape: [s.length], data: Float64Array.from(s) } }], { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}), nonneg: false });
}

/**
 * Clip(lo, hi): (0, 6) -> ReLU6, (0, none) -> ReLU; other bounds through ReLUs of shifted copies (public offsets):
 * (lo, none) -> relu(x - lo) + lo, (none, hi) -> x - relu(x - hi), (lo, hi) -> relu(x - lo) - relu(x - hi) + lo
 * (exact for lo <= hi; two ReLUs). Bounds of magnitude >= 3.4e38 (Clip-6's float max defaults) count as absent.
 */
export function clip(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['min', 'max']);
  const x = ctx.act(n, 0);
  const lo0 = n.attrs.has('min') ? attrFloat(n, 'min', -Infinity) : ctx.konst(n, 1, 'min')?.data[0] ?? -Infinity;
  const hi0 = n.attrs.has('max') ? attrFloat(n, 'max', Infinity) : ctx.konst(n, 2, 'max')?.data[0] ?? Infinity;
  const lo = lo0 <= -3.4e38 ? -Infinity : lo0, hi = hi0 >= 3.4e38 ? Infinity : hi0;
  if (lo === 0 && hi === 6) return activation(ctx, n, x, 'relu6', true);
  if (lo === 0 && hi === Infinity) return activation(ctx, n, x, 'relu', true);
  if (lo === -Infinity && hi === Infinity) return ctx.alias(n, x);
  // Name where a bound came from: an attribute (opset < 11) or input 1 / 2 (opset 11+).
  const where = (k: 'min' | 'max', v: number): string => `${n.attrs.has(k) ? 'attribute' : 'input'} '${k}' = ${v}`;
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw malformed(n, `${where(Number.isNaN(lo) ? 'min' : 'max', NaN)} is not a number`);
  if (lo > hi) throw unsupported(n, `${where('min', lo)} above ${where('max', hi)} is not supported (every value would be max)`);
  const out = n.outputs[0]!;
  const nodes: WorkNode[] = [];
  /** relu(x - c) as two nodes; returns the ReLU's name. */
  const reluShift = (c: number, tag: string): string => {
    const shifted = ctx.fresh(`${out}#minus${tag}`), r = ctx.fresh(`${out}#relu${tag}`);
    nodes.push({ kind: 'rescaling', name: shifted, inputs: [x.ir], scale: 1, offset: -c }, { kind: 'activation', name: r, inputs: [shifted], activation: 'relu' });
    return r;
  };
  if (hi === Infinity) {
    nodes.push({ kind: 'rescaling', name: out, inputs: [reluShift(lo, 'lo')], scale: 1, offset: lo });
  } else if (lo === -Infinity) {
    nodes.push({ kind: 'subtract', name: out, inputs: [x.ir, reluShift(hi, 'hi')] });
  } else {
    const a = reluShift(lo, 'lo'), b = reluShift(hi, 'hi');
    if (lo === 0) nodes.push({ kind: 'subtract', name: out, inputs: [a, b] });
    else {
      const d = ctx.fresh(`${out}#diff`);
      nodes.push({ kind: 'subtract', name: d, inputs: [a, b] }, { kind: 'rescaling', name: out, inputs: [d], scale: 1, offset: lo });
    }
  }
  ctx.emit(n, nodes, { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}), nonneg: lo >= 0 });
}

function hardSigmoidKind(n: OnnxNode): 'hard_sigmoid' | 'hard_sigmoid_k2' {
  const a = attrFloat(n, 'alpha', 0.2), b = attrFloat(n, 'beta', 0.5);
  if (Math.abs(b - 0.5) > 1e-7) throw unsupported(n, `attribute 'beta' = ${b} is not supported (0.5)`);
  if (Math.abs(a - HARD_SIGMOID.hard_sigmoid[0]) < 1e-7) return 'hard_sigmoid';
  if (Math.abs(a - HARD_SIGMOID.hard_sigmoid_k2[0]) < 1e-7) return 'hard_sigmoid_k2';
  throw unsupported(n, `attribute 'alpha' = ${a} is not supported (1/6 as in PyTorch's Hardsigmoid, or 0.2)`);
}

export function hardSigmoid(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['alpha', 'beta']);
  activation(ctx, n, ctx.act(n, 0), hardSigmoidKind(n), true);
}

export function hardSwish(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  activation(ctx, n, ctx.act(n, 0), 'hard_silu', false);
}

export function sigmoidTanh(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  const x = ctx.act(n, 0);
  if (n.opType === 'Tanh') {
    if (!smoothActivation('tanh')) throw unsupported(n, "activation 'tanh': secure approximation not available");
    return activation(ctx, n, x, 'tanh', false);
  }
  // A final sigmoid goes to the client (outputActivation); inside the network finish.ts gives it the secure approximation.
  activation(ctx, n, x, 'linear', false);
  ctx.g.finalActivation.set(n.outputs[0]!, 'sigmoid');
}

/** Softmax, or LogSoftmax (the client's softmax of the logits gives the same probabilities), as the final op. */
export function softmax(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['axis']);
  const x = ctx.act(n, 0);
  const r = x.dims.length;
  const ax = attrInt(n, 'axis', ctx.opset >= 13 ? -1 : 1);
  if (r !== 2 || (ax !== 1 && ax !== -1)) throw unsupported(n, `attribute 'axis' = ${ax} on a rank-${r} tensor is not supported (softmax over the classes of [N, K], as the final op)`);
  if (x.perm) throw unsupported(n, 'softmax of a flattened image is not supported');
  activation(ctx, n, x, 'linear', false);
  ctx.g.finalActivation.set(n.outputs[0]!, 'softmax');
}

/**
 * Two NCHW maps broadcast to their common shape (each axis equal, or 1 on one side; ONNX's multidirectional
 * broadcasting of equal ranks): H / W of 1 repeated by a nearest upsampling, a C of 1 by concatenating copies
 * (both local copies, free in the protocol).
 */
function broadcastMaps(ctx: Ctx, n: OnnxNode, xs: ActVal[]): { nodes: WorkNode[]; input: string }[] {
  const r = xs[0]!.dims.length;
  const T = xs[0]!.dims.map((_, i) => Math.max(...xs.map((x) => x.dims[i]!)));
  if (r !== 4 || xs.some((x) => x.dims[0] !== 1 || x.dims.some((d, i) => d !== T[i] && d !== 1))) throw unsupported(n, `${n.opType} of ${xs.map((x) => `[${x.dims}]`).join(' and ')} is not supported (the same shape, or NCHW maps broadcasting a 1 in C, H or W)`);
  return xs.map((x) => {
    const nodes: WorkNode[] = [];
    let cur = x.ir;
    const [, C, H, W] = x.dims as [number, number, number, number];
    if (H !== T[2] || W !== T[3]) {
      const name = ctx.fresh(`${n.outputs[0]}#bcastHW`);
      nodes.push({ kind: 'upsampling2d', name, inputs: [cur], size: [T[2]! / H, T[3]! / W], interpolation: 'nearest' });
      cur = name;
    }
    if (C !== T[1]) {
      const name = ctx.fresh(`${n.outputs[0]}#bcastC`);
      nodes.push({ kind: 'concatenate', name, inputs: new Array<string>(T[1]!).fill(cur), axis: 2 });
      cur = name;
    }
    return { nodes, input: cur };
  });
}

const samePerm = (a: ActVal, b: ActVal): boolean => (!a.perm && !b.perm) || (!!a.perm && !!b.perm && a.perm.every((v, i) => v === b.perm![i]));

/** Add / Sub / Mul / Div. */
export function arith(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['broadcast', 'axis']);
  if (n.attrs.has('axis')) throw unsupported(n, "attribute 'axis' (legacy broadcasting) is not supported");
  const a = ctx.get(n, 0), b = ctx.get(n, 1);
  if (!a || !b) throw malformed(n, 'needs two inputs');
  const out = n.outputs[0]!;
  const op = n.opType;
  if (a.kind === 'act' && b.kind === 'act') {
    if (op === 'Div') throw unsupported(n, 'division by a computed tensor is not supported');
    if (op === 'Mul') {
      // x * HardSigmoid(x) (alpha 1/6): HardSwish as torch exports it before opset 14.
      // x * Sigmoid(x): SiLU as torch exports nn.SiLU, through its secure approximation when one is registered.
      for (const [x, h] of [[a, b], [b, a]] as const) {
        const hn = ctx.g.get(h.ir);
        if (hn?.kind === 'activation' && hn.activation === 'hard_sigmoid' && hn.inputs[0] === x.ir) return activation(ctx, n, x, 'hard_silu', false);
        if (hn?.kind === 'activation' && hn.activation === 'linear' && ctx.g.finalActivation.get(hn.name) === 'sigmoid' && hn.inputs[0] === x.ir && smoothActivation('silu')) return activation(ctx, n, x, 'silu', false);
      }
      if (a.dims.length !== b.dims.length || !samePerm(a, b)) throw unsupported(n, `a product of [${a.dims}] and [${b.dims}] is not supported`);
      ctx.emit(n, [{ kind: 'multiply', name: out, inputs: [a.ir, b.ir] }], { dims: a.dims.map((d, i) => Math.max(d, b.dims[i]!)), ...(a.perm ? { perm: a.perm } : {}), nonneg: a.nonneg && b.nonneg });
      return;
    }
    if (a.dims.length !== b.dims.length || !samePerm(a, b)) throw unsupported(n, `${op} of [${a.dims}] and [${b.dims}] is not supported (the same shape, or NCHW maps broadcasting a 1 in C, H or W)`);
    const same = a.dims.every((d, i) => d === b.dims[i]);
    const pre = same ? [] : broadcastMaps(ctx, n, [a, b]);
    const ins = same ? [a.ir, b.ir] : pre.map((q) => q.input);
    const dims = same ? a.dims.slice() : a.dims.map((d, i) => Math.max(d, b.dims[i]!));
    ctx.emit(n, [...pre.flatMap((q) => q.nodes), { kind: op === 'Add' ? 'add' : 'subtract', name: out, inputs: ins }], { dims, ...(a.perm ? { perm: a.perm } : {}), nonneg: op === 'Add' && a.nonneg && b.nonneg });
    return;
  }
  if (a.kind === 'const' && b.kind === 'const') throw malformed(n, 'constant arithmetic was not folded');
  const constFirst = a.kind === 'const';
  const x = (constFirst ? b : a) as ActVal;
  const t = (constFirst ? a : b) as { kind: 'const'; t: OnnxTensor };
  if ((op === 'Sub' || op === 'Div') && constFirst) throw unsupported(n, `a constant ${op === 'Sub' ? 'minus' : 'divided by'} a computed tensor is not supported`);
  const c = perChannel(x, t.t);
  if (!c) throw unsupported(n, `${op} with a constant of dims [${t.t.dims}] is not supported (one value, or one per channel)`);
  const keep = { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}) };
  if (numel(t.t.dims) === 1) {
    const v = t.t.data[0]!;
    const scale = op === 'Mul' ? v : op === 'Div' ? 1 / v : 1, offset = op === 'Add' ? v : op === 'Sub' ? -v : 0;
    if (!Number.isFinite(scale)) throw unsupported(n, 'division by zero');
    ctx.emit(n, [{ kind: 'rescaling', name: out, inputs: [x.ir], scale, offset }], { ...keep, nonneg: x.nonneg && scale >= 0 && offset >= 0 });
    return;
  }
  const len = c.length;
  const scale = new Float64Array(len).fill(1), shift = new Float64Array(len);
  for (let j = 0; j < len; j++) {
    if (op === 'Mul') scale[j] = c[j]!;
    else if (op === 'Div') scale[j] = 1 / c[j]!;
    else shift[j] = op === 'Add' ? c[j]! : -c[j]!;
  }
  if (scale.some((v) => !Number.isFinite(v))) throw unsupported(n, 'division by zero');
  const node: AffineNode = { kind: 'batchnorm', name: out, inputs: [x.ir], scale, shift };
  ctx.emit(n, [node], { ...keep, nonneg: false });
}

export function concat(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['axis']);
  const xs = n.inputs.map((_, i) => ctx.act(n, i));
  if (xs.length === 1) return ctx.alias(n, xs[0]!);
  const r = xs[0]!.dims.length;
  const ax = attrInt(n, 'axis', 1);
  const axis = irAxis(r, ax);
  if (axis === undefined || xs.some((x) => x.dims.length !== r || x.perm)) throw unsupported(n, `attribute 'axis' = ${ax} is not supported (an axis other than the batch of NCHW or [N, F] tensors)`);
  const a = ax < 0 ? ax + r : ax;
  const dims = xs[0]!.dims.slice();
  dims[a] = xs.reduce((s, x) => s + x.dims[a]!, 0);
  ctx.emit(n, [{ kind: 'concatenate', name: n.outputs[0]!, inputs: xs.map((x) => x.ir), axis }], { dims, nonneg: xs.every((x) => x.nonneg) });
}

/** [N, C, H, W] -> [N, C*H*W]: the IR's HWC flatten, with the permutation to ONNX's CHW order recorded. */
function flattenImage(ctx: Ctx, n: OnnxNode, x: ActVal): void {
  const [, C, H, W] = x.dims as [number, number, number, number];
  let perm: Int32Array | undefined;
  if (H * W > 1 && C > 1) {
    perm = new Int32Array(C * H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) perm[(h * W + w) * C + c] = (c * H + h) * W + w;
  }
  ctx.emit(n, [{ kind: 'flatten', name: n.outputs[0]!, inputs: [x.ir] } as WorkNode], { dims: [1, C * H * W], ...(perm ? { perm } : {}), nonneg: x.nonneg });
}

export function flatten(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['axis']);
  const x = ctx.act(n, 0);
  const ax = attrInt(n, 'axis', 1);
  if (ax !== 1 && !(ax === -1 && x.dims.length === 2)) throw unsupported(n, `attribute 'axis' = ${ax} is not supported (1: keep the batch)`);
  if (x.dims.length === 2) return ctx.alias(n, x);
  if (x.dims.length !== 4) throw unsupported(n, `input of dims [${x.dims}] is not supported`);
  flattenImage(ctx, n, x);
}

/** Reshape / Squeeze / Unsqueeze of computed tensors: only between [N, C, H, W] and [N, F] forms. */
function reshapeTo(ctx: Ctx, n: OnnxNode, x: ActVal, target: number[], what: string): void {
  const total = numel(x.dims);
  const t = target.map((d, i) => (d === 0 ? x.dims[i] ?? 0 : d));
  const k = t.indexOf(-1);
  if (k >= 0) t[k] = total / -numel(t);
  if (!t.every((d) => Number.isInteger(d) && d > 0) || numel(t) !== total || t[0] !== 1) throw unsupported(n, `${what} [${target}] of a [${x.dims}] tensor is not supported (the batch must stay first)`);
  if (t.length === x.dims.length && t.every((d, i) => d === x.dims[i])) return ctx.alias(n, x);
  if (x.dims.length === 4 && t.length === 2) return flattenImage(ctx, n, x);
  if (x.dims.length === 2 && t.length === 4 && !x.perm && t[2] === 1 && t[3] === 1) {
    ctx.emit(n, [{ kind: 'reshape', name: n.outputs[0]!, inputs: [x.ir], targetShape: [1, 1, t[1]!] }], { dims: t, nonneg: x.nonneg });
    return;
  }
  throw unsupported(n, `${what} [${target}] of a [${x.dims}] tensor is not supported (flattening an NCHW map, or [N, C] <-> [N, C, 1, 1])`);
}

export function reshape(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['allowzero', 'shape']);
  const x = ctx.act(n, 0);
  const shape = attrInts(n, 'shape') ?? Array.from(ctx.konst(n, 1, 'shape')?.data ?? []);
  if (attrInt(n, 'allowzero', 0) !== 0 && shape.includes(0)) throw unsupported(n, "attribute 'allowzero' = 1 with a zero in the shape is not supported");
  // The batch folds as 1: a leading 1 or -1 (x.size(0), or view(-1, F)) is the batch.
  const target = shape.slice();
  if (target[0] === -1 && target.slice(1).every((d) => d > 0) && numel(target.slice(1)) === numel(x.dims)) target[0] = 1;
  reshapeTo(ctx, n, x, target, "attribute 'shape'");
}

export function squeeze(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['axes']);
  const x = ctx.act(n, 0);
  const r = x.dims.length;
  const raw = attrInts(n, 'axes') ?? (n.inputs[1] ? Array.from(ctx.konst(n, 1, 'axes')!.data) : undefined);
  let dims: number[];
  if (n.opType === 'Squeeze') {
    const axes = (raw ?? x.dims.flatMap((d, i) => (d === 1 && i > 0 ? [i] : []))).map((a) => (a < 0 ? a + r : a));
    if (axes.includes(0)) throw unsupported(n, "attribute 'axes' including the batch is not supported");
    dims = x.dims.filter((_, i) => !axes.includes(i));
  } else {
    if (!raw) throw malformed(n, "attribute 'axes' is missing");
    const R = r + raw.length;
    const axes = raw.map((a) => (a < 0 ? a + R : a)).sort((p, q) => p - q);
    if (axes.includes(0)) throw unsupported(n, "attribute 'axes' including the batch is not supported");
    dims = x.dims.slice();
    for (const a of axes) dims.splice(a, 0, 1);
  }
  reshapeTo(ctx, n, x, dims, "attribute 'axes' giving");
}

export function passThrough(ctx: Ctx, n: OnnxNode): void {
  if (n.opType === 'Dropout') {
    checkAttrs(n, ['ratio', 'seed', 'is_test']);
    if (n.outputs[1] && ctx.used.has(n.outputs[1])) throw unsupported(n, 'the mask output is not supported');
    const training = ctx.get(n, 2);
    if (training && (training.kind !== 'const' || training.t.data[0] !== 0)) throw unsupported(n, "input 'training_mode' must be a constant false");
  } else if (n.opType === 'Cast') {
    checkAttrs(n, ['to', 'saturate']);
    const to = attrInt(n, 'to', 1);
    if (to !== 1 && to !== 11) throw unsupported(n, `attribute 'to' = ${to} is not supported for computed tensors (float only)`);
  } else checkAttrs(n, []);
  ctx.alias(n, ctx.act(n, 0));
}
