/**
 * Why secure MobileNetV3-Small departs from its float reference on bright
 * and high-contrast inputs (README "Numeric limits"), pinned: the secure run
 * computes what the fixed-point simulation computes, and the simulation's
 * error is the weights' rounding to 2^-(f+1) times activations that such
 * inputs drive ~100x beyond the golden X-ray's, amplified by the
 * squeeze-excite gates (relu6(x + 3) / 6 times the block's activations).
 * In-range inputs (0/255 pixels) reach it: logits off by > 1 at f = 13,
 * probabilities unaffected on this (random-weight) model because its logits
 * there are far apart. At f = 20 the same input x4 is within 1 of float.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { fixedArith, floatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { loadModel } from './load.js';
import { stressValues } from './stress-inputs.js';

const DIR = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'zoo', 'mobilenetv3small');
const have = existsSync(DIR);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };
const argmax = (a: ArrayLike<number>) => (a[1]! > a[0]! ? 1 : 0);
const softmax2 = (a: ArrayLike<number>) => { const d = Math.exp(a[1]! - a[0]!); return [1 / (1 + d), d / (1 + d)]; };
function golden0(): Float64Array {
  const b = readFileSync(path.join(DIR, 'input_0.f32'));
  return Float64Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
}
const float = (ir: ModelIR<FloatTensor>, x: ArrayLike<number>) => forwardIR(ir, x, 1, floatArith).data;
const fixed = (ir: ModelIR<FloatTensor>, x: ArrayLike<number>, f: number) => { const ar = fixedArith({ fracBits: f }); return forwardIR(ir, x, 1, ar).data.map((v) => ar.decode(v)); };
const maxActivation = (ir: ModelIR<FloatTensor>, x: ArrayLike<number>) => { let m = 0; forwardIR(ir, x, 1, floatArith, (_n, v) => { for (const t of v.data) m = Math.max(m, Math.abs(t)); }); return m; };

describe.skipIf(!have)('MobileNetV3-Small on bright and high-contrast inputs: fixed-point precision, not the protocol (README "Numeric limits")', () => {
  it('the x4 error is the weights\' rounding at f = 13 (activations rounded alone: < 2% of it), gone at f = 20; an in-range 0/255 checkerboard reaches the same regime', async () => {
    const { ir } = await loadModel(path.join(DIR, 'model.keras'));
    const g = golden0(), x4 = g.map((v) => 4 * v);
    const checker8 = stressValues(ir.inputShape, 0, 255).find((s) => s.name === 'checker8')!.input;
    // Golden X-ray (the chooser's sample): activations ~71, logits within 2e-3.
    expect(maxActivation(ir, g)).toBeLessThan(100);
    expect(maxAbs(fixed(ir, g, 13), float(ir, g))).toBeLessThan(2e-3);
    // x4 (out of range): the logits are off by > 50 at f = 13.
    const want4 = float(ir, x4), err4 = maxAbs(fixed(ir, x4, 13), want4);
    expect(err4).toBeGreaterThan(50);
    // Attribution: float64 with only the weights rounded to 2^-13 reproduces most of it, only the activations very little.
    const q = (v: number) => Math.round(v * 8192) / 8192;
    const wOnly = forwardIR(ir, x4, 1, { ...floatArith, weights: (t: FloatTensor) => t.data.map(q) }).data;
    const aOnly = forwardIR(ir, x4, 1, { ...floatArith, encode: q, product: q }).data;
    expect(maxAbs(wOnly, want4)).toBeGreaterThan(0.5 * err4);
    expect(maxAbs(aOnly, want4)).toBeLessThan(0.02 * err4);
    expect(maxAbs(fixed(ir, x4, 20), want4)).toBeLessThan(2);
    // In range: every pixel 0 or 255, activations > 30x the golden's, logits off by > 1 at f = 13; the label and the
    // probabilities hold on this model only because its two logits are ~70 apart there.
    const wantC = float(ir, checker8), gotC = fixed(ir, checker8, 13);
    expect(maxActivation(ir, checker8)).toBeGreaterThan(30 * maxActivation(ir, g));
    expect(maxAbs(gotC, wantC)).toBeGreaterThan(1);
    expect(argmax(gotC)).toBe(argmax(wantC));
    expect(maxAbs(softmax2(gotC), softmax2(wantC))).toBeLessThan(1e-6);
  }, 180_000);

  it('over shares the x4 input is > 50 off at f = 13 (local) and within 2 at f = 20 (exact), as simulated; an in-range checkerboard at the bench settings is > 1 off', async () => {
    const { ir } = await loadModel(path.join(DIR, 'model.keras'));
    const k = getKernels();
    const x4 = golden0().map((v) => 4 * v);
    const want = float(ir, x4);
    const secure = async (x: ArrayLike<number>, f: number, truncation: 'local' | 'exact', compareBits: 32 | 64 = 64) => {
      const parts = shareModel(k, ir, f);
      const xs = shareFor3(encode(x, f));
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }), { fracBits: f, compareBits, compareRadix: 4, truncation });
      return decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
    };
    expect(maxAbs(await secure(x4, 13, 'local'), want)).toBeGreaterThan(50);
    expect(maxAbs(await secure(x4, 20, 'exact'), want)).toBeLessThan(2);
    // In range, at the bench settings (bench/zoo-models.ts f = 13; local truncation, 32-bit radix-4 ring): the checkerboard's
    // secure logits are off as its simulation's (27.5 measured), the label holds.
    const checker8 = stressValues(ir.inputShape, 0, 255).find((s) => s.name === 'checker8')!.input;
    const wantC = float(ir, checker8), gotC = await secure(checker8, 13, 'local', 32);
    expect(maxAbs(gotC, wantC)).toBeGreaterThan(1);
    expect(argmax(gotC)).toBe(argmax(wantC));
  }, 300_000);
});
