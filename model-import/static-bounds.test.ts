import { describe, expect, it } from 'vitest';
import { seededUniform } from '../protocol/testing/seeded.js';
import { floatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { inputBoundsOf } from '../protocol/input-preprocessing.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { seedCnn } from '../protocol/seed-models.js';
import { allowedMagnitude, choosePrecision, floatPass, formatChoice } from './precision.js';
import { inputBox, outputBox, staticRanges } from './static-bounds.js';
import { soundRangesFor } from './sound-ring.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { fixedLogits } from './fixed-sim.js';

const t = (shape: number[], v: ArrayLike<number>): FloatTensor => ({ shape, data: Float64Array.from(v) });
const uniform = seededUniform(1);
const w = (shape: number[], a = 0.5) => t(shape, uniform(shape.reduce((x, y) => x * y, 1), -a, a));
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[]): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes.at(-1)!.name, outputActivation: 'softmax' });

/** Every layer kind whose interval rule differs: linear (conv, depthwise, dense, transpose), order-preserving, reversing, Subtract, Multiply, piecewise and smooth activations. */
function mixed(): ModelIR<FloatTensor> {
  return model([6, 6, 2], [
    { kind: 'rescaling', name: 'neg', inputs: ['input'], scale: -0.75, offset: 0.3 },
    { kind: 'conv2d', name: 'c1', inputs: ['neg'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: w([3, 3, 2, 3]), bias: w([3]) },
    { kind: 'depthwise_conv2d', name: 'dw', inputs: ['c1'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'relu6', kernel: w([3, 3, 3, 1], 2), bias: w([3]) },
    { kind: 'add', name: 'add', inputs: ['c1', 'dw'] },
    { kind: 'subtract', name: 'sub', inputs: ['dw', 'c1'] },
    { kind: 'leaky_relu', name: 'lk', inputs: ['sub'], alpha: 0.2 },
    { kind: 'prelu', name: 'pr', inputs: ['add'], kernel: t([3], [-0.5, 0.3, 2]) },
    { kind: 'multiply', name: 'mul', inputs: ['lk', 'pr'] },
    { kind: 'activation', name: 'sig', inputs: ['mul'], activation: 'sigmoid' },
    { kind: 'concatenate', name: 'cat', inputs: ['sig', 'lk'], axis: 2 },
    { kind: 'maxpool2d', name: 'mp', inputs: ['cat'], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
    { kind: 'maximum', name: 'mx', inputs: ['mp', 'mp'] },
    { kind: 'upsampling2d', name: 'up', inputs: ['mx'], size: [2, 2], interpolation: 'bilinear' },
    { kind: 'conv2d_transpose', name: 'tr', inputs: ['up'], filters: 2, kernelSize: [2, 2], strides: [1, 1], pad: [[1, 1], [1, 1]], activation: 'hard_silu', kernel: w([2, 2, 6, 2]), bias: w([2]) },
    { kind: 'avgpool2d', name: 'ap', inputs: ['tr'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
    { kind: 'zero_padding2d', name: 'zp', inputs: ['ap'], padding: [[1, 0], [0, 1]] },
    { kind: 'activation', name: 'gl', inputs: ['zp'], activation: 'gelu' },
    { kind: 'flatten', name: 'fl', inputs: ['gl'] },
    { kind: 'dense', name: 'd1', inputs: ['fl'], units: 5, activation: 'silu', kernel: w([32, 5]), bias: w([5]) },
    { kind: 'dense', name: 'out', inputs: ['d1'], units: 3, activation: 'relu', kernel: w([5, 3]), bias: w([3]) },
  ]);
}

/** Random points of the box, its two extreme corners and random corners. */
function points(lo: number, hi: number, n: number, count: number): Float64Array[] {
  const out: Float64Array[] = [new Float64Array(n).fill(lo), new Float64Array(n).fill(hi)];
  for (let i = 0; i < count; i++) out.push(uniform(n, lo, hi), uniform(n, 0, 1).map((u) => (u < 0.5 ? lo : hi)));
  return out;
}

describe('sound static bound of compared values (model-import/static-bounds.ts)', () => {
  it('holds every compared magnitude and every output on random points and corners of the input box, for every layer kind', () => {
    for (let rep = 0; rep < 3; rep++) {
      const m = mixed(), xs = points(-1, 2, 72, 40);
      const bound = staticRanges(m, inputBox(m.inputShape, [-1], [2]));
      const seen = floatPass(m, xs).ranges;
      expect(seen.length).toBeGreaterThan(8);
      for (const r of seen) {
        const b = bound.find((x) => x.layer === r.layer && x.kind === r.kind);
        expect(b, `${r.layer}/${r.kind} has a bound`).toBeDefined();
        expect(r.maxAbs).toBeLessThanOrEqual(b!.maxAbs * (1 + 1e-6)); // floatPass rounds weights to float32
      }
      const box = outputBox(m, inputBox(m.inputShape, [-1], [2]));
      for (const x of xs) {
        const y = forwardIR(m, x, 1, floatArith).data;
        y.forEach((v, i) => { expect(v).toBeGreaterThanOrEqual(box.lo[i]! - 1e-12); expect(v).toBeLessThanOrEqual(box.hi[i]! + 1e-12); });
      }
    }
  });

  it('is exact for an affine layer: the bound of a ReLU input is reached at a corner of the box', () => {
    const K = w([8, 4], 3), b = w([4]);
    const m = model([8], [{ kind: 'dense', name: 'd', inputs: ['input'], units: 4, activation: 'relu', kernel: K, bias: b }]);
    const [r] = staticRanges(m, inputBox([8], [-0.5], [1.5]));
    // The largest |W x + b| over the box is at the corner that follows the signs of one unit's weights.
    let best = 0;
    for (let u = 0; u < 4; u++) for (const sgn of [1, -1]) {
      const x = Float64Array.from({ length: 8 }, (_, i) => (sgn * K.data[i * 4 + u]! > 0 ? 1.5 : -0.5));
      best = Math.max(best, floatPass(m, [x]).ranges[0]!.maxAbs);
    }
    // floatPass rounds the weights to float32 as Keras does: equal within that rounding.
    expect(Math.abs(r!.maxAbs - best)).toBeLessThan(1e-6 * best);
  });

  it('per-channel input ranges come from the preprocessing (ImageNet mean/std) and refuse lo > hi', () => {
    const b = inputBoundsOf({ colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(b.lo[0]).toBeCloseTo(-0.485 / 0.229, 12);
    expect(b.hi[2]).toBeCloseTo((1 - 0.406) / 0.225, 12);
    expect(inputBoundsOf({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'symmetric', channelOrder: 'rgb' })).toEqual({ lo: [-1], hi: [1] });
    expect(() => inputBox([4], [1], [0])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});

/** 16 inputs in [0, 1]; a hidden ReLU layer whose pre-activations reach `scale` at the all-ones corner but ~scale / 100 on small samples. */
function gated(scale: number): ModelIR<FloatTensor> {
  const head = Array.from({ length: 64 }, (_, i) => ((Math.floor(i / 2) + (i % 2)) % 2 === 0 ? 1 : -1) / 64);
  return model([16], [
    { kind: 'dense', name: 'big_preact', inputs: ['input'], units: 32, activation: 'relu', kernel: t([16, 32], uniform(512, scale / 32, scale / 16)) },
    { kind: 'dense', name: 'head', inputs: ['big_preact'], units: 2, activation: 'linear', kernel: t([32, 2], head) },
  ]);
}

describe('the comparison ring decided by the sound bound (precision.ts soundRanges)', () => {
  const xs = Array.from({ length: 3 }, () => uniform(16, 0, 0.01));
  const corner = new Float64Array(16).fill(1);

  it('samples alone choose the 32-bit ring although an input in the declared range leaves it (the silent gap); the sound bound moves that layer to the 64-bit ring', () => {
    const m = gated(2e6);
    const bySamples = choosePrecision(m, xs, { targetError: 0.05 });
    expect(bySamples.settings.compareBits).toBe(32);
    expect(bySamples.ringBasis).toBe('samples-only');
    // The all-ones input is in [0, 1]^16 and its ReLU input exceeds what the 32-bit ring allows at the chosen f.
    const reached = floatPass(m, [corner]).ranges.find((r) => r.layer === 'big_preact')!.maxAbs;
    expect(reached).toBeGreaterThan(allowedMagnitude('sign', bySamples.settings.fracBits, 32, 1));
    const soundRanges = soundRangesFor(m, undefined, [0, 1], false)!;
    const c = choosePrecision(m, xs, { targetError: 0.05, soundRanges });
    expect(c.settings.compareBits).toBe(32);
    expect(c.wideLayers).toEqual(['big_preact']);
    expect(c.ringBasis).toBe('sound');
    expect(c.ringReason).toMatch(/the 32-bit ring holds it at f = \d+ .* except at 1 layer \('big_preact'; .*\), which run on the 64-bit ring/);
    expect(formatChoice(c)).toMatch(/32-bit comparison ring \(64-bit at 1 layer\)\n[^]*comparison ring decided by: the sound bound/);
    // With a secure argmax over logits the bound puts beyond the 32-bit ring (not a layer: no per-layer ring), the whole model goes to 64.
    const argmax = choosePrecision(m, xs, { targetError: 0.05, comparesOutput: true, soundRanges: soundRangesFor(m, undefined, [0, 1], true)! });
    expect(argmax.settings.compareBits).toBe(64);
    expect(argmax.wideLayers).toEqual([]);
    expect(argmax.ringReason).toMatch(/32-bit ring cannot hold it .*secure argmax/);
    expect(argmax.trials[0]).toMatchObject({ settings: { compareBits: 32 }, verdict: 'range', worst: { sound: true } });
    // The sound bound is at least what the corner reaches, and the 64-bit ring holds it.
    expect(soundRanges[0]!.maxAbs * (1 + 1e-6)).toBeGreaterThanOrEqual(reached); // floatPass rounds weights to float32
    expect(soundRanges[0]!.maxAbs).toBeLessThan(allowedMagnitude('sign', c.settings.fracBits, 64, 4));
  });

  it('over shares: the marked layer on the 64-bit ring inside a 32-bit run gives the plaintext answer at the corner input; without the mark the 32-bit run is silently wrong', async () => {
    const m = gated(2e6), f = 12, k = getKernels();
    const run = async (mark: boolean) => {
      const mm = { ...m, nodes: m.nodes.map((n) => (mark && n.name === 'big_preact' ? { ...n, compareBits: 64 as const } : n)) };
      const parts = shareModel(k, mm, f), xs = shareFor3(encode(corner, f));
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 16], data: xs[ctx.party] }), { fracBits: f, compareBits: 32, truncation: 'exact' });
      return decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
    };
    const want = fixedLogits(m, corner, 1, { fracBits: f });
    const err = (a: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - want[i]!)));
    expect(err(await run(true))).toBeLessThan(64 / 2 ** f);
    expect(err(await run(false))).toBeGreaterThan(1);
  });

  it('a model the sound bound fits keeps the 32-bit ring, and says so', () => {
    const m = gated(100);
    const c = choosePrecision(m, xs, { targetError: 0.05, soundRanges: soundRangesFor(m, undefined, [0, 1], false)! });
    expect(c.settings.compareBits).toBe(32);
    expect(c.ringBasis).toBe('sound');
    expect(c.ringReason).toMatch(/the sound bound over the declared input range at f = \d+: 'big_preact'/);
  });

  it('an explicit --compare-bits 32 that does not hold the sound bound is kept with a loud UNSOUND warning', () => {
    const m = gated(2e6);
    const c = choosePrecision(m, xs, { targetError: 0.05, compareBits: 32, soundRanges: soundRangesFor(m, undefined, [0, 1], false)! });
    expect(c.settings.compareBits).toBe(32);
    expect(c.ringBasis).toBe('unsound-override');
    expect(c.ringReason).toMatch(/explicit --compare-bits 32 does NOT hold the sound bound .*'big_preact'/);
    expect(formatChoice(c)).toMatch(/WARNING: UNSOUND COMPARISON RING/);
  });

  it('a sound bound not even the 64-bit ring holds is refused naming the layer with --require-sound-bound (E_PRECISION_RANGE; without it: sound-ring.test.ts)', () => {
    const m = gated(1e17);
    const small = Array.from({ length: 2 }, () => uniform(16, 0, 1e-13));
    expect(() => choosePrecision(m, small, { targetError: 0.05, soundRanges: soundRangesFor(m, undefined, [0, 1], false)!, requireSoundBound: true }))
      .toThrow(expect.objectContaining({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'big_preact': compared values \(\|x\|\) reach .* by the sound bound over the declared input range; allowed .* 64-bit.*--require-sound-bound/) }));
  });

  it('on the seed CNN (x/255 images) the bound holds every compared value of random images, and its flattened dense layer needs the 64-bit ring at f = 13', () => {
    const m = seedCnn();
    const r = soundRangesFor(m, { colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' }, undefined, false)!;
    const seen = floatPass(m, points(0, 1, 150 * 125, 1)).ranges;
    for (const s of seen) expect(s.maxAbs).toBeLessThanOrEqual(r.find((x) => x.layer === s.layer && x.kind === s.kind)!.maxAbs * (1 + 1e-6));
    const over = r.filter((x) => x.maxAbs > allowedMagnitude(x.kind, 13, 32, 4));
    expect(over.map((x) => x.layer)).toEqual([m.nodes.find((n) => n.kind === 'dense')!.name]);
  });
});
