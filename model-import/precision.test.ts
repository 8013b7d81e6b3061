import { describe, expect, it } from 'vitest';
import { seededUniform } from '../protocol/testing/seeded.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR, type OutputActivation } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { fixedLogits } from './fixed-sim.js';
import { allowedMagnitude, choosePrecision, formatChoice } from './precision.js';
import { applyOutputActivation, referenceLogits } from './reference.js';

const t = (shape: number[], v: ArrayLike<number>): FloatTensor => ({ shape, data: Float64Array.from(v) });
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[], outputActivation: OutputActivation = 'softmax'): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes.at(-1)!.name, outputActivation });
const uniform = seededUniform(3);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

/** Weights of magnitude ~1e-4 on inputs up to 100: rounding them to f bits moves the logits by ~n 100 2^-(f+1). */
function tinyWeights(): ModelIR<FloatTensor> {
  return model([16], [{ kind: 'dense', name: 'tiny', inputs: ['input'], units: 2, activation: 'linear', kernel: t([16, 2], uniform(32, -3e-4, 3e-4)), bias: t([2], [0.01, -0.01]) }]);
}
/** A hidden layer of 32 units whose pre-activations reach ~scale / 2 (inputs in [0.5, 1], weights in [scale / 32, scale / 16)); a head of alternating signs, weights +-1/64. */
function wide(scale: number, act: 'relu' | 'sigmoid' = 'relu'): ModelIR<FloatTensor> {
  const a = act === 'relu' ? 'relu_1' : 'gate';
  const head = Array.from({ length: 64 }, (_, i) => ((Math.floor(i / 2) + (i % 2)) % 2 === 0 ? 1 : -1) / 64);
  return model([16], [
    { kind: 'dense', name: 'big_preact', inputs: ['input'], units: 32, activation: 'linear', kernel: t([16, 32], uniform(512, scale / 32, scale / 16)) },
    { kind: 'activation', name: a, inputs: ['big_preact'], activation: act },
    { kind: 'dense', name: 'head', inputs: [a], units: 2, activation: 'linear', kernel: t([32, 2], head) },
  ]);
}
const samples = (n: number, per: number, lo: number, hi: number) => Array.from({ length: n }, () => uniform(per, lo, hi));

describe('precision chooser (model-import/precision.ts)', () => {
  it('a model whose low f misses the target: f = 12 refused on the error, a higher f chosen, and that f meets the target in the plain simulation too', () => {
    const m = tinyWeights(), xs = samples(6, 16, 50, 100);
    const c = choosePrecision(m, xs);
    console.log(formatChoice(c));
    expect(c.trials[0]).toMatchObject({ settings: { fracBits: 12, truncation: 'local', compareBits: 32 }, verdict: 'error' });
    expect(c.trials[0]!.error!).toBeGreaterThan(5e-4);
    expect(c.settings.fracBits).toBeGreaterThan(12);
    expect(c.settings).toMatchObject({ truncation: 'local', compareBits: 32 });
    expect(c.trials.at(-1)).toMatchObject({ verdict: 'chosen', settings: c.settings });
    // Independently of the chooser: at the chosen f the nearest-rounding simulation is within the target on every sample;
    // every f below it was refused on the error.
    for (const x of xs) {
      const want = applyOutputActivation(referenceLogits(m, x, 1), 1, 'softmax');
      expect(maxAbs(applyOutputActivation(fixedLogits(m, x, 1, { fracBits: c.settings.fracBits }), 1, 'softmax'), want)).toBeLessThan(1e-3);
    }
    expect(c.trials.filter((x) => x.verdict === 'error').map((x) => x.settings.fracBits)).toEqual(Array.from({ length: c.settings.fracBits - 12 }, (_, i) => 12 + i));
    // A looser target picks a lower f.
    expect(choosePrecision(m, xs, { targetError: 0.2 }).settings.fracBits).toBeLessThan(c.settings.fracBits);
  });

  it('an explicit --frac-bits overrides the target (a WARNING, not a refusal); explicit settings restrict the candidates', () => {
    const m = tinyWeights(), xs = samples(3, 16, 50, 100);
    const c = choosePrecision(m, xs, { fracBits: 12 });
    expect(c.settings.fracBits).toBe(12);
    expect(c.warnings.join()).toMatch(/explicit f = 12 misses the target/);
    expect(formatChoice(c)).toMatch(/WARNING: the explicit f = 12/);
    expect(choosePrecision(m, xs, { truncation: 'exact', compareBits: 64 }).settings).toMatchObject({ truncation: 'exact', compareBits: 64 });
  });

  it('activations beyond the 32-bit comparison ring: the chooser takes the 64-bit ring; an explicit 32 is refused naming the layer, the observed max and the allowed range; --force keeps it', () => {
    // Pre-activations ~5e5 real: above 2^(31-12) / 4 = 131072 at every f, far inside 2^(63-f) / 4.
    const m = wide(1e6), xs = samples(3, 16, 0.5, 1);
    const c = choosePrecision(m, xs);
    expect(c.settings.compareBits).toBe(64);
    expect(c.trials[0]).toMatchObject({ settings: { compareBits: 32 }, verdict: 'range', worst: { layer: 'relu_1', kind: 'sign' } });
    expect(c.trials[0]!.worst!.maxAbs).toBeGreaterThan(allowedMagnitude('sign', 12, 32, 4));
    let err: unknown;
    try { choosePrecision(m, xs, { compareBits: 32 }); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'relu_1': compared values \(\|x\|\) reach [\d.e+]+ on the 3 samples; allowed 1\.31e\+5 at f = 12, local truncation, 32-bit comparisons .*--force/) });
    const forced = choosePrecision(m, xs, { compareBits: 32, force: true });
    expect(forced).toMatchObject({ forced: true, settings: { compareBits: 32, fracBits: 13 } }); // the defaults for what was not given
    expect(formatChoice(forced)).toMatch(/FORCED/);
  });

  it('the chooser\'s 64-bit choice is right: the secure run at the chosen settings is what the simulation predicts, the 32-bit run is silently wrong', async () => {
    const m = wide(1e6), x = uniform(16, 0.5, 1), k = getKernels();
    const c = choosePrecision(m, [x]);
    expect(c.settings.compareBits).toBe(64);
    const f = c.settings.fracBits;
    const parts = shareModel(k, m, f), xs = shareFor3(encode(x, f));
    const run = async (compareBits: 32 | 64) => {
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 16], data: xs[ctx.party] }), { fracBits: f, compareBits, truncation: c.settings.truncation });
      return decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
    };
    const sim = fixedLogits(m, x, 1, { fracBits: f });
    expect(maxAbs(await run(64), sim)).toBeLessThan(64 / 2 ** f);
    expect(maxAbs(await run(32), sim)).toBeGreaterThan(1); // what the range check prevents
  });

  it('an input outside a smooth approximation\'s valid range (its comparisons x - B_k leave the ring) is caught on the samples: coded error naming the layer', () => {
    const m = wide(1e6, 'sigmoid'), xs = samples(2, 16, 0.5, 1);
    expect(() => choosePrecision(m, xs, { compareBits: 32 })).toThrow(expect.objectContaining({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'gate': compared values/) }));
    // Without a ring that holds it at all (|x| ~ 1e16 > 2^(63-12) / 4): refused whatever the settings.
    const huge = wide(1e17, 'sigmoid');
    expect(() => choosePrecision(huge, xs)).toThrow(expect.objectContaining({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'gate'.*64-bit comparisons/) }));
  });

  it('local truncation\'s failure risk above the limit moves to exact truncation; MaxPool \'same\' padding and Maximum are range-checked', () => {
    const m = tinyWeights(), xs = samples(2, 16, 50, 100);
    const c = choosePrecision(m, xs, { riskLimit: 1e-30 });
    expect(c.settings.truncation).toBe('exact');
    expect(c.trials.some((x) => x.verdict === 'risk')).toBe(true);
    const pool = model([2, 2, 1], [{ kind: 'maxpool2d', name: 'mp_same', inputs: ['input'], poolSize: [3, 3], strides: [1, 1], padding: 'same' }], 'linear');
    const c2 = choosePrecision(pool, [Float64Array.of(3e4, -2, 3, 0.5)]);
    // 'padded': |v| 2^f < 2^29 / 4 needs f <= 12 for 3e4 (2^29 / 4 / 3e4 = 4473 = 2^12.1).
    expect(c2.settings.fracBits).toBe(12);
    expect(c2.ranges).toEqual(expect.arrayContaining([{ layer: 'mp_same', kind: 'padded', maxAbs: 3e4 }, { layer: 'mp_same', kind: 'difference', maxAbs: 6e4 }]));
  });

  it('with a secure argmax (output mode label) the logits are compared too: logits ~5e4 fit the 32-bit ring as outputs, not under the argmax\'s push-down', () => {
    const m = model([2], [{ kind: 'dense', name: 'logits', inputs: ['input'], units: 2, activation: 'linear', kernel: t([2, 2], [5e4, 0, 0, 4e4]) }]);
    const xs = [Float64Array.of(1, 1), Float64Array.of(0.9, 1)];
    expect(choosePrecision(m, xs).settings.compareBits).toBe(32);
    const c = choosePrecision(m, xs, { comparesOutput: true });
    expect(c.settings.compareBits).toBe(64);
    // 'padded': the winner pushed down by 2^29 ring units needs |logit| 2^f < 2^29 / 4, i.e. < 32768 at f = 12.
    expect(c.trials[0]).toMatchObject({ verdict: 'range', worst: { layer: 'logits (secure argmax)', kind: 'padded', maxAbs: 5e4 } });
  });

  it('--min-agreement: outputs near a decision boundary (200 sigmoid logits of 2e-5 to 1.5e-3) push f up until their sides agree; without it they are printed only', () => {
    // |w| in [2e-5, 1e-3] with random signs: at f = 12 (ulp 2.4e-4) many round to 0 or flip, at f = 20 every one is >= 20 ulp.
    const signs = uniform(200, -1, 1), w = uniform(200, 2e-5, 1e-3).map((v, i) => (signs[i]! < 0 ? -v : v));
    const m = model([1], [{ kind: 'dense', name: 'labels', inputs: ['input'], units: 200, activation: 'linear', kernel: t([1, 200], w) }], 'sigmoid');
    const xs = [Float64Array.of(1), Float64Array.of(1.5)];
    const loose = choosePrecision(m, xs);
    expect(loose.settings.fracBits).toBe(12);
    const strict = choosePrecision(m, xs, { minAgreement: 1 });
    expect(strict.trials[0]).toMatchObject({ settings: { fracBits: 12 }, verdict: 'decisions' });
    expect(strict.trials[0]!.decisions!).toBeLessThan(1);
    expect(strict.settings.fracBits).toBeGreaterThan(12);
    expect(strict.trials.at(-1)!.decisions).toBe(1);
    expect(() => choosePrecision(m, xs, { minAgreement: 1.5 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });

  it('refuses bad options and an empty sample set with coded errors', () => {
    const m = tinyWeights();
    expect(() => choosePrecision(m, [])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => choosePrecision(m, [uniform(16, 0, 1)], { targetError: 0 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => choosePrecision(m, [uniform(16, 0, 1)], { fracBits: 30 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});
