/**
 * Secure silu / swish x sigmoid(x) (EfficientNet): a piecewise cubic over
 * shares (piecewise-poly.ts; SecureML's piecewise method, Mohassel-Zhang
 * 2017, Sect. 4.3, with cubic pieces as in Falcon and SIRNN).
 *
 * silu(x) = x - x sigmoid(-x), so silu(x) - ReLU(x) is even: silu(x) =
 * h(|x|) + ReLU(x) with h(t) = -t sigmoid(-t), small (|h| <= 0.28),
 * decaying like t e^-t (piecewise-poly.ts, symmetry 'even-relu'). One ReLU
 * of x gives both |x| = 2 ReLU(x) - x and the exact linear part: no large
 * values go through the polynomial, and for x >= 12 the output is x itself.
 *
 * Approximation: only |x| is compared, against the positive breakpoints 1,
 * 2, 3.25, 5, 7.5, 12: cubic pieces in u = |x| - midpoint on [0, 1), [1, 2),
 * ..., [7.5, 12) (least squares, fit error <= 1.15e-4); h = 0 from 12 on, so
 * 0 below -12 and x from 12 on (tail error 12 sigmoid(-12) = 7.4e-5). These
 * are the pieces of the unfolded engine's 13 breakpoints (-12 .. 12) on the
 * positive side; it compared x against all 13, now ReLU(x) and 6. Earlier 9
 * breakpoints (-10 .. 10, fit error 5.8e-4) added up to 8e-4 on
 * EfficientNet-B0's probabilities (model-import's fixed-point simulation,
 * f = 16); these pieces bring the model under 1e-3.
 *
 * Bound (tests check it on dense grids, random inputs and edge values at
 * f = 13..18): |secure(x) - silu(x)| <= 4e-4 absolute (so <= 1e-3 max(1, |x|)
 * too) for every x with |x| within comparableLimit (2^(31-f) - 13 on the
 * 32-bit comparison ring): the fit error, the twin's roundings (about 1 ulp)
 * and 1 ulp between secure and twin; 1.8e-4 measured at f = 13, 1.2e-4 at
 * f = 16. inputRange [-12, 12]; outside it the output is 0 (left) or x
 * (right).
 *
 * Steps (piecewise-poly.ts): r = ReLU(x), |x| = 2 r - x, one batch of 6
 * comparisons (|x| - B_k), local selection of the piece, 2 multiplication
 * rounds, y = h + r.
 * Cost (direct comparisons, local truncation): 8 rounds; 1 ReLU + 6 DReLU +
 * 4 x 40 bytes per element: 1680 (64-bit comparison ring), 848 (32-bit,
 * radix 4; unfolded: 1448). Exact truncation: 12 rounds, 96 bytes more; the
 * paper's comparisons: 19 rounds.
 */
import { piecewiseActivation, type PiecewiseSpec } from './piecewise-poly.js';
import { sigmoid } from './sigmoid.js';

export const silu = (x: number): number => x * sigmoid(x);

export const SILU_SPEC: PiecewiseSpec = {
  name: 'silu',
  target: silu,
  symmetry: 'even-relu',
  center: 0,
  breakpoints: [1, 2, 3.25, 5, 7.5, 12],
  degree: 3,
  tail: 0,
};

export const siluApprox = piecewiseActivation(SILU_SPEC, 4e-4);
