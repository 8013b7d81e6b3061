/**
 * Secure tanh: a piecewise cubic over shares (piecewise-poly.ts), the
 * piecewise-polynomial method of SecureML's sigmoid (Mohassel-Zhang 2017,
 * Sect. 4.3) with cubic pieces (Falcon, SIRNN). tanh is fitted directly
 * rather than as 2 sigmoid(2x) - 1, which would double the sigmoid's error.
 *
 * Approximation: breakpoints -4.25, -2.125, -0.625, 0.625, 2.125, 4.25;
 * cubic pieces in u = x - midpoint on the five inner segments (least
 * squares, fit error <= 6.4e-4); -1 below -4.25 and 1 from 4.25 on (tail
 * error 1 - tanh(4.25) = 4.1e-4).
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - tanh(x)| <= 9e-4 for every x with |x| within
 * comparableLimit (2^(31-f) - 5.25 on the 32-bit comparison ring); the
 * fixed twin within the same bound, the secure result within 1 ulp of the
 * twin. inputRange [-4.25, 4.25]; outside it the output saturates at -1, 1.
 *
 * Steps: one batch of 6 comparisons (x - B_k), local selection of the
 * piece, 2 multiplication rounds (piecewise-poly.ts).
 * Cost (direct comparisons, local truncation): 5 rounds; 6 DReLU + 4 x 40 bytes per
 * element: 1456 (64-bit comparison ring), 736 (32-bit, radix 4). Exact
 * truncation: 9 rounds, 96 bytes more; the paper's comparisons: 10 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

export const TANH_SPEC: PiecewiseSpec = {
  name: 'tanh',
  target: Math.tanh,
  breakpoints: [-4.25, -2.125, -0.625, 0.625, 2.125, 4.25],
  degree: 3,
  left: -1,
  right: 1,
  lambda: [0, 0, 0, 0, 0, 0, 0],
};

export const tanhApprox = piecewiseActivation(TANH_SPEC, 9e-4);
