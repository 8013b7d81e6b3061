import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { defaultPreprocessing } from '../protocol/input-preprocessing.js';
import { seededUniform } from '../protocol/testing/seeded.js';
import { fixedPredict } from './fixed-sim.js';
import { choosePrecision, formatChoice } from './precision.js';
import { referencePredict } from './reference.js';
import { STRESS_PERIODS, stressImages, stressValues } from './stress-inputs.js';

const t = (shape: number[], v: ArrayLike<number>): FloatTensor => ({ shape, data: Float64Array.from(v) });
const uniform = seededUniform(36);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

/**
 * An edge detector (2x2 kernel 50 [[1, -1], [-1, 1]], ReLU) and a head of
 * weights ~1e-4: on smooth images the detector's outputs stay near 0, on a
 * 0/1 checkerboard they reach 100, and the head's rounded weights (2^-(f+1)
 * each) move the logits by ~100 sqrt(49) 2^-(f+1): the MobileNetV3-Small
 * mechanism (BENCHMARKS.md) in two layers.
 */
function edgeModel(): ModelIR<FloatTensor> {
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [8, 8, 1], output: 'head', outputActivation: 'softmax',
    nodes: [
      { kind: 'conv2d', name: 'edges', inputs: ['input'], filters: 1, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: t([2, 2, 1, 1], [50, -50, -50, 50]) },
      { kind: 'flatten', name: 'flat', inputs: ['edges'] },
      { kind: 'dense', name: 'head', inputs: ['flat'], units: 2, activation: 'linear', kernel: t([49, 2], uniform(98, -3e-4, 3e-4)), bias: t([2], [0.05, -0.05]) },
    ],
  };
}
/** Smooth natural-looking samples in [0, 1]: a gradient plus a little noise. */
const smooth = (n: number) => Array.from({ length: n }, (_, k) => Float32Array.from({ length: 64 }, (_, i) => 0.2 + 0.05 * k + 0.06 * (i % 8) + 0.04 * Math.floor(i / 8) + 0.002 * uniform(1, -1, 1)[0]!));

describe('in-range stress inputs for the precision chooser (model-import/stress-inputs.ts)', () => {
  it('every pattern lies in the declared range and the set holds constant low, constant high and every checkerboard', () => {
    const s = stressValues([8, 8, 3], -2, 5);
    expect(s.map((x) => x.name)).toEqual(['low', 'high', ...STRESS_PERIODS.map((p) => `checker${p}`), 'stripes8-x', 'stripes8-y']);
    for (const { input } of s) expect(input.every((v) => v === -2 || v === 5)).toBe(true);
    expect(s[0]!.input.every((v) => v === -2)).toBe(true);
    expect(s[1]!.input.every((v) => v === 5)).toBe(true);
    // checker1: neighbours differ, channels alike.
    const c1 = s[2]!.input;
    expect([c1[0], c1[1], c1[2], c1[3], c1[24]]).toEqual([-2, -2, -2, 5, 5]);
    const img = stressImages([4, 4, 1], { ...defaultPreprocessing([4, 4, 1]), scaling: 'symmetric' });
    expect(new Set(img.flatMap(({ input }) => Array.from(input)))).toEqual(new Set([-1, 1]));
    expect(() => stressValues([4], 1, 0)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => stressImages([16], defaultPreprocessing([4, 4, 1]))).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });

  it('a choice made on smooth samples misses the target on an in-range checkerboard; with the stress inputs the chooser raises f until they meet it too', () => {
    const ir = edgeModel();
    const samples = smooth(3);
    const stress = stressValues(ir.inputShape, 0, 1);
    const errOf = (f: number, xs: ArrayLike<number>[]) => Math.max(...xs.map((x) => maxAbs(fixedPredict(ir, Float32Array.from(x), 1, { fracBits: f }), referencePredict(ir, Float32Array.from(x), 1))));
    const plain = choosePrecision(ir, samples, { draws: 1 });
    const f0 = plain.settings.fracBits;
    expect(errOf(f0, samples)).toBeLessThan(5e-4);
    // The gap: at the samples' f an in-range input is off by more than the target (1e-3).
    expect(errOf(f0, stress.map((s) => s.input))).toBeGreaterThan(1e-3);
    const withStress = choosePrecision(ir, samples, { draws: 1, stressInputs: stress.map((s) => s.input) });
    console.log(formatChoice(withStress));
    expect(withStress.stress).toBe(stress.length);
    expect(withStress.samples).toBe(samples.length + stress.length);
    expect(withStress.settings.fracBits).toBeGreaterThan(f0);
    expect(errOf(withStress.settings.fracBits, stress.map((s) => s.input))).toBeLessThan(1e-3);
    expect(formatChoice(withStress)).toContain(`${stress.length} of them in-range stress images`);
  });
});
