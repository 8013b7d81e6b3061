/**
 * Continuous samplers in float64, for the 'gamma-split' noise sampler
 * (dp-noise.ts): the standard normal and the Gamma distribution.
 *
 * Normal: Marsaglia's polar method (Marsaglia & Bray 1964).
 *  1. Draw u, v uniform in (-1, 1) until s = u^2 + v^2 is in (0, 1).
 *  2. Return u * sqrt(-2 ln(s) / s) (the second variate is discarded).
 *
 * Gamma(k, theta) (shape k, scale theta): Marsaglia & Tsang, "A simple method
 * for generating gamma variables", ACM TOMS 26(3), 2000.
 *  1. If k < 1 ("boost"): return Gamma(k + 1, theta) * U^(1/k), U uniform in (0, 1).
 *  2. d = k - 1/3, c = 1 / sqrt(9 d).
 *  3. Draw x ~ N(0, 1), v = (1 + c x)^3; retry if v <= 0.
 *  4. Draw U; accept if U < 1 - 0.0331 x^4 (squeeze) or
 *     ln U < x^2 / 2 + d (1 - v + ln v); then return d v theta.
 *
 * These are float64 algorithms: their outputs have the usual floating-point
 * granularity (Mironov, CCS 2012, "On significance of the least significant
 * bits for differential privacy"); see dp-noise.ts for what that means for the
 * DP guarantee and for the exact integer samplers used by default.
 */
import { assert } from '../errors.js';
import type { Rng } from './random-source.js';

/** One standard normal variate (polar method). */
export function sampleStandardNormal(rng: Rng): number {
  for (;;) {
    // Step 1.
    const u = 2 * rng.unit() - 1, v = 2 * rng.unit() - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    // Step 2.
    return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** One Gamma(shape, scale) variate (Marsaglia-Tsang, with the shape < 1 boost). */
export function sampleGamma(rng: Rng, shape: number, scale: number): number {
  assert(shape > 0 && Number.isFinite(shape) && scale > 0 && Number.isFinite(scale), 'E_BAD_ARGUMENT', `gamma: shape and scale must be positive and finite, got ${shape} and ${scale}`);
  // Step 1.
  if (shape < 1) return sampleGamma(rng, shape + 1, scale) * Math.pow(rng.unit(), 1 / shape);
  // Step 2.
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    // Step 3.
    const x = sampleStandardNormal(rng);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    // Step 4.
    const u = rng.unit();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}
