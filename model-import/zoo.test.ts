/**
 * The architectures medical imaging uses (../shared/fixtures/zoo: Keras
 * 3.15.1 DenseNet-121 with a CheXNet head, EfficientNet-B0,
 * MobileNetV3-Small, U-Net 128): import, plaintext forward pass against
 * Keras's golden outputs on two real X-rays, and a secure run (three parties
 * in-process) against the plaintext twin. EfficientNet needs smooth
 * activations inside the network (swish, sigmoid gates): without a
 * registered secure approximation it is refused, naming the layer; with the
 * test stand-ins registered it imports and its float twin (the exact
 * functions) matches Keras.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { suspendSmoothActivations } from '../protocol/layers/activations.js';
import { registerStandins } from '../protocol/testing/smooth-standins.js';
import { loadModel } from './load.js';
import { applyOutputActivation, referencePredict } from './reference.js';
import { fixedLogits } from './fixed-sim.js';
import { choosePrecision, formatChoice, type PrecisionSettings } from './precision.js';
import { soundRangesFor } from './sound-ring.js';

const ZOO = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'zoo');
const have = existsSync(ZOO);
if (!have) console.warn('zoo tests skipped: ../shared/fixtures/zoo is absent');

interface Golden { inputs: string[]; outputs: number[][]; input_shape: number[]; layer_classes: string[] }
const golden = (m: string): Golden => JSON.parse(readFileSync(path.join(ZOO, m, 'golden.json'), 'utf8')) as Golden;
function input(m: string, i: number): Float32Array {
  const b = readFileSync(path.join(ZOO, m, golden(m).inputs[i]!));
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

let unregister: (() => void) | undefined;
afterEach(() => { unregister?.(); unregister = undefined; });

async function plaintextMatchesGolden(m: string) {
  const { ir } = await loadModel(path.join(ZOO, m, 'model.keras'));
  const g = golden(m);
  expect(ir.inputShape).toEqual(g.input_shape);
  for (let i = 0; i < 2; i++) {
    const y = referencePredict(ir, input(m, i), 1);
    expect(y).toHaveLength(g.outputs[i]!.length);
    expect(maxAbs(y, g.outputs[i]!), `${m} on ${g.inputs[i]}`).toBeLessThan(1e-4);
  }
  return ir;
}

describe.skipIf(!have)('zoo models: import and plaintext vs Keras (max |output error| < 1e-4 on two X-rays)', () => {
  it('unet-128 (Conv2DTranspose, Concatenate skips; the sigmoid mask is applied by the client)', async () => {
    const ir = await plaintextMatchesGolden('unet-128');
    expect(ir.outputActivation).toBe('sigmoid');
    expect(ir.nodes.some((n) => n.kind === 'conv2d_transpose') && ir.nodes.some((n) => n.kind === 'concatenate')).toBe(true);
  }, 60_000);

  it('mobilenetv3small (hard_silu, hard_sigmoid gates as x + 3 / ReLU6 / x / 6, squeeze-excite Multiply)', async () => {
    const ir = await plaintextMatchesGolden('mobilenetv3small');
    expect(ir.nodes.some((n) => n.kind === 'multiply')).toBe(true);
    expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'hard_silu')).toBe(true);
  }, 60_000);

  it('densenet121-chexnet (Concatenate; 14 sigmoid outputs applied by the client)', async () => {
    const ir = await plaintextMatchesGolden('densenet121-chexnet');
    expect(ir.outputActivation).toBe('sigmoid');
    expect(ir.nodes.filter((n) => n.kind === 'concatenate')).toHaveLength(58);
  }, 120_000);

  it('efficientnetb0 is refused while no secure sigmoid/silu is registered: the layer, its class and the activation are named', async () => {
    const restore = suspendSmoothActivations('sigmoid', 'silu');
    try {
      await expect(loadModel(path.join(ZOO, 'efficientnetb0', 'model.keras'))).rejects.toMatchObject({
        code: 'E_UNSUPPORTED_LAYER',
        message: expect.stringMatching(/'stem_activation' \(Activation\): activation 'silu': secure approximation not available/),
      });
    } finally {
      restore();
    }
  });

  it('efficientnetb0 with the built-in secure sigmoid and silu: imports (Normalization folded), and its float twin matches Keras', async () => {
    const ir = await plaintextMatchesGolden('efficientnetb0');
    expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'silu')).toBe(true);
  }, 60_000);

  it('efficientnetb0 with secure sigmoid and silu registered (test stand-ins): imports (Normalization folded), and its float twin matches Keras', async () => {
    unregister = registerStandins();
    const ir = await plaintextMatchesGolden('efficientnetb0');
    expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'sigmoid')).toBe(true);
    expect(ir.nodes.some((n) => 'activation' in n && n.activation === 'silu')).toBe(true);
  }, 60_000);
});

describe.skipIf(!have)('zoo models and the sound comparison-ring bound: imported on the samples, marked samples-only (sound-ring.ts looseBoundBasis)', () => {
  // mpc-import's path (cli.ts): the sound bound over the recorded preprocessing's pixel range, then the chooser on one
  // sample. MobileNetV3-Small is the quickest of the four to bound (seconds); the others behave alike (model-import/README.md).
  async function bounded(m: string) {
    const loaded = await loadModel(path.join(ZOO, m, 'model.keras'));
    const soundRanges = soundRangesFor(loaded.ir, loaded.preprocessing?.preprocessing, undefined, false)!;
    return { ir: loaded.ir, soundRanges };
  }

  it('mobilenetv3small imports by default: no ring holds its interval bound, so the ring is chosen on the sample, samples-only, naming the layer; no layer moved to 64 bits', async () => {
    const { ir, soundRanges } = await bounded('mobilenetv3small');
    // The ring's basis is what this test is about, not the error target: at f = 13 the simulated error of this one
    // sample is ~5e-4 with stochastic rounding (unseeded draws), right at the default target / margin (1e-3 / 2), so
    // the default target refused the model in about one full-suite run in a few (a chance failure, 2026-12-07).
    const c = choosePrecision(ir, [input('mobilenetv3small', 0)], { soundRanges, fracBitsRange: [13, 13], draws: 1, targetError: 1e-2 });
    console.log(`[zoo] mobilenetv3small: ${c.ringReason}`);
    expect(c.forced).toBe(false);
    expect(c.ringBasis).toBe('samples-only');
    expect(c.wideLayers).toEqual([]);
    expect(c.looseBound!.node).toBeGreaterThan(10); // deep inside the network, not at its first layers
    expect(ir.nodes[c.looseBound!.node]!.name).toBe(c.looseBound!.layer);
    expect(c.ringNote).toMatch(new RegExp(`no ring holds the sound bound over the declared input range at f = 13 at layer '${c.looseBound!.layer}' .*interval bound too loose at this depth`));
    expect(formatChoice(c)).toMatch(/WARNING: the comparison ring rests on the samples only \(no ring holds the sound bound/);
  }, 120_000);

  it('mobilenetv3small with --require-sound-bound is refused (E_PRECISION_RANGE naming a layer the 64-bit ring cannot hold)', async () => {
    const { ir, soundRanges } = await bounded('mobilenetv3small');
    expect(() => choosePrecision(ir, [input('mobilenetv3small', 0)], { soundRanges, fracBitsRange: [13, 13], draws: 1, targetError: 1e-2, requireSoundBound: true })).toThrow(expect.objectContaining({
      code: 'E_PRECISION_RANGE',
      message: expect.stringMatching(/^layer '[^']+': .* by the sound bound over the declared input range; allowed .* 64-bit comparisons .*--require-sound-bound/),
    }));
  }, 120_000);
});

describe.skipIf(!have)('zoo models over shares (three parties in-process) vs the plaintext twin', () => {
  const k = getKernels();
  /**
   * The secure run on the second golden X-ray at the settings the precision chooser picks on the first (target
   * 1e-3): the choice is checked on an image it did not see (and one sample keeps the chooser's simulations, 3
   * draws per f, within the suite's time).
   */
  async function secureVsPlain(m: string, minAgreement = 0, chosenBefore?: PrecisionSettings) {
    const { ir } = await loadModel(path.join(ZOO, m, 'model.keras'));
    const x = input(m, 1);
    let settings: PrecisionSettings;
    if (chosenBefore && !process.env.ZOO_CHOOSER_ALL) {
      // The big models run at the settings the chooser picked for them (model-import/README.md): its search costs
      // minutes each here; ZOO_CHOOSER_ALL=1 runs it for them too.
      settings = chosenBefore;
      console.log(`[zoo] ${m}: f = ${settings.fracBits}, ${settings.truncation} truncation, ${settings.compareBits}-bit comparisons (the chooser's earlier pick)`);
    } else {
      const choice = choosePrecision(ir, [input(m, 0)], { minAgreement });
      settings = choice.settings;
      console.log(`[zoo] ${m}: chosen f = ${settings.fracBits}, ${settings.truncation} truncation, ${settings.compareBits}-bit comparisons (simulated error ${choice.trials.at(-1)!.error!.toExponential(2)})`);
      expect(choice.forced).toBe(false);
    }
    const { fracBits: f, truncation, compareBits } = settings;
    const parts = shareModel(k, ir, f);
    const xs = shareFor3(encode(Float64Array.from(x), f));
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }), { fracBits: f, compareBits, truncation, compareRadix: 4 });
    const got = applyOutputActivation(Float32Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), f)), 1, ir.outputActivation);
    return { got, want: referencePredict(ir, x, 1), golden: golden(m).outputs[1]! };
  }

  it('mobilenetv3small at the chosen settings: probabilities within 1e-3, same argmax', async () => {
    const { got, want, golden: gold } = await secureVsPlain('mobilenetv3small');
    console.log(`[zoo] mobilenetv3small secure: max |dp| vs plaintext ${maxAbs(got, want).toExponential(2)}, vs Keras ${maxAbs(got, gold).toExponential(2)}`);
    expect(maxAbs(got, want)).toBeLessThan(1e-3);
    expect(maxAbs(got, gold)).toBeLessThan(1e-3);
    expect(got.indexOf(Math.max(...got))).toBe(want.indexOf(Math.max(...want)));
  }, 120_000);

  it('unet-128 at the settings chosen with --min-agreement 0.9995: mask within 1e-3 (max abs), at least 99.9% of pixels on the same side of 0.5', async () => {
    // Without the agreement requirement the chooser took f = 13 (exact truncation) and the secure mask had 99.915% of
    // its pixels on the float model's side: inside the acceptance, but barely.
    const { got, want, golden: gold } = await secureVsPlain('unet-128', 0.9995);
    let same = 0;
    got.forEach((p, i) => { if ((p > 0.5) === (want[i]! > 0.5)) same++; });
    console.log(`[zoo] unet-128 secure: max |dp| vs plaintext ${maxAbs(got, want).toExponential(2)}, vs Keras ${maxAbs(got, gold).toExponential(2)}, same side of 0.5: ${same}/${got.length}`);
    expect(got).toHaveLength(128 * 128);
    expect(maxAbs(got, want)).toBeLessThan(1e-3);
    expect(same / got.length).toBeGreaterThanOrEqual(0.999);
  }, 120_000);

  it('densenet121-chexnet at the chosen settings (at 13 bits the error is ~1.3e-3): 14 probabilities within 1e-3, the same per-label decisions at 0.5', async () => {
    const { got, want, golden: gold } = await secureVsPlain('densenet121-chexnet', 0, { fracBits: 15, truncation: 'exact', compareBits: 32 });
    console.log(`[zoo] densenet121-chexnet secure: max |dp| vs plaintext ${maxAbs(got, want).toExponential(2)}, vs Keras ${maxAbs(got, gold).toExponential(2)}`);
    expect(got).toHaveLength(14);
    expect(maxAbs(got, want)).toBeLessThan(1e-3);
    expect(Array.from(got, (p) => p > 0.5)).toEqual(Array.from(want, (p) => p > 0.5));
  }, 300_000);

  // The approximations' own error dominated before (silu <= 8e-4, sigmoid <= 6e-4 per application: 1.55e-3 on the
  // probabilities); with the tighter pieces (silu <= 4e-4 with 13 breakpoints, sigmoid <= 3.5e-4 with 11) the
  // fixed-point simulation is 8.5e-5 off at f = 16. The chooser (3 stochastic draws per f) takes f = 16 or 17 with exact
  // truncation; a one-draw chooser once took f = 13, where the secure run was 1.8e-3 off.
  it('efficientnetb0 with the built-in secure sigmoid and silu at the chosen settings: probabilities within 1e-3 of the plaintext and of Keras, same argmax', async () => {
    const { got, want, golden: gold } = await secureVsPlain('efficientnetb0', 0, { fracBits: 16, truncation: 'exact', compareBits: 32 });
    console.log(`[zoo] efficientnetb0 secure: max |dp| vs plaintext ${maxAbs(got, want).toExponential(2)}, vs Keras ${maxAbs(got, gold).toExponential(2)}`);
    expect(maxAbs(got, want)).toBeLessThan(1e-3);
    expect(maxAbs(got, gold)).toBeLessThan(1e-3);
    expect(got.indexOf(Math.max(...got))).toBe(want.indexOf(Math.max(...want)));
  }, 300_000);
});
