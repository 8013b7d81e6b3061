import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';
import { isMpcError } from '../errors.js';
import { networkA, seededPrg, uniform } from '../seed-models.js';
import { sizeOf } from '../layers/types.js';
import { runMal3, values } from '../testing/cheat.js';
import { MAL_F, malRunCost, malVsPlain, maxAbsErr, weightCount } from '../testing/mal-forward.js';
import { liftSigned } from './ring128.js';
import { openLow } from './open.js';
import { macCheckCost } from './mac-check.js';
import { inputCost } from './input.js';
import { openLowCost } from './open.js';
import { setupCost, type MalSession } from './session.js';
import { checkMaliciousModel, MAL_CHECK_EVERY_BYTES, malForward, malForwardCost } from './runner.js';
import { prepareWeights, prepareWeightsCost, shareModelReplicated } from './weights.js';
import type { MalPrimitives } from './primitives.js';

/** The contexts' default fracBits (runMal3); the run against the float64 twin, weights and errors: protocol/testing/mal-forward.ts. */
const F = MAL_F;

/** A model of the layers that need no product: the local ones run exactly (up to the encoding's rounding). */
function layoutModel(): ModelIR<FloatTensor> {
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'rescaling', name: 'rs', inputs: ['input'], scale: 1, offset: -0.25 },
    { kind: 'zero_padding2d', name: 'zp', inputs: ['rs'], padding: [[1, 0], [0, 2]] },
    { kind: 'zero_padding2d', name: 'zq', inputs: ['input'], padding: [[0, 1], [2, 0]] },
    { kind: 'add', name: 'sum', inputs: ['zp', 'zq'] },
    { kind: 'subtract', name: 'diff', inputs: ['sum', 'zp'] },
    { kind: 'reshape', name: 'rsh', inputs: ['diff'], targetShape: [8, 6] },
    { kind: 'flatten', name: 'fl', inputs: ['rsh'] },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [3, 4, 2], nodes, output: 'fl', outputActivation: 'linear' };
}

const argmax = (a: Float64Array): number => a.indexOf(Math.max(...a));

function cnnModel(): ModelIR<FloatTensor> {
  const g = seededPrg(5);
  const t = (shape: number[], a = 0.3): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'rescaling', name: 'rs', inputs: ['input'], scale: 1 / 255, offset: -0.25 },
    { kind: 'zero_padding2d', name: 'zp', inputs: ['rs'], padding: [[1, 0], [0, 2]] },
    { kind: 'conv2d', name: 'c1', inputs: ['zp'], filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'relu', kernel: t([3, 3, 2, 4]), bias: t([4]) },
    { kind: 'maxpool2d', name: 'mp1', inputs: ['c1'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'conv2d', name: 'c2', inputs: ['mp1'], filters: 4, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'linear', kernel: t([1, 1, 4, 4]) },
    { kind: 'add', name: 'res', inputs: ['mp1', 'c2'] },
    { kind: 'maxpool2d', name: 'mp2', inputs: ['res'], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
    { kind: 'avgpool2d', name: 'ap', inputs: ['mp2'], poolSize: [2, 2], strides: [1, 1], padding: 'same' },
    { kind: 'global_avgpool2d', name: 'gap', inputs: ['ap'] },
    { kind: 'reshape', name: 'rsh', inputs: ['gap'], targetShape: [2, 2] },
    { kind: 'flatten', name: 'fl', inputs: ['rsh'] },
    { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: t([4, 3]), bias: t([3]) },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [7, 9, 2], nodes, output: 'd', outputActivation: 'softmax' };
}

describe('malicious runner (protocol/malicious/runner.ts) against the float64 plaintext twin', () => {
  it('runs the local layers (rescaling offset, zero padding, add, subtract, reshape, flatten) exactly, batch 2, with edge inputs', async () => {
    const model = layoutModel();
    const N = 2, n = N * sizeOf(model.inputShape);
    // On the fixed-point grid, so the only rounding is none.
    const x = uniform(seededPrg(4), n, 100).map((v) => Math.round(v * 2 ** F) / 2 ** F);
    x[0] = 0; x[1] = -1; x[2] = 2 ** 39; x[3] = -(2 ** 39); x[4] = 2 ** -F; x[5] = -(2 ** -F);
    const { got, want, r } = await malVsPlain(model, N, x);
    expect(maxAbsErr(got, want)).toBe(0);
    // No product: set-up, input, openLow and the MAC check only.
    expect(r.bytes).toBe(setupCost().bytes + prepareWeightsCost(0).bytes + inputCost(n).bytes + openLowCost(48 * N).bytes + macCheckCost().bytes);
  });

  it('refuses, before any message, each layer it cannot run yet (here: with an empty primitives table), naming the layer and "not yet in malicious mode"', async () => {
    const none: MalPrimitives = {};
    const base = networkA();
    const cases: [ModelIR<unknown>, RegExp][] = [
      [base, /layer 'dense_0' \(dense\): the product needs truncation, which is not yet in malicious mode/],
      [{ ...base, nodes: [{ kind: 'activation', name: 'act', inputs: ['input'], activation: 'relu' }], output: 'act' }, /layer 'act' \(activation\): the ReLU activation is not yet in malicious mode/],
      [{ ...base, nodes: [{ kind: 'activation', name: 'sg', inputs: ['input'], activation: 'sigmoid' }], output: 'sg' }, /layer 'sg' \(activation\): the 'sigmoid' activation needs truncation, which is not yet in malicious mode/],
      [{ ...base, inputShape: [4, 4, 1], nodes: [{ kind: 'maxpool2d', name: 'mp', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' }], output: 'mp' }, /layer 'mp' \(maxpool2d\): MaxPool is not yet in malicious mode/],
      [{ ...base, inputShape: [4, 4, 1], nodes: [{ kind: 'avgpool2d', name: 'ap', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' }], output: 'ap' }, /layer 'ap' \(avgpool2d\): the division by the window size needs truncation, which is not yet in malicious mode/],
      [{ ...base, inputShape: [4, 4, 1], nodes: [{ kind: 'upsampling2d', name: 'up', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }], output: 'up' }, /layer 'up' \(upsampling2d\): bilinear interpolation needs truncation, which is not yet in malicious mode/],
    ];
    for (const [model, msg] of cases) {
      let err: unknown;
      try { checkMaliciousModel(model, F, none); } catch (e) { err = e; }
      expect(isMpcError(err) && err.code === 'E_UNSUPPORTED_LAYER').toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
    // In a run: every party refuses before sending anything for the model; no output.
    const parts = shareModelReplicated(base, F);
    const r = await runMal3(async (s) => {
      const w = await prepareWeights(s, parts[s.party]);
      const before = s.ctx.transport.counters.bytesSent;
      try {
        await malForward(s, w, { shape: [1, 784], data: (await import('./input.js')).publicM(s, liftSigned(new BigUint64Array(784))) }, { primitives: none });
        return 'ran';
      } catch (e) {
        return `${isMpcError(e) ? e.code : 'other'} after ${s.ctx.transport.counters.bytesSent - before} bytes`;
      }
    });
    expect(values(r)).toEqual(['E_UNSUPPORTED_LAYER after 0 bytes', 'E_UNSUPPORTED_LAYER after 0 bytes', 'E_UNSUPPORTED_LAYER after 0 bytes']);
    expect(weightCount(base)).toBe(784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10);
  });

  it('Network A (784-128-128-10, ReLU) against the plaintext twin; the forward pass sends exactly malForwardCost', async () => {
    const model = networkA();
    const x = uniform(seededPrg(11), 784, 0.5).map((v) => v + 0.5);
    const { got, want, r } = await malVsPlain(model, 1, x);
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsErr(got, want) / scale).toBeLessThan(1e-3);
    expect(argmax(got)).toBe(argmax(want));
    const fwd = malForwardCost(model, 1, F);
    expect(r.bytes).toBe(setupCost().bytes + prepareWeightsCost(weightCount(model)).bytes + inputCost(784).bytes + fwd.bytes + openLowCost(10).bytes + macCheckCost().bytes);
    expect(r.rounds).toBe(setupCost().rounds + prepareWeightsCost(weightCount(model)).rounds + inputCost(784).rounds + fwd.rounds + openLowCost(10).rounds + macCheckCost().rounds);
  }, 120_000);

  it('a small CNN with every layer kind the runner has (rescaling /255, zero padding, conv same / valid with strides and ReLU, MaxPool valid and same, Add, AvgPool same, GAP, Reshape, Flatten, Dense), batch 2', async () => {
    const model = cnnModel();
    const N = 2;
    const x = uniform(seededPrg(12), N * sizeOf(model.inputShape), 127.5).map((v) => v + 127.5);
    const { got, want, r } = await malVsPlain(model, N, x);
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsErr(got, want) / scale).toBeLessThan(2e-3);
    const fwd = malForwardCost(model, N, F);
    const n = N * sizeOf(model.inputShape), out = N * 3;
    expect(r.bytes).toBe(setupCost().bytes + prepareWeightsCost(weightCount(model)).bytes + inputCost(n).bytes + fwd.bytes + openLowCost(out).bytes + macCheckCost().bytes);
  }, 120_000);

  it('memory bound: with checkEveryBytes 1 a MAC check runs after every layer that sends, but the last (7 of 12 here), the result is the same, the counters equal malForwardCost with the checks', async () => {
    const model = cnnModel();
    const N = 2;
    const x = uniform(seededPrg(12), N * sizeOf(model.inputShape), 127.5).map((v) => v + 127.5);
    const { got, want, r } = await malVsPlain(model, N, x, { checkEveryBytes: 1 });
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsErr(got, want) / scale).toBeLessThan(2e-3);
    const withChecks = malForwardCost(model, N, F, { checkEveryBytes: 1 }), plain = malForwardCost(model, N, F);
    // A check follows each layer that declares bytes (the count since the last check reaches 1), the last one excepted:
    // rs (/255: a truncation), c1, mp1, c2, mp2, ap, gap; not zp, res, rsh, fl (local), nor d (the output's own check follows).
    const k = ['rs', 'c1', 'mp1', 'c2', 'mp2', 'ap', 'gap'].length;
    expect(withChecks).toEqual({ rounds: plain.rounds + k * macCheckCost().rounds, bytes: plain.bytes + k * macCheckCost().bytes });
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(malRunCost(model, N, { checkEveryBytes: 1 }));
    // The default threshold (1 GiB declared) runs no interim check on a model this small, nor on Network A.
    expect(MAL_CHECK_EVERY_BYTES).toBe(2 ** 30);
    expect(malForwardCost(networkA(), 1, F)).toEqual(malForwardCost(networkA(), 1, F, { checkEveryBytes: Infinity }));
  }, 120_000);

  it('declares the cost of a run without products (malForwardCost is zero) and refuses the cost of a model it cannot run', () => {
    expect(malForwardCost(layoutModel(), 2, F)).toEqual({ rounds: 0, bytes: 0 });
    expect(() => malForwardCost(networkA(), 1, F, { primitives: {} })).toThrow(/not yet in malicious mode/);
  });
});
