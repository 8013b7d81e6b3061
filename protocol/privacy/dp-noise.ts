/**
 * Differentially private outputs: noise added to secret-shared values inside
 * the protocol. P0 and P1 each draw noise from their own CSPRNG, encode it on
 * the fixed-point lattice (f fractional bits) and add it to their share
 * locally; P2 does nothing. No message, no round: the client reconstructs
 * y = x + n_0 + n_1 and no single party knows n_0 + n_1.
 *
 * Calibration (real units; `sensitivity` Delta is the L1 norm for Laplace,
 * the L2 norm for Gaussian, of the largest change of the noised vector between
 * neighbouring datasets):
 *  - Laplace: b = Delta / eps (Dwork, McSherry, Nissim, Smith 2006): eps-DP.
 *  - Gaussian 'classic': sigma = sqrt(2 ln(1.25/delta)) Delta / eps, valid for
 *    eps < 1 (Dwork & Roth Thm A.1): (eps, delta)-DP.
 *  - Gaussian 'zcdp' (any eps): sigma = Delta / sqrt(2 rho) with
 *    rho = (sqrt(ln(1/delta) + eps) - sqrt(ln(1/delta)))^2, so that
 *    rho + 2 sqrt(rho ln(1/delta)) = eps (Bun & Steinke 2016, Prop. 1.3).
 *    Default when eps >= 1; 'classic' is the default for eps < 1.
 *
 * Two samplers (`NoiseSampler`):
 *
 *  'discrete-exact' (default). Each of P0, P1 adds a full-scale discrete
 *  Laplace (scale t = ceil(b 2^f) lattice units) or discrete Gaussian
 *  (variance s = ceil(sigma^2 4^f) lattice units^2), drawn with the exact
 *  integer samplers of Canonne-Kamath-Steinke 2020 (discrete-samplers.ts).
 *  DP argument: the output x + n_0 + n_1 is post-processing of x + n_0 (and of
 *  x + n_1), and x + n_j alone is eps-DP (Laplace: for integer-valued
 *  queries with L1 sensitivity Delta_lat <= Delta 2^f, discrete Laplace with
 *  t >= Delta 2^f / eps gives exp(Delta_lat / t) <= e^eps) or rho-zCDP
 *  (discrete Gaussian, CKS Thm 4). Because the samplers are exact there are no
 *  floating-point artefacts (Mironov, CCS 2012: textbook float Laplace leaks
 *  the input through the low bits of the output), and the guarantee holds
 *  even against the client colluding with P0 or with P1. Price: the total
 *  noise has twice the variance of one mechanism.
 *
 *  'gamma-split'. The infinitely divisible split: each party adds
 *  Gamma(1/2, b) - Gamma(1/2, b) (Laplace; the sum over two parties is
 *  Gamma(1, b) - Gamma(1, b) = Exp(b) - Exp(b) = Laplace(b)), or
 *  N(0, sigma^2 / 2) (Gaussian), in float64 (continuous-samplers.ts), each
 *  rounded to the nearest lattice point. The total has exactly the target
 *  variance, but: (1) it is float-based, so Mironov's attack applies in
 *  principle: the support of a float sampler has gaps, in our samplers only
 *  in tails of probability about 2^-40 and below once rounded to the 2^-f
 *  lattice; (2) each party's rounding adds up to 1/2 ulp, so the total is
 *  Laplace(b) plus an error of at most 1 ulp (2^-f) that depends on the
 *  shares. We therefore claim only approximate eps-DP for it (slightly
 *  larger eps, tiny delta) and do not prove it; (3) a client colluding with
 *  one data party removes half the noise (outside SecureNN's no-collusion
 *  model, but worth knowing). Prefer 'discrete-exact' unless the variance
 *  matters more.
 *
 * The client sees only argmax(noisy logits) in the label modes: that is
 * post-processing and costs no further privacy.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import type { Cost } from '../primitives/cost.js';
import type { AShare } from '../ring/types.js';
import type { PrivacyCharge } from './composition.js';
import { sampleGamma, sampleStandardNormal } from './continuous-samplers.js';
import { sampleDiscreteGaussian, sampleDiscreteLaplace } from './discrete-samplers.js';
import { Rng, cryptoSource, type RandomSource } from './random-source.js';

export type NoiseMechanism = 'laplace' | 'gaussian';
export type NoiseSampler = 'discrete-exact' | 'gamma-split';
export type GaussianCalibration = 'classic' | 'zcdp';

/** DP configuration of an output (model manifest, or a stricter request). */
export interface DpConfig {
  mechanism: NoiseMechanism;
  epsilon: number;
  /** Gaussian only: 0 < delta < 1. */
  delta?: number;
  /** Real units: L1 (Laplace) or L2 (Gaussian) sensitivity of the noised vector (one image's logits). */
  sensitivity: number;
  sampler?: NoiseSampler;
  calibration?: GaussianCalibration;
}

export interface NoiseSpec {
  readonly mechanism: NoiseMechanism;
  readonly sampler: NoiseSampler;
  /** Laplace: b; Gaussian: sigma (real units). */
  readonly scale: number;
}

/**
 * Smallest per-query epsilon accepted. Below it the noise drowns any output
 * (Laplace b = Delta / eps), and a charge this small could vanish in the
 * accountant's float sums (a total of 1e3 has an ulp of about 1e-13); 1e-6
 * keeps every charge at least 1e7 ulps of any total up to 1e3.
 */
export const MIN_EPSILON = 1e-6;

export const laplaceScale = (epsilon: number, sensitivity: number): number => sensitivity / epsilon;

export function gaussianSigma(epsilon: number, delta: number, sensitivity: number, calibration: GaussianCalibration = epsilon < 1 ? 'classic' : 'zcdp'): number {
  assert(delta > 0 && delta < 1, 'E_BAD_ARGUMENT', `dp: Gaussian needs 0 < delta < 1, got ${delta}`);
  if (calibration === 'classic') {
    assert(epsilon < 1, 'E_BAD_ARGUMENT', `dp: the classic Gaussian bound holds for epsilon < 1 only, got ${epsilon}; use calibration 'zcdp'`);
    return (Math.sqrt(2 * Math.log(1.25 / delta)) * sensitivity) / epsilon;
  }
  const L = Math.log(1 / delta);
  const rho = (Math.sqrt(L + epsilon) - Math.sqrt(L)) ** 2;
  return sensitivity / Math.sqrt(2 * rho);
}

function checkDp(dp: DpConfig): void {
  assert(dp.mechanism === 'laplace' || dp.mechanism === 'gaussian', 'E_BAD_ARGUMENT', `dp: unknown mechanism '${String(dp.mechanism)}'`);
  assert(Number.isFinite(dp.epsilon) && dp.epsilon > 0, 'E_BAD_ARGUMENT', `dp: epsilon must be positive and finite, got ${dp.epsilon}`);
  assert(dp.epsilon >= MIN_EPSILON, 'E_DP_PARAMETER', `dp: epsilon ${dp.epsilon} is below the floor ${MIN_EPSILON}`);
  assert(Number.isFinite(dp.sensitivity) && dp.sensitivity > 0, 'E_BAD_ARGUMENT', `dp: sensitivity must be positive and finite, got ${dp.sensitivity}`);
  assert(dp.sampler === undefined || dp.sampler === 'discrete-exact' || dp.sampler === 'gamma-split', 'E_BAD_ARGUMENT', `dp: unknown sampler '${String(dp.sampler)}'`);
  if (dp.mechanism === 'laplace') assert(dp.delta === undefined || dp.delta === 0, 'E_BAD_ARGUMENT', 'dp: the Laplace mechanism takes no delta');
}

/** Noise scale and per-query privacy charge for a DP configuration. */
export function calibrate(dp: DpConfig): { noise: NoiseSpec; charge: PrivacyCharge } {
  checkDp(dp);
  const sampler = dp.sampler ?? 'discrete-exact';
  if (dp.mechanism === 'laplace') {
    return { noise: { mechanism: 'laplace', sampler, scale: laplaceScale(dp.epsilon, dp.sensitivity) }, charge: { epsilon: dp.epsilon, delta: 0, rdp: { kind: 'pure' } } };
  }
  const delta = dp.delta ?? NaN;
  const sigma = gaussianSigma(dp.epsilon, delta, dp.sensitivity, dp.calibration);
  return { noise: { mechanism: 'gaussian', sampler, scale: sigma }, charge: { epsilon: dp.epsilon, delta, rdp: { kind: 'zcdp', rho: dp.sensitivity ** 2 / (2 * sigma * sigma) } } };
}

/** Largest lattice scale we sample (the noise must stay far inside the comparison range 2^62). */
export const MAX_LATTICE_SCALE = 2 ** 44;

/** Whether a noise scale (Laplace b or Gaussian sigma, real units) can be sampled at f fractional bits. */
export function noiseScaleInRange(scale: number, f: number): boolean {
  const lat = scale * 2 ** f;
  return Number.isFinite(lat) && lat > 0 && lat < MAX_LATTICE_SCALE;
}

/** Lattice parameters of the discrete samplers: Laplace t = ceil(b 2^f), Gaussian s = ceil(sigma^2 4^f). */
export function latticeParameter(spec: NoiseSpec, f: number): bigint {
  const lat = spec.scale * 2 ** f;
  // No value in the message: a run serves several clients' sessions (resolvePolicy refuses such a scale at session creation).
  assert(noiseScaleInRange(spec.scale, f), 'E_DP_PARAMETER', `dp: the noise scale is out of range at ${f} fractional bits`);
  return spec.mechanism === 'laplace' ? BigInt(Math.max(1, Math.ceil(lat))) : BigInt(Math.max(1, Math.ceil(lat * lat)));
}

/** Variance of the total noise n_0 + n_1 in real units (for tests and documentation). */
export function totalNoiseVariance(spec: NoiseSpec): number {
  const one = spec.mechanism === 'laplace' ? 2 * spec.scale ** 2 : spec.scale ** 2;
  return spec.sampler === 'gamma-split' ? one : 2 * one;
}

/** One data party's noise share: n lattice integers (two's complement in Z_2^64). */
export function sampleNoiseShare(rng: Rng, n: number, spec: NoiseSpec, f: number): BigUint64Array {
  const out = new BigUint64Array(n);
  if (spec.sampler === 'discrete-exact') {
    const p = latticeParameter(spec, f);
    for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, spec.mechanism === 'laplace' ? sampleDiscreteLaplace(rng, p) : sampleDiscreteGaussian(rng, p));
    return out;
  }
  latticeParameter(spec, f); // range check
  const scale = 2 ** f;
  for (let i = 0; i < n; i++) {
    const v = spec.mechanism === 'laplace'
      ? sampleGamma(rng, 0.5, spec.scale) - sampleGamma(rng, 0.5, spec.scale)
      : (spec.scale / Math.SQRT2) * sampleStandardNormal(rng);
    const k = Math.round(v * scale);
    assert(Math.abs(k) < 2 ** 53, 'E_INTERNAL', 'dp: noise sample out of range');
    out[i] = BigInt.asUintN(64, BigInt(k));
  }
  return out;
}

export interface NoiseOptions {
  /** Byte source for the noise; TESTS ONLY (a seeded Prg). Production: the OS CSPRNG. */
  rng?: RandomSource;
  /** Fractional bits of x (default ctx.fracBits). */
  fracBits?: number;
}

export const addNoiseCost = (): Cost => ({ rounds: 0, bytes: 0 });

/**
 * Shares of x + noise, noise from `spec` on every element. P0, P1: local;
 * P2 returns its placeholder. Cost: 0 rounds, 0 bytes.
 */
export async function addNoiseShares(ctx: PartyContext, x: AShare, spec: NoiseSpec, opts: NoiseOptions = {}): Promise<AShare> {
  return ctx.step('DPNoise', async () => {
    if (ctx.party === 2) return x;
    const noise = sampleNoiseShare(new Rng(opts.rng ?? cryptoSource), x.length, spec, opts.fracBits ?? ctx.fracBits);
    const out = new BigUint64Array(x.length);
    ctx.kernels.add(x, noise, out);
    return out as AShare;
  });
}
