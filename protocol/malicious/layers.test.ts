import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type Activation, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';
import { isMpcError } from '../errors.js';
import { seededPrg, uniform } from '../seed-models.js';
import { sizeOf } from '../layers/types.js';
import { MAL_F, malRunCost, malVsPlain, maxAbsErr } from '../testing/mal-forward.js';
import { checkMaliciousModel } from './runner.js';
import type { MalPrimitives } from './primitives.js';
import { MAL_SMOOTH } from './layers-smooth.js';
import { registerSmoothActivation, unregisterSmoothActivation } from '../layers/activations.js';
import { sigmoidApprox } from '../primitives/sigmoid.js';
import { plainForward } from '../reference/forward.js';

const F = MAL_F;
const ULP = 2 ** -F;
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[]): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes[nodes.length - 1]!.name, outputActivation: 'linear' });
const weights = (seed: number) => {
  const g = seededPrg(seed);
  return (shape: number[], a = 0.4): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
};
/** On the fixed-point grid. */
const grid = (v: Float64Array): Float64Array => v.map((x) => Math.round(x * 2 ** F) / 2 ** F);

/** The linear kinds: depthwise (+ pointwise = separable), transposed convolution, crop, nearest and bilinear upsampling, concatenate, average. */
function linearModel(): ModelIR<FloatTensor> {
  const t = weights(21);
  return model([4, 5, 2], [
    { kind: 'depthwise_conv2d', name: 'dw', inputs: ['input'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 2, activation: 'linear', kernel: t([3, 3, 2, 2]), bias: t([4]) },
    { kind: 'conv2d', name: 'pw', inputs: ['dw'], filters: 3, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'linear', kernel: t([1, 1, 4, 3]) },
    { kind: 'depthwise_conv2d', name: 'dws', inputs: ['pw'], kernelSize: [2, 3], strides: [2, 2], padding: 'valid', depthMultiplier: 1, activation: 'linear', kernel: t([2, 3, 3, 1]) },
    { kind: 'conv2d_transpose', name: 'ct', inputs: ['dws'], filters: 2, kernelSize: [3, 3], strides: [2, 2], pad: [[1, 2], [1, 2]], activation: 'linear', kernel: t([3, 3, 3, 2]), bias: t([2]) },
    { kind: 'cropping2d', name: 'crop', inputs: ['input'], cropping: [[0, 2], [1, 2]] },
    { kind: 'upsampling2d', name: 'upn', inputs: ['crop'], size: [2, 2], interpolation: 'nearest' },
    { kind: 'upsampling2d', name: 'upb', inputs: ['crop'], size: [2, 2], interpolation: 'bilinear' },
    { kind: 'concatenate', name: 'cat', inputs: ['upn', 'ct', 'upb'], axis: 2 },
    { kind: 'cropping2d', name: 'c2', inputs: ['cat'], cropping: [[0, 0], [0, 0]] },
    { kind: 'average', name: 'avg', inputs: ['cat', 'c2', 'cat'] },
  ]);
}

/** The non-linear kinds: LeakyReLU, PReLU, Maximum, squeeze-excite Multiply, and the relu6 / hard activations. */
function nonlinearModel(): ModelIR<FloatTensor> {
  const t = weights(22);
  return model([3, 3, 2], [
    { kind: 'leaky_relu', name: 'lr', inputs: ['input'], alpha: 0.3 },
    { kind: 'prelu', name: 'pr', inputs: ['input'], kernel: t([2], 0.8) },
    { kind: 'maximum', name: 'mx', inputs: ['lr', 'pr', 'input'] },
    { kind: 'global_avgpool2d', name: 'gap', inputs: ['mx'] },
    { kind: 'dense', name: 'se', inputs: ['gap'], units: 2, activation: 'hard_sigmoid', kernel: t([2, 2], 1.5), bias: t([2]) },
    { kind: 'reshape', name: 'se3', inputs: ['se'], targetShape: [1, 1, 2] },
    { kind: 'multiply', name: 'mul', inputs: ['mx', 'se3'] },
    { kind: 'activation', name: 'hs', inputs: ['mul'], activation: 'hard_silu' },
    { kind: 'activation', name: 'r6', inputs: ['input'], activation: 'relu6' },
    { kind: 'activation', name: 'hk', inputs: ['input'], activation: 'hard_sigmoid_k2' },
    { kind: 'concatenate', name: 'out', inputs: ['hs', 'r6', 'hk'], axis: 2 },
  ]);
}

describe('malicious runner, the layers beyond Conv2D / Dense (layers-linear.ts, layers-activations.ts) against the float64 twin', () => {
  it('depthwise (dm 2, same; dm 1, strided valid), pointwise, Conv2DTranspose, Cropping, UpSampling nearest and bilinear, Concatenate, Average; batch 2; sends exactly malForwardCost', async () => {
    const m = linearModel(), N = 2;
    const x = grid(uniform(seededPrg(31), N * sizeOf(m.inputShape), 3));
    x[0] = 0; x[1] = -ULP; x[2] = ULP; x[3] = 8; x[4] = -8;
    const { got, want, r } = await malVsPlain(m, N, x);
    expect(want.length).toBeGreaterThan(0);
    // Truncations (probabilistic, 1 ulp each) through up to four layers, the weights rounded to f bits: over 100 runs
    // (2 cores, loaded) the max error was median 2.46 ulps, max 2.83 ulps (a derived bound is not written out here).
    expect(maxAbsErr(got, want)).toBeLessThan(8 * ULP);
    const c = malRunCost(m, N);
    expect(r.bytes).toBe(c.bytes);
    expect(r.rounds).toBe(c.rounds);
  }, 120_000);

  it('LeakyReLU, PReLU, Maximum of three, squeeze-excite Multiply ([1, 1, C] over [H, W, C]), hard_sigmoid, hard_silu, relu6, hard_sigmoid_k2 with inputs on the breakpoints; sends exactly malForwardCost', async () => {
    const m = nonlinearModel(), N = 2;
    const x = grid(uniform(seededPrg(32), N * sizeOf(m.inputShape), 8));
    // Breakpoints: 0 (every ReLU), 6 (relu6), +-3 (hard_sigmoid), +-2.5 (hard_sigmoid_k2), one ulp either side of 0, large values.
    [0, -ULP, ULP, 6, 3, -3, 2.5, -2.5, 6 + ULP, -100, 100].forEach((v, i) => { x[i] = v; });
    const { got, want, r } = await malVsPlain(m, N, x);
    // The output [N, 3, 3, 6]: channels 0-1 hard_silu(mul), 2-3 relu6(x), 4-5 hard_sigmoid_k2(x). want is the float64
    // twin with the unrounded weights; errors in ulps u = 2^-13. Per layer (truncM: floor or floor + 1, so |e| < 1 u each):
    //  relu6: reluM is exact, x and 6 on the grid: error 0.
    //  hard_sigmoid_k2: one trunc24 (< 1 u) + |x| |round(0.2 2^24) 2^-24 - 0.2| (< 0.002 u for |x| <= 8; +-100 clip): < 1.01 u.
    //  hard_silu, where the channel's se = hard_sigmoid(Dense(gap)) clips to 0 (image 0 both channels, image 1 channel 0:
    //  z / 6 + 1/2 <= -0.025, over 200 u from the breakpoint, far beyond z's error below): mul = trunc_f(mx * 0) = 0 and
    //  hard_silu(0) = 0 exactly (truncM is exact on multiples of 2^f).
    //  hard_silu on image 1 channel 1 (se = 0.833, z = 2.0, 9 elements), worst case, first order:
    //   lr: two trunc24 (< 2 u); pr: trunc_f (< 1 u) + |x-| |alpha_q - alpha| (0.40 u per unit of x): mx (max is 1-Lipschitz)
    //   < max(lr, pr) = 2 .. 3.9 u; gap: mean of mx's errors + trunc24 + the 1/9 rounding: < 3.25 u;
    //   z = Dense: sum |W_q| e_gap (|W| 0.70, 1.38) + sum |gap| |W_q - W| + |b_q - b| (0.44 u) + trunc: < 8.4 u;
    //   se: e_z / 6 + trunc24: < 2.4 u; mul = trunc_f(mx se): se e_mx + |mx| e_se + 1: < 3.4 .. 14.6 u (|mx| <= 5);
    //   hard_silu(m) = trunc_f(m hsig(m)): |d/dm| e_mul ((2|m| + 3) / 6 <= 1.5 on (-3, 3), 1 above) + |m| (hsig's own
    //   trunc24, where it does not clip) + 1: < 20.5 u at the worst element (m = 2.95: 1.48 x 11.2 + 2.95 + 1).
    //  The bound is loose: it takes every truncation at its extreme and of one sign; measured over 300 runs (run-to-run
    //  variation from truncM's random masks; protocol/malicious/layers.test.ts's model, 2 cores, loaded): hard_silu max per
    //  run median 1.9 u, p99 6.4 u, max 8.6 u (so 6 u failed 1.3% of runs); relu6 0 always; hard_sigmoid_k2 <= 0.8 u.
    const se = plainForward({ ...m, output: 'se' }, x, N);
    expect(se.shape).toEqual([N, 2]);
    const live: number[] = [];
    got.forEach((g, i) => {
      const c = i % 6, b = Math.floor(i / 54), d = Math.abs(g - want[i]!);
      if (c >= 2 && c < 4) expect(d, `relu6 at ${i}`).toBe(0);
      else if (c >= 4) expect(d, `hard_sigmoid_k2 at ${i}`).toBeLessThan(1.01 * ULP);
      else if (se.data[b * 2 + c] === 0) expect(d, `hard_silu at ${i}, its se clipped to 0`).toBe(0);
      else live.push(d);
    });
    expect(live.length).toBe(9);
    expect(Math.max(...live)).toBeLessThan(21 * ULP);
    // Tighter, empirical: the mean over the 9 live elements was median 0.77 u, max 3.25 u in the 300 runs; a systematic
    // error of a few ulps (a truncation off by one unit every time, a slope off by 2^-13) would move it past 6 u.
    expect(live.reduce((t, d) => t + d, 0) / live.length).toBeLessThan(6 * ULP);
    const c = malRunCost(m, N);
    expect(r.bytes).toBe(c.bytes);
    expect(r.rounds).toBe(c.rounds);
  }, 120_000);

  it('each piecewise-linear activation alone is within a few ulps of the twin on random and edge inputs (batch 1)', async () => {
    const acts: Activation[] = ['relu6', 'hard_sigmoid', 'hard_sigmoid_k2', 'hard_silu'];
    const x = grid(uniform(seededPrg(33), 24, 10));
    [0, ULP, -ULP, 3, -3, 6, 2.5, -2.5, 1000, -1000, 6 - ULP, -3 + ULP].forEach((v, i) => { x[i] = v; });
    const m = model([24], acts.map((a) => ({ kind: 'activation', name: a, inputs: ['input'], activation: a }) as LayerNode<FloatTensor>).concat([{ kind: 'concatenate', name: 'all', inputs: acts, axis: 0 }]));
    const { got, want, r } = await malVsPlain(m, 1, x);
    // Bounds in ulps u = 2^-13 (truncM: floor or floor + 1, so |e| < 1 u each): relu6 is exact (reluM, x and 6 on the
    // grid); hard_sigmoid(_k2) = clip(trunc24(x round(a 2^24)) + b): < 1 u + |x| |round(a 2^24) 2^-24 - a| (< 0.001 u
    // where it does not clip, |x| < 3); hard_silu = trunc_f(x hsig(x)): |x| e_hsig + 1 < 3 (1 + 0.0005) + 1 = 4.002 u
    // where hsig does not clip (|x| < 3; beyond, x exactly or 0). Measured over 300 runs (2 cores, loaded): relu6 0,
    // hard_sigmoid 0.83 u, hard_sigmoid_k2 0.80 u (both the same every run), hard_silu median 1.67 u, max 2.63 u.
    const part = (j: number, v: Float64Array) => v.subarray(24 * j, 24 * (j + 1));
    const bound: Partial<Record<Activation, number>> = { relu6: 0, hard_sigmoid: 1.01, hard_sigmoid_k2: 1.01, hard_silu: 4.01 };
    acts.forEach((a, j) => {
      const e = maxAbsErr(part(j, got), part(j, want));
      if (a === 'relu6') expect(e, a).toBe(0);
      else expect(e, a).toBeLessThan(bound[a]! * ULP);
    });
    expect(r.bytes).toBe(malRunCost(m, 1).bytes);
  }, 120_000);

  it('sigmoid, silu, tanh, gelu (folded piecewise cubics, layers-smooth.ts) are within each activation\'s stated bound of the true function and 1 ulp of the fixed-point twin on random inputs, on +-B_k and +-B_k +- 1 ulp, and in the tails; a node marked compareBits 64 compares at 64 bits; sends exactly malForwardCost', async () => {
    const names = ['sigmoid', 'silu', 'tanh', 'gelu'] as const;
    const N = 128;
    const x = grid(uniform(seededPrg(34), N, 14));
    // Both signs of every positive breakpoint of |x| and one ulp either side (the fold compares |x| only), 0 and +-1 ulp, the tails.
    const bps = [...new Set(names.flatMap((a) => MAL_SMOOTH[a].spec.breakpoints))];
    const edges = [0, ULP, -ULP, 1000, -1000, 2 ** 17, -(2 ** 17), ...bps.flatMap((b) => [b, b - ULP, b + ULP].flatMap((v) => [v, -v]))];
    edges.forEach((v, i) => { x[i] = v; });
    expect(edges.length).toBeLessThan(N);
    const nodes: LayerNode<FloatTensor>[] = names.map((a) => ({ kind: 'activation', name: a, inputs: ['input'], activation: a }));
    // Beyond the 32-bit comparisons' range (2^18 - 12 reals at f = 13): only where the node asks for 64.
    nodes.push({ kind: 'rescaling', name: 'big', inputs: ['input'], scale: 1, offset: 2 ** 20 }, { kind: 'activation', name: 'wide', inputs: ['big'], activation: 'tanh', compareBits: 64 });
    nodes.push({ kind: 'concatenate', name: 'all', inputs: [...names, 'wide'], axis: 0 });
    const m = model([N], nodes);
    const { got, want, r } = await malVsPlain(m, 1, x);
    names.forEach((a, j) => {
      const mine = got.subarray(N * j, N * (j + 1)), spec = MAL_SMOOTH[a].spec;
      // want: the true function (the registry's float, plainForward); the fixed-point twin (piecewise-fit.ts): secure = twin +- 1 ulp.
      expect(maxAbsErr(mine, want.subarray(N * j, N * (j + 1))), `${a} vs the true function`).toBeLessThanOrEqual(MAL_SMOOTH[a].maxAbsError);
      expect(Array.from(want.subarray(N * j, N * (j + 1)))).toEqual(Array.from(x, (v) => spec.target(v)));
      const twin = MAL_SMOOTH[a].fixed(BigUint64Array.from(x, (v) => BigInt.asUintN(64, BigInt(Math.round(v * 2 ** F)))), F);
      expect(maxAbsErr(mine, Float64Array.from(twin, (v) => Number(BigInt.asIntN(64, v)) * ULP)), `${a} vs the fixed-point twin`).toBeLessThanOrEqual(ULP);
    });
    expect(Array.from(got.subarray(4 * N))).toEqual(new Array(N).fill(1));
    const c = malRunCost(m, 1);
    expect(r.bytes).toBe(c.bytes);
    expect(r.rounds).toBe(c.rounds);
  }, 120_000);

  it('refuses, with E_UNSUPPORTED_LAYER naming the layer, its kind and the option: a smooth activation the service registered another approximation for, and, with an empty primitives table, every new layer that needs truncation or ReLU', () => {
    const refuse = (m: ModelIR<unknown>, p: MalPrimitives | undefined, msg: RegExp) => {
      let err: unknown;
      try { checkMaliciousModel(m, F, p); } catch (e) { err = e; }
      expect(isMpcError(err) && err.code === 'E_UNSUPPORTED_LAYER').toBe(true);
      expect((err as Error).message).toMatch(msg);
    };
    const sig = model([4], [{ kind: 'activation', name: 'sg', inputs: ['input'], activation: 'sigmoid' }]);
    expect(() => checkMaliciousModel(sig, F)).not.toThrow();
    refuse(sig, {}, /layer 'sg' \(activation\): the 'sigmoid' activation needs truncation, which is not yet in malicious mode/);
    registerSmoothActivation({ ...sigmoidApprox, secure: (ctx, v, f, label) => sigmoidApprox.secure(ctx, v, f, label) });
    try {
      refuse(sig, undefined, /layer 'sg' \(activation\): the 'sigmoid' activation without its built-in piecewise cubic \(another approximation is registered\) is not yet in malicious mode/);
    } finally {
      unregisterSmoothActivation('sigmoid');
    }
    expect(() => checkMaliciousModel(sig, F)).not.toThrow();
    refuse(model([4], [{ kind: 'activation', name: 'sp', inputs: ['input'], activation: 'softplus' as Activation }]), undefined, /layer 'sp' \(activation\): the 'softplus' activation is not yet in malicious mode/);
    const t = weights(1);
    const none: MalPrimitives = {};
    refuse(model([4, 4, 1], [{ kind: 'depthwise_conv2d', name: 'dw', inputs: ['input'], kernelSize: [1, 1], strides: [1, 1], padding: 'valid', depthMultiplier: 1, activation: 'linear', kernel: t([1, 1, 1, 1]) }]), none, /layer 'dw' \(depthwise_conv2d\): the product needs truncation, which is not yet in malicious mode/);
    refuse(model([4, 4, 1], [{ kind: 'upsampling2d', name: 'up', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }]), none, /layer 'up' \(upsampling2d\): bilinear interpolation needs truncation/);
    refuse(model([4], [{ kind: 'maximum', name: 'mx', inputs: ['input', 'input'] }]), none, /layer 'mx' \(maximum\): Maximum needs ReLU, which is not yet in malicious mode/);
    refuse(model([4], [{ kind: 'leaky_relu', name: 'lk', inputs: ['input'], alpha: 0.1 }]), { relu: () => Promise.reject(new Error('unused')) }, /layer 'lk' \(leaky_relu\): the slope product needs truncation/);
    refuse(model([4], [{ kind: 'activation', name: 'h', inputs: ['input'], activation: 'hard_silu' }]), none, /layer 'h' \(activation\): the 'hard_silu' activation needs ReLU/);
    // The layers that need nothing are accepted even with an empty table.
    expect(() => checkMaliciousModel(model([4, 4, 1], [
      { kind: 'cropping2d', name: 'c', inputs: ['input'], cropping: [[1, 0], [0, 1]] },
      { kind: 'upsampling2d', name: 'u', inputs: ['c'], size: [2, 1], interpolation: 'nearest' },
      { kind: 'concatenate', name: 'k', inputs: ['u', 'u'], axis: 2 },
    ]), F, none)).not.toThrow();
  });
});
