/**
 * Secure sigmoid 1 / (1 + e^-x) (CheXNet's 14 heads, U-Net's mask,
 * squeeze-excite gates): a piecewise cubic over shares (piecewise-poly.ts),
 * SecureML's piecewise sigmoid (Mohassel-Zhang 2017, Sect. 4.3) with cubic
 * instead of linear pieces, as Falcon and SIRNN do for smooth activations.
 *
 * Approximation: breakpoints -9.5, -6, -3.75, -2.25, -1, 0, 1, 2.25,
 * 3.75, 6, 9.5; cubic pieces in u = x - midpoint on the 10 inner segments
 * (least squares, fit error <= 7.5e-5); 0 below -9.5 and 1 from 9.5 on
 * (tail error sigma(-9.5) = 7.5e-5). Earlier 6 breakpoints (-8 .. 8, error
 * 3.4e-4) added up to 4.4e-4 on EfficientNet-B0's probabilities through its
 * 16 squeeze-excite gates (model-import's fixed-point simulation); these
 * pieces bring the model under 1e-3 at 5 more comparisons per element.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - sigmoid(x)| <= 3.5e-4 for every x with |x| within
 * comparableLimit (2^(31-f) - 10.5 on the 32-bit comparison ring): the fit
 * error, the twin's roundings (about 1 ulp) and 1 ulp between secure and
 * twin; 1.5e-4 measured at f = 13, 7.5e-5 at f >= 16. inputRange [-9.5,
 * 9.5]; outside it the output saturates at 0 and 1.
 *
 * Steps: one batch of 11 comparisons (x - B_k), local selection of the
 * piece, 2 multiplication rounds (piecewise-poly.ts).
 * Cost (direct comparisons, local truncation): 5 rounds; 11 DReLU + 4 x 40 bytes per
 * element: 2536 (64-bit comparison ring), 1216 (32-bit, radix 4). Exact
 * truncation: 9 rounds, 96 bytes more; the paper's comparisons: 10 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export const SIGMOID_SPEC: PiecewiseSpec = {
  name: 'sigmoid',
  target: sigmoid,
  breakpoints: [-9.5, -6, -3.75, -2.25, -1, 0, 1, 2.25, 3.75, 6, 9.5],
  degree: 3,
  left: 0,
  right: 1,
  lambda: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
};

export const sigmoidApprox = piecewiseActivation(SIGMOID_SPEC, 3.5e-4);
