import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { argmax, checkLogits, parseLogits } from './compare.js';
import { mpSpdzInput, PEER_MODELS, peerInput, peerLayers } from './export-weights.js';

/** Every weight tensor of the model, kernel then bias per layer (peer_nets.mpc's opt.thetas order). */
function thetas(model: ModelIR<FloatTensor>): Float64Array[] {
  const out: Float64Array[] = [];
  for (const n of model.nodes) if (n.kind === 'conv2d' || n.kind === 'dense') { out.push(n.kernel.data); if (n.bias) out.push(n.bias.data); }
  return out;
}

describe('export-weights (the peers read our seed weights)', () => {
  it.each(Object.keys(PEER_MODELS))('%s: Input-P0-0 holds every weight in thetas order, then the image, value for value', (key) => {
    const model = PEER_MODELS[key]!.make();
    const x = peerInput(model);
    const text = mpSpdzInput(peerLayers(model), x);
    const lines = text.trimEnd().split('\n');
    const want = [...thetas(model), x];
    expect(lines.length).toBe(want.length);
    lines.forEach((line, i) => {
      const got = line.split(' ').map(Number);
      expect(got.length).toBe(want[i]!.length);
      // Decimal text round-trips float64 exactly (String gives the shortest exact form).
      expect(Float64Array.from(got)).toEqual(want[i]);
    });
  });

  it('the seed CNN as the peers see it: conv kernels [kh, kw, Cin, Cout], 640 inputs to the first Dense (peer_nets.mpc computes the same)', () => {
    const layers = peerLayers(PEER_MODELS['cnn-maxpool']!.make());
    expect(layers.map((l) => l.kind)).toEqual(['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'dense', 'dense']);
    expect(layers[0]!.kernel!.shape).toEqual([8, 8, 1, 16]);
    expect(layers[0]!.params).toMatchObject({ padding: 'same', stride: [2, 2], activation: 'relu' });
    expect(layers[9]!.kernel!.shape).toEqual([640, 32]);
    expect(layers[10]!.params).toMatchObject({ units: 2, activation: 'linear' });
  });

  it('the input is the benchmark input: 150x125 values in [0, 1), the same on every call', () => {
    const model = PEER_MODELS['cnn-maxpool']!.make();
    const x = peerInput(model);
    expect(x.length).toBe(150 * 125);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...x)).toBeLessThan(1);
    expect(peerInput(model)).toEqual(x);
  });

  it('rejects a layer kind the peer programs do not have, with a coded error', () => {
    const model = PEER_MODELS.networkA!.make();
    const bad = { ...model, nodes: [...model.nodes, { kind: 'avgpool2d', name: 'p', inputs: ['x'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' } as const] } as ModelIR<FloatTensor>;
    expect(() => peerLayers(bad)).toThrow(MpcError);
    try { peerLayers(bad); } catch (e) { expect((e as MpcError).code).toBe('E_UNSUPPORTED_LAYER'); }
  });
});

describe('compare (a peer against our logits)', () => {
  it('parses MP-SPDZ\'s printed vector and a comma list', () => {
    expect(parseLogits('[0.242905, -1.33917, 0.25264]')).toEqual([0.242905, -1.33917, 0.25264]);
    expect(parseLogits('-2.5,1.25')).toEqual([-2.5, 1.25]);
  });

  it('argmax takes the first of equal maxima and rejects an empty vector', () => {
    expect(argmax([1, 3, 3, -1])).toBe(1);
    expect(argmax([-5])).toBe(0);
    expect(() => argmax([])).toThrow(MpcError);
  });

  it('reports argmax agreement and the largest absolute difference', () => {
    expect(checkLogits([0.1, 0.9], [0.2, 0.7])).toEqual({ argmaxPeer: 1, argmaxOurs: 1, argmaxAgree: true, maxAbsDiff: expect.closeTo(0.2, 12) as number });
    const off = checkLogits([0.9, 0.1], [0.2, 0.7]);
    expect(off.argmaxAgree).toBe(false);
    expect(off.maxAbsDiff).toBeCloseTo(0.7, 12);
  });

  it('rejects a length mismatch and non-numbers with a coded error', () => {
    expect(() => checkLogits([1, 2, 3], [1, 2])).toThrow(/3 logits, ours 2/);
    expect(() => checkLogits([Number.NaN, 1], [1, 2])).toThrow(MpcError);
    expect(() => checkLogits(parseLogits('[a, 1]'), [1, 2])).toThrow(/not a finite number/);
  });
});
