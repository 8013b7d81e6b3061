/**
 * Secure silu / swish x sigmoid(x) (EfficientNet): a piecewise cubic over
 * shares (piecewise-poly.ts; SecureML's piecewise method, Mohassel-Zhang
 * 2017, Sect. 4.3, with cubic pieces as in Falcon and SIRNN).
 *
 * silu(x) = x - x sigmoid(-x), so h(x) = silu(x) - x [x >= 0] is even,
 * small (|h| <= 0.28) and decays like |x| e^-|x|. The pieces fit h and add
 * x exactly (integer linear part lambda = 1 for x >= 0): no large values go
 * through the polynomial, and for x >= 10 the output is x itself.
 *
 * Approximation: breakpoints -12, -7.5, -5, -3.25, -2, -1, 0, 1, 2, 3.25,
 * 5, 7.5, 12; cubic pieces in u = x - midpoint on the 12 inner segments
 * (least squares, fit error <= 1.15e-4); 0 below -12 and x from 12 on (tail
 * error 12 sigmoid(-12) = 7.4e-5). Earlier 9 breakpoints (-10 .. 10, fit
 * error 5.8e-4) added up to 8e-4 on EfficientNet-B0's probabilities
 * (model-import's fixed-point simulation, f = 16); these pieces bring the
 * model under 1e-3 at 4 more comparisons per element.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - silu(x)| <= 4e-4 absolute (so <= 1e-3 max(1, |x|)
 * too) for every x with |x| within comparableLimit (2^(31-f) - 13 on the
 * 32-bit comparison ring): the fit error, the twin's roundings (about 1 ulp)
 * and 1 ulp between secure and twin; 1.9e-4 measured at f = 13, 1.2e-4 at
 * f = 16. inputRange [-12, 12]; outside it the output is 0 (left) or x
 * (right).
 *
 * Steps: one batch of 13 comparisons (x - B_k), local selection of the
 * piece, 2 multiplication rounds (the first
 * also multiplies lambda x) (piecewise-poly.ts).
 * Cost (direct comparisons, local truncation): 5 rounds; 13 DReLU + 5 x 40 bytes per
 * element: 3008 (64-bit comparison ring), 1448 (32-bit, radix 4). Exact
 * truncation: 9 rounds, 96 bytes more; the paper's comparisons: 10 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';
import { sigmoid } from './sigmoid.js';

export const silu = (x: number): number => x * sigmoid(x);

export const SILU_SPEC: PiecewiseSpec = {
  name: 'silu',
  target: silu,
  breakpoints: [-12, -7.5, -5, -3.25, -2, -1, 0, 1, 2, 3.25, 5, 7.5, 12],
  degree: 3,
  left: 0,
  right: 0,
  lambda: [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
};

export const siluApprox = piecewiseActivation(SILU_SPEC, 4e-4);
