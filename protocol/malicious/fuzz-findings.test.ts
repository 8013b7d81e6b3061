/**
 * Found by the differential fuzz (bench/protocol-fuzz.ts --malicious, seed 9
 * with values in the comparisons' range): malForward's divisions by a public
 * count (GlobalAveragePooling2D, AveragePooling2D, Average) multiply by
 * round(2^24 / count) and truncM by 24 bits, whose precondition was
 * |x 2^24| < 2^(TRUNC_ELL - 1) = 2^47: it held only for |x| < 2^(23 - f)
 * reals (1024 at f = 13), 256 times below the comparisons' range
 * (2^(31 - f)), and past it the MAC check passed and the output was silently
 * wrong (a 1x1 GlobalAveragePooling2D of 4000 opened -96).
 *
 * Fixed at the mechanism (ranges.ts): every division by 2^24 runs truncM at
 * ell = SCALED_TRUNC_ELL = 32 + 24 + 1 = 57, every division by f after a
 * product at ell = max(48, 32 + f) (52 at f = 20, the largest f). The cases
 * below run each scaled kind (GAP, AvgPool, Average, Rescaling, bilinear
 * UpSampling2D) and the products (Dense, Multiply) at the edge of the
 * comparisons' range (2^31 - 1 ring units, negative too), just inside the
 * old bound, and past it, at f = 13 and f = 20, against the float64 value.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, MAX_FRAC_BITS } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';
import { sizeOf } from '../layers/types.js';
import { malOpen } from '../testing/fuzz-mal.js';
import { floatArith } from '../ir-kit/arith.js';
import { forwardReals } from '../ir-kit/forward.js';
import { runMal3, values } from '../testing/cheat.js';
import type { PartyContext } from '../context.js';
import { inputM } from './input.js';
import { macCheck } from './mac-check.js';
import { openLow } from './open.js';
import { liftSigned } from './ring128.js';
import { checkMaliciousModel, malForward, malForwardCost } from './runner.js';
import { inputCost } from './input.js';
import { macCheckCost } from './mac-check.js';
import { openLowCost } from './open.js';
import { setupCost } from './session.js';
import { weightCount } from '../testing/mal-forward.js';
import { MAL_SMOOTH_MAX_F } from './layers-smooth.js';
import { isMpcError } from '../errors.js';
import { createMalSession, type MalSession } from './session.js';
import { prepareWeights, prepareWeightsCost, shareModelReplicated } from './weights.js';
import { MAL_COMPARE_BITS, productTruncEll, SCALED_TRUNC_ELL, scaledTruncEll } from './ranges.js';
import { MAX_TRUNC_ELL, TRUNC_ELL } from './trunc.js';

const gap: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [1, 1, 8], nodes: [{ kind: 'global_avgpool2d', name: 'gap', inputs: ['input'] }], output: 'gap', outputActivation: 'linear' };

describe('malicious GlobalAveragePooling2D near truncM\'s range (f = 13)', () => {
  it('opens x for |x| < 2^(23 - f) = 1024 (inside the old precondition)', async () => {
    const [y] = await malOpen(gap, new Float64Array(8).fill(1000), 1);
    for (const v of y) expect(Math.abs(v - 1000)).toBeLessThan(1e-3);
  });
  it('opens x for 4000 (inside the comparisons\' range 2^18; it opened -96 at ell = 48)', async () => {
    const [y] = await malOpen(gap, new Float64Array(8).fill(4000), 1);
    for (const v of y) expect(Math.abs(v - 4000)).toBeLessThan(1e-3);
  });
});

describe('the truncation widths (ranges.ts)', () => {
  it('scaled: 32 + 24 + 1 = 57 at the default width, MAX_TRUNC_ELL at 64; product: 48 up to f = 16, 32 + f above, MAX_TRUNC_ELL at 64', () => {
    expect(MAL_COMPARE_BITS).toBe(32);
    expect(SCALED_TRUNC_ELL).toBe(57);
    expect(scaledTruncEll(64)).toBe(MAX_TRUNC_ELL);
    expect([8, 13, 16, 17, MAX_FRAC_BITS].map((f) => productTruncEll(f, 32))).toEqual([TRUNC_ELL, TRUNC_ELL, TRUNC_ELL, 49, 52]);
    expect(productTruncEll(13, 64)).toBe(MAX_TRUNC_ELL);
  });
});

const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[]): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes[nodes.length - 1]!.name, outputActivation: 'linear' });

/** malForward of `model` on x (batch 1) with f fractional bits; the three parties' opened outputs after the MAC check. */
async function openAt(m: ModelIR<FloatTensor>, x: Float64Array, f: number): Promise<Float64Array> {
  return (await runAt(m, x, f)).out;
}

/** openAt, with the run's counters (rounds: the deepest party's, bytes: all parties' sent). */
async function runAt(m: ModelIR<FloatTensor>, x: Float64Array, f: number): Promise<{ out: Float64Array; rounds: number; bytes: number }> {
  const parts = shareModelReplicated(m, f), n = sizeOf(m.inputShape);
  const run = await runMal3(async (s: MalSession) => {
    const w = await prepareWeights(s, parts[s.party]);
    const xin = await inputM(s, 0, s.party === 0 ? liftSigned(encode(x, f)) : null, n);
    const y = await malForward(s, w, { shape: [1, ...m.inputShape], data: xin });
    const low = await openLow(s, y.data);
    await macCheck(s);
    return decode(low, f);
  }, { watchdogMs: 60_000, create: (ctx: PartyContext) => createMalSession(Object.create(ctx, { fracBits: { value: f } }) as PartyContext) });
  const [a, b, c] = values(run);
  expect(b).toEqual(a);
  expect(c).toEqual(a);
  return { out: a, rounds: run.rounds, bytes: run.bytes };
}

/** Within the fixed-point rules: truncation floor or floor + 1 per division, the public weight's rounding (<= count / 2^25 relative). */
function expectNear(got: Float64Array, want: number[], f: number, rel = 2 ** -20): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `element ${i}: got ${got[i]}, want ${w}`).toBeLessThanOrEqual(Math.abs(w) * rel + 4 * 2 ** -f));
}

for (const f of [13, MAX_FRAC_BITS]) {
  const edge = (2 ** 31 - 1) / 2 ** f; // the largest value in the comparisons' range, in reals (exact on the grid)
  const oldBound = 2 ** (23 - f); // the old precondition's bound, in reals
  const probe = [edge, -edge, edge - 2 ** -f, -(edge - 1), oldBound * 0.99, oldBound * 1.5, -oldBound * 3, 0.5];
  describe(`malicious divisions by 2^24 at the edge of the comparisons' range (f = ${f}, |x| < 2^${31 - f})`, () => {
    it('GlobalAveragePooling2D, one value per window and six (the weights\' rounding up: round(2^24 / 6) > 2^24 / 6)', async () => {
      expectNear(await openAt(model([1, 1, 8], [{ kind: 'global_avgpool2d', name: 'g', inputs: ['input'] }]), Float64Array.from(probe), f), probe, f);
      // six equal values per channel at the edge (+, -): X = 2^55 + 2^32 - ... > 2^55, past a 56-bit truncation.
      const x6 = new Float64Array(12).map((_, i) => (i % 2 === 0 ? edge : -edge));
      expectNear(await openAt(model([2, 3, 2], [{ kind: 'global_avgpool2d', name: 'g', inputs: ['input'] }]), x6, f), [edge, -edge], f);
    });
    it('AveragePooling2D 2x2, stride 2', async () => {
      const x = new Float64Array(16).map((_, i) => probe[i % probe.length]!);
      // [1, 4, 4, 1] map; windows (rows 2r..2r+1, cols 2c..2c+1).
      const want = [0, 1, 2, 3].map((w) => { const r = Math.floor(w / 2), c = w % 2; let t = 0; for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) t += x[(2 * r + dy) * 4 + 2 * c + dx]!; return t / 4; });
      expectNear(await openAt(model([4, 4, 1], [{ kind: 'avgpool2d', name: 'a', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' }]), x, f), want, f);
      const full = new Float64Array(16).fill(-edge);
      expectNear(await openAt(model([4, 4, 1], [{ kind: 'avgpool2d', name: 'a', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' }]), full, f), [-edge, -edge, -edge, -edge], f);
    });
    it('Average of three inputs (round(2^24 / 3))', async () => {
      const m = model([8], [{ kind: 'rescaling', name: 'r', inputs: ['input'], scale: 1, offset: 0 }, { kind: 'average', name: 'av', inputs: ['input', 'r', 'input'] }]);
      expectNear(await openAt(m, Float64Array.from(probe), f), probe, f);
    });
    it('Rescaling by 0.999 and by 1/255 (+ offset)', async () => {
      expectNear(await openAt(model([8], [{ kind: 'rescaling', name: 'r', inputs: ['input'], scale: 0.999, offset: 0 }]), Float64Array.from(probe), f), probe.map((v) => v * 0.999), f);
      expectNear(await openAt(model([8], [{ kind: 'rescaling', name: 'r', inputs: ['input'], scale: 1 / 255, offset: -1 }]), Float64Array.from(probe), f), probe.map((v) => v / 255 - 1), f);
    });
    it('bilinear UpSampling2D 2x2', async () => {
      const x = Float64Array.from([edge, -edge, oldBound * 1.5, edge]);
      const m = model([2, 2, 1], [{ kind: 'upsampling2d', name: 'u', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }]);
      const y = await openAt(m, x, f);
      const want = Array.from(forwardReals(m, x, 1, floatArith).data); // the float64 twin (TF half-pixel centres)
      expectNear(y, want, f);
    });
  });
  describe(`malicious divisions by f after a product at the edge (f = ${f})`, () => {
    it('Dense and Multiply whose results reach 2^30 ring units', async () => {
      const big = 2 ** (30 - f); // results of this size: products of 2^(30 + f) ring units, past 2^47 at f = 20
      const dense = model([2], [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [2, 2], data: Float64Array.from([1.5, -0.5, 0.25, 1]) } }]);
      const x = Float64Array.from([big / 1.5, -big / 2]);
      expectNear(await openAt(dense, x, f), [x[0]! * 1.5 + x[1]! * 0.25, x[0]! * -0.5 + x[1]!], f);
      const sq = Math.sqrt(big);
      const mul = model([3], [{ kind: 'multiply', name: 'm', inputs: ['input', 'input'] }]);
      const xm = encode(Float64Array.from([sq, -sq, 3.25]), f);
      const xr = decode(xm, f);
      expectNear(await openAt(mul, xr, f), Array.from(xr, (v) => v * v), f);
    });
  });
}

describe('LeakyReLU whose slope terms leave the range while its output stays in it (alpha > 1)', () => {
  // leaky(x) = trunc24(x round(alpha 2^24) + relu(x) round((1 - alpha) 2^24)), each term truncated: for x > 0 the
  // output is x, in the range, but alpha x is not (Keras allows any alpha >= 0).
  it.each([2, 4])('alpha = %i, x near the edge of the comparisons\' range (f = 13)', async (alpha) => {
    const f = 13, edge = (2 ** 31 - 1) / 2 ** f;
    // 32 elements near the edge: past the bound truncM's result is wrong for some masks only (its top-bit wrap), so many.
    const x = Float64Array.from([...new Array<number>(32).fill(edge * 0.9), -edge / (alpha * 1.1), edge / 2, 1.5, -1]);
    const m = model([x.length], [{ kind: 'leaky_relu', name: 'lk', inputs: ['input'], alpha }]);
    const r = await runAt(m, x, f);
    expectNear(r.out, Array.from(x, (v) => (v > 0 ? v : alpha * v)), f);
    // ...and sends what malForwardCost declares for the wider truncation
    const parts = [setupCost(), prepareWeightsCost(0), inputCost(x.length), malForwardCost(m, 1, f), openLowCost(x.length), macCheckCost()];
    expect([r.bytes, r.rounds]).toEqual([parts.reduce((t, c) => t + c.bytes, 0), parts.reduce((t, c) => t + c.rounds, 0)]);
  }, 120_000);
});

describe('LeakyReLU whose slope terms would need more than MAX_TRUNC_ELL bits', () => {
  it('is refused by the model check (E_UNSUPPORTED_LAYER naming the layer and alpha) for |alpha| or |1 - alpha| above 64, accepted at 64 and -63', () => {
    const lk = (alpha: number) => model([4], [{ kind: 'leaky_relu', name: 'lk', inputs: ['input'], alpha }]);
    for (const alpha of [65, 100, -64, -1000]) {
      let err: unknown;
      try { checkMaliciousModel(lk(alpha), 13); } catch (e) { err = e; }
      expect(isMpcError(err) && err.code).toBe('E_UNSUPPORTED_LAYER');
      expect((err as Error).message).toContain(`alpha = ${alpha}`);
    }
    for (const alpha of [0.2, 4, 64, -63]) expect(() => checkMaliciousModel(lk(alpha), 13)).not.toThrow();
  });
});

describe('declared cost where the product truncations widen (f > 16: productTruncEll > TRUNC_ELL)', () => {
  // GAP (scaled, 57), Dense (matmulTrunc at productTruncEll), Multiply and PReLU (truncProduct), LeakyReLU (scaled).
  const k = (shape: number[], v: number[]): FloatTensor => ({ shape, data: Float64Array.from(v) });
  const m = model([1, 1, 4], [
    { kind: 'global_avgpool2d', name: 'g', inputs: ['input'] },
    { kind: 'dense', name: 'd', inputs: ['g'], units: 4, activation: 'linear', kernel: k([4, 4], [1, 0.5, -0.25, 0, 0, 1, 0.5, -1, 0.75, 0, 1, 0.5, -0.5, 0.25, 0, 1]), bias: k([4], [0.1, -0.2, 0, 0.3]) },
    { kind: 'multiply', name: 'm', inputs: ['d', 'd'] },
    { kind: 'leaky_relu', name: 'lr', inputs: ['m'], alpha: 0.2 },
    { kind: 'prelu', name: 'pr', inputs: ['lr'], kernel: k([4], [0.5, 0.25, 0.75, 0.1]) },
  ]);
  it.each([16, 17, MAX_FRAC_BITS])('f = %i: the run sends exactly malForwardCost (set-up, weights, input, forward, opening, MAC check)', async (f) => {
    const x = Float64Array.from([1.5, -2, 0.75, 3]);
    const r = await runAt(m, x, f);
    expectNear(r.out, Array.from(forwardReals(m, x, 1, floatArith).data), f, 2 ** -12);
    const parts = [setupCost(), prepareWeightsCost(weightCount(m)), inputCost(4), malForwardCost(m, 1, f), openLowCost(4), macCheckCost()];
    expect(r.bytes).toBe(parts.reduce((t, c) => t + c.bytes, 0));
    expect(r.rounds).toBe(parts.reduce((t, c) => t + c.rounds, 0));
  }, 120_000);
});

describe('smooth activations above MAL_SMOOTH_MAX_F (their inner truncations stay at TRUNC_ELL)', () => {
  const sig = model([4], [{ kind: 'activation', name: 's', inputs: ['input'], activation: 'sigmoid' }]);
  it('are refused with E_UNSUPPORTED_LAYER at f = 19 and 20, before any message, and accepted at f = 18', () => {
    for (const f of [MAL_SMOOTH_MAX_F + 1, MAX_FRAC_BITS]) {
      let err: unknown;
      try { checkMaliciousModel(sig, f); } catch (e) { err = e; }
      expect(isMpcError(err) && err.code).toBe('E_UNSUPPORTED_LAYER');
      expect((err as Error).message).toContain(`at f = ${f}`);
    }
    expect(() => checkMaliciousModel(sig, MAL_SMOOTH_MAX_F)).not.toThrow();
  });
});
