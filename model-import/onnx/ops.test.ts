/**
 * ONNX operators the way torch.onnx (opset 11-17) and other writers emit
 * them, one graph per case, against a plaintext NCHW reference of ONNX's
 * semantics written here (independent of the importer): explicit and
 * asymmetric pads, auto_pad, ceil_mode, count_include_pad, groups,
 * ConvTranspose with output_padding, Resize modes, the activations. Each
 * graph ends in Flatten -> Gemm(identity, transB = 1), so the comparison also
 * checks that the first Gemm after a flattened NCHW map takes its rows in
 * the runner's HWC order. Random inputs in [-2, 2] (negative values reach
 * MaxPool's padded edges).
 */
import { describe, expect, it } from 'vitest';
import { referenceLogits } from '../reference.js';
import { maxAbsDiff } from '../testing/fixtures.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, nchwToHwc, node } from '../testing/onnx.js';
import type { AttributeMsg, NodeMsg, TensorMsg } from './schema.js';

type T3 = { C: number; H: number; W: number; d: Float64Array };
const at = (t: T3, c: number, y: number, x: number): number => t.d[(c * t.H + y) * t.W + x]!;

/** Single op `op` on x [C, H, W], then Flatten and an identity Gemm; returns the IR and its output on x. */
function runOp(x: T3, op: NodeMsg | NodeMsg[], inits: TensorMsg[], outC: number, outH: number, outW: number, opset = 13): { ir: ModelIR<FloatTensor>; y: Float32Array } {
  const K = outC * outH * outW;
  const eye = new Float64Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const bytes = buildModel({
    dims: [x.C, x.H, x.W], opset,
    nodes: [...(Array.isArray(op) ? op : [op]), node('Flatten', ['h'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'eye'], ['y'], [attr('transB', 1)])],
    initializers: [...inits, floatTensor('eye', [K, K], eye)],
  });
  const { ir } = loadOnnx(bytes);
  return { ir, y: referenceLogits(ir, nchwToHwc(Float32Array.from(x.d), [x.C, x.H, x.W]), 1) };
}

function rand(C: number, H: number, W: number, seed: number): T3 {
  return { C, H, W, d: Float64Array.from(uniform(seededPrg(seed), C * H * W, 2), (v) => Math.fround(v)) };
}
const f32 = (d: Float64Array): Float64Array => d.map((v) => Math.fround(v));

/** ONNX Conv (NOTSET pads [t, l, b, r]). */
function refConv(x: T3, w: Float64Array, [M, Cg, kh, kw]: number[], b: Float64Array | undefined, p: number[], s: number[], group: number): T3 {
  const oh = Math.floor((x.H + p[0]! + p[2]! - kh!) / s[0]!) + 1, ow = Math.floor((x.W + p[1]! + p[3]! - kw!) / s[1]!) + 1;
  const d = new Float64Array(M! * oh * ow), Mg = M! / group;
  for (let m = 0; m < M!; m++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let acc = b ? b[m]! : 0;
    const g = Math.floor(m / Mg);
    for (let cl = 0; cl < Cg!; cl++) for (let ky = 0; ky < kh!; ky++) for (let kx = 0; kx < kw!; kx++) {
      const iy = oy * s[0]! + ky - p[0]!, ix = ox * s[1]! + kx - p[1]!;
      if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) acc += at(x, g * Cg! + cl, iy, ix) * w[((m * Cg! + cl) * kh! + ky) * kw! + kx]!;
    }
    d[(m * oh + oy) * ow + ox] = acc;
  }
  return { C: M!, H: oh, W: ow, d };
}

/** ONNX/PyTorch pooling with pads [t, l, b, r] and ceil_mode; avg divides by the window (count_include_pad) or the valid cells. */
function refPool(x: T3, kind: 'max' | 'avg', k: number[], s: number[], p: number[], ceil: boolean, include: boolean): T3 {
  const out = (L: number, kk: number, ss: number, b: number, a: number) => { let o = (ceil ? Math.ceil((L + b + a - kk) / ss) : Math.floor((L + b + a - kk) / ss)) + 1; if (ceil && (o - 1) * ss >= L + b) o--; return o; };
  const oh = out(x.H, k[0]!, s[0]!, p[0]!, p[2]!), ow = out(x.W, k[1]!, s[1]!, p[1]!, p[3]!);
  const d = new Float64Array(x.C * oh * ow);
  for (let c = 0; c < x.C; c++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let acc = kind === 'max' ? -Infinity : 0, cnt = 0;
    for (let ky = 0; ky < k[0]!; ky++) for (let kx = 0; kx < k[1]!; kx++) {
      const iy = oy * s[0]! + ky - p[0]!, ix = ox * s[1]! + kx - p[1]!;
      if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) { const v = at(x, c, iy, ix); acc = kind === 'max' ? Math.max(acc, v) : acc + v; cnt++; }
    }
    d[(c * oh + oy) * ow + ox] = kind === 'max' ? acc : acc / (include ? k[0]! * k[1]! : cnt);
  }
  return { C: x.C, H: oh, W: ow, d };
}

/** ONNX ConvTranspose (group 1): y[o, i*s - p + k] += x[c, i] w[c, o, k]. */
function refConvT(x: T3, w: Float64Array, [, M, kh, kw]: number[], p: number[], s: number[], op: number[]): T3 {
  const oh = (x.H - 1) * s[0]! + op[0]! + kh! - p[0]! - p[2]!, ow = (x.W - 1) * s[1]! + op[1]! + kw! - p[1]! - p[3]!;
  const d = new Float64Array(M! * oh * ow);
  for (let c = 0; c < x.C; c++) for (let iy = 0; iy < x.H; iy++) for (let ix = 0; ix < x.W; ix++) for (let o = 0; o < M!; o++) for (let ky = 0; ky < kh!; ky++) for (let kx = 0; kx < kw!; kx++) {
    const y = iy * s[0]! - p[0]! + ky, xx = ix * s[1]! - p[1]! + kx;
    if (y >= 0 && y < oh && xx >= 0 && xx < ow) d[(o * oh + y) * ow + xx]! += at(x, c, iy, ix) * w[((c * M! + o) * kh! + ky) * kw! + kx]!;
  }
  return { C: M!, H: oh, W: ow, d };
}

/** ONNX Resize, one integer factor per axis; pytorch_half_pixel / asymmetric, nearest floor or linear. */
function refResize(x: T3, f: number, mode: 'nearest' | 'linear', ctm: 'asymmetric' | 'pytorch_half_pixel'): T3 {
  const oh = x.H * f, ow = x.W * f, d = new Float64Array(x.C * oh * ow);
  const src = (o: number, L: number) => Math.min(Math.max(ctm === 'asymmetric' ? o / f : (o + 0.5) / f - 0.5, 0), L - 1);
  for (let c = 0; c < x.C; c++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const sy = src(oy, x.H), sx = src(ox, x.W);
    let v: number;
    if (mode === 'nearest') v = at(x, c, Math.floor(sy), Math.floor(sx));
    else {
      const y0 = Math.floor(sy), x0 = Math.floor(sx), y1 = Math.min(y0 + 1, x.H - 1), x1 = Math.min(x0 + 1, x.W - 1), ly = sy - y0, lx = sx - x0;
      v = (1 - ly) * ((1 - lx) * at(x, c, y0, x0) + lx * at(x, c, y0, x1)) + ly * ((1 - lx) * at(x, c, y1, x0) + lx * at(x, c, y1, x1));
    }
    d[(c * oh + oy) * ow + ox] = v;
  }
  return { C: x.C, H: oh, W: ow, d };
}

const expectClose = (got: Float32Array, want: T3, tol = 1e-5) => {
  expect(got).toHaveLength(want.d.length);
  expect(maxAbsDiff(got, want.d)).toBeLessThan(tol);
};

describe('ONNX Conv: pads, auto_pad, strides, groups', () => {
  const x = rand(4, 7, 6, 1);
  const cases: { name: string; M: number; k: number; s: number; pads?: number[]; auto?: string; group: number }[] = [
    { name: 'symmetric pads 1, stride 2 on odd/even sizes (not TF same: padded, then valid)', M: 3, k: 3, s: 2, pads: [1, 1, 1, 1], group: 1 },
    { name: 'pads 1, stride 1 (TF same)', M: 5, k: 3, s: 1, pads: [1, 1, 1, 1], group: 1 },
    { name: 'asymmetric pads [0, 2, 1, 0]', M: 2, k: 3, s: 1, pads: [0, 2, 1, 0], group: 1 },
    { name: 'auto_pad SAME_UPPER, stride 2', M: 2, k: 3, s: 2, auto: 'SAME_UPPER', group: 1 },
    { name: 'auto_pad SAME_LOWER, stride 2', M: 2, k: 4, s: 2, auto: 'SAME_LOWER', group: 1 },
    { name: 'group 2 (block-diagonal kernel)', M: 6, k: 3, s: 1, pads: [1, 1, 1, 1], group: 2 },
    { name: 'depthwise with multiplier 2 (group = C)', M: 8, k: 3, s: 2, pads: [1, 1, 1, 1], group: 4 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const Cg = x.C / c.group;
      const wDims = [c.M, Cg, c.k, c.k];
      const w = f32(uniform(seededPrg(2), c.M * Cg * c.k * c.k, 0.5)), b = f32(uniform(seededPrg(3), c.M, 0.5));
      let pads = c.pads ?? [0, 0, 0, 0];
      if (c.auto) {
        const ax = (L: number): [number, number] => { const out = Math.ceil(L / c.s), tot = Math.max((out - 1) * c.s + c.k - L, 0), h = Math.floor(tot / 2); return c.auto === 'SAME_UPPER' ? [h, tot - h] : [tot - h, h]; };
        const [t, bo] = ax(x.H), [l, r] = ax(x.W);
        pads = [t, l, bo, r];
      }
      const want = refConv(x, w, wDims, b, pads, [c.s, c.s], c.group);
      const attrs: AttributeMsg[] = [attr('kernel_shape', [c.k, c.k]), attr('strides', [c.s, c.s]), attr('group', c.group), attr('dilations', [1, 1]), c.auto ? attr('auto_pad', c.auto) : attr('pads', pads)];
      const { ir, y } = runOp(x, node('Conv', ['x', 'w', 'b'], ['h'], attrs), [floatTensor('w', wDims, w), floatTensor('b', [c.M], b)], want.C, want.H, want.W);
      expectClose(y, want);
      if (c.group === x.C) expect(ir.nodes.some((n) => n.kind === 'depthwise_conv2d')).toBe(true);
    });
  }
});

describe('ONNX pooling: pads, ceil_mode, count_include_pad', () => {
  // Mostly negative values for MaxPool, so that a zero in a padded cell would win some windows.
  const x0 = rand(2, 7, 8, 4), xNeg = { ...x0, d: x0.d.map((v) => v - 1.5) };
  const cases: { name: string; kind: 'max' | 'avg'; k: number; s: number; p: number[]; ceil?: boolean; include?: boolean }[] = [
    { name: 'MaxPool 3x3 stride 2 pads 1 on a signed input (edge rows copied, never zeros)', kind: 'max', k: 3, s: 2, p: [1, 1, 1, 1] },
    { name: 'MaxPool 2x2 stride 2 ceil_mode on odd sizes', kind: 'max', k: 2, s: 2, p: [0, 0, 0, 0], ceil: true },
    { name: 'MaxPool 3x3 stride 2 pads 1 ceil_mode', kind: 'max', k: 3, s: 2, p: [1, 1, 1, 1], ceil: true },
    { name: 'MaxPool 3x3 stride 1 pads 1 (TF same)', kind: 'max', k: 3, s: 1, p: [1, 1, 1, 1] },
    { name: 'AveragePool 3x3 stride 2 pads 1 count_include_pad = 1', kind: 'avg', k: 3, s: 2, p: [1, 1, 1, 1], include: true },
    { name: 'AveragePool 3x3 stride 1 pads 1 count_include_pad = 0 (TF same)', kind: 'avg', k: 3, s: 1, p: [1, 1, 1, 1], include: false },
    { name: 'AveragePool 2x2 stride 2 (DenseNet transition)', kind: 'avg', k: 2, s: 2, p: [0, 0, 0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const x = c.kind === 'max' ? xNeg : x0;
      const want = refPool(x, c.kind, [c.k, c.k], [c.s, c.s], c.p, !!c.ceil, !!c.include);
      const attrs = [attr('kernel_shape', [c.k, c.k]), attr('strides', [c.s, c.s]), attr('pads', c.p), attr('ceil_mode', c.ceil ? 1 : 0), ...(c.kind === 'avg' ? [attr('count_include_pad', c.include ? 1 : 0)] : [])];
      const { y } = runOp(x, node(c.kind === 'max' ? 'MaxPool' : 'AveragePool', ['x'], ['h'], attrs), [], want.C, want.H, want.W);
      expectClose(y, want);
    });
  }

  it('AveragePool with count_include_pad = 0 and pads other than TF same is refused, naming the node, op_type and attribute', () => {
    const bytes = buildModel({ dims: [2, 8, 8], nodes: [node('AveragePool', ['x'], ['y'], [attr('kernel_shape', [3, 3]), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])], 'pool1')] });
    expect(() => loadOnnx(bytes)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'pool1' \(AveragePool\): attribute 'pads'.*count_include_pad = 0/) }));
  });
});

describe('ONNX Pad and Concat', () => {
  const x = rand(2, 4, 3, 9);
  it('Pad with pads as an input (opset 11+), asymmetric on H and W', () => {
    const [t, l, b, r] = [1, 2, 2, 0];
    const H = x.H + t + b, W = x.W + l + r, d = new Float64Array(x.C * H * W);
    for (let c = 0; c < x.C; c++) for (let y = 0; y < x.H; y++) for (let xx = 0; xx < x.W; xx++) d[(c * H + y + t) * W + xx + l] = at(x, c, y, xx);
    const pads = { name: 'pads', dims: [8], data_type: 7, int64_data: [0, 0, t, l, 0, 0, b, r] } as unknown as TensorMsg;
    const { y } = runOp(x, node('Pad', ['x', 'pads'], ['h'], [attr('mode', 'constant')]), [pads], x.C, H, W);
    expectClose(y, { C: x.C, H, W, d });
  });
  it('Concat of x and Relu(x) along the channels (axis 1)', () => {
    const d = Float64Array.from([...x.d, ...x.d.map((v) => Math.max(v, 0))]);
    const { ir, y } = runOp(x, [node('Relu', ['x'], ['r']), node('Concat', ['x', 'r'], ['h'], [attr('axis', 1)])], [], 2 * x.C, x.H, x.W);
    expectClose(y, { C: 2 * x.C, H: x.H, W: x.W, d });
    expect(ir.nodes.find((n) => n.kind === 'concatenate')).toMatchObject({ axis: 2 });
  });
});

describe('ONNX ConvTranspose and Resize', () => {
  const x = rand(3, 4, 5, 5);
  it('ConvTranspose 3x3 stride 2 pads 1 output_padding 1', () => {
    const wDims = [3, 2, 3, 3], w = f32(uniform(seededPrg(6), 54, 0.5));
    const want = refConvT(x, w, wDims, [1, 1, 1, 1], [2, 2], [1, 1]);
    const { y } = runOp(x, node('ConvTranspose', ['x', 'w'], ['h'], [attr('kernel_shape', [3, 3]), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1]), attr('output_padding', [1, 1])]), [floatTensor('w', wDims, w)], want.C, want.H, want.W);
    expectClose(y, want);
  });
  it('ConvTranspose with malformed pads / output_padding or a kernel_shape that is not the weight\'s is refused, not run on NaN or ignored', () => {
    const w = floatTensor('w', [3, 2, 3, 3], new Float64Array(54).fill(0.1));
    const convT = (extra: AttributeMsg[]) => buildModel({ dims: [3, 4, 5], nodes: [node('ConvTranspose', ['x', 'w'], ['y'], [attr('strides', [2, 2]), ...extra], 'up')], initializers: [w] });
    const cases: [AttributeMsg[], string, RegExp][] = [
      [[attr('pads', [1, 1])], 'E_UNSUPPORTED_LAYER', /'up' \(ConvTranspose\): attribute 'pads' = \[1,1\] is not supported/],
      [[attr('pads', [-1, 0, 0, 0])], 'E_UNSUPPORTED_LAYER', /'up' \(ConvTranspose\): attribute 'pads' = \[-1,0,0,0\]/],
      [[attr('output_padding', [1])], 'E_UNSUPPORTED_LAYER', /'up' \(ConvTranspose\): attribute 'output_padding' = \[1\]/],
      [[attr('kernel_shape', [2, 2])], 'E_MODEL_FORMAT', /'up' \(ConvTranspose\): kernel_shape \[2,2\] differs from the weight's \[3, 3\]/],
    ];
    for (const [extra, code, msg] of cases) expect(() => loadOnnx(convT(extra))).toThrow(expect.objectContaining({ code, message: expect.stringMatching(msg) }));
  });
  for (const [mode, ctm, viaSizes] of [['nearest', 'asymmetric', false], ['linear', 'pytorch_half_pixel', true]] as const) {
    it(`Resize ${mode} x2, ${ctm}, ${viaSizes ? 'sizes' : 'scales'} (opset 13)`, () => {
      const want = refResize(x, 2, mode, ctm);
      const inputs = viaSizes ? ['x', '', '', 'sizes'] : ['x', '', 'scales'];
      const inits = viaSizes ? [{ name: 'sizes', dims: [4], data_type: 7, int64_data: [1, 3, 8, 10] } as unknown as TensorMsg] : [floatTensor('scales', [4], [1, 1, 2, 2])];
      const { ir, y } = runOp(x, node('Resize', inputs, ['h'], [attr('mode', mode), attr('coordinate_transformation_mode', ctm), attr('nearest_mode', 'floor')]), inits, want.C, want.H, want.W);
      expectClose(y, want);
      expect(ir.nodes.some((n) => n.kind === 'upsampling2d')).toBe(true);
    });
  }
  it('Resize to sizes computed by a shape subgraph (Shape, Slice, Mul, Concat, Cast: folded at import)', () => {
    const want = refResize(x, 2, 'nearest', 'asymmetric');
    const i64 = (name: string, v: number[]) => ({ name, dims: [v.length], data_type: 7, int64_data: v }) as unknown as TensorMsg;
    const nodes = [
      node('Shape', ['x'], ['s']), node('Slice', ['s', 'st2', 'en4'], ['hw']), node('Mul', ['hw', 'two'], ['hw2']),
      node('Slice', ['s', 'st0', 'en2'], ['nc']), node('Concat', ['nc', 'hw2'], ['sz0'], [attr('axis', 0)]), node('Cast', ['sz0'], ['sz'], [attr('to', 7)]),
      node('Resize', ['x', '', '', 'sz'], ['h'], [attr('mode', 'nearest'), attr('coordinate_transformation_mode', 'asymmetric'), attr('nearest_mode', 'floor')]),
    ];
    const { y } = runOp(x, nodes, [i64('st2', [2]), i64('en4', [4]), i64('st0', [0]), i64('en2', [2]), i64('two', [2, 2])], want.C, want.H, want.W);
    expectClose(y, want);
  });
  it('Upsample nearest x2 with scales as an input (opset 9)', () => {
    const want = refResize(x, 2, 'nearest', 'asymmetric');
    const { y } = runOp(x, node('Upsample', ['x', 'scales'], ['h'], [attr('mode', 'nearest')]), [floatTensor('scales', [4], [1, 1, 2, 2])], want.C, want.H, want.W, 9);
    expectClose(y, want);
  });
  it('Gemm with transA 1, Resize cubic and a Resize nearest whose sampling is not the IR\'s (asymmetric, round_prefer_ceil) are refused, naming the attribute', () => {
    const gemm = buildModel({ dims: [1, 2, 2], nodes: [node('Flatten', ['x'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'w'], ['y'], [attr('transA', 1)], 'fc')], initializers: [floatTensor('w', [4, 2], new Float64Array(8))] });
    expect(() => loadOnnx(gemm)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'fc' \(Gemm\): attribute 'transA' = 1/) }));
    const resize = (attrs: AttributeMsg[]) => buildModel({ dims: [1, 4, 4], nodes: [node('Resize', ['x', '', 'scales'], ['y'], attrs, 'up')], initializers: [floatTensor('scales', [4], [1, 1, 2, 2])] });
    expect(() => loadOnnx(resize([attr('mode', 'cubic')]))).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'up' \(Resize\): attribute 'mode' = 'cubic'/) }));
    expect(() => loadOnnx(resize([attr('mode', 'nearest'), attr('coordinate_transformation_mode', 'asymmetric'), attr('nearest_mode', 'round_prefer_ceil')]))).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'up' \(Resize\): attribute 'coordinate_transformation_mode' = 'asymmetric' with nearest_mode 'round_prefer_ceil'/) }));
  });
  it('Clip with min above max is refused, naming both bounds', () => {
    const bytes = buildModel({ dims: [1, 2, 2], nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'], [], 'clip')], initializers: [floatTensor('lo', [], [2]), floatTensor('hi', [], [1])] });
    expect(() => loadOnnx(bytes)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'clip' \(Clip\): input 'min' = 2 above input 'max' = 1 is not supported/) }));
  });
  it('Resize linear with align_corners is refused, naming the attribute', () => {
    const bytes = buildModel({ dims: [1, 4, 4], nodes: [node('Resize', ['x', '', 'scales'], ['y'], [attr('mode', 'linear'), attr('coordinate_transformation_mode', 'align_corners')], 'up')], initializers: [floatTensor('scales', [4], [1, 1, 2, 2])] });
    expect(() => loadOnnx(bytes)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'up' \(Resize\): attribute 'coordinate_transformation_mode' = 'align_corners'/) }));
  });
});

describe('ONNX activations and arithmetic', () => {
  const x = rand(2, 3, 4, 7);
  const hs = (v: number) => Math.min(Math.max(v / 6 + 0.5, 0), 1);
  const map = (f: (v: number, c: number) => number): T3 => ({ ...x, d: x.d.map((v, i) => f(v, Math.floor(i / (x.H * x.W)))) });
  const cases: { name: string; nodes: NodeMsg[]; inits?: TensorMsg[]; f: (v: number, c: number) => number; opset?: number }[] = [
    { name: 'Clip(0, 6) with min/max as inputs (opset 13) is ReLU6', nodes: [node('Clip', ['x', 'lo', 'hi'], ['h'])], inits: [floatTensor('lo', [], [0]), floatTensor('hi', [], [6])], f: (v) => Math.min(Math.max(v, 0), 6) },
    { name: 'Clip with min/max attributes (opset 10)', nodes: [node('Clip', ['x'], ['h'], [attr('min', { float: 0 }), attr('max', { float: 6 })])], f: (v) => Math.min(Math.max(v, 0), 6), opset: 10 },
    // Other bounds (found refused by the onnxruntime probe): shifted ReLUs; x in [-2, 2] reaches both sides of each bound.
    { name: 'Clip(-1, 1) (nn.Hardtanh) as relu(x + 1) - relu(x - 1) - 1', nodes: [node('Clip', ['x', 'lo', 'hi'], ['h'])], inits: [floatTensor('lo', [], [-1]), floatTensor('hi', [], [1])], f: (v) => Math.min(Math.max(v, -1), 1) },
    { name: 'Clip(0.5) with no max (input max left empty) as relu(x - 0.5) + 0.5', nodes: [node('Clip', ['x', 'lo'], ['h'])], inits: [floatTensor('lo', [], [0.5])], f: (v) => Math.max(v, 0.5) },
    { name: "Clip(max 0.75) with no min ('' for input min) as x - relu(x - 0.75)", nodes: [node('Clip', ['x', '', 'hi'], ['h'])], inits: [floatTensor('hi', [], [0.75])], f: (v) => Math.min(v, 0.75) },
    { name: 'Clip(0, 1) with attributes (opset 10): relu(x) - relu(x - 1)', nodes: [node('Clip', ['x'], ['h'], [attr('min', { float: 0 }), attr('max', { float: 1 })])], f: (v) => Math.min(Math.max(v, 0), 1), opset: 10 },
    { name: 'HardSigmoid alpha 1/6 (PyTorch)', nodes: [node('HardSigmoid', ['x'], ['h'], [attr('alpha', { float: 1 / 6 })])], f: hs },
    { name: 'HardSwish (opset 14)', nodes: [node('HardSwish', ['x'], ['h'])], f: (v) => v * hs(v), opset: 14 },
    { name: 'x * HardSigmoid(x) (HardSwish before opset 14)', nodes: [node('HardSigmoid', ['x'], ['s'], [attr('alpha', { float: 1 / 6 })]), node('Mul', ['x', 's'], ['h'])], f: (v) => v * hs(v) },
    { name: 'LeakyRelu alpha 0.1', nodes: [node('LeakyRelu', ['x'], ['h'], [attr('alpha', { float: 0.1 })])], f: (v) => (v > 0 ? v : Math.fround(0.1) * v) },
    { name: 'PRelu with a per-channel slope [C, 1, 1]', nodes: [node('PRelu', ['x', 'a'], ['h'])], inits: [floatTensor('a', [2, 1, 1], [0.25, -0.5])], f: (v, c) => (v > 0 ? v : [0.25, -0.5][c]! * v) },
    { name: "a value named 'input' inside the graph (the IR's name for the model input) is renamed", nodes: [node('LeakyRelu', ['x'], ['input'], [attr('alpha', { float: 0.5 })]), node('Relu', ['input'], ['h'])], f: (v) => Math.max(v, 0) },
    { name: 'Tanh inside the network (its secure approximation; the plaintext twin is exact)', nodes: [node('Tanh', ['x'], ['h'])], f: (v) => Math.tanh(v) },
    { name: 'Sigmoid inside the network', nodes: [node('Sigmoid', ['x'], ['h'])], f: (v) => 1 / (1 + Math.exp(-v)) },
    { name: 'BatchNormalization (epsilon 1e-3) on its own (a 1x1 depthwise affine node)', nodes: [node('BatchNormalization', ['x', 'g', 'be', 'mu', 'va'], ['h'], [attr('epsilon', { float: 1e-3 })])], inits: [floatTensor('g', [2], [1.5, -0.5]), floatTensor('be', [2], [0.1, 0.2]), floatTensor('mu', [2], [0.3, -0.4]), floatTensor('va', [2], [2, 0.5])], f: (v, c) => ([1.5, -0.5][c]! * (v - [0.3, -0.4][c]!)) / Math.sqrt([2, 0.5][c]! + Math.fround(1e-3)) + [0.1, 0.2][c]! },
    { name: 'Mul and Add by per-channel constants (folded into an affine node), Sub and Div by scalars', nodes: [node('Mul', ['x', 'm'], ['a']), node('Add', ['a', 'k'], ['b']), node('Sub', ['b', 'one'], ['c']), node('Div', ['c', 'two'], ['h'])], inits: [floatTensor('m', [2, 1, 1], [2, -3]), floatTensor('k', [1, 2, 1, 1], [0.5, 1.5]), floatTensor('one', [], [1]), floatTensor('two', [], [2])], f: (v, c) => (v * [2, -3][c]! + [0.5, 1.5][c]! - 1) / 2 },
  ];
  it('x * Sigmoid(x) (nn.SiLU) becomes the silu activation', () => {
    const want = map((v) => v / (1 + Math.exp(-v)));
    const { ir, y } = runOp(x, [node('Sigmoid', ['x'], ['s']), node('Mul', ['s', 'x'], ['h'])], [], want.C, want.H, want.W);
    expectClose(y, want, 2e-5);
    expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'silu')).toBe(true);
  });
  for (const [op, keep] of [['ReduceMean', 1], ['ReduceMean', 0], ['GlobalMaxPool', 1], ['GlobalAveragePool', 1]] as const) {
    it(`${op}${op === 'ReduceMean' ? ` over [2, 3], keepdims ${keep}` : ''}`, () => {
      const d = new Float64Array(x.C);
      for (let c = 0; c < x.C; c++) { const v = x.d.subarray(c * x.H * x.W, (c + 1) * x.H * x.W); d[c] = op === 'GlobalMaxPool' ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / v.length; }
      const attrs = op === 'ReduceMean' ? [attr('axes', [2, 3]), attr('keepdims', keep)] : [];
      const { y } = runOp(x, node(op, ['x'], ['h'], attrs), [], x.C, 1, 1);
      expectClose(y, { C: x.C, H: 1, W: 1, d });
    });
  }
  for (const c of cases) {
    it(c.name, () => {
      const want = map(c.f);
      const { ir, y } = runOp(x, c.nodes, c.inits ?? [], want.C, want.H, want.W, c.opset);
      expectClose(y, want, 2e-5);
      if (c.name.includes('HardSwish')) expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'hard_silu')).toBe(true);
    });
  }
});
