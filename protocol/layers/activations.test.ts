/**
 * The smooth-activation seam (activations.ts): a registered implementation
 * is used by the runner and both twins, with its declared cost; without one
 * the runner and the twins refuse the layer. Registered here: the test-only
 * piecewise-linear stand-ins (testing/smooth-standins.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { fixedArith, floatArith } from '../ir-kit/arith.js';
import { forwardReals } from '../ir-kit/forward.js';
import type { FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { seededPrg, uniform } from '../seed-models.js';
import { registerStandins, standinSigmoid, standinSilu } from '../testing/smooth-standins.js';
import { smoothActivation, suspendSmoothActivations } from './activations.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const f = 13;
let unregister: (() => void) | undefined;
afterEach(() => { unregister?.(); unregister = undefined; });

function net(): ModelIR<FloatTensor> {
  const g = seededPrg(30);
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'conv2d', name: 'gate', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'sigmoid', kernel: { shape: [3, 3, 3, 3], data: uniform(g, 81, 1) }, bias: { shape: [3], data: uniform(g, 3, 1) } },
    { kind: 'activation', name: 'swish', inputs: ['input'], activation: 'silu' },
    { kind: 'multiply', name: 'out', inputs: ['swish', 'gate'] },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [4, 5, 3], nodes, output: 'out', outputActivation: 'linear' };
}

async function secure(m: ModelIR<FloatTensor>, x: Float64Array, N: number) {
  const parts = shareModel(k, m, f), xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...m.inputShape], data: xs[ctx.party] }), { fracBits: f });
  return { got: decode(reconstruct(k, r.results[0].data, r.results[1].data), f), r };
}

describe('smooth activations through the registry', () => {
  it('no registration: the runner and both twins refuse the layer, naming it and the activation', async () => {
    const restore = suspendSmoothActivations('sigmoid');
    try {
      expect(smoothActivation('sigmoid')).toBeUndefined();
      const m = net();
      const x = uniform(seededPrg(31), 60, 3);
      expect(() => forwardReals(m, x, 1, floatArith)).toThrow(/'sigmoid': secure approximation not available/);
      await expect(secure(m, x, 1)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/'gate': activation 'sigmoid': secure approximation not available/) });
    } finally {
      restore();
    }
    // The built-in approximation serves again (and after a stand-in is unregistered too).
    expect(smoothActivation('sigmoid')?.maxAbsError).toBeLessThan(1e-3);
  });

  it('the built-in approximations: secure = fixed-point twin, within their bound of the exact function that their float twin is', async () => {
    const m = net();
    const x = uniform(seededPrg(32), 60, 6);
    const { got } = await secure(m, x, 1);
    const fixed = forwardReals(m, x, 1, fixedArith({ fracBits: f })).data;
    const exact = forwardReals(m, x, 1, floatArith).data;
    for (let i = 0; i < got.length; i++) {
      // Local truncations are exact only up to 1 ulp per share each; through conv, the cubic pieces and the product
      // they add up to a few ulps (the same allowance as the stand-in test below).
      expect(Math.abs(got[i]! - fixed[i]!)).toBeLessThanOrEqual(32 / 2 ** f);
      expect(Math.abs(got[i]! - exact[i]!)).toBeLessThan(1e-2);
    }
  });

  it('registered stand-ins: secure = fixed-point twin, float twin = the exact function within the declared maxAbsError, on random, zero and large inputs', async () => {
    unregister = registerStandins();
    const m = net();
    const N = 3, n = 60;
    const x = uniform(seededPrg(32), N * n, 6);
    x.fill(0, 0, n);
    for (let i = 0; i < n; i++) x[2 * n + i] = i % 2 ? 500 : -500;
    const { got } = await secure(m, x, N);
    const fixed = forwardReals(m, x, N, fixedArith({ fracBits: f }));
    const float = forwardReals(m, x, N, floatArith);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - fixed.data[i]!)).toBeLessThanOrEqual(32 / 2 ** f + 1e-4 * Math.abs(fixed.data[i]!));
    // The stand-in (fixed) vs the exact function (float): silu's error times a gate in [0, 1] plus |silu| times the sigmoid's error.
    for (let i = 0; i < got.length; i++) {
      const xi = x[i]!;
      expect(Math.abs(fixed.data[i]! - float.data[i]!)).toBeLessThanOrEqual(standinSilu.maxAbsError + Math.abs(xi) * standinSigmoid.maxAbsError + 1e-2);
    }
  });

  it('the stand-ins keep their stated error bounds over their input range (fixed-point, f = 13)', () => {
    for (const a of [standinSigmoid, standinSilu]) {
      const xs = Float64Array.from({ length: 20001 }, (_, i) => -50 + i * 0.005);
      const ring = a.fixed(BigUint64Array.from(xs, (v) => BigInt.asUintN(64, BigInt(Math.round(v * 2 ** f)))), f);
      let e = 0;
      ring.forEach((v, i) => { e = Math.max(e, Math.abs(Number(BigInt.asIntN(64, v)) / 2 ** f - a.float(xs[i]!))); });
      expect(e).toBeLessThanOrEqual(a.maxAbsError);
      expect(e).toBeGreaterThan(a.maxAbsError / 2);
    }
  });

  it('the runner spends exactly the registered cost of an activation layer', async () => {
    unregister = registerStandins();
    for (const a of [standinSigmoid, standinSilu]) {
      const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [10], nodes: [{ kind: 'activation', name: 'act', inputs: ['input'], activation: a.name }], output: 'act', outputActivation: 'linear' };
      const { r } = await secure(m, uniform(seededPrg(33), 20, 4), 2);
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(a.cost(20, f));
    }
  });
});
