import { describe, expect, it } from 'vitest';
import { decode } from '../fixed-point/fixed-point.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { seededPrg } from '../seed-models.js';
import { sampleGamma } from './continuous-samplers.js';
import { sampleDiscreteGaussian, sampleDiscreteLaplace } from './discrete-samplers.js';
import { addNoiseCost, addNoiseShares, calibrate, gaussianSigma, latticeParameter, sampleNoiseShare, totalNoiseVariance, type NoiseSpec } from './dp-noise.js';
import { Rng } from './random-source.js';
import { gammaHalfCdf, goodnessOfFitZ, ksCritical, ksStatistic, laplaceCdf, laplaceSumCdf, mean, normalCdf, variance } from './stats.js';
import { expectCost, open } from '../testing/privacy.js';

// Fixed seeds for the tests only: production noise comes from the OS CSPRNG.
const ALPHA = 1e-3;
const F = 13;

/** Total noise n_0 + n_1 on a zero input, through the protocol, with seeded per-party sources. */
async function protocolNoise(spec: NoiseSpec, n: number, seed: number): Promise<Float64Array> {
  const xs = shareFor3(new BigUint64Array(n));
  const r = await run3((ctx) => addNoiseShares(ctx, xs[ctx.party], spec, { rng: seededPrg(seed + ctx.party) }), { fracBits: F });
  expectCost(r, addNoiseCost());
  return decode(open(r.results[0], r.results[1]), F);
}

describe('noise samplers', () => {
  it('Gamma(1/2, theta) (Marsaglia-Tsang with the shape < 1 boost) passes a KS test and has mean theta/2', () => {
    const rng = new Rng(seededPrg(11));
    const theta = 1.7;
    const s = Float64Array.from({ length: 20000 }, () => sampleGamma(rng, 0.5, theta));
    expect(ksStatistic(s, (x) => gammaHalfCdf(x, theta))).toBeLessThan(ksCritical(s.length, ALPHA));
    expect(Math.abs(mean(s) - theta / 2)).toBeLessThan(0.03);
  });
  it('Gamma(3.5, 2) has mean 7 and variance 14', () => {
    const rng = new Rng(seededPrg(12));
    const s = Float64Array.from({ length: 20000 }, () => sampleGamma(rng, 3.5, 2));
    expect(Math.abs(mean(s) - 7)).toBeLessThan(0.15);
    expect(Math.abs(variance(s) / 14 - 1)).toBeLessThan(0.06);
  });
  it('discrete Laplace (CKS exact sampler) matches P[y] = tanh(1/2t) e^(-|y|/t) on -6..6', () => {
    const rng = new Rng(seededPrg(13));
    const t = 3n, N = 20000;
    const counts = new Array<number>(14).fill(0); // -6..6 and the rest
    for (let i = 0; i < N; i++) { const y = Number(sampleDiscreteLaplace(rng, t)); counts[Math.abs(y) <= 6 ? y + 6 : 13]!++; }
    const p = (y: number) => Math.tanh(1 / 6) * Math.exp(-Math.abs(y) / 3);
    const probs = Array.from({ length: 13 }, (_, i) => p(i - 6));
    probs.push(1 - probs.reduce((a, b) => a + b, 0));
    expect(goodnessOfFitZ(counts, probs)).toBeLessThan(3.1);
  });
  it('discrete Gaussian (CKS exact sampler) matches P[y] ~ exp(-y^2 / 2 sigma^2) for sigma^2 = 5', () => {
    const rng = new Rng(seededPrg(14));
    const s2 = 5, N = 20000;
    const counts = new Array<number>(15).fill(0); // -7..7 (mass beyond is < 3e-3)
    let out = 0;
    for (let i = 0; i < N; i++) { const y = Number(sampleDiscreteGaussian(rng, BigInt(s2))); if (Math.abs(y) <= 7) counts[y + 7]!++; else out++; }
    const w = Array.from({ length: 41 }, (_, i) => Math.exp(-((i - 20) ** 2) / (2 * s2)));
    const Z = w.reduce((a, b) => a + b, 0);
    const probs = counts.map((_, i) => w[i + 13]! / Z);
    expect(out).toBeLessThan(N * 0.005);
    // Goodness of fit of the values in -7..7, conditioned on landing there.
    const pin = probs.reduce((a, b) => a + b, 0);
    expect(goodnessOfFitZ(counts, probs.map((q) => q / pin))).toBeLessThan(3.1);
  });
});

describe('calibration', () => {
  it('Laplace b = sensitivity / epsilon; classic Gaussian sigma = sqrt(2 ln(1.25/delta)) sensitivity / epsilon', () => {
    expect(calibrate({ mechanism: 'laplace', epsilon: 0.5, sensitivity: 2 }).noise.scale).toBe(4);
    expect(gaussianSigma(0.5, 1e-5, 1)).toBeCloseTo(Math.sqrt(2 * Math.log(1.25e5)) / 0.5, 12);
  });
  it('zCDP calibration: rho + 2 sqrt(rho ln(1/delta)) = epsilon, for epsilon >= 1 (classic refused there)', () => {
    const { noise, charge } = calibrate({ mechanism: 'gaussian', epsilon: 2, delta: 1e-6, sensitivity: 1.5 });
    const rho = charge.rdp.kind === 'zcdp' ? charge.rdp.rho : NaN;
    expect(rho).toBeCloseTo(1.5 ** 2 / (2 * noise.scale ** 2), 12);
    expect(rho + 2 * Math.sqrt(rho * Math.log(1e6))).toBeCloseTo(2, 10);
    expect(() => gaussianSigma(2, 1e-6, 1, 'classic')).toThrow(/epsilon < 1/);
  });
});

describe('DP noise added to shares (each party its own noise, 0 rounds, 0 bytes)', () => {
  const N = 20000;
  it("'gamma-split' Laplace: the total noise is Laplace(b) (KS) with variance 2 b^2", async () => {
    const { noise } = calibrate({ mechanism: 'laplace', epsilon: 0.8, sensitivity: 1.2, sampler: 'gamma-split' });
    const b = noise.scale;
    const s = await protocolNoise(noise, N, 100);
    expect(ksStatistic(s, (x) => laplaceCdf(x, b))).toBeLessThan(ksCritical(N, ALPHA));
    expect(Math.abs(variance(s) / totalNoiseVariance(noise) - 1)).toBeLessThan(0.07);
    expect(totalNoiseVariance(noise)).toBeCloseTo(2 * b * b, 12);
  });
  it("'gamma-split' Gaussian: the total noise is N(0, sigma^2) (KS), each party adding N(0, sigma^2 / 2)", async () => {
    const { noise } = calibrate({ mechanism: 'gaussian', epsilon: 0.5, delta: 1e-5, sensitivity: 0.25, sampler: 'gamma-split' });
    const s = await protocolNoise(noise, N, 200);
    expect(ksStatistic(s, (x) => normalCdf(x, noise.scale))).toBeLessThan(ksCritical(N, ALPHA));
    expect(Math.abs(variance(s) / noise.scale ** 2 - 1)).toBeLessThan(0.05);
    const one = decode(sampleNoiseShare(new Rng(seededPrg(201)), N, noise, F), F);
    expect(ksStatistic(one, (x) => normalCdf(x, noise.scale / Math.SQRT2))).toBeLessThan(ksCritical(N, ALPHA));
  });
  it("'discrete-exact' Laplace (default): each party's noise is Laplace(b) on the lattice, the total their sum", async () => {
    const { noise } = calibrate({ mechanism: 'laplace', epsilon: 1, sensitivity: 0.75 });
    expect(noise.sampler).toBe('discrete-exact');
    expect(latticeParameter(noise, F)).toBe(BigInt(Math.ceil(0.75 * 2 ** F)));
    const one = decode(sampleNoiseShare(new Rng(seededPrg(301)), N, noise, F), F);
    expect(ksStatistic(one, (x) => laplaceCdf(x, noise.scale))).toBeLessThan(ksCritical(N, ALPHA));
    expect(Math.abs(variance(one) / (2 * noise.scale ** 2) - 1)).toBeLessThan(0.07);
    const s = await protocolNoise(noise, N, 300);
    expect(ksStatistic(s, (x) => laplaceSumCdf(x, noise.scale))).toBeLessThan(ksCritical(N, ALPHA));
    expect(Math.abs(variance(s) / totalNoiseVariance(noise) - 1)).toBeLessThan(0.07);
  });
  it("'discrete-exact' Gaussian: each party's noise is N(0, sigma^2) on the lattice, the total N(0, 2 sigma^2)", async () => {
    const { noise } = calibrate({ mechanism: 'gaussian', epsilon: 0.9, delta: 1e-6, sensitivity: 0.1 });
    const one = decode(sampleNoiseShare(new Rng(seededPrg(401)), N, noise, F), F);
    expect(ksStatistic(one, (x) => normalCdf(x, noise.scale))).toBeLessThan(ksCritical(N, ALPHA));
    const s = await protocolNoise(noise, N, 400);
    expect(ksStatistic(s, (x) => normalCdf(x, noise.scale * Math.SQRT2))).toBeLessThan(ksCritical(N, ALPHA));
    expect(Math.abs(variance(s) / totalNoiseVariance(noise) - 1)).toBeLessThan(0.05);
  });
  it('without an injected source the noise comes from the CSPRNG (two runs differ) and P2 adds nothing', async () => {
    const { noise } = calibrate({ mechanism: 'laplace', epsilon: 1, sensitivity: 1 });
    const xs = shareFor3(new BigUint64Array(64));
    const a = await run3((ctx) => addNoiseShares(ctx, xs[ctx.party], noise));
    const b = await run3((ctx) => addNoiseShares(ctx, xs[ctx.party], noise));
    expect(open(a.results[0], a.results[1])).not.toEqual(open(b.results[0], b.results[1]));
    expect(a.results[2]).toBe(xs[2]);
  });
});
