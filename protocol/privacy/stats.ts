/**
 * Small statistics toolkit for the privacy tests (no dependency): CDFs,
 * the one-sample Kolmogorov-Smirnov statistic and a two-sample chi-square
 * test with the Wilson-Hilferty normal approximation.
 */

/** erf(x), Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const normalCdf = (x: number, sigma: number): number => 0.5 * (1 + erf(x / (sigma * Math.SQRT2)));
export const laplaceCdf = (x: number, b: number): number => (x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b));
/** CDF of the sum of two independent Laplace(b): tail (1/4) e^(-z/b) (2 + z/b). */
export const laplaceSumCdf = (x: number, b: number): number => {
  const z = Math.abs(x), tail = 0.25 * Math.exp(-z / b) * (2 + z / b);
  return x < 0 ? tail : 1 - tail;
};
/** Gamma(1/2, theta) = theta * chi^2_1 / 2: CDF erf(sqrt(x / theta)). */
export const gammaHalfCdf = (x: number, theta: number): number => (x <= 0 ? 0 : erf(Math.sqrt(x / theta)));

/** sup |F_n - F| of the sample against cdf. */
export function ksStatistic(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    // Ties (lattice values): compare at the last of equal values.
    if (i + 1 < n && s[i + 1] === s[i]) continue;
    const f = cdf(s[i]!);
    let lo = i;
    while (lo > 0 && s[lo - 1] === s[i]) lo--;
    d = Math.max(d, Math.abs((i + 1) / n - f), Math.abs(f - lo / n));
  }
  return d;
}

/** KS critical value at level alpha (asymptotic): sqrt(-ln(alpha / 2) / 2) / sqrt(n). */
export const ksCritical = (n: number, alpha: number): number => Math.sqrt(-Math.log(alpha / 2) / 2) / Math.sqrt(n);

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}
export function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return s / (a.length - 1);
}

/** z-score of a chi-square statistic with k degrees of freedom (Wilson-Hilferty). */
export function chiSquareZ(chi2: number, k: number): number {
  if (k <= 0) return 0;
  const v = 2 / (9 * k);
  return (Math.cbrt(chi2 / k) - (1 - v)) / Math.sqrt(v);
}

/** Two-sample chi-square homogeneity test of two histograms; returns the z-score (large = different). */
export function twoSampleChiSquareZ(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { na += a[i]!; nb += b[i]!; }
  if (na === 0 || nb === 0) return 0;
  let chi2 = 0, k = -1;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]! + b[i]!;
    if (t === 0) continue;
    k++;
    const ea = (t * na) / (na + nb), eb = (t * nb) / (na + nb);
    chi2 += (a[i]! - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  }
  return chiSquareZ(chi2, k);
}

/** One-sample chi-square goodness of fit of counts against probabilities; returns the z-score. */
export function goodnessOfFitZ(counts: ArrayLike<number>, probs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  let chi2 = 0;
  for (let i = 0; i < counts.length; i++) chi2 += (counts[i]! - n * probs[i]!) ** 2 / (n * probs[i]!);
  return chiSquareZ(chi2, counts.length - 1);
}
