/**
 * ONNX pooling, padding and resizing -> IR: MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool, Pad (constant, edge, reflect), Resize / Upsample
 * (nearest, linear with an integer factor).
 *
 * PyTorch's windows differ from the IR's TF-style 'same' in places, handled
 * exactly here: explicit (asymmetric) pads and ceil_mode become a padding
 * step before a 'valid' window unless they equal TF's 'same' pads. For
 * MaxPool the padded cells must never win: zeros when the input is known
 * >= 0 (after ReLU), else a copy of the edge row / column (every window that
 * covers a padded cell also covers the edge cell it copies, since PyTorch
 * keeps pads <= kernel / 2 and starts the last window inside the input).
 * AveragePool with count_include_pad = 1 divides by the full window: zero
 * padding then 'valid'; with 0, only TF's 'same' pads (the runner's average
 * over unpadded cells) are exact.
 */
import { bilinearTaps } from '../../protocol/ir-kit/layout.js';
import type { Padding } from '../../protocol/ir.js';
import type { WorkNode } from '../graph.js';
import type { OnnxNode } from './read.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, checkAttrs, malformed, unsupported, type ActVal, type Ctx } from './context.js';
import { irPadding, noDilation, pair, spatialPads, zeroPad, type Pads2 } from './ops-linear.js';

function image(n: OnnxNode, x: ActVal): [number, number, number] {
  if (x.dims.length !== 4) throw unsupported(n, `input of dims [${x.dims}] is not supported (NCHW images)`);
  return [x.dims[1]!, x.dims[2]!, x.dims[3]!];
}

/**
 * Padding by copies of input rows / columns (axis 0: H, then 1: W), as concatenations of one-row crops (both free in
 * the protocol): 'edge' repeats the first / last row, 'reflect' mirrors without repeating it (rows b..1 before,
 * L-2..L-1-a after; b, a <= L - 1).
 */
function copyPad(ctx: Ctx, n: OnnxNode, input: string, H: number, W: number, p: Pads2, mode: 'edge' | 'reflect' = 'edge'): { nodes: WorkNode[]; input: string } {
  const nodes: WorkNode[] = [];
  let cur = input;
  const size = [H, W];
  for (const axis of [0, 1] as const) {
    const [before, after] = p[axis];
    if (before + after === 0) continue;
    const L = size[axis]!;
    const crops = new Map<number, string>();
    const row = (i: number): string => {
      let name = crops.get(i);
      if (!name) {
        name = ctx.fresh(`${n.outputs[0]}#${mode}${axis}r${i}`);
        const c: [number, number] = [i, L - 1 - i];
        nodes.push({ kind: 'cropping2d', name, inputs: [cur], cropping: axis === 0 ? [c, [0, 0]] : [[0, 0], c] });
        crops.set(i, name);
      }
      return name;
    };
    const parts: string[] = [];
    for (let j = before; j >= 1; j--) parts.push(row(mode === 'edge' ? 0 : j));
    parts.push(cur);
    for (let j = 1; j <= after; j++) parts.push(row(mode === 'edge' ? L - 1 : L - 1 - j));
    const name = ctx.fresh(`${n.outputs[0]}#${mode}pad${axis}`);
    nodes.push({ kind: 'concatenate', name, inputs: parts, axis });
    cur = name;
    size[axis] = L + before + after;
  }
  return { nodes, input: cur };
}

export function pool(ctx: Ctx, n: OnnxNode): void {
  const isMax = n.opType === 'MaxPool';
  checkAttrs(n, isMax ? ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides'] : ['auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides']);
  noDilation(n);
  if (isMax && n.outputs[1] && ctx.used.has(n.outputs[1])) throw unsupported(n, 'the Indices output is not supported');
  const x = ctx.act(n, 0);
  const [C, H, W] = image(n, x);
  const k = pair(n, 'kernel_shape', undefined), s = pair(n, 'strides', [1, 1]);
  const p = spatialPads(n, H, W, k, s);
  if (p[0].some((v) => v >= k[0]) || p[1].some((v) => v >= k[1])) throw unsupported(n, `attribute 'pads' = [${p[0][0]}, ${p[1][0]}, ${p[0][1]}, ${p[1][1]}] is not supported (pads smaller than the window, so that every window covers the input)`);
  const ceil = attrInt(n, 'ceil_mode', 0) !== 0;
  // Output size (PyTorch's rule for ceil_mode: the last window starts inside the input or its leading pad).
  const outOf = (L: number, kk: number, ss: number, [b, a]: [number, number]): number => {
    const span = L + b + a - kk;
    if (span < 0) throw malformed(n, `the ${kk}-wide window does not fit the padded input of ${L}`);
    let o = (ceil ? Math.ceil(span / ss) : Math.floor(span / ss)) + 1;
    if (ceil && (o - 1) * ss >= L + b) o--;
    return o;
  };
  const oh = outOf(H, k[0], s[0], p[0]), ow = outOf(W, k[1], s[1], p[1]);
  // Extra cells after the pads that ceil_mode's last window reaches.
  const ext: Pads2 = [[p[0][0], Math.max(p[0][1], (oh - 1) * s[0] + k[0] - H - p[0][0])], [p[1][0], Math.max(p[1][1], (ow - 1) * s[1] + k[1] - W - p[1][0])]];
  const extended = ext[0][1] !== p[0][1] || ext[1][1] !== p[1][1];
  let padding: Padding | undefined = irPadding(H, W, k, s, ext);
  let pre: { nodes: WorkNode[]; input: string } = { nodes: [], input: x.ir };
  if (!isMax) {
    const include = attrInt(n, 'count_include_pad', 0) !== 0;
    if (extended) throw unsupported(n, "attribute 'ceil_mode' = 1 with windows past the padded input is not supported for AveragePool");
    if (include && padding === 'same') padding = undefined;
    if (padding === undefined) {
      if (!include) throw unsupported(n, `attribute 'pads' = [${p[0][0]}, ${p[1][0]}, ${p[0][1]}, ${p[1][1]}] with count_include_pad = 0 is not supported (only TF 'same' pads, or count_include_pad = 1)`);
      pre = zeroPad(ctx, n, x, ext);
    }
  } else if (padding === undefined) {
    pre = x.nonneg ? zeroPad(ctx, n, x, ext) : copyPad(ctx, n, x.ir, H, W, ext);
  }
  const node: WorkNode = { kind: isMax ? 'maxpool2d' : 'avgpool2d', name: n.outputs[0]!, inputs: [pre.input], poolSize: k, strides: s, padding: padding ?? 'valid' };
  ctx.emit(n, [...pre.nodes, node], { dims: [1, C, oh, ow], nonneg: x.nonneg });
}

export function globalPool(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, []);
  const x = ctx.act(n, 0);
  const [C, H, W] = image(n, x);
  const out = n.outputs[0]!;
  const nodes: WorkNode[] = n.opType === 'GlobalMaxPool'
    ? [{ kind: 'maxpool2d', name: out, inputs: [x.ir], poolSize: [H, W], strides: [H, W], padding: 'valid' }]
    : [{ kind: 'global_avgpool2d', name: ctx.fresh(`${out}#gap`), inputs: [x.ir] }];
  if (nodes[0]!.kind === 'global_avgpool2d') nodes.push({ kind: 'reshape', name: out, inputs: [nodes[0]!.name], targetShape: [1, 1, C] });
  ctx.emit(n, nodes, { dims: [1, C, 1, 1], nonneg: x.nonneg });
}

/** ReduceMean over H and W (torch's x.mean([2, 3])): a global average pooling. */
export function reduceMean(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['axes', 'keepdims', 'noop_with_empty_axes']);
  const x = ctx.act(n, 0);
  const [C] = image(n, x);
  const raw = attrInts(n, 'axes') ?? Array.from(ctx.konst(n, 1, 'axes')?.data ?? []);
  const axes = raw.map((a) => (a < 0 ? a + 4 : a)).sort();
  if (axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) throw unsupported(n, `${raw.length ? `${n.attrs.has('axes') ? 'attribute' : 'input'} 'axes' = [${raw}]` : "no 'axes' (a mean over every axis, the batch included)"} is not supported (the spatial axes [2, 3] only)`);
  const keep = attrInt(n, 'keepdims', 1) !== 0, out = n.outputs[0]!;
  const gap: WorkNode = { kind: 'global_avgpool2d', name: keep ? ctx.fresh(`${out}#gap`) : out, inputs: [x.ir] };
  const nodes: WorkNode[] = keep ? [gap, { kind: 'reshape', name: out, inputs: [gap.name], targetShape: [1, 1, C] }] : [gap];
  ctx.emit(n, nodes, { dims: keep ? [1, C, 1, 1] : [1, C], nonneg: x.nonneg });
}

/**
 * Pad of H and W (negative pads crop first): 'constant' with 0 -> zero_padding2d; with a value v -> (x - v), zero padding, + v (public
 * offsets: exact and free); 'edge' / 'reflect' -> copies of input rows / columns (copyPad).
 */
export function pad(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['mode', 'pads', 'value']);
  const mode = attrString(n, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'edge' && mode !== 'reflect') throw unsupported(n, `attribute 'mode' = '${mode}' is not supported (constant, edge, reflect)`);
  const x = ctx.act(n, 0);
  const pads = attrInts(n, 'pads') ?? Array.from(ctx.konst(n, 1, 'pads')?.data ?? []);
  const padsName = n.attrs.has('pads') ? "attribute 'pads'" : "input 'pads'";
  const value = n.attrs.has('value') ? attrFloat(n, 'value', 0) : ctx.konst(n, 2, 'constant_value')?.data[0] ?? 0;
  if (n.inputs[3]) throw unsupported(n, "input 'axes' is not supported");
  const r = x.dims.length;
  if (pads.length !== 2 * r) throw malformed(n, `pads has ${pads.length} values for a rank-${r} input`);
  if (pads.every((v) => v === 0)) { ctx.alias(n, x); return; }
  if (r !== 4 || pads[0] || pads[1] || pads[4] || pads[5]) throw unsupported(n, `${padsName} = [${pads}] is not supported (pads of H and W only: the batch and channel pads must be 0)`);
  const [C, H0, W0] = image(n, x);
  // Negative pads remove rows / columns (a crop, first); the positive ones pad what is left.
  const neg: Pads2 = [[Math.max(-pads[2]!, 0), Math.max(-pads[6]!, 0)], [Math.max(-pads[3]!, 0), Math.max(-pads[7]!, 0)]];
  const p: Pads2 = [[Math.max(pads[2]!, 0), Math.max(pads[6]!, 0)], [Math.max(pads[3]!, 0), Math.max(pads[7]!, 0)]];
  const H = H0 - neg[0][0] - neg[0][1], W = W0 - neg[1][0] - neg[1][1];
  if (H < 1 || W < 1) throw malformed(n, `${padsName} = [${pads}] removes the whole ${H0}x${W0} input`);
  const crop: WorkNode[] = neg.flat().some((v) => v > 0) ? [{ kind: 'cropping2d', name: ctx.fresh(`${n.outputs[0]}#crop`), inputs: [x.ir], cropping: neg }] : [];
  const src: ActVal = crop.length ? { ...x, ir: crop[0]!.name } : x;
  if (mode === 'reflect' && (Math.max(...p[0]) > H - 1 || Math.max(...p[1]) > W - 1)) throw malformed(n, `${padsName} = [${pads}] reflects more than the ${H}x${W} input minus its edge row/column`);
  const out = n.outputs[0]!;
  let nodes: WorkNode[];
  if (p.flat().every((v) => v === 0)) nodes = [];
  else if (mode !== 'constant') nodes = copyPad(ctx, n, src.ir, H, W, p, mode).nodes;
  else if (value === 0) nodes = zeroPad(ctx, n, src, p).nodes;
  else {
    const shifted = ctx.fresh(`${out}#minus`);
    const z = zeroPad(ctx, n, { ...src, ir: shifted }, p);
    nodes = [{ kind: 'rescaling', name: shifted, inputs: [src.ir], scale: 1, offset: -value }, ...z.nodes, { kind: 'rescaling', name: out, inputs: [z.input], scale: 1, offset: value }];
  }
  nodes = [...crop, ...nodes];
  (nodes[nodes.length - 1] as { name: string }).name = out;
  ctx.emit(n, nodes, { dims: [1, C, H + p[0][0] + p[0][1], W + p[1][0] + p[1][1]], nonneg: x.nonneg && (mode !== 'constant' || value >= 0) });
}

/** Source index -> weight for each output position of one axis, in ONNX's semantics. */
function onnxTaps(mode: string, ctm: string, nearest: string, L: number, f: number, n: OnnxNode): Map<number, number>[] {
  const out = L * f;
  const taps: Map<number, number>[] = [];
  for (let o = 0; o < out; o++) {
    let v: number;
    switch (ctm) {
      case 'half_pixel': v = (o + 0.5) / f - 0.5; break;
      case 'pytorch_half_pixel': v = out > 1 ? (o + 0.5) / f - 0.5 : 0; break;
      case 'align_corners': v = out > 1 ? (o * (L - 1)) / (out - 1) : 0; break;
      case 'asymmetric': v = o / f; break;
      case 'tf_half_pixel_for_nn': v = (o + 0.5) / f; break;
      default: throw unsupported(n, `attribute 'coordinate_transformation_mode' = '${ctm}' is not supported`);
    }
    const m = new Map<number, number>();
    if (mode === 'nearest') {
      let i: number;
      if (nearest === 'floor') i = Math.floor(v);
      else if (nearest === 'ceil') i = Math.ceil(v);
      else if (nearest === 'round_prefer_ceil') i = Math.round(v);
      else if (nearest === 'round_prefer_floor') i = v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
      else throw unsupported(n, `attribute 'nearest_mode' = '${nearest}' is not supported`);
      m.set(Math.min(Math.max(i, 0), L - 1), 1);
    } else {
      const c = Math.min(Math.max(v, 0), L - 1), lo = Math.floor(c), hi = Math.min(lo + 1, L - 1), w = c - lo;
      m.set(lo, 1 - w);
      m.set(hi, (m.get(hi) ?? 0) + w);
    }
    taps.push(m);
  }
  return taps;
}

/** The IR's taps (upsampling2d: nearest floor(o / f); bilinear TF half-pixel), same form. */
function irTaps(mode: 'nearest' | 'bilinear', L: number, f: number): Map<number, number>[] {
  if (mode === 'nearest') return Array.from({ length: L * f }, (_, o) => new Map([[Math.floor(o / f), 1]]));
  const t = bilinearTaps(L, f);
  return Array.from({ length: L * f }, (_, o) => { const m = new Map([[t.lo[o]!, t.wLo[o]!]]); m.set(t.hi[o]!, (m.get(t.hi[o]!) ?? 0) + t.wHi[o]!); return m; });
}

const sameTaps = (a: Map<number, number>[], b: Map<number, number>[]): boolean =>
  a.length === b.length && a.every((m, o) => {
    const keys = new Set([...m.keys(), ...b[o]!.keys()]);
    return [...keys].every((k) => Math.abs((m.get(k) ?? 0) - (b[o]!.get(k) ?? 0)) < 1e-9);
  });

export function resize(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['mode', 'scales', 'coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'antialias', 'keep_aspect_ratio_policy']);
  const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') throw unsupported(n, `attribute 'keep_aspect_ratio_policy' = '${policy}' is not supported (stretch)`);
  const x = ctx.act(n, 0);
  const [C, H, W] = image(n, x);
  const mode = attrString(n, 'mode', 'nearest');
  const kind = mode === 'nearest' ? 'nearest' : mode === 'linear' || mode === 'bilinear' ? 'bilinear' : undefined;
  if (!kind) throw unsupported(n, `attribute 'mode' = '${mode}' is not supported (nearest or linear)`);
  if (attrInt(n, 'antialias', 0) !== 0) throw unsupported(n, "attribute 'antialias' = 1 is not supported");
  const upsample = n.opType === 'Upsample' || ctx.opset < 11;
  // Upsample-7 has scales as an attribute; Upsample-9 / Resize-10 as input 1; Resize-11+ has roi, scales, sizes.
  let scales = attrFloats(n, 'scales') ?? Array.from(ctx.konst(n, upsample ? 1 : 2, 'scales')?.data ?? []);
  const sizes = upsample ? [] : Array.from(ctx.konst(n, 3, 'sizes')?.data ?? []);
  let oh: number, ow: number;
  if (sizes.length) {
    if (sizes.length !== 4 || sizes[0] !== 1 || sizes[1] !== C) throw unsupported(n, `sizes [${sizes}] must keep the batch and channels`);
    [oh, ow] = [sizes[2]!, sizes[3]!];
    scales = [1, 1, oh / H, ow / W];
  } else {
    if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) throw unsupported(n, `scales [${scales}] must be 1 for the batch and channels`);
    [oh, ow] = [Math.floor(H * scales[2]!), Math.floor(W * scales[3]!)];
  }
  const fh = oh / H, fw = ow / W;
  if (!Number.isInteger(fh) || !Number.isInteger(fw) || fh < 1 || fw < 1 || scales[2] !== fh || scales[3] !== fw) throw unsupported(n, `scales [${scales.slice(2)}] are not supported (integer upsampling factors only)`);
  const ctm = upsample ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = upsample ? 'floor' : attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (!sameTaps(onnxTaps(kind === 'nearest' ? 'nearest' : 'linear', ctm, nearest, H, fh, n), irTaps(kind, H, fh)) || !sameTaps(onnxTaps(kind === 'nearest' ? 'nearest' : 'linear', ctm, nearest, W, fw, n), irTaps(kind, W, fw))) {
    throw unsupported(n, `attribute 'coordinate_transformation_mode' = '${ctm}'${kind === 'nearest' ? ` with nearest_mode '${nearest}'` : ''} is not supported for ${mode} x${fh},${fw} (it differs from half-pixel${kind === 'nearest' ? ' / floor' : ''} sampling)`);
  }
  if (fh === 1 && fw === 1) { ctx.alias(n, x); return; }
  ctx.emit(n, [{ kind: 'upsampling2d', name: n.outputs[0]!, inputs: [x.ir], size: [fh, fw], interpolation: kind }], { dims: [1, C, oh, ow], nonneg: x.nonneg });
}
