/**
 * Random ONNX graphs for the onnxruntime differential probe (onnx-oracle.ts):
 * one generator per operator family, attributes drawn within the ONNX spec
 * for the drawn opset (9..17). Each case has one input 'x' [N, ...dims] and
 * its result in 'h'. Weights, constants and inputs come from a seeded AES
 * PRG (node:crypto), so a (generator, seed) pair replays exactly.
 */
import { seededPrg } from '../protocol/seed-models.js';
import type { Prg } from '../protocol/correlated/prg.js';
import { attr, floatTensor, intTensor, node } from '../model-import/testing/onnx.js';
import type { NodeMsg, TensorMsg } from '../model-import/onnx/schema.js';

export interface Case {
  op: string; desc: string; opset: number; dims: number[]; nodes: NodeMsg[]; inits: TensorMsg[]; final?: 'softmax' | 'logsoftmax';
  /** Where onnxruntime 1.20 is known to depart from the ONNX spec for this case (a difference is then 'o', not a defect). */
  ortOffSpec?: string;
}

/** Seeded draws (AES-CTR through the repo's Prg; never Math.random). */
export class R {
  private g: Prg;
  constructor(seed: number) { this.g = seededPrg(seed); }
  u(): number { const b = this.g.bytes(4); return ((b[0]! << 24 >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!) / 2 ** 32; }
  i(lo: number, hi: number): number { return lo + Math.floor(this.u() * (hi - lo + 1)); }
  f(lo: number, hi: number): number { return lo + this.u() * (hi - lo); }
  pick<T>(a: readonly T[]): T { return a[Math.floor(this.u() * a.length)]!; }
  b(p = 0.5): boolean { return this.u() < p; }
  arr(n: number, lo = -1, hi = 1): number[] { return Array.from({ length: n }, () => this.f(lo, hi)); }
}

const numel = (d: number[]): number => d.reduce((a, b) => a * b, 1);
const img = (r: R, cmax = 4, hmin = 3, hmax = 9): [number, number, number] => [r.i(1, cmax), r.i(hmin, hmax), r.i(hmin, hmax)];
const W = (r: R, name: string, dims: number[]): TensorMsg => floatTensor(name, dims, r.arr(numel(dims)));
const divisors = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

function conv(r: R): Case {
  const [C, H, Wd] = img(r);
  const group = r.pick(divisors(C));
  const M = group * r.i(1, 3);
  const k = [r.i(1, 4), r.i(1, 4)], s = [r.i(1, 3), r.i(1, 3)], d = r.b(0.2) ? [r.i(1, 2), r.i(1, 2)] : undefined;
  const auto = r.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID']);
  const pads = [r.i(0, k[0]! - 1), r.i(0, k[1]! - 1), r.i(0, k[0]! - 1), r.i(0, k[1]! - 1)];
  const attrs = [attr('kernel_shape', k), attr('strides', s), ...(group > 1 || r.b(0.2) ? [attr('group', group)] : []), ...(d ? [attr('dilations', d)] : []), auto === 'NOTSET' ? attr('pads', pads) : attr('auto_pad', auto)];
  const bias = r.b();
  return { op: 'Conv', desc: `C${C} ${H}x${Wd} M${M} g${group} k${k} s${s} d${d ?? '-'} ${auto === 'NOTSET' ? `pads ${pads}` : auto}${bias ? ' bias' : ''}`, opset: r.i(9, 17), dims: [C, H, Wd],
    nodes: [node('Conv', ['x', 'w', ...(bias ? ['b'] : [])], ['h'], attrs)], inits: [W(r, 'w', [M, C / group, k[0]!, k[1]!]), ...(bias ? [W(r, 'b', [M])] : [])] };
}

function convT(r: R): Case {
  const [C0, H, Wd] = img(r, 3, 2, 5);
  const group = r.b(0.25) ? 2 : 1, C = C0 * group, Mg = r.i(1, 3);
  const k = [r.i(1, 4), r.i(1, 4)], s = [r.i(1, 3), r.i(1, 3)], d = r.b(0.15) ? [2, 2] : [1, 1];
  const pads = [r.i(0, k[0]! - 1), r.i(0, k[1]! - 1), r.i(0, k[0]! - 1), r.i(0, k[1]! - 1)];
  const op = [r.i(0, Math.max(s[0]!, d[0]!) - 1), r.i(0, Math.max(s[1]!, d[1]!) - 1)];
  const form = r.pick(['pads', 'pads', 'output_shape', 'SAME_UPPER', 'SAME_LOWER', 'VALID']);
  const attrs = [attr('kernel_shape', k), attr('strides', s), ...(group > 1 ? [attr('group', group)] : []), ...(d[0] !== 1 ? [attr('dilations', d)] : []), ...(r.b() || form === 'output_shape' ? [attr('output_padding', op)] : [])];
  if (form === 'pads') attrs.push(attr('pads', pads));
  else if (form === 'output_shape') {
    // Up to k - 1 rows less than the full output (pads from the spec's rule), sometimes one more (beyond the full output).
    const full = [(H - 1) * s[0]! + k[0]! + op[0]!, (Wd - 1) * s[1]! + k[1]! + op[1]!];
    attrs.push(attr('output_shape', [full[0]! - r.i(-1, k[0]! - 1), full[1]! - r.i(-1, k[1]! - 1)]));
    if (r.b(0.3)) attrs.push(attr('auto_pad', r.pick(['SAME_UPPER', 'SAME_LOWER', 'NOTSET'])));
  }
  else attrs.push(attr('auto_pad', form));
  // onnxruntime-web 1.20 leaves the output_padding cells uninitialised when dilations > 1 (values like 1.8e28).
  const opOff = d[0] !== 1 && attrs.some((a) => a.name === 'output_padding') && (op[0]! > 0 || op[1]! > 0);
  return { ...(opOff ? { ortOffSpec: 'ConvTranspose output_padding with dilations > 1 (onnxruntime-web leaves those cells uninitialised)' } : {}), op: 'ConvTranspose', desc: `C${C} ${H}x${Wd} Mg${Mg} g${group} k${k} s${s} d${d} ${form} ${attrs.map((a) => a.name).join(',')} pads ${pads} op ${op}`, opset: r.i(9, 17), dims: [C, H, Wd],
    nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['h'], attrs)], inits: [W(r, 'w', [C, Mg, k[0]!, k[1]!]), W(r, 'b', [Mg * group])] };
}

function pool(r: R): Case {
  const isMax = r.b();
  const opset = r.i(isMax ? 9 : 9, 17);
  const [C, H, Wd] = img(r, 3, 3, 9);
  const k = [r.i(1, 4), r.i(1, 4)], s = [r.i(1, 5), r.i(1, 5)];
  const auto = r.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID']);
  const pads = [r.i(0, k[0]! - 1), r.i(0, k[1]! - 1), r.i(0, k[0]! - 1), r.i(0, k[1]! - 1)];
  const ceil = opset >= 10 && r.b(0.4), include = !isMax && r.b();
  const d = isMax && opset >= 10 && r.b(0.15) ? [2, 1] : undefined;
  const relu = r.b(0.3);
  const attrs = [attr('kernel_shape', k), attr('strides', s), auto === 'NOTSET' ? attr('pads', pads) : attr('auto_pad', auto), ...(ceil ? [attr('ceil_mode', 1)] : []), ...(include ? [attr('count_include_pad', 1)] : []), ...(d ? [attr('dilations', d)] : [])];
  const pre = relu ? [node('Relu', ['x'], ['xr'])] : [];
  // ONNX spec (MaxPool / AveragePool): with ceil_mode, "sliding windows that would start in the right padded region are ignored"; onnxruntime 1.20 keeps them.
  const startsInPad = (L: number, kk: number, ss: number, b: number, a: number): boolean => { const o = Math.ceil((L + b + a - kk) / ss) + 1; return (o - 1) * ss >= L + b; };
  const offSpec = ceil && auto === 'NOTSET' && (startsInPad(H, k[0]!, s[0]!, pads[0]!, pads[2]!) || startsInPad(Wd, k[1]!, s[1]!, pads[1]!, pads[3]!));
  const offSpecValid = ceil && auto === 'VALID' && (startsInPad(H, k[0]!, s[0]!, 0, 0) || startsInPad(Wd, k[1]!, s[1]!, 0, 0));
  return { ...(offSpec || offSpecValid ? { ortOffSpec: 'ceil_mode window starting in the right padding (the spec ignores it, onnxruntime 1.20 keeps it)' } : {}), op: isMax ? 'MaxPool' : 'AveragePool', desc: `${relu ? 'relu ' : ''}C${C} ${H}x${Wd} k${k} s${s} ${auto === 'NOTSET' ? `pads ${pads}` : auto}${ceil ? ' ceil' : ''}${include ? ' incl' : ''}${d ? ` d${d}` : ''} opset ${opset}`, opset, dims: [C, H, Wd],
    nodes: [...pre, node(isMax ? 'MaxPool' : 'AveragePool', [relu ? 'xr' : 'x'], ['h'], attrs)], inits: [] };
}

function gemm(r: R): Case {
  const K = r.i(1, 8), U = r.i(1, 6), tA = r.b(0.15), tB = r.b(), alpha = r.b() ? 1 : r.f(-2, 2), beta = r.b() ? 1 : r.f(-2, 2);
  const opset = r.i(9, 17);
  const cShape = r.pick(opset >= 11 ? [[U], [1, U], [1], [], [1, 1], null] : [[U], [1, U], [1], [1, 1]]);
  const attrs = [...(tA ? [attr('transA', 1)] : []), ...(tB ? [attr('transB', 1)] : []), ...(alpha !== 1 ? [attr('alpha', { float: alpha })] : []), ...(beta !== 1 ? [attr('beta', { float: beta })] : [])];
  const inits = [W(r, 'w', tB ? [U, K] : [K, U]), ...(cShape ? [W(r, 'c', cShape)] : [])];
  if (tA) inits[0] = W(r, 'w', tB ? [U, 1] : [1, U]);
  return { op: 'Gemm', desc: `K${K} U${U} transA ${+tA} transB ${+tB} alpha ${alpha.toFixed(2)} beta ${beta.toFixed(2)} C ${cShape ? `[${cShape}]` : 'none'}`, opset, dims: [K],
    nodes: [node('Gemm', ['x', 'w', ...(cShape ? ['c'] : [])], ['h'], attrs)], inits };
}

function matmul(r: R): Case {
  const form = r.pick(['2d', '2d', '4d', 'vec', 'left', '3d']);
  const opset = r.i(9, 17);
  if (form === '2d' || form === 'vec') {
    const K = r.i(1, 8), U = r.i(1, 6);
    return { op: 'MatMul', desc: `[1,${K}] x ${form === 'vec' ? `[${K}]` : `[${K},${U}]`}`, opset, dims: [K], nodes: [node('MatMul', ['x', 'w'], ['h'])], inits: [W(r, 'w', form === 'vec' ? [K] : [K, U])] };
  }
  if (form === 'left') {
    const K = r.i(1, 6);
    return { op: 'MatMul', desc: `const [1,1] x [1,${K}]`, opset, dims: [K], nodes: [node('MatMul', ['w', 'x'], ['h'])], inits: [W(r, 'w', [1, 1])] };
  }
  const [C, H, Wd] = img(r, 3, 2, 5), U = r.i(1, 4);
  if (form === '3d') return { op: 'MatMul', desc: `[1,${C},${H},${Wd}] x [1,${Wd},${U}] (3-D weight)`, opset, dims: [C, H, Wd], nodes: [node('MatMul', ['x', 'w'], ['h'])], inits: [W(r, 'w', [1, Wd, U])] };
  return { op: 'MatMul', desc: `[1,${C},${H},${Wd}] x [${Wd},${U}]`, opset, dims: [C, H, Wd], nodes: [node('MatMul', ['x', 'w'], ['h'])], inits: [W(r, 'w', [Wd, U])] };
}

function batchNorm(r: R): Case {
  const four = r.b(0.7), opset = r.pick([9, 14, 15]);
  const dims = four ? img(r) : [r.i(1, 8)];
  const C = dims[0]!, eps = r.pick([1e-5, 1e-3, 0.1]);
  const pre = four || r.b() ? [] : [];
  return { op: 'BatchNormalization', desc: `dims [${dims}] eps ${eps} opset ${opset}`, opset, dims,
    nodes: [...pre, node('BatchNormalization', ['x', 'g', 'bb', 'm', 'v'], ['h'], [attr('epsilon', { float: eps })])],
    inits: [W(r, 'g', [C]), W(r, 'bb', [C]), W(r, 'm', [C]), floatTensor('v', [C], r.arr(C, 0.1, 2))] };
}

function pad(r: R): Case {
  const [C, H, Wd] = img(r, 3, 3, 6);
  const opset = r.pick([9, 10, 11, 13, 17]);
  const mode = r.pick(['constant', 'constant', 'reflect', 'edge']);
  const value = mode === 'constant' && r.b(0.3) ? r.f(-1, 1) : 0;
  const p = [0, r.b(0.1) ? 1 : 0, r.i(0, 2), r.i(0, 2), 0, 0, r.i(0, 2), r.i(0, 2)];
  if (r.b(0.15)) p[3] = -1;
  const attrs = [attr('mode', mode), ...(opset < 11 ? [attr('pads', p), ...(value ? [attr('value', { float: value })] : [])] : [])];
  const inputs = opset < 11 ? ['x'] : ['x', 'p', ...(value ? ['v'] : [])];
  const inits = opset < 11 ? [] : [intTensor('p', [8], p), ...(value ? [floatTensor('v', [], [value])] : [])];
  return { op: 'Pad', desc: `C${C} ${H}x${Wd} ${mode} pads ${p} value ${value.toFixed(2)} opset ${opset}`, opset, dims: [C, H, Wd], nodes: [node('Pad', inputs, ['h'], attrs)], inits };
}

function resize(r: R): Case {
  const [C, H, Wd] = img(r, 2, 2, 5);
  const opset = r.pick([9, 10, 11, 13, 17]);
  const mode = r.pick(['nearest', 'linear']);
  const f = [r.pick([1, 2, 2, 3, 1.5, 0.5]), r.pick([1, 2, 2, 3, 1.5])];
  if (opset === 9) {
    return { op: 'Upsample', desc: `C${C} ${H}x${Wd} ${mode} scales ${f} opset 9`, opset, dims: [C, H, Wd], nodes: [node('Upsample', ['x', 's'], ['h'], [attr('mode', mode)])], inits: [floatTensor('s', [4], [1, 1, f[0]!, f[1]!])] };
  }
  if (opset === 10) return { op: 'Resize', desc: `C${C} ${H}x${Wd} ${mode} scales ${f} opset 10`, opset, dims: [C, H, Wd], nodes: [node('Resize', ['x', 's'], ['h'], [attr('mode', mode)])], inits: [floatTensor('s', [4], [1, 1, f[0]!, f[1]!])] };
  const ctm = r.pick(['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn']);
  const nm = r.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);
  const bySizes = r.b(0.4);
  const attrs = [attr('mode', mode), attr('coordinate_transformation_mode', ctm), ...(mode === 'nearest' ? [attr('nearest_mode', nm)] : [])];
  const sizes = [1, C, Math.max(1, Math.round(H * f[0]!)), Math.max(1, Math.round(Wd * f[1]!))];
  const inputs = bySizes ? ['x', 'roi', '', 'sz'] : ['x', 'roi', 's'];
  const inits = [floatTensor('roi', [0], []), bySizes ? intTensor('sz', [4], sizes) : floatTensor('s', [4], [1, 1, f[0]!, f[1]!])];
  return { op: 'Resize', desc: `C${C} ${H}x${Wd} ${mode} ${ctm}${mode === 'nearest' ? ` ${nm}` : ''} ${bySizes ? `sizes ${sizes}` : `scales ${f}`} opset ${opset}`, opset, dims: [C, H, Wd], nodes: [node('Resize', inputs, ['h'], attrs)], inits };
}

function concat(r: R): Case {
  const four = r.b(0.75), dims = four ? img(r, 3, 2, 5) : [r.i(1, 6)];
  const rank = dims.length + 1;
  const ax = r.i(-rank, rank - 1);
  const opset = r.i(9, 17);
  return { op: 'Concat', desc: `dims [${dims}] axis ${ax}`, opset, dims,
    nodes: [node('Relu', ['x'], ['a']), node('Mul', ['x', 'k'], ['b']), node('Concat', ['a', 'b', 'x'], ['h'], [attr('axis', ax)])], inits: [floatTensor('k', [], [r.f(-2, 2)])] };
}

function flatten(r: R): Case {
  const dims = img(r, 3, 1, 4), ax = r.i(-4, 4);
  return { op: 'Flatten', desc: `dims [${dims}] axis ${ax}`, opset: r.i(11, 17), dims, nodes: [node('Flatten', ['x'], ['h'], [attr('axis', ax)])], inits: [] };
}

function reshape(r: R): Case {
  const [C, H, Wd] = img(r, 3, 1, 4);
  const t = r.pick([[0, -1], [1, -1], [-1, C * H * Wd], [0, 0, -1], [0, C, H * Wd], [1, C * H, Wd], [0, -1, 1, 1], [0, C * H * Wd, 1, 1], [1, Wd, H, C], [0, 0, 0, 0], [-1, C, H, Wd]]);
  const then = r.b(0.3) && t.length === 2 ? [node('Reshape', ['h0', 't2'], ['h'])] : [];
  return { op: 'Reshape', desc: `[1,${C},${H},${Wd}] -> [${t}]${then.length ? ' -> [0,-1,1,1]' : ''}`, opset: r.i(9, 17), dims: [C, H, Wd],
    nodes: [node('Reshape', ['x', 't'], [then.length ? 'h0' : 'h']), ...then], inits: [intTensor('t', [t.length], t), intTensor('t2', [4], [0, -1, 1, 1])] };
}

function transpose(r: R): Case {
  const dims = img(r, 3, 1, 4);
  const perm = r.pick([[0, 2, 3, 1], [0, 1, 3, 2], [0, 1, 2, 3], [0, 3, 1, 2]]);
  return { op: 'Transpose', desc: `dims [${dims}] perm ${perm}`, opset: r.i(9, 17), dims, nodes: [node('Transpose', ['x'], ['h'], [attr('perm', perm)])], inits: [] };
}

function squeeze(r: R): Case {
  const C = r.i(1, 5), opset = r.pick([11, 13, 17]);
  const sq = r.b();
  const axes = sq ? r.pick([[2, 3], [-1, -2], [3, 2], null]) : r.pick([[2, 3], [-1, -2], [2, -1]]);
  const ax = (name: string) => axes && opset >= 13 ? { inputs: [name, 'ax'], attrs: [] } : { inputs: [name], attrs: axes ? [attr('axes', axes)] : [] };
  const pre = sq ? node('GlobalAveragePool', ['x'], ['g']) : node('Flatten', ['x'], ['g'], [attr('axis', 1)]);
  const a = ax('g');
  return { op: sq ? 'Squeeze' : 'Unsqueeze', desc: `${sq ? '[1,C,1,1]' : '[1,F]'} axes ${axes ? `[${axes}]` : 'none'} opset ${opset} (${opset >= 13 ? 'input' : 'attribute'})`, opset, dims: [C, r.i(1, 3), r.i(1, 3)],
    nodes: [pre, node(sq ? 'Squeeze' : 'Unsqueeze', a.inputs, ['h'], a.attrs)], inits: axes ? [intTensor('ax', [axes.length], axes)] : [] };
}

function clip(r: R): Case {
  const opset = r.pick([9, 10, 11, 12, 13, 17]);
  const lo = r.pick([0, 0, -1, null, 0.5]), hi = r.pick([6, 6, 1, null, 3]);
  const attrs = opset < 11 ? [...(lo !== null ? [attr('min', { float: lo })] : []), ...(hi !== null ? [attr('max', { float: hi })] : [])] : [];
  const inputs = opset < 11 ? ['x'] : ['x', lo !== null ? 'lo' : '', ...(hi !== null ? ['hi'] : [])];
  const inits = opset < 11 ? [] : [...(lo !== null ? [floatTensor('lo', [], [lo])] : []), ...(hi !== null ? [floatTensor('hi', [], [hi])] : [])];
  return { op: 'Clip', desc: `min ${lo} max ${hi} opset ${opset}`, opset, dims: img(r, 2, 2, 4), nodes: [node('Clip', inputs, ['h'], attrs)], inits: [...inits] };
}

function activations(r: R): Case {
  const which = r.pick(['HardSigmoid', 'HardSwish', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh']);
  const dims = r.b(0.8) ? img(r, 3, 2, 4) : [r.i(1, 6)];
  if (which === 'HardSigmoid') {
    const [a, b] = r.pick([[1 / 6, 0.5], [0.2, 0.5], [r.f(0, 1), 0.5], [0.2, r.f(0, 1)], [null, null]]);
    const attrs = [...(a !== null ? [attr('alpha', { float: a })] : []), ...(b !== null ? [attr('beta', { float: b })] : [])];
    return { op: which, desc: `alpha ${a} beta ${b}`, opset: r.i(9, 17), dims, nodes: [node(which, ['x'], ['h'], attrs)], inits: [] };
  }
  if (which === 'HardSwish') return { op: which, desc: `dims [${dims}]`, opset: r.i(14, 17), dims, nodes: [node(which, ['x'], ['h'])], inits: [] };
  if (which === 'LeakyRelu') { const a = r.pick([null, 0.01, r.f(-1, 2)]); return { op: which, desc: `alpha ${a}`, opset: r.i(9, 17), dims, nodes: [node(which, ['x'], ['h'], a === null ? [] : [attr('alpha', { float: a })])], inits: [] }; }
  if (which === 'PRelu') {
    const C = dims[0]!, four = dims.length === 3;
    const sh = r.pick(four ? [[1], [C, 1, 1], [1, C, 1, 1], [dims[2]!], [C, dims[1]!, dims[2]!], [1, 1, dims[2]!]] : [[1], [C], [1, C]]);
    return { op: which, desc: `x [${dims}] slope [${sh}]`, opset: r.i(9, 17), dims, nodes: [node(which, ['x', 's'], ['h'])], inits: [W(r, 's', sh)] };
  }
  return { op: which, desc: `dims [${dims}] then Mul 1.5`, opset: r.i(9, 17), dims, nodes: [node(which, ['x'], ['t']), node('Mul', ['t', 'k'], ['h'])], inits: [floatTensor('k', [], [1.5])] };
}

/** Softmax / LogSoftmax after a layer (a Gemm on [N, F], a 1x1 Conv on NCHW): the 2-D coercion of opset < 13 vs the last axis of 13. */
function softmax(r: R): Case {
  const opset = r.pick([9, 11, 12, 13, 17]), log = r.b(0.3), op = log ? 'LogSoftmax' : 'Softmax';
  const flat = r.b(0.6);
  const dims = flat ? [r.i(2, 6)] : img(r, 3, 1, 3);
  const ax = r.pick([null, 1, -1, 2, 3, 0]);
  const C = dims[0]!;
  const pre = flat ? node('Gemm', ['x', 'w', 'b'], ['t']) : node('Conv', ['x', 'w', 'b'], ['t']);
  const inits = flat ? [W(r, 'w', [C, C]), W(r, 'b', [C])] : [W(r, 'w', [C, C, 1, 1]), W(r, 'b', [C])];
  return { op: `${op}`, desc: `${flat ? 'Gemm' : 'Conv 1x1'} then x [${dims}] axis ${ax} opset ${opset}`, opset, dims, nodes: [pre, node(op, ['t'], ['h'], ax === null ? [] : [attr('axis', ax)])], inits, final: log ? 'logsoftmax' : 'softmax' };
}

/** A short random network: Conv / pooling / activations / BatchNorm / Pad, then Flatten or a global pool, and a head. */
function chain(r: R): Case {
  const [C0, H0, W0] = img(r, 3, 6, 10);
  let C = C0, H = H0, Wd = W0, cur = 'x', k = 0;
  const nodes: NodeMsg[] = [], inits: TensorMsg[] = [], ops: string[] = [];
  const nm = (): string => `t${k++}`;
  const steps = r.i(2, 5);
  for (let i = 0; i < steps; i++) {
    const op = r.pick(['Conv', 'Conv', 'Relu', 'MaxPool', 'AveragePool', 'BatchNormalization', 'LeakyRelu', 'PRelu', 'Add', 'Mul', 'Clip', 'HardSwish', 'Pad']);
    const o = nm();
    if (op === 'Conv') {
      const M = r.i(1, 4), kk = r.i(1, 3), s = r.i(1, 2), p = r.i(0, kk - 1);
      if (H + 2 * p < kk || Wd + 2 * p < kk) continue;
      nodes.push(node('Conv', [cur, `${o}w`, `${o}b`], [o], [attr('kernel_shape', [kk, kk]), attr('strides', [s, s]), attr('pads', [p, p, p, p])]));
      inits.push(W(r, `${o}w`, [M, C, kk, kk]), W(r, `${o}b`, [M]));
      H = Math.floor((H + 2 * p - kk) / s) + 1; Wd = Math.floor((Wd + 2 * p - kk) / s) + 1; C = M;
    } else if (op === 'MaxPool' || op === 'AveragePool') {
      if (H < 2 || Wd < 2) continue;
      nodes.push(node(op, [cur], [o], [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])]));
      H = Math.floor(H / 2); Wd = Math.floor(Wd / 2);
    } else if (op === 'BatchNormalization') {
      nodes.push(node(op, [cur, `${o}g`, `${o}b`, `${o}m`, `${o}v`], [o]));
      inits.push(W(r, `${o}g`, [C]), W(r, `${o}b`, [C]), W(r, `${o}m`, [C]), floatTensor(`${o}v`, [C], r.arr(C, 0.2, 2)));
    } else if (op === 'PRelu') {
      nodes.push(node(op, [cur, `${o}s`], [o])); inits.push(W(r, `${o}s`, [C, 1, 1]));
    } else if (op === 'Add' || op === 'Mul') {
      nodes.push(node(op, [cur, `${o}k`], [o])); inits.push(W(r, `${o}k`, r.pick([[C, 1, 1], [], [1]])));
    } else if (op === 'Clip') {
      nodes.push(node(op, [cur, `${o}lo`, `${o}hi`], [o])); inits.push(floatTensor(`${o}lo`, [], [0]), floatTensor(`${o}hi`, [], [6]));
    } else if (op === 'Pad') {
      const p = [0, 0, r.i(0, 1), r.i(0, 1), 0, 0, r.i(0, 1), r.i(0, 1)];
      nodes.push(node(op, [cur, `${o}p`], [o])); inits.push(intTensor(`${o}p`, [8], p));
      H += p[2]! + p[6]!; Wd += p[3]! + p[7]!;
    } else if (op === 'LeakyRelu') nodes.push(node(op, [cur], [o], [attr('alpha', { float: 0.1 })]));
    else nodes.push(node(op, [cur], [o]));
    ops.push(op); cur = o;
  }
  const gap = r.b(0.3), o = nm();
  if (gap) { nodes.push(node('GlobalAveragePool', [cur], [o]), node('Flatten', [o], [`${o}f`])); cur = `${o}f`; }
  else { nodes.push(node('Flatten', [cur], [o])); cur = o; }
  const F = gap ? C : C * H * Wd, U = r.i(2, 4);
  const bnFlat = r.b(0.2);
  if (bnFlat) { nodes.push(node('BatchNormalization', [cur, 'fg', 'fb', 'fm', 'fv'], ['fbn'])); inits.push(W(r, 'fg', [F]), W(r, 'fb', [F]), W(r, 'fm', [F]), floatTensor('fv', [F], r.arr(F, 0.2, 2))); cur = 'fbn'; }
  const sm = r.b(0.5);
  nodes.push(node('Gemm', [cur, 'gw', 'gb'], [sm ? 'z' : 'h'], [attr('transB', 1)]));
  inits.push(W(r, 'gw', [U, F]), W(r, 'gb', [U]));
  if (sm) nodes.push(node('Softmax', ['z'], ['h'], [attr('axis', 1)]));
  return { op: 'chain', desc: `C${C0} ${H0}x${W0}: ${ops.join(' > ')} > ${gap ? 'GAP > ' : ''}Flatten${bnFlat ? ' > BN(flat)' : ''} > Gemm${sm ? ' > Softmax' : ''}`, opset: r.pick([11, 13, 17]), dims: [C0, H0, W0], nodes, inits, ...(sm ? { final: 'softmax' as const } : {}) };
}

function reduceMean(r: R): Case {
  const dims = img(r, 3, 1, 4), keep = r.pick([null, 0, 1]);
  const axes = r.pick([[2, 3], [-1, -2], [1], [3], [1, 2, 3], null]);
  const attrs = [...(axes ? [attr('axes', axes)] : []), ...(keep !== null ? [attr('keepdims', keep)] : [])];
  return { op: 'ReduceMean', desc: `x [${dims}] axes ${axes ? `[${axes}]` : 'none'} keepdims ${keep}`, opset: r.i(9, 17), dims, nodes: [node('ReduceMean', ['x'], ['h'], attrs)], inits: [] };
}

function arith(r: R): Case {
  const op = r.pick(['Add', 'Sub', 'Mul', 'Div']);
  const dims = r.b(0.8) ? img(r, 3, 2, 4) : [r.i(1, 6)];
  const four = dims.length === 3, [C, H, Wd] = dims as [number, number, number];
  const form = r.pick(['const', 'const', 'const', 'act']);
  if (form === 'act' && four && r.b(0.4)) {
    // x op s with s = Conv1x1(x) of one channel, [1, 1, H, W] (spatial attention), or [1, C, 1, W] / [1, C, H, 1] maps from a pool.
    const sh = r.pick(['1HW', 'C1W', 'CH1']);
    const g = sh === '1HW' ? node('Conv', ['x', 'sw'], ['g']) : node('AveragePool', ['x'], ['g'], [attr('kernel_shape', sh === 'C1W' ? [H, 1] : [1, Wd])]);
    const swap = r.b();
    return { op, desc: `x [${dims}] ${op} [${sh}] map${swap ? ' (swapped)' : ''}`, opset: r.i(9, 17), dims, nodes: [g, node(op, swap ? ['g', 'x'] : ['x', 'g'], ['h'])], inits: [W(r, 'sw', [1, C, 1, 1])] };
  }
  if (form === 'act') {
    // x op GlobalAveragePool(x) (broadcast [1,C,1,1]), or x op Relu(x) (same shape), either order.
    const g = four && r.b() ? node('GlobalAveragePool', ['x'], ['g']) : node('Relu', ['x'], ['g']);
    const swap = r.b();
    return { op, desc: `x [${dims}] ${op} ${g.op_type}(x)${swap ? ' (swapped)' : ''}`, opset: r.i(9, 17), dims, nodes: [g, node(op, swap ? ['g', 'x'] : ['x', 'g'], ['h'])], inits: [] };
  }
  const sh = r.pick(four ? [[], [1], [C, 1, 1], [1, C, 1, 1], [Wd], [H, Wd], [C, H, Wd], [1, 1, H, 1], [C]] : [[], [1], [C], [1, C]]);
  const constFirst = r.b(0.3);
  const data = r.arr(numel(sh), 0.5, 2).map((v) => (r.b() ? v : -v));
  return { op, desc: `x [${dims}] ${op} const [${sh}]${constFirst ? ' (const first)' : ''}`, opset: r.i(9, 17), dims, nodes: [node(op, constFirst ? ['k', 'x'] : ['x', 'k'], ['h'])], inits: [floatTensor('k', sh, data)] };
}

/** Element-wise operators on a flattened C x H x W map (the importer keeps it in HWC order with a permutation), then a Gemm. */
function flatOps(r: R): Case {
  const [C, H, Wd] = img(r, 3, 2, 4), F = C * H * Wd, U = r.i(1, 4);
  const op = r.pick(['Add', 'Mul', 'Sub', 'Div', 'PRelu', 'LeakyRelu', 'BatchNormalization', 'Relu', 'Sigmoid']);
  const shape = r.pick([[F], [1, F], [1], []]);
  const nodes: NodeMsg[] = [node('Flatten', ['x'], ['f'], [attr('axis', 1)])];
  const inits: TensorMsg[] = [];
  if (['Add', 'Mul', 'Sub', 'Div'].includes(op)) { nodes.push(node(op, ['f', 'k'], ['g'])); inits.push(floatTensor('k', shape, r.arr(numel(shape), 0.5, 2))); }
  else if (op === 'PRelu') { nodes.push(node(op, ['f', 'k'], ['g'])); inits.push(W(r, 'k', shape)); }
  else if (op === 'BatchNormalization') { nodes.push(node(op, ['f', 'bg', 'bb', 'bm', 'bv'], ['g'])); inits.push(W(r, 'bg', [F]), W(r, 'bb', [F]), W(r, 'bm', [F]), floatTensor('bv', [F], r.arr(F, 0.2, 2))); }
  else nodes.push(node(op, ['f'], ['g'], op === 'LeakyRelu' ? [attr('alpha', { float: 0.2 })] : []));
  nodes.push(node('Gemm', ['g', 'gw', 'gb'], ['h'], [attr('transB', 1)]));
  inits.push(W(r, 'gw', [U, F]), W(r, 'gb', [U]));
  return { op: `flat-${op}`, desc: `Flatten [${C},${H},${Wd}] > ${op}${['Add', 'Mul', 'Sub', 'Div', 'PRelu'].includes(op) ? ` [${shape}]` : ''} > Gemm`, opset: r.pick([11, 13, 17]), dims: [C, H, Wd], nodes, inits };
}

/** Global pools, Identity, Dropout (ratio as attribute or input), Cast to float. */
function misc(r: R): Case {
  const dims = img(r, 3, 1, 5), opset = r.pick([9, 11, 12, 13, 17]);
  const which = r.pick(['GlobalMaxPool', 'GlobalAveragePool', 'Identity', 'Dropout', 'Cast']);
  if (which === 'Dropout') {
    const asInput = opset >= 12 && r.b();
    return { op: which, desc: `ratio ${asInput ? 'input' : 'attribute'} opset ${opset}`, opset, dims, nodes: [node('Relu', ['x'], ['t']), node(which, asInput ? ['t', 'ratio'] : ['t'], ['h'], asInput ? [] : [attr('ratio', { float: 0.3 })])], inits: asInput ? [floatTensor('ratio', [], [0.3])] : [] };
  }
  if (which === 'Cast') return { op: which, desc: `to float, opset ${opset}`, opset, dims, nodes: [node('Relu', ['x'], ['t']), node(which, ['t'], ['h'], [attr('to', 1)])], inits: [] };
  return { op: which, desc: `x [${dims}] opset ${opset}`, opset, dims, nodes: [node('Relu', ['x'], ['t']), node(which, ['t'], ['h'])], inits: [] };
}

export const GENERATORS: ((r: R) => Case)[] = [conv, convT, pool, gemm, matmul, batchNorm, pad, resize, concat, flatten, reshape, transpose, squeeze, clip, activations, softmax, reduceMean, arith, chain, flatOps, misc];
