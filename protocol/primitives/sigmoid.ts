/**
 * Secure sigmoid 1 / (1 + e^-x) (CheXNet's 14 heads, U-Net's mask,
 * squeeze-excite gates): a piecewise cubic over shares (piecewise-poly.ts),
 * SecureML's piecewise sigmoid (Mohassel-Zhang 2017, Sect. 4.3) with cubic
 * instead of linear pieces, as Falcon and SIRNN do for smooth activations.
 *
 * Approximation: breakpoints -8, -4, -1.25, 1.25, 4, 8; cubic pieces in
 * u = x - midpoint on [-8, -4), [-4, -1.25), [-1.25, 1.25), [1.25, 4),
 * [4, 8) (least squares, fit error <= 3.2e-4); 0 below -8 and 1 from 8 on
 * (tail error sigma(-8) = 3.4e-4).
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - sigmoid(x)| <= 6e-4 for every x with |x| within
 * comparableLimit (2^(31-f) - 9 on the 32-bit comparison ring); the fixed
 * twin within the same bound, the secure result within 1 ulp of the twin.
 * inputRange [-8, 8]; outside it the output saturates at 0 and 1.
 *
 * Steps: one batch of 6 comparisons (x - B_k), local selection of the
 * piece, 2 multiplication rounds (piecewise-poly.ts).
 * Cost (direct comparisons, local truncation): 5 rounds; 6 DReLU + 4 x 40 bytes per
 * element: 1456 (64-bit comparison ring), 736 (32-bit, radix 4). Exact
 * truncation: 9 rounds, 96 bytes more; the paper's comparisons: 10 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export const SIGMOID_SPEC: PiecewiseSpec = {
  name: 'sigmoid',
  target: sigmoid,
  breakpoints: [-8, -4, -1.25, 1.25, 4, 8],
  degree: 3,
  left: 0,
  right: 1,
  lambda: [0, 0, 0, 0, 0, 0, 0],
};

export const sigmoidApprox = piecewiseActivation(SIGMOID_SPEC, 6e-4);
