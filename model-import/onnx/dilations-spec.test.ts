/**
 * Review of dilated Conv (s40-rdil): ONNX Conv with dilations against a plain loop written from the ONNX
 * spec alone (NCHW, y[n, m, j, i] = b[m] + sum_{c in m's group, ky, kx} x[n, c, j s_h + ky d_h - pad_top,
 * i s_w + kx d_w - pad_left] w[m, c, ky, kx], out = floor((H + pads - ((k - 1) d + 1)) / s) + 1, auto_pad
 * SAME_UPPER / SAME_LOWER from ceil(H / s) with the odd cell at the end / the start), not through
 * geometry.ts. Drawn cases: explicit asymmetric pads, SAME_UPPER, SAME_LOWER, VALID, d_h != d_w, d larger
 * than the map (phases with no rows), strides with dilation, group 1, group = C with multiplier 1-2, and
 * grouped; batch 2 (the output through Flatten and an identity Gemm, in NCHW order). A few also through the three-party runner against the loop.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import { shareModel } from '../../protocol/layers/share-model.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, nchwToHwc, node } from '../testing/onnx.js';

interface Spec { C: number; H: number; W: number; M: number; group: number; k: [number, number]; d: [number, number]; s: [number, number]; auto: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID'; pads: [number, number, number, number] }

/** The spec's pads [top, left, bottom, right] for the case (auto_pad from the effective kernel). */
function specPads(c: Spec): [number, number, number, number] | null {
  if (c.auto === 'NOTSET') return c.pads;
  if (c.auto === 'VALID') return [0, 0, 0, 0];
  const ax = (S: number, k: number, d: number, s: number): [number, number] | null => {
    const ext = (k - 1) * d + 1, total = (Math.ceil(S / s) - 1) * s + ext - S;
    if (total < 0) return null; // the importer refuses (or clamps) these: not drawn
    const small = Math.floor(total / 2);
    return c.auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  };
  const h = ax(c.H, c.k[0], c.d[0], c.s[0]), w = ax(c.W, c.k[1], c.d[1], c.s[1]);
  return h && w ? [h[0], w[0], h[1], w[1]] : null;
}

/** The spec's Conv by plain loops, NCHW in and out. */
function specConv(c: Spec, N: number, x: Float64Array, w: Float64Array, b: Float64Array, p: [number, number, number, number]): { out: Float64Array; oh: number; ow: number } {
  const oh = Math.floor((c.H + p[0] + p[2] - ((c.k[0] - 1) * c.d[0] + 1)) / c.s[0]) + 1;
  const ow = Math.floor((c.W + p[1] + p[3] - ((c.k[1] - 1) * c.d[1] + 1)) / c.s[1]) + 1;
  const Cg = c.C / c.group, Mg = c.M / c.group, out = new Float64Array(N * c.M * oh * ow);
  for (let n = 0; n < N; n++) for (let m = 0; m < c.M; m++) for (let j = 0; j < oh; j++) for (let i = 0; i < ow; i++) {
    let acc = b[m]!;
    const g = Math.floor(m / Mg);
    for (let cc = 0; cc < Cg; cc++) for (let ky = 0; ky < c.k[0]; ky++) for (let kx = 0; kx < c.k[1]; kx++) {
      const y = j * c.s[0] + ky * c.d[0] - p[0], xx = i * c.s[1] + kx * c.d[1] - p[1];
      if (y < 0 || y >= c.H || xx < 0 || xx >= c.W) continue;
      acc += x[((n * c.C + g * Cg + cc) * c.H + y) * c.W + xx]! * w[((m * Cg + cc) * c.k[0] + ky) * c.k[1] + kx]!;
    }
    out[((n * c.M + m) * oh + j) * ow + i] = acc;
  }
  return { out, oh, ow };
}

const prg = seededPrg(4041);
const u = (n: number): number => Math.min(n - 1, Math.floor(((uniform(prg, 1, 1)[0]! + 1) / 2) * n));
const pick = <T>(a: readonly T[]): T => a[u(a.length)]!;

function draw(): Spec | null {
  const C = 1 + u(3), kind = u(3), dm = 1 + u(2);
  const group = kind === 0 ? 1 : kind === 1 ? C : (C === 1 ? 1 : C); // grouped: group = C with a multiplier, or 1
  const M = kind === 0 ? 1 + u(3) : C * dm;
  const c: Spec = {
    C, H: 1 + u(9), W: 1 + u(9), M, group, k: [1 + u(3), 1 + u(3)], d: [1 + u(5), 1 + u(5)], s: [1 + u(3), 1 + u(3)],
    auto: pick(['NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const), pads: [u(4), u(4), u(4), u(4)],
  };
  if (c.d[0] === 1 && c.d[1] === 1) c.d = [2 + u(4), 1 + u(5)];
  const p = specPads(c);
  if (!p) return null;
  const oh = Math.floor((c.H + p[0] + p[2] - ((c.k[0] - 1) * c.d[0] + 1)) / c.s[0]) + 1;
  const ow = Math.floor((c.W + p[1] + p[3] - ((c.k[1] - 1) * c.d[1] + 1)) / c.s[1]) + 1;
  return oh >= 1 && ow >= 1 ? c : null;
}

/** Conv, then Flatten and a Gemm by the identity, so the output is the NCHW map in NCHW order (a multi-channel map is not a graph output). */
function model(c: Spec, w: Float64Array, b: Float64Array, outLen: number): Uint8Array {
  const attrs = [attr('kernel_shape', c.k), attr('dilations', c.d), attr('strides', c.s), attr('group', c.group), ...(c.auto === 'NOTSET' ? [attr('pads', c.pads)] : [attr('auto_pad', c.auto)])];
  const eye = new Float64Array(outLen * outLen);
  for (let i = 0; i < outLen; i++) eye[i * outLen + i] = 1;
  return buildModel({
    dims: [c.C, c.H, c.W],
    nodes: [node('Conv', ['x', 'w', 'b'], ['c'], attrs), node('Flatten', ['c'], ['f']), node('Gemm', ['f', 'eye'], ['y'])],
    initializers: [floatTensor('w', [c.M, c.C / c.group, c.k[0], c.k[1]], w), floatTensor('b', [c.M], b), floatTensor('eye', [outLen, outLen], eye)],
  });
}


const cases: Spec[] = [];
while (cases.length < 60) { const c = draw(); if (c) cases.push(c); }
// By hand: a phase with no rows (H < d), the odd pad cell at the start (SAME_LOWER), d_h != d_w with strides.
cases.push({ C: 2, H: 3, W: 4, M: 2, group: 1, k: [3, 2], d: [5, 4], s: [1, 1], auto: 'SAME_LOWER', pads: [0, 0, 0, 0] });
cases.push({ C: 2, H: 8, W: 7, M: 4, group: 2, k: [3, 3], d: [3, 2], s: [2, 3], auto: 'NOTSET', pads: [3, 0, 1, 2] });
cases.push({ C: 1, H: 2, W: 2, M: 1, group: 1, k: [2, 2], d: [4, 4], s: [1, 1], auto: 'NOTSET', pads: [3, 3, 1, 0] });

const desc = (c: Spec): string => `C ${c.C} ${c.H}x${c.W} M ${c.M} group ${c.group} k ${c.k} d ${c.d} s ${c.s} ${c.auto === 'NOTSET' ? `pads [${c.pads}]` : c.auto}`;

describe('ONNX dilated Conv against the spec by plain loops (batch 2)', () => {
  for (const [i, c] of cases.entries()) {
    it(`#${i}: ${desc(c)}`, () => {
      const N = 2;
      const w = uniform(prg, c.M * (c.C / c.group) * c.k[0] * c.k[1], 1), b = uniform(prg, c.M, 0.5), x = uniform(prg, N * c.C * c.H * c.W, 2);
      const want = specConv(c, N, x, w, b, specPads(c)!);
      const { ir } = loadOnnx(model(c, w, b, want.out.length / N));
      const per = c.C * c.H * c.W, xh = new Float32Array(N * per);
      for (let n = 0; n < N; n++) xh.set(nchwToHwc(x.subarray(n * per, (n + 1) * per), [c.C, c.H, c.W]), n * per);
      const got = referenceLogits(ir, xh, N);
      expect(got.length).toBe(want.out.length);
      const g = got;
      expect(Math.max(...Array.from(g, (v, j) => Math.abs(v - want.out[j]!)))).toBeLessThan(1e-4);
    });
  }

  it('three-party runner (f = 13) on the hand-picked and first drawn cases, batch 2, against the loops', async () => {
    const k = getKernels(), F = 13, N = 2;
    for (const c of [...cases.slice(-3), ...cases.slice(0, 5)]) {
      const w = uniform(prg, c.M * (c.C / c.group) * c.k[0] * c.k[1], 1), b = uniform(prg, c.M, 0.5), x = uniform(prg, N * c.C * c.H * c.W, 2);
      const want = specConv(c, N, x, w, b, specPads(c)!);
      const { ir } = loadOnnx(model(c, w, b, want.out.length / N));
      const per = c.C * c.H * c.W, xh = new Float64Array(N * per);
      for (let n = 0; n < N; n++) xh.set(nchwToHwc(x.subarray(n * per, (n + 1) * per), [c.C, c.H, c.W]), n * per);
      const xs = shareFor3(encode(xh, F));
      const parts = shareModel(k, ir, F);
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...ir.inputShape], data: xs[ctx.party]! }), { fracBits: F });
      const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), F);
      expect(got.length, desc(c)).toBe(want.out.length);
      expect(Math.max(...Array.from(got, (v, j) => Math.abs(v - want.out[j]!))), desc(c)).toBeLessThan(0.02);
    }
  });
});
