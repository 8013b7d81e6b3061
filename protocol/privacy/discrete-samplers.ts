/**
 * Exact samplers for the discrete Laplace and discrete Gaussian distributions
 * over the integers, in integer arithmetic only (no floating point touches a
 * sample): Canonne, Kamath and Steinke, "The Discrete Gaussian for
 * Differential Privacy", NeurIPS 2020 (arXiv 2004.00010), Algorithms 1-3.
 * Used by the default 'discrete-exact' noise sampler (dp-noise.ts): the noise
 * lives on the fixed-point lattice 2^-f, and because these samplers are exact
 * there are no floating-point holes in their support (Mironov 2012).
 *
 * Rationals are (numerator, denominator) bigint pairs.
 *
 * Algorithm 1, Bernoulli(exp(-gamma)), gamma = n / d >= 0:
 *  1. If gamma <= 1: K = 1; repeat { A ~ Bernoulli(gamma / K); if A = 0 stop; K = K + 1 };
 *     return 1 if K is odd, else 0.
 *  2. Else: for k = 1..floor(gamma): if Bernoulli(exp(-1)) = 0 return 0;
 *     return Bernoulli(exp(-(gamma - floor(gamma)))).
 *
 * Algorithm 2, discrete Laplace with integer scale t >= 1,
 * P[Y = y] proportional to exp(-|y| / t):
 *  1. U uniform in {0..t-1}; D ~ Bernoulli(exp(-U / t)); if D = 0 restart.
 *  2. V = 0; while Bernoulli(exp(-1)) = 1: V = V + 1.
 *  3. X = U + t V (geometric with parameter 1 - exp(-1/t)).
 *  4. B ~ Bernoulli(1/2); if B = 1 and X = 0 restart; return (1 - 2B) X.
 *
 * Algorithm 3, discrete Gaussian N_Z(0, s), s = sigma^2 a positive integer,
 * P[Y = y] proportional to exp(-y^2 / (2 s)):
 *  1. t = floor(sqrt(s)) + 1.
 *  2. Y ~ discrete Laplace(t).
 *  3. C ~ Bernoulli(exp(-(|Y| - s/t)^2 / (2 s))); if C = 1 return Y, else go to 2.
 */
import { assert } from '../errors.js';
import type { Rng } from './random-source.js';

/** Bernoulli(n / d), 0 <= n <= d. */
function bernoulli(rng: Rng, n: bigint, d: bigint): number {
  return rng.belowBig(d) < n ? 1 : 0;
}

/** Algorithm 1: Bernoulli(exp(-n/d)) for n/d >= 0. */
export function bernoulliExp(rng: Rng, n: bigint, d: bigint): number {
  assert(n >= 0n && d > 0n, 'E_BAD_ARGUMENT', 'bernoulliExp: expected gamma = n/d >= 0');
  if (n <= d) {
    // Step 1.
    let k = 1n;
    while (bernoulli(rng, n, d * k) === 1) k += 1n;
    return k % 2n === 1n ? 1 : 0;
  }
  // Step 2.
  const whole = n / d;
  for (let i = 0n; i < whole; i++) if (bernoulliExp(rng, 1n, 1n) === 0) return 0;
  return bernoulliExp(rng, n - whole * d, d);
}

/** Algorithm 2: one discrete Laplace variate with integer scale t >= 1. */
export function sampleDiscreteLaplace(rng: Rng, t: bigint): bigint {
  assert(t >= 1n, 'E_BAD_ARGUMENT', 'discrete Laplace: scale must be an integer >= 1');
  for (;;) {
    // Step 1.
    const u = rng.belowBig(t);
    if (bernoulliExp(rng, u, t) === 0) continue;
    // Step 2.
    let v = 0n;
    while (bernoulliExp(rng, 1n, 1n) === 1) v += 1n;
    // Steps 3-4.
    const x = u + t * v;
    const b = rng.bit();
    if (b === 1 && x === 0n) continue;
    return b === 1 ? -x : x;
  }
}

/** floor(sqrt(s)) for s >= 0, exactly. */
export function floorSqrt(s: bigint): bigint {
  if (s < 2n) return s;
  let x = BigInt(Math.floor(Math.sqrt(Number(s))));
  while (x * x > s) x -= 1n;
  while ((x + 1n) * (x + 1n) <= s) x += 1n;
  return x;
}

/** Algorithm 3: one discrete Gaussian variate with variance parameter s = sigma^2 (a positive integer). */
export function sampleDiscreteGaussian(rng: Rng, s: bigint): bigint {
  assert(s >= 1n, 'E_BAD_ARGUMENT', 'discrete Gaussian: sigma^2 must be an integer >= 1');
  // Step 1.
  const t = floorSqrt(s) + 1n;
  for (;;) {
    // Step 2.
    const y = sampleDiscreteLaplace(rng, t);
    // Step 3: (|y| - s/t)^2 / (2 s) = (|y| t - s)^2 / (2 s t^2).
    const a = (y < 0n ? -y : y) * t - s;
    if (bernoulliExp(rng, a * a, 2n * s * t * t) === 1) return y;
  }
}
