/**
 * Secure tanh: a piecewise cubic over shares (piecewise-poly.ts), the
 * piecewise-polynomial method of SecureML's sigmoid (Mohassel-Zhang 2017,
 * Sect. 4.3) with cubic pieces (Falcon, SIRNN). tanh is fitted directly
 * rather than as 2 sigmoid(2x) - 1, which would double the sigmoid's error.
 *
 * Folded (piecewise-poly.ts, symmetry 'odd'): tanh(x) = sign(x) tanh(|x|),
 * and only |x| is compared, against the positive breakpoints 0.625, 2.125,
 * 4.25: cubic pieces in u = |x| - midpoint on [0, 0.625), [0.625, 2.125),
 * [2.125, 4.25) (least squares, fit error <= 6.2e-4; the unfolded engine's
 * centre piece [-0.625, 0.625) is now its two halves); -1 below -4.25 and 1
 * from 4.25 on (tail error 1 - tanh(4.25) = 4.1e-4). The unfolded engine
 * compared x against 6 breakpoints; now DReLU(x) and 3.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - tanh(x)| <= 9e-4 for every x with |x| within
 * comparableLimit (2^(31-f) - 5.25 on the 32-bit comparison ring); the
 * fixed twin within the same bound, the secure result within 1 ulp of the
 * twin. inputRange [-4.25, 4.25]; outside it the output saturates at -1, 1.
 *
 * Steps (piecewise-poly.ts): d = DReLU(x), one multiplication round for
 * |x| = (2d - 1) x, one batch of 3 comparisons (|x| - B_k), local selection
 * of the piece, 2 multiplication rounds, one for (2d - 1) h.
 * Cost (direct comparisons, local truncation): 10 rounds; 4 DReLU + 6 x 40
 * bytes per element: 1104 (64-bit comparison ring), 624 (32-bit, radix 4;
 * unfolded: 736). Exact truncation: 14 rounds, 96 bytes more; the paper's
 * comparisons: 20 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

export const TANH_SPEC: PiecewiseSpec = {
  name: 'tanh',
  target: Math.tanh,
  symmetry: 'odd',
  center: 0,
  breakpoints: [0.625, 2.125, 4.25],
  degree: 3,
  tail: 1,
};

export const tanhApprox = piecewiseActivation(TANH_SPEC, 9e-4);
