/**
 * Secure gelu x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (the exact form, Keras's
 * default approximate=False; the tanh form differs from it by < 5e-4): a
 * piecewise cubic over shares (piecewise-poly.ts; SecureML's piecewise
 * method, Mohassel-Zhang 2017, Sect. 4.3, with cubic pieces as in Falcon,
 * SIRNN and CrypTen-style spline activations).
 *
 * gelu(x) = x - x Phi(-x), so gelu(x) - ReLU(x) is even: gelu(x) = h(|x|) +
 * ReLU(x) with h(t) = -t Phi(-t), small (|h| <= 0.17) (piecewise-poly.ts,
 * symmetry 'even-relu'); for x >= 4 the output is x itself.
 *
 * Approximation: only |x| is compared, against the positive breakpoints
 * 1.5, 4: cubic pieces in u = |x| - midpoint on [0, 1.5), [1.5, 4) (least
 * squares, fit error <= 6.3e-4); 0 below -4 and x from 4 on (tail error
 * 4 Phi(-4) = 1.3e-4). The unfolded engine compared x against 5
 * breakpoints (-4 .. 4); now ReLU(x) and 2.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - gelu(x)| <= 9e-4 absolute (so <= 1e-3 max(1, |x|)
 * too) for every x with |x| within comparableLimit (2^(31-f) - 5 on the
 * 32-bit comparison ring); the fixed twin within the same bound, the secure
 * result within 1 ulp of the twin. inputRange [-4, 4]; outside it the output
 * is 0 (left) or x (right).
 *
 * Steps (piecewise-poly.ts): r = ReLU(x), |x| = 2 r - x, one batch of 2
 * comparisons (|x| - B_k), local selection of the piece, 2 multiplication
 * rounds, y = h + r.
 * Cost (direct comparisons, local truncation): 8 rounds; 1 ReLU + 2 DReLU +
 * 4 x 40 bytes per element: 816 (64-bit comparison ring), 464 (32-bit,
 * radix 4; unfolded: 680). Exact truncation: 12 rounds, 96 bytes more; the
 * paper's comparisons: 19 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

/**
 * erf by Abramowitz-Stegun 7.1.26 (|error| <= 1.5e-7): the reference for
 * fitting and for the error tests, where gelu's error budget is 1e-3.
 */
export function erf(x: number): number {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

export const GELU_SPEC: PiecewiseSpec = {
  name: 'gelu',
  target: gelu,
  symmetry: 'even-relu',
  center: 0,
  breakpoints: [1.5, 4],
  degree: 3,
  tail: 0,
};

export const geluApprox = piecewiseActivation(GELU_SPEC, 9e-4);
