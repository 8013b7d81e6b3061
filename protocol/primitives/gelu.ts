/**
 * Secure gelu x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (the exact form, Keras's
 * default approximate=False; the tanh form differs from it by < 5e-4): a
 * piecewise cubic over shares (piecewise-poly.ts; SecureML's piecewise
 * method, Mohassel-Zhang 2017, Sect. 4.3, with cubic pieces as in Falcon,
 * SIRNN and CrypTen-style spline activations).
 *
 * gelu(x) = x - x Phi(-x), so h(x) = gelu(x) - x [x >= 0] is even and small
 * (|h| <= 0.17); the pieces fit h and add x exactly (lambda = 1 for x >= 0),
 * and for x >= 4 the output is x itself.
 *
 * Approximation: breakpoints -4, -1.5, 0, 1.5, 4; cubic pieces in
 * u = x - midpoint on the 4 inner segments (least squares, fit error
 * <= 6.3e-4); 0 below -4 and x from 4 on (tail error 4 Phi(-4) = 1.3e-4).
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - gelu(x)| <= 9e-4 absolute (so <= 1e-3 max(1, |x|)
 * too) for every x with |x| within comparableLimit (2^(31-f) - 5 on the
 * 32-bit comparison ring); the fixed twin within the same bound, the secure
 * result within 1 ulp of the twin. inputRange [-4, 4]; outside it the output
 * is 0 (left) or x (right).
 *
 * Steps: one batch of 5 comparisons (x - B_k), local selection of the
 * piece, 2 multiplication rounds (the first
 * also multiplies lambda x) (piecewise-poly.ts).
 * Cost (direct comparisons, local truncation): 5 rounds; 5 DReLU + 5 x 40 bytes per
 * element: 1280 (64-bit comparison ring), 680 (32-bit, radix 4). Exact
 * truncation: 9 rounds, 96 bytes more; the paper's comparisons: 10 rounds.
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
  breakpoints: [-4, -1.5, 0, 1.5, 4],
  degree: 3,
  left: 0,
  right: 0,
  lambda: [0, 0, 0, 1, 1, 1],
};

export const geluApprox = piecewiseActivation(GELU_SPEC, 9e-4);
