/**
 * The value range of the malicious runner and the truncation widths derived
 * from it (docs/MALICIOUS.md "Truncation: parameters and failure
 * probability").
 *
 * The range: every value a model carries stays below 2^(c-1) ring units,
 * c the comparison width (MAL_COMPARE_BITS = 32, or 64 for a node marked
 * compareBits: 64): that is what the comparisons need, and the importer's
 * range checks bound. truncM (trunc.ts) is exact only for |x| < 2^(ell-1)
 * before its division, with ell + 1 <= 64 mask bits (MAX_TRUNC_ELL = 63:
 * the MAC check guarantees k = 64 bits, no statistical masking gap, c is
 * uniform whatever x). So:
 *
 *  - a division by 2^SCALE_BITS of X = sum_i x_i round(a_i 2^24) (public
 *    a_i: AveragePooling2D and GlobalAveragePooling2D (a_i = 1 / count over
 *    the window), Average (1 / k), Rescaling (the scale), bilinear
 *    UpSampling2D (two weights summing to 1), LeakyReLU's slopes, the hard
 *    sigmoids) whose result X / 2^24 is in the range: X = y 2^24 + e with
 *    |y| < 2^(c-1) and the weights' rounding |e| <= sum_i |x_i| / 2, up to
 *    count 2^(c-2) for a window at the edge (6 values of 2^31 - 1 averaged:
 *    X = 2^55 + 2^32 - 2^24 - 2). So ell - 1 = c + SCALE_BITS: one bit above
 *    the result's for the rounding; ell = c + SCALE_BITS + 1 = 57 for
 *    c = 32 (SCALED_TRUNC_ELL). With 48 it held only for |x| < 2^23 ring
 *    units (2^(23-f) reals) and past it opened a wrong value that the MAC
 *    check passes (fuzz-findings.test.ts);
 *    LeakyReLU truncates its terms alpha x and (1 - alpha) relu(x), which
 *    leave the range for alpha > 1 while its output does not: ell grows by
 *    ceil(log2 max(|alpha|, |1 - alpha|)) (scaledTruncEll's maxWeight; 59 for
 *    alpha = 4, which opened wrong values at 57);
 *  - a division by 2^f after a product of two values (Conv2D, Dense,
 *    DepthwiseConv2D, Conv2DTranspose, PReLU, Multiply, hard_silu) needs
 *    ell = c + f for a result in the range: at most TRUNC_ELL = 48 for
 *    f <= 16, 52 at f = MAX_FRAC_BITS = 20; the runner keeps 48 where that
 *    is enough (the costs of f <= 16 are unchanged).
 *
 * For c = 64 neither fits 63 bits: both use MAX_TRUNC_ELL, exact for
 * |X| < 2^62 (results below about 2^38 ring units) before a scaled division and
 * |product| < 2^62 before a division by f; the Z_2^64 product of the
 * semi-honest ring has the same limit one bit higher (|x 2^24| < 2^63).
 * Not checked at run time (NOT DONE: a range refusal at import for 64-bit
 * nodes past these bounds).
 */
import { SCALE_BITS } from '../ir-kit/arith.js';
import { MAX_TRUNC_ELL, TRUNC_ELL } from './trunc.js';

/**
 * The default width of the runner's comparisons: exact while every compared
 * value stays below 2^31 ring units (2^30 for MaxPool inputs), the range of
 * the semi-honest party servers' default 32-bit comparison ring; 64 (the
 * option compareBits) covers every fixed-point value at about twice the
 * bytes (compare.ts costs).
 */
export const MAL_COMPARE_BITS = 32;

/**
 * ell of a division by 2^SCALE_BITS of X = sum_i x_i round(a_i 2^24): c + SCALE_BITS + 1 (the weights' rounding) for
 * results in the range of comparison width c, at most MAX_TRUNC_ELL. `maxWeight` (default 1): a bound on |a_i| when
 * the truncated value is not the layer's output but a term of it whose weight may exceed 1 (LeakyReLU's alpha x and
 * (1 - alpha) relu(x) for alpha > 1: its output x stays in the range, the term alpha x does not): log2 of it more bits.
 */
export const scaledTruncEll = (c: number, maxWeight = 1): number => Math.min(scaledTruncBits(c, maxWeight), MAX_TRUNC_ELL);

/** The ell scaledTruncEll needs before its cap: above MAX_TRUNC_ELL no truncation is exact over the range (the model check refuses such a layer). */
export const scaledTruncBits = (c: number, maxWeight = 1): number => c + SCALE_BITS + 1 + Math.max(0, Math.ceil(Math.log2(maxWeight)));

/** LeakyReLU's larger slope term weight, max(|alpha|, |1 - alpha|) (scaledTruncEll's maxWeight). */
export const leakyWeight = (alpha: number): number => Math.max(Math.abs(alpha), Math.abs(1 - alpha));

/** ell of every scaled truncation at the default comparison width: 32 + 24 + 1 = 57. */
export const SCALED_TRUNC_ELL = scaledTruncEll(MAL_COMPARE_BITS);

/** ell of a division by 2^f after a product, for results in the range of comparison width c: max(TRUNC_ELL, c + f), at most MAX_TRUNC_ELL. */
export const productTruncEll = (f: number, c: number): number => Math.min(Math.max(TRUNC_ELL, c + f), MAX_TRUNC_ELL);
