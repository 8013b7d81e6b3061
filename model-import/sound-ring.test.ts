/**
 * The comparison ring's policy when the sound bound proves nothing
 * (sound-ring.ts looseBoundBasis): a deep model whose interval bound no ring
 * holds is imported on its samples and marked 'samples-only', naming the
 * first layer no ring holds; --require-sound-bound (requireSoundBound)
 * refuses it; a shallow model stays 'sound'.
 */
import { describe, expect, it } from 'vitest';
import { seededUniform } from '../protocol/testing/seeded.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { allowedMagnitude, choosePrecision, formatChoice } from './precision.js';
import { soundRangesFor } from './sound-ring.js';

const uniform = seededUniform(2);

/**
 * `depth` Dense(16, relu) layers with He-uniform weights (real activations keep their scale) and a Dense(2) head:
 * the interval bound grows by about sum_j |W_ij| ~ 5 per layer, past the 64-bit ring after ~20 layers.
 */
function chain(depth: number): ModelIR<FloatTensor> {
  const a = Math.sqrt(6 / 16);
  const nodes: LayerNode<FloatTensor>[] = Array.from({ length: depth }, (_, i) => ({
    kind: 'dense', name: `d${i}`, inputs: [i === 0 ? 'input' : `d${i - 1}`], units: 16, activation: 'relu',
    kernel: { shape: [16, 16], data: uniform(256, -a, a) }, bias: { shape: [16], data: uniform(16, -0.1, 0.1) },
  }));
  nodes.push({ kind: 'dense', name: 'head', inputs: [`d${depth - 1}`], units: 2, activation: 'linear', kernel: { shape: [16, 2], data: uniform(32, -a, a) } });
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [16], nodes, output: 'head', outputActivation: 'softmax' };
}

describe('the comparison ring when no ring holds the sound bound (sound-ring.ts looseBoundBasis)', () => {
  const xs = Array.from({ length: 3 }, () => uniform(16, 0, 1));
  const opts = { targetError: 0.05 };

  it('a 60-layer chain imports on its samples, marked samples-only, naming the first layer no ring holds; no layer moved to 64 bits', () => {
    const m = chain(60);
    const soundRanges = soundRangesFor(m, undefined, [0, 1], false)!;
    const c = choosePrecision(m, xs, { ...opts, soundRanges });
    expect(c.ringBasis).toBe('samples-only');
    expect(c.wideLayers).toEqual([]);
    // Exactly the choice of the samples alone (the policy before the sound bound).
    expect(c.settings).toEqual(choosePrecision(m, xs, opts).settings);
    // The named layer is the first, in IR order, whose bound the 64-bit ring cannot hold at the chosen f.
    const f = c.settings.fracBits;
    const first = soundRanges.findIndex((r) => r.maxAbs > allowedMagnitude(r.kind, f, 64, 4));
    expect(first).toBeGreaterThan(5); // shallow layers are held: it is the depth
    expect(c.looseBound).toEqual({ layer: `d${first}`, node: first, nodes: 61 });
    expect(soundRanges.slice(0, first).every((r) => r.maxAbs <= allowedMagnitude(r.kind, f, 64, 4))).toBe(true);
    // The samples themselves stay far inside the ring there.
    expect(c.ranges.find((r) => r.layer === `d${first}`)!.maxAbs).toBeLessThan(allowedMagnitude('sign', f, 32, 4));
    expect(c.ringNote).toMatch(new RegExp(`^32-bit comparison ring chosen on the samples only: no ring holds the sound bound over the declared input range at f = ${f} at layer 'd${first}' \\(IR node ${first + 1} of 61, the first where no ring holds it\\): interval bound too loose at this depth`));
    expect(c.ringNote).not.toMatch(/\d\.\d|e[+-]\d|\d{5}/); // no magnitudes (derived from the weights) for the manifests
    expect(c.ringReason).toMatch(/^the samples only .*proves nothing for this model.*by the bound, .* allowed on the 64-bit ring; the samples reach .* there; \d+ of 60 compared layers are beyond the 64-bit ring/);
    const report = formatChoice(c);
    expect(report).toMatch(new RegExp(`WARNING: the comparison ring rests on the samples only \\(no ring holds the sound bound over the declared input range at layer 'd${first}', IR node ${first + 1} of 61: interval bound too loose at this depth\\)`));
    expect(report).not.toMatch(/UNSOUND/);
  });

  it('--require-sound-bound refuses it with E_PRECISION_RANGE naming that layer', () => {
    const m = chain(60);
    const soundRanges = soundRangesFor(m, undefined, [0, 1], false)!;
    let err: unknown;
    try { choosePrecision(m, xs, { ...opts, soundRanges, requireSoundBound: true }); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'd\d+': compared values \(\|x\|\) reach .* by the sound bound over the declared input range; allowed .* at f = 12, .* 64-bit comparisons .*--require-sound-bound/) });
    // The layer named (the binding one at the widest candidate, f = 12 on 64 bits) is one the 64-bit ring cannot hold.
    const named = soundRanges.find((r) => r.layer === /^layer '(d\d+)'/.exec((err as Error).message)![1])!;
    expect(named.maxAbs).toBeGreaterThan(allowedMagnitude(named.kind, 12, 64, 4));
  });

  it('a shallow chain stays sound, with and without --require-sound-bound', () => {
    const m = chain(3);
    const soundRanges = soundRangesFor(m, undefined, [0, 1], false)!;
    for (const requireSoundBound of [false, true]) {
      const c = choosePrecision(m, xs, { ...opts, soundRanges, requireSoundBound });
      expect(c.ringBasis).toBe('sound');
      expect(c.looseBound).toBeUndefined();
      expect(c.ringNote).toBeUndefined();
    }
  });

  it('--require-sound-bound refuses a model with no declared input range and an explicit ring that does not hold the bound', () => {
    const m = chain(60);
    expect(() => choosePrecision(m, xs, { ...opts, requireSoundBound: true })).toThrow(expect.objectContaining({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/--require-sound-bound: the model declares no input range/) }));
    const soundRanges = soundRangesFor(m, undefined, [0, 1], false)!;
    expect(choosePrecision(m, xs, { ...opts, soundRanges, compareBits: 64 }).ringBasis).toBe('unsound-override');
    expect(() => choosePrecision(m, xs, { ...opts, soundRanges, compareBits: 64, requireSoundBound: true })).toThrow(expect.objectContaining({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^--require-sound-bound: explicit --compare-bits 64 does NOT hold the sound bound/) }));
  });
});
