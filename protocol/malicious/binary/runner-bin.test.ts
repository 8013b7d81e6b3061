import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../../ir.js';
import { networkA, seededPrg, uniform } from '../../seed-models.js';
import { sizeOf } from '../../layers/types.js';
import { MAL_F, malRunCost, malVsPlain, maxAbsErr } from '../../testing/mal-forward.js';
import { malForwardCost } from '../runner.js';
import { BINARY_COMPARE_PRIMITIVES, DEFAULT_MAL_PRIMITIVES, primitivesFor } from '../primitives.js';

const argmax = (a: Float64Array): number => a.indexOf(Math.max(...a));

/** Dense with ReLU, then the activations the runner builds on its ReLU primitive: relu6, LeakyReLU, Maximum. */
function actModel(): ModelIR<FloatTensor> {
  const g = seededPrg(21);
  const t = (shape: number[], a = 0.8): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'dense', name: 'd1', inputs: ['input'], units: 12, activation: 'relu', kernel: t([6, 12]), bias: t([12]) },
    { kind: 'dense', name: 'd2', inputs: ['input'], units: 12, activation: 'linear', kernel: t([6, 12], 3) },
    { kind: 'activation', name: 'r6', inputs: ['d2'], activation: 'relu6' },
    { kind: 'leaky_relu', name: 'lk', inputs: ['d2'], alpha: 0.2 },
    { kind: 'maximum', name: 'mx', inputs: ['d1', 'lk'] },
    { kind: 'add', name: 'sum', inputs: ['mx', 'r6'] },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [6], nodes, output: 'sum', outputActivation: 'linear' };
}

function cnnModel(): ModelIR<FloatTensor> {
  const g = seededPrg(23);
  const t = (shape: number[], a = 0.3): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'rescaling', name: 'rs', inputs: ['input'], scale: 1 / 255, offset: -0.25 },
    { kind: 'conv2d', name: 'c1', inputs: ['rs'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: t([3, 3, 2, 3]), bias: t([3]) },
    { kind: 'maxpool2d', name: 'mp1', inputs: ['c1'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'maxpool2d', name: 'mp2', inputs: ['mp1'], poolSize: [3, 3], strides: [2, 2], padding: 'same' },
    { kind: 'flatten', name: 'fl', inputs: ['mp2'] },
    { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: t([3 * 2 * 3, 3]), bias: t([3]) },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [6, 5, 2], nodes, output: 'd', outputActivation: 'softmax' };
}

describe("the malicious runner with comparisons: 'binary' (ReLU through protocol/malicious/binary/)", () => {
  it('is off by default: the default table is the arithmetic one, and the option picks the binary one', () => {
    expect(primitivesFor()).toBe(DEFAULT_MAL_PRIMITIVES);
    expect(primitivesFor('arithmetic')).toBe(DEFAULT_MAL_PRIMITIVES);
    expect(primitivesFor('binary')).toBe(BINARY_COMPARE_PRIMITIVES);
    expect(BINARY_COMPARE_PRIMITIVES.maxPool).not.toBe(DEFAULT_MAL_PRIMITIVES.maxPool);
    expect(BINARY_COMPARE_PRIMITIVES.trunc).toBe(DEFAULT_MAL_PRIMITIVES.trunc);
    expect(malForwardCost(networkA(), 1, MAL_F)).toEqual(malForwardCost(networkA(), 1, MAL_F, { comparisons: 'arithmetic' }));
  });

  it('Network A against the plaintext twin (the same argmax); the run sends exactly its declared cost; far fewer bytes than the arithmetic ReLU', async () => {
    const model = networkA();
    const x = uniform(seededPrg(11), 784, 0.5).map((v) => v + 0.5);
    const { got, want, r } = await malVsPlain(model, 1, x, { comparisons: 'binary' });
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsErr(got, want) / scale).toBeLessThan(1e-3);
    expect(argmax(got)).toBe(argmax(want));
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(malRunCost(model, 1, { comparisons: 'binary' }));
    const bin = malForwardCost(model, 1, MAL_F, { comparisons: 'binary' }), ari = malForwardCost(model, 1, MAL_F);
    expect(bin.bytes).toBeLessThan(ari.bytes / 2);
  }, 120_000);

  it('Dense + ReLU, relu6, LeakyReLU and Maximum on the binary ReLU, batch 3, against the twin; the run sends exactly its declared cost', async () => {
    const model = actModel();
    const N = 3;
    const x = uniform(seededPrg(22), N * 6, 2);
    const { got, want, r } = await malVsPlain(model, N, x, { comparisons: 'binary' });
    expect(maxAbsErr(got, want)).toBeLessThan(4e-3);
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(malRunCost(model, N, { comparisons: 'binary' }));
  }, 120_000);

  it('a small CNN (conv with ReLU, MaxPool valid and same) on the binary ReLU and MaxPool, batch 2, against the twin; the run sends exactly its declared cost, fewer bytes than the arithmetic one', async () => {
    const model = cnnModel();
    const N = 2;
    const x = uniform(seededPrg(24), N * sizeOf(model.inputShape), 127.5).map((v) => v + 127.5);
    const { got, want, r } = await malVsPlain(model, N, x, { comparisons: 'binary' });
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsErr(got, want) / scale).toBeLessThan(2e-3);
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(malRunCost(model, N, { comparisons: 'binary' }));
    expect(malForwardCost(model, N, MAL_F, { comparisons: 'binary' }).bytes).toBeLessThan(malForwardCost(model, N, MAL_F).bytes / 2);
  }, 120_000);
});
