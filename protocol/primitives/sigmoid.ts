/**
 * Secure sigmoid 1 / (1 + e^-x) (CheXNet's 14 heads, U-Net's mask,
 * squeeze-excite gates): a piecewise cubic over shares (piecewise-poly.ts),
 * SecureML's piecewise sigmoid (Mohassel-Zhang 2017, Sect. 4.3) with cubic
 * instead of linear pieces, as Falcon and SIRNN do for smooth activations.
 *
 * Folded (piecewise-poly.ts, symmetry 'odd'): sigmoid(x) - 1/2 is odd, so
 * sigmoid(x) = 1/2 + sign(x) h(|x|) with h(t) = sigmoid(t) - 1/2, and only
 * |x| is compared, against the positive breakpoints 1, 2.25, 3.75, 6, 9.5:
 * cubic pieces in u = |x| - midpoint on [0, 1), [1, 2.25), ..., [6, 9.5)
 * (least squares, fit error <= 7.5e-5), h = 1/2 from 9.5 on, i.e. 0 below
 * -9.5 and 1 from 9.5 on (tail error sigma(-9.5) = 7.5e-5). These are the
 * pieces of the unfolded engine's 11 breakpoints (-9.5 .. 9.5) on the
 * positive side; it compared x against all 11, now DReLU(x) and 5. Earlier 6
 * breakpoints (-8 .. 8, error 3.4e-4) added up to 4.4e-4 on
 * EfficientNet-B0's probabilities through its 16 squeeze-excite gates
 * (model-import's fixed-point simulation); these pieces bring the model
 * under 1e-3.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - sigmoid(x)| <= 3.5e-4 for every x with |x| within
 * comparableLimit (2^(31-f) - 10.5 on the 32-bit comparison ring): the fit
 * error, the twin's roundings (about 1 ulp) and 1 ulp between secure and
 * twin; 1.6e-4 measured at f = 13, 7.5e-5 at f >= 16. inputRange [-9.5,
 * 9.5]; outside it the output saturates at 0 and 1.
 *
 * Steps (piecewise-poly.ts): d = DReLU(x), one multiplication round for
 * |x| = (2d - 1) x, one batch of 5 comparisons (|x| - B_k), local selection
 * of the piece, 2 multiplication rounds, one for (2d - 1) h.
 * Cost (direct comparisons, local truncation): 10 rounds; 6 DReLU + 6 x 40
 * bytes per element: 1536 (64-bit comparison ring), 816 (32-bit, radix 4;
 * unfolded: 1216). Exact truncation: 14 rounds, 96 bytes more; the paper's
 * comparisons: 20 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export const SIGMOID_SPEC: PiecewiseSpec = {
  name: 'sigmoid',
  target: sigmoid,
  symmetry: 'odd',
  center: 0.5,
  breakpoints: [1, 2.25, 3.75, 6, 9.5],
  degree: 3,
  tail: 0.5,
};

export const sigmoidApprox = piecewiseActivation(SIGMOID_SPEC, 3.5e-4);
