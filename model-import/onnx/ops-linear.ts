/**
 * ONNX operators with weights -> IR: Conv (group 1, depthwise, or grouped as
 * a block-diagonal kernel; dilations as the IR's dilation, with strides too),
 * ConvTranspose (dilations as the zero-expanded kernel), Gemm, MatMul,
 * BatchNormalization.
 * Weights are converted from ONNX's layouts ([M, C/group, kh, kw], [K, N] /
 * [N, K]) to the IR's ([kh, kw, C, M], [in, units]) here, once.
 */
import type { Padding } from '../../protocol/ir.js';
import { dilatedExtent, window1d } from '../../protocol/layers/geometry.js';
import type { AffineNode, WorkNode } from '../graph.js';
import type { OnnxNode, OnnxTensor } from './read.js';
import { attrFloat, attrInt, attrInts, attrString, checkAttrs, malformed, numel, unsupported, type ActVal, type Ctx } from './context.js';

export type Pads2 = [[number, number], [number, number]];

/** Spatial pads of a Conv / pooling node ([[top, bottom], [left, right]]) from pads or auto_pad. */
export function spatialPads(n: OnnxNode, H: number, W: number, k: [number, number], s: [number, number]): Pads2 {
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  if (auto === 'NOTSET') {
    const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) throw unsupported(n, `attribute 'pads' = [${p}] is not supported (four non-negative values for H and W)`);
    return [[p[0]!, p[2]!], [p[1]!, p[3]!]];
  }
  if (auto === 'VALID') return [[0, 0], [0, 0]];
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') throw unsupported(n, `attribute 'auto_pad' = '${auto}' is not supported`);
  const axis = (size: number, kk: number, ss: number, dim: string): [number, number] => {
    const out = Math.ceil(size / ss), raw = (out - 1) * ss + kk - size;
    // The spec's total padding goes negative when the windows leave 2 or more cells unread (stride > kernel); it does not
    // say where the windows then start, and runtimes differ (TF clamps to 0 and starts at cell 0; onnxruntime 1.20 shifts
    // them into the input, by a different amount in Conv and in pooling). -1 is unambiguous (every reading starts at 0).
    if (raw <= -2) throw unsupported(n, `attribute 'auto_pad' = '${auto}' with stride ${ss} and kernel ${kk} on ${size} ${dim} gives a negative total padding (${raw}), where runtimes place the windows differently; not supported (export with explicit pads)`);
    const total = Math.max(raw, 0), half = Math.floor(total / 2);
    return auto === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
  };
  return [axis(H, k[0], s[0], 'rows'), axis(W, k[1], s[1], 'columns')];
}

/** 'valid' / 'same' when the pads are TF's for that window, else undefined (pad explicitly first). */
export function irPadding(H: number, W: number, k: [number, number], s: [number, number], p: Pads2): Padding | undefined {
  if (p[0][0] + p[0][1] + p[1][0] + p[1][1] === 0) return 'valid';
  const h = window1d(H, k[0], s[0], 'same'), w = window1d(W, k[1], s[1], 'same');
  return h.padBefore === p[0][0] && h.padAfter === p[0][1] && w.padBefore === p[1][0] && w.padAfter === p[1][1] ? 'same' : undefined;
}

export function pair(n: OnnxNode, key: string, dflt: [number, number] | undefined): [number, number] {
  const v = attrInts(n, key);
  if (!v) {
    if (dflt) return dflt;
    throw malformed(n, `attribute '${key}' is missing`);
  }
  if (v.length !== 2 || v.some((x) => !Number.isInteger(x) || x < 1)) throw unsupported(n, `attribute '${key}' = [${v}] is not supported (two positive values: 2-D images only)`);
  return [v[0]!, v[1]!];
}

export function noDilation(n: OnnxNode): void {
  const d = attrInts(n, 'dilations');
  if (d && d.some((x) => x !== 1)) throw unsupported(n, `attribute 'dilations' = [${d}] is not supported (1 only)`);
}

/**
 * A kernel [A, B, kh, kw] with attribute 'dilations' d as the equivalent undilated kernel of (k - 1) d + 1 taps per
 * axis (zeros between the taps): exact, at the larger kernel's cost. ConvTranspose only (Conv maps dilations to
 * the IR's dilation, which runs the undilated kernel's multiply-adds).
 */
function dilated(n: OnnxNode, w: OnnxTensor): { data: Float64Array; kh: number; kw: number } {
  const [A, B, kh, kw] = w.dims as [number, number, number, number];
  const d = pair(n, 'dilations', [1, 1]);
  if (d[0] === 1 && d[1] === 1) return { data: w.data, kh, kw };
  const eh = (kh - 1) * d[0] + 1, ew = (kw - 1) * d[1] + 1;
  const data = new Float64Array(A * B * eh * ew);
  for (let a = 0; a < A * B; a++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) data[(a * eh + ky * d[0]) * ew + kx * d[1]] = w.data[(a * kh + ky) * kw + kx]!;
  return { data, kh: eh, kw: ew };
}

function spatial(n: OnnxNode, x: ActVal): [number, number, number] {
  if (x.dims.length !== 4) throw unsupported(n, `input of rank ${x.dims.length} ([${x.dims}]) is not supported (2-D convolution on NCHW)`);
  return [x.dims[1]!, x.dims[2]!, x.dims[3]!];
}

function weightShape(n: OnnxNode, w: OnnxTensor, want: number[], what: string): void {
  if (w.dims.length !== want.length || w.dims.some((d, i) => d !== want[i])) throw malformed(n, `${what} has dims [${w.dims}], expected [${want}]`);
}

/** Zero padding of [[t, b], [l, r]] before a 'valid' window (nothing when all zero). */
export function zeroPad(ctx: Ctx, n: OnnxNode, x: ActVal, p: Pads2): { nodes: WorkNode[]; input: string } {
  if (p[0][0] + p[0][1] + p[1][0] + p[1][1] === 0) return { nodes: [], input: x.ir };
  const name = ctx.fresh(`${n.outputs[0]}#pad`);
  return { nodes: [{ kind: 'zero_padding2d', name, inputs: [x.ir], padding: p }], input: name };
}

export function conv(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
  const x = ctx.act(n, 0);
  const [C, H, W] = spatial(n, x);
  const w = ctx.konst(n, 1, 'the weight')!;
  if (!w || w.dims.length !== 4) throw unsupported(n, `weight of dims [${w?.dims ?? []}] is not supported (2-D kernels)`);
  const [M, Cg, kh0, kw0] = w.dims as [number, number, number, number];
  const k0 = pair(n, 'kernel_shape', [kh0, kw0]);
  if (k0[0] !== kh0 || k0[1] !== kw0) throw malformed(n, `kernel_shape [${k0}] differs from the weight's [${kh0}, ${kw0}]`);
  // Dilations: the IR's dilation; the window is the dilated kernel's extent (the spec's (k - 1) d + 1, in pads, auto_pad
  // and the output size).
  const src = w.data, kh = kh0, kw = kw0;
  const d = pair(n, 'dilations', [1, 1]);
  const dil = d[0] === 1 && d[1] === 1 ? {} : { dilation: d };
  const k = dilatedExtent(k0, d);
  const s = pair(n, 'strides', [1, 1]);
  const group = attrInt(n, 'group', 1);
  if (!(group >= 1 && C % group === 0 && M % group === 0 && Cg === C / group)) throw malformed(n, `attribute 'group' = ${group} does not fit ${C} input channels and weight [${w.dims}]`);
  const p = spatialPads(n, H, W, k, s);
  const padding = irPadding(H, W, k, s, p);
  const pre = padding ? { nodes: [], input: x.ir } : zeroPad(ctx, n, x, p);
  const base = { name: n.outputs[0]!, inputs: [pre.input], kernelSize: k0, strides: s, padding: padding ?? ('valid' as const), ...dil, activation: 'linear' as const };
  const bias = ctx.konst(n, 2, 'the bias');
  if (bias && bias.data.length !== M) throw malformed(n, `bias has ${bias.data.length} values, expected ${M}`);
  const b = bias ? { bias: { shape: [M], data: Float64Array.from(bias.data) } } : {};
  let node: WorkNode;
  if (group === C && group > 1) {
    // Depthwise: output channel c * dm + j reads input channel c (ONNX's grouping = the IR's depthwise order).
    const dm = M / C;
    const K = new Float64Array(kh * kw * C * dm);
    for (let c = 0; c < C; c++) for (let j = 0; j < dm; j++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) K[((ky * kw + kx) * C + c) * dm + j] = src[((c * dm + j) * kh + ky) * kw + kx]!;
    node = { kind: 'depthwise_conv2d', ...base, depthMultiplier: dm, kernel: { shape: [kh, kw, C, dm], data: K }, ...b };
  } else {
    // group 1, or a grouped conv as one conv with a block-diagonal kernel (exact; costs the full C x M product).
    const Mg = M / group;
    const K = new Float64Array(kh * kw * C * M);
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg;
      for (let cl = 0; cl < Cg; cl++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) K[((ky * kw + kx) * C + c0 + cl) * M + m] = src[((m * Cg + cl) * kh + ky) * kw + kx]!;
    }
    node = { kind: 'conv2d', ...base, filters: M, kernel: { shape: [kh, kw, C, M], data: K }, ...b };
  }
  const outH = Math.floor((H + p[0][0] + p[0][1] - k[0]) / s[0]) + 1, outW = Math.floor((W + p[1][0] + p[1][1] - k[1]) / s[1]) + 1;
  if (outH < 1 || outW < 1) throw malformed(n, `the ${k[0]}x${k[1]} ${dil.dilation ? `(dilated ${kh}x${kw}) ` : ''}kernel does not fit the padded ${H}x${W} input`);
  ctx.emit(n, [...pre.nodes, node], { dims: [1, M, outH, outW], nonneg: false });
}

export function convTranspose(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides']);
  const x = ctx.act(n, 0);
  const [C, H, W] = spatial(n, x);
  const group = attrInt(n, 'group', 1);
  const w = ctx.konst(n, 1, 'the weight')!;
  if (!w || w.dims.length !== 4 || w.dims[0] !== C) throw malformed(n, `weight has dims [${w?.dims ?? []}], expected [${C}, M / group, kh, kw]`);
  const [, Mg, kh0, kw0] = w.dims as [number, number, number, number];
  if (!(Number.isInteger(group) && group >= 1 && C % group === 0)) throw malformed(n, `attribute 'group' = ${group} does not divide the ${C} input channels`);
  const M = Mg * group, Cg = C / group;
  const k = pair(n, 'kernel_shape', [kh0, kw0]);
  if (k[0] !== kh0 || k[1] !== kw0) throw malformed(n, `kernel_shape [${k}] differs from the weight's [${kh0}, ${kw0}]`);
  const { data: wd, kh, kw } = dilated(n, w);
  const s = pair(n, 'strides', [1, 1]);
  const op = attrInts(n, 'output_padding') ?? [0, 0];
  if (op.length !== 2 || op.some((v) => !Number.isInteger(v) || v < 0)) throw unsupported(n, `attribute 'output_padding' = [${op}] is not supported (two non-negative values for H and W)`);
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  const outShape = attrInts(n, 'output_shape');
  let p: Pads2;
  if (outShape) {
    // The spec: total_padding = stride (in - 1) + output_padding + kernel - output_shape, the larger half at the end for
    // SAME_UPPER and at the start otherwise; 'pads' is then ignored. Two values (H, W) only.
    if (outShape.length !== 2 || outShape.some((v) => !Number.isInteger(v) || v < 1)) throw unsupported(n, `attribute 'output_shape' = [${outShape}] is not supported (two positive values: the output's height and width)`);
    const axis = (size: number, kk: number, ss: number, o: number, want: number, dim: string): [number, number] => {
      const total = ss * (size - 1) + o + kk - want, half = Math.floor(total / 2);
      if (total < 0) throw unsupported(n, `attribute 'output_shape' = [${outShape}] asks for ${want} ${dim}, more than the ${want + total} the transposed convolution produces; not supported`);
      return auto === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    };
    p = [axis(H, kh, s[0], op[0]!, outShape[0]!, 'rows'), axis(W, kw, s[1], op[1]!, outShape[1]!, 'columns')];
  } else if (auto === 'NOTSET' || auto === 'VALID') {
    const v = auto === 'VALID' ? [0, 0, 0, 0] : attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (v.length !== 4 || v.some((x) => !Number.isInteger(x) || x < 0)) throw unsupported(n, `attribute 'pads' = [${v}] is not supported (four non-negative values for H and W)`);
    p = [[v[0]!, v[2]!], [v[1]!, v[3]!]];
  } else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const axis = (size: number, kk: number, ss: number, o: number, dim: string): [number, number] => {
      const total = ss * (size - 1) + o + kk - size * ss, half = Math.floor(total / 2);
      // Negative when kernel + output_padding < stride: the spec's output (input * stride) needs negative pads whose split
      // it leaves open (floor or truncation of total / 2), and onnxruntime 1.20 clamps them to 0 (a smaller output).
      if (total < 0) throw unsupported(n, `attribute 'auto_pad' = '${auto}' with stride ${ss} > kernel ${kk} + output_padding ${o} on ${size} ${dim} gives a negative total padding (${total}), where runtimes differ; not supported (export with explicit pads)`);
      return auto === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    };
    p = [axis(H, kh, s[0], op[0]!, 'rows'), axis(W, kw, s[1], op[1]!, 'columns')];
  } else throw unsupported(n, `attribute 'auto_pad' = '${auto}' is not supported`);
  // The IR runs a stride-1 'valid' conv of the zero-dilated input padded by k - 1 - pad (+ output_padding after).
  const pad: Pads2 = [[kh - 1 - p[0][0], kh - 1 - p[0][1] + op[0]!], [kw - 1 - p[1][0], kw - 1 - p[1][1] + op[1]!]];
  if (pad.flat().some((v) => v < 0)) throw unsupported(n, `${outShape ? `attribute 'output_shape' = [${outShape}] gives pads` : "attribute 'pads' ="} [${p[0][0]}, ${p[1][0]}, ${p[0][1]}, ${p[1][1]}] larger than kernel - 1, which is not supported`);
  // Weight [C, M / group, kh, kw], flipped; with groups, input channel i feeds only the outputs of its group
  // (block-diagonal kernel, exact, at the full C x M cost, as Conv).
  const K = new Float64Array(kh * kw * C * M);
  for (let i = 0; i < C; i++) {
    const o0 = Math.floor(i / Cg) * Mg;
    for (let ol = 0; ol < Mg; ol++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) K[((ky * kw + kx) * C + i) * M + o0 + ol] = wd[((i * Mg + ol) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)]!;
  }
  const bias = ctx.konst(n, 2, 'the bias');
  if (bias && bias.data.length !== M) throw malformed(n, `bias has ${bias.data.length} values, expected ${M}`);
  const node: WorkNode = { kind: 'conv2d_transpose', name: n.outputs[0]!, inputs: [x.ir], filters: M, kernelSize: [kh, kw], strides: s, pad, activation: 'linear', kernel: { shape: [kh, kw, C, M], data: K }, ...(bias ? { bias: { shape: [M], data: Float64Array.from(bias.data) } } : {}) };
  const oh = (H - 1) * s[0] + op[0]! + kh - p[0][0] - p[0][1], ow = (W - 1) * s[1] + op[1]! + kw - p[1][0] - p[1][1];
  ctx.emit(n, [node], { dims: [1, M, oh, ow], nonneg: false });
}

function flatIn(n: OnnxNode, x: ActVal): number {
  if (x.dims.length !== 2) throw unsupported(n, `input of dims [${x.dims}] is not supported (a [N, features] matrix; flatten first)`);
  return x.dims[1]!;
}

/** Dense from a weight read as B(k, u); rows follow the input's permutation. */
function dense(ctx: Ctx, n: OnnxNode, x: ActVal, K: number, U: number, at: (k: number, u: number) => number, bias?: Float64Array): void {
  const kernel = new Float64Array(K * U);
  for (let j = 0; j < K; j++) { const k = x.perm ? x.perm[j]! : j; for (let u = 0; u < U; u++) kernel[j * U + u] = at(k, u); }
  const node: WorkNode = { kind: 'dense', name: n.outputs[0]!, inputs: [x.ir], units: U, activation: 'linear', kernel: { shape: [K, U], data: kernel }, ...(bias ? { bias: { shape: [U], data: bias } } : {}) };
  ctx.emit(n, [node], { dims: [1, U], nonneg: false });
}

export function gemm(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['alpha', 'beta', 'transA', 'transB']);
  if (attrInt(n, 'transA', 0) !== 0) throw unsupported(n, `attribute 'transA' = ${attrInt(n, 'transA', 0)} is not supported (0 only)`);
  const x = ctx.act(n, 0);
  const K = flatIn(n, x);
  const B = ctx.konst(n, 1, 'the weight')!;
  if (!B || B.dims.length !== 2) throw unsupported(n, 'the weight must be a 2-D constant');
  const tB = attrInt(n, 'transB', 0) !== 0;
  const U = tB ? B.dims[0]! : B.dims[1]!;
  weightShape(n, B, tB ? [U, K] : [K, U], 'the weight');
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const Cb = ctx.konst(n, 2, 'the bias');
  let bias: Float64Array | undefined;
  if (Cb) {
    const c = numel(Cb.dims);
    if (!(c === 1 || (c === U && Cb.dims[Cb.dims.length - 1] === U))) throw unsupported(n, `a bias of dims [${Cb.dims}] is not supported (one value or one per output)`);
    bias = Float64Array.from({ length: U }, (_, u) => beta * Cb.data[c === 1 ? 0 : u]!);
  }
  dense(ctx, n, x, K, U, tB ? (k, u) => alpha * B.data[u * K + k]! : (k, u) => alpha * B.data[k * U + u]!, bias);
}

export function matmul(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  const x = ctx.act(n, 0);
  const K = flatIn(n, x);
  const B = ctx.get(n, 1);
  if (!B || B.kind !== 'const' || B.t.dims.length !== 2) throw unsupported(n, 'only a [N, K] tensor times a constant 2-D weight is supported');
  weightShape(n, B.t, [K, B.t.dims[1]!], 'the weight');
  const U = B.t.dims[1]!;
  dense(ctx, n, x, K, U, (k, u) => B.t.data[k * U + u]!);
}

export function batchNorm(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['epsilon', 'momentum', 'spatial', 'training_mode', 'is_test', 'consumed_inputs']);
  if (attrInt(n, 'training_mode', 0) !== 0) throw unsupported(n, "attribute 'training_mode' = 1 is not supported (inference only)");
  if (attrInt(n, 'spatial', 1) !== 1) throw unsupported(n, "attribute 'spatial' = 0 is not supported");
  if (n.outputs.slice(1).some((o) => o && ctx.used.has(o))) throw unsupported(n, 'the running mean/variance outputs are used (training mode)');
  const x = ctx.act(n, 0);
  const C = x.dims[1]!;
  const stat = (i: number, what: string): Float64Array => {
    const t = ctx.konst(n, i, what);
    if (!t || t.data.length !== C) throw malformed(n, `${what} must have ${C} values`);
    return t.data;
  };
  const gamma = stat(1, 'scale'), beta = stat(2, 'B'), mean = stat(3, 'mean'), variance = stat(4, 'var');
  const eps = attrFloat(n, 'epsilon', 1e-5);
  // Per IR element of a flat input (its ONNX position via perm), per channel of an image.
  const len = x.dims.length === 4 ? C : x.dims[1]!;
  if (x.dims.length !== 4 && x.dims.length !== 2) throw unsupported(n, `input of dims [${x.dims}] is not supported`);
  const scale = new Float64Array(len), shift = new Float64Array(len);
  for (let j = 0; j < len; j++) {
    const c = x.perm ? x.perm[j]! : j;
    scale[j] = gamma[c]! / Math.sqrt(variance[c]! + eps);
    shift[j] = beta[c]! - mean[c]! * scale[j]!;
  }
  const node: AffineNode = { kind: 'batchnorm', name: n.outputs[0]!, inputs: [x.ir], scale, shift };
  ctx.emit(n, [node], { dims: x.dims.slice(), ...(x.perm ? { perm: x.perm } : {}), nonneg: false });
}
