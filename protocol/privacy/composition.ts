/**
 * Differential-privacy composition bounds used by the accountant
 * (accountant.ts). Every query a client makes is a mechanism with a
 * `PrivacyCharge`; a client's total loss is bounded three ways:
 *
 *  - basic composition (Dwork, McSherry, Nissim, Smith 2006; Dwork & Roth,
 *    "The Algorithmic Foundations of DP", Thm 3.16):
 *      (sum eps_i, sum delta_i).
 *  - advanced composition (Dwork, Rothblum, Vadhan, FOCS 2010; Dwork & Roth
 *    Thm 3.20), in its heterogeneous form (same proof: the privacy loss of
 *    step i is bounded by eps_i and has mean at most eps_i (e^eps_i - 1); Azuma):
 *      eps' = sqrt(2 ln(1/delta') sum eps_i^2) + sum eps_i (e^eps_i - 1),
 *      delta = sum delta_i + delta'.
 *    With equal eps_i this is DRV's sqrt(2k ln(1/delta')) eps + k eps (e^eps - 1).
 *  - Renyi DP (Mironov, CSF 2017): RDP curves add up; the total converts to
 *      eps(delta) = min over alpha of  rdp(alpha) + ln(1/delta) / (alpha - 1)
 *    (Mironov Prop. 3). Per mechanism: pure eps-DP gives
 *    rdp(alpha) <= min(eps, alpha eps^2 / 2) (eps-DP implies eps^2/2-zCDP,
 *    Bun & Steinke, TCC 2016, Prop. 1.4); the Gaussian mechanism (continuous,
 *    or the discrete Gaussian by Canonne-Kamath-Steinke 2020 Thm 4) is
 *    rho-zCDP with rho = Delta^2 / (2 sigma^2), so rdp(alpha) = alpha rho.
 *
 * Adaptivity. The client chooses when to stop and, through per-request
 * overrides, each eps_i after seeing earlier answers, so admission must be a
 * privacy *filter* (Rogers, Roth, Ullman, Vadhan, NeurIPS 2016, "Privacy
 * Odometers and Filters: Pay-as-you-Go Composition"): a stopping rule whose
 * guarantee holds for adaptively chosen parameters. The rules (enforcedEpsilon):
 *  - 'basic': sum eps_i <= eps and sum delta_i <= delta. Rogers et al. prove
 *    basic composition is a valid filter for adaptive (eps_i, delta_i).
 *  - 'rdp': admit while for SOME tracked order alpha
 *      sum rdp_i(alpha) + ln(|A| / delta) / (alpha - 1) <= eps
 *    (|A| = RDP_ORDERS.length). For one fixed alpha, stopping once
 *    sum rdp_i(alpha) would pass B_alpha is a valid Renyi filter for
 *    adaptively chosen rdp_i (Feldman & Zrnic, NeurIPS 2021, "Individual
 *    Privacy Accounting via a Renyi Filter", arXiv 2008.11193; also Lecuyer,
 *    arXiv 2103.01379, 2021): the
 *    transcript is (alpha, B_alpha)-RDP, hence its privacy loss L exceeds eps
 *    with probability at most exp((alpha - 1)(B_alpha - eps)) (Markov on
 *    E[e^{(alpha-1) L}], Mironov 2017 Prop. 3). Admitting while any order
 *    fits means the order that certifies the final transcript is itself
 *    chosen adaptively; on the event that order alpha never exceeded B_alpha
 *    the run equals alpha's own filter, so P[L > eps] <= sum over alpha of
 *    delta / |A| = delta (union bound). This is why the conversion uses
 *    ln(|A| / delta), not ln(1 / delta).
 *  - 'best' (default): 'rdp', or, while every charge so far is pure (delta_i
 *    = 0), basic composition. For pure eps_i-DP steps the privacy loss of
 *    each step is at most eps_i on every outcome, so on transcripts where
 *    sum eps_i <= eps the loss is at most eps surely; adding that event to
 *    the union above costs no delta. Basic composition is not used once a
 *    client has an approximate-DP (Gaussian) charge: its (eps_i, delta_i)
 *    do not bound the loss pointwise, and mixing it into the union would need
 *    a separate delta share.
 * The advanced-composition (DRV) figure is reported only: with adaptive eps_i
 * it needs the filter of Rogers et al. (worse constants).
 */

/** How a mechanism's Renyi-DP curve is derived. */
export type RdpSpec = { kind: 'pure' } | { kind: 'zcdp'; rho: number };

/** The privacy cost of one query (one image's output) under one mechanism. */
export interface PrivacyCharge {
  readonly epsilon: number;
  readonly delta: number;
  readonly rdp: RdpSpec;
}

/** Renyi orders tracked by the accountant. */
export const RDP_ORDERS: readonly number[] = Object.freeze([1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 256, 512, 1024]);

/** rdp(alpha) of one mechanism at each order of RDP_ORDERS. */
export function rdpCurve(c: PrivacyCharge): number[] {
  return RDP_ORDERS.map((a) => (c.rdp.kind === 'pure' ? Math.min(c.epsilon, (a * c.epsilon * c.epsilon) / 2) : a * c.rdp.rho));
}

/** Additive summary of many charges: everything the three bounds need. */
export interface CompositionState {
  queries: number;
  sumEpsilon: number;
  sumDelta: number;
  sumEpsilonSq: number;
  /** sum eps_i (e^eps_i - 1). */
  sumEpsilonExpm1: number;
  /** Summed RDP curve over RDP_ORDERS. */
  rdp: number[];
}

export const emptyComposition = (): CompositionState => ({ queries: 0, sumEpsilon: 0, sumDelta: 0, sumEpsilonSq: 0, sumEpsilonExpm1: 0, rdp: RDP_ORDERS.map(() => 0) });

/** s + count copies of c (count = images in the request). Returns a new state. */
export function addCharge(s: CompositionState, c: PrivacyCharge, count = 1): CompositionState {
  const curve = rdpCurve(c);
  return {
    queries: s.queries + count,
    sumEpsilon: s.sumEpsilon + count * c.epsilon,
    sumDelta: s.sumDelta + count * c.delta,
    sumEpsilonSq: s.sumEpsilonSq + count * c.epsilon * c.epsilon,
    sumEpsilonExpm1: s.sumEpsilonExpm1 + count * c.epsilon * Math.expm1(c.epsilon),
    rdp: s.rdp.map((v, i) => v + count * curve[i]!),
  };
}

export function mergeComposition(a: CompositionState, b: CompositionState): CompositionState {
  return {
    queries: a.queries + b.queries, sumEpsilon: a.sumEpsilon + b.sumEpsilon, sumDelta: a.sumDelta + b.sumDelta,
    sumEpsilonSq: a.sumEpsilonSq + b.sumEpsilonSq, sumEpsilonExpm1: a.sumEpsilonExpm1 + b.sumEpsilonExpm1, rdp: a.rdp.map((v, i) => v + b.rdp[i]!),
  };
}

export interface EpsDelta { epsilon: number; delta: number }

export const basicBound = (s: CompositionState): EpsDelta => ({ epsilon: s.sumEpsilon, delta: s.sumDelta });

/** Advanced composition with slack deltaPrime > 0 (null if deltaPrime <= 0). */
export function advancedBound(s: CompositionState, deltaPrime: number): EpsDelta | null {
  if (!(deltaPrime > 0) || deltaPrime >= 1) return null;
  if (s.queries === 0) return { epsilon: 0, delta: 0 };
  return { epsilon: Math.sqrt(2 * Math.log(1 / deltaPrime) * s.sumEpsilonSq) + s.sumEpsilonExpm1, delta: s.sumDelta + deltaPrime };
}

/** RDP converted to (eps, delta) at the given delta (null if delta <= 0), with the order attaining it. */
export function rdpBound(s: CompositionState, delta: number): (EpsDelta & { order: number }) | null {
  if (!(delta > 0) || delta >= 1) return null;
  if (s.queries === 0) return { epsilon: 0, delta, order: RDP_ORDERS[0]! };
  let best = Infinity, order = RDP_ORDERS[0]!;
  RDP_ORDERS.forEach((a, i) => {
    const e = s.rdp[i]! + Math.log(1 / delta) / (a - 1);
    if (e < best) { best = e; order = a; }
  });
  return { epsilon: best, delta, order };
}

/**
 * RDP as a filter over all RDP_ORDERS (see the header): the conversion at
 * delta / |A| (union bound over the orders), reported at `delta`.
 */
export function rdpFilterBound(s: CompositionState, delta: number): (EpsDelta & { order: number }) | null {
  const r = rdpBound(s, delta / RDP_ORDERS.length);
  return r && { ...r, delta };
}

/** Which bound decides admission. */
export type Enforcement = 'basic' | 'rdp' | 'best';

/**
 * The epsilon the enforcement rule charges at total delta `delta` (a valid
 * filter bound for adaptively chosen charges; see the header):
 * 'basic' needs sum delta_i <= delta (else Infinity); 'rdp' needs delta > 0
 * and pays ln(|A| / delta); 'best' is the smaller of 'rdp' and, only while
 * every charge is pure (sum delta_i = 0), sum eps_i.
 */
export function enforcedEpsilon(s: CompositionState, delta: number, rule: Enforcement): number {
  if (rule === 'basic') return s.sumDelta <= delta ? s.sumEpsilon : Infinity;
  const r = rdpFilterBound(s, delta)?.epsilon ?? Infinity;
  if (rule === 'rdp') return r;
  return s.sumDelta === 0 ? Math.min(s.sumEpsilon, r) : r;
}
