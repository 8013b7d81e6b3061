/**
 * The smooth activations (sigmoid, silu/swish, tanh, gelu) in the malicious
 * mode: the same folded piecewise cubics as the semi-honest protocol
 * (protocol/primitives/piecewise-poly.ts: SecureML's piecewise evaluation,
 * Mohassel and Zhang, S&P 2017, §4.3, with cubic pieces as Falcon, Wagh et
 * al., PoPETs 2021), their symmetry, positive breakpoints and fitted real
 * coefficients read from the exported activation objects
 * (sigmoidApprox.spec / .segments, ...) and encoded by piecewise-fit.ts's
 * own tableFor (breakpoints and midpoints at f bits, coefficients at
 * F = f + COEF_EXTRA_BITS, the centre c at f bits), over MACed shares.
 * With t = |x|: 'odd' (sigmoid, tanh) g(x) = c + sign(x) h(t); 'even-relu'
 * (silu, gelu) g(x) = h(t) + ReLU(x); h is the cubic of t's piece.
 *
 *  0. Masks: the comparison masks of both calls below, n (K + 1) of them,
 *     in one compareMaskM (input-independent: its rounds are paid once, as
 *     maxpool.ts does), split by sliceMask, each part used once.
 *  1. Sign. even-relu: r = ReLU(x) (one reluM), t = 2 r - x (local).
 *     odd: d = DReLU(x) (one dreluM), dx = d x (one mulM, exact: d is a
 *     MACed 0/1), t = 2 dx - x = (2d - 1) x. t = |x| exactly, no truncation.
 *  2. e_k = DReLU(t - B_k 2^f) for the K positive breakpoints: one dreluM
 *     call on n K elements (MACed bits 0/1 mod 2^k); e_k = [t >= B_k].
 *  3. Local selection: each per-segment public column T (midpoint m,
 *     coefficients a_0..a_3; K pieces and the tail) is
 *     T_0 + sum_k e_k (T_{k+1} - T_k); u = t - m.
 *  4. One mulM: u u, a_3 u, a_1 u; w = 4 u u, z = a_3 u + a_2 2^f, one
 *     truncM call by f on both.
 *  5. One mulM: p = z w; h = truncM(p + 4 (a_1 u + a_0 2^f), F + 2).
 *  6. Unfold. even-relu: y = h + r (local). odd: one mulM dh = d h (exact,
 *     no truncation), y = c 2^f + 2 dh - h = c + (2d - 1) h.
 *
 * Accuracy: truncM gives floor or floor + 1, as the semi-honest local
 * truncation, and the fold and unfold are exact products, so the output has
 * the semi-honest protocol's distribution (piecewise-fit.ts fixedDraw) and
 * its stated bound: |y - g(x)| <= maxAbsError of the activation (3.5e-4
 * sigmoid, 4e-4 silu, 9e-4 tanh and gelu) at f = 13..18 (layers.test.ts
 * checks it against the true function and the float twin on random inputs,
 * on +-B_k and +-B_k +- 1 ulp, and in the tails).
 *
 * Range precondition: reluM / dreluM need |x| < 2^(ell-1) and
 * |t - B_k 2^f| < 2^(ell-1) for every breakpoint (ell the runner's
 * comparison width, MAL_COMPARE_BITS = 32 by default): |x| < 2^(ell-1-f) -
 * max B_k in reals (2^18 - 12 at f = 13), the unfolded engine's bound. The
 * truncations (o.trunc, at TRUNC_ELL = 48, not ranges.ts's widths: their
 * values are bounded by the pieces, not by the range) need
 * |value| < 2^(TRUNC_ELL - 1) = 2^47: inside the pieces
 * 4 u^2 2^(2f) and |P(u)| 2^(2f+7) are below it for f <= 18
 * (MAL_SMOOTH_MAX_F; checkMaliciousModel refuses these activations above
 * it rather than open a wrong value); in the tail
 * (t >= B_K) a_1 = a_2 = a_3 = 0 and m = 0, so z = truncM(0) = 0 exactly and
 * p = 0 whatever w is, even when 4 t^2 exceeds the truncation's range, and
 * h = a_0 exactly (4 a_0 2^f is a multiple of 2^(F+2)); dx and dh are exact.
 *
 * Soundness (SPDZ_2k, docs/MALICIOUS.md): reluM, dreluM, truncM and mulM are
 * correct modulo 2^k given their inputs modulo 2^k (they read only the low
 * bits of what they open), and t, the selection, the unfold and the public
 * additions are linear, so y mod 2^k depends only on x mod 2^k and on values
 * the MAC check verifies: errors in multiples of 2^k change nothing.
 *
 * Cost (smoothCostM): compareMaskCostM(n (K + 1), ell); the sign (even-relu:
 * reluOnlineCostM(n, ell); odd: msbOnlineCostM(n, ell) + mulCostM(n));
 * msbOnlineCostM(n K, ell); mulCostM(3 n); truncation of 2 n by f;
 * mulCostM(n); truncation of n by F + 2; odd: mulCostM(n). One after the
 * other. K + 1 comparisons per element (sigmoid 6, silu 7, tanh 4, gelu 3)
 * where the unfolded cubics had 2K + 1 (11, 13, 7, 5).
 */
import { assert } from '../errors.js';
import type { SmoothActivationName } from '../ir.js';
import { addCost, type Cost } from '../primitives/cost.js';
import type { PiecewiseActivation } from '../primitives/piecewise-poly.js';
import { COEF_EXTRA_BITS, tableFor, W_EXTRA_BITS, type Table } from '../primitives/piecewise-fit.js';
import { sigmoidApprox } from '../primitives/sigmoid.js';
import { siluApprox } from '../primitives/silu.js';
import { tanhApprox } from '../primitives/tanh.js';
import { geluApprox } from '../primitives/gelu.js';
import { smoothActivation } from '../layers/activations.js';
import { constantM } from './bit-ops.js';
import { compareMaskCostM, compareMaskM, dreluM, msbOnlineCostM, reluM, reluOnlineCostM, sliceMask } from './compare.js';
import { concatM, shlM, sliceM } from './mvec.js';
import { mulCostM, mulM } from './product.js';
import { addM, addPublicM, mulPublicM, subM, type MShare } from './rep.js';
import { scalar128 } from './ring128.js';
import { filled128, type MalLayerOps } from './layers-linear.js';

/** The piecewise approximations run here, by activation name (piecewise-poly.ts's exported objects). */
/** The largest f at which the inner truncations' values stay below 2^(TRUNC_ELL - 1) (header); the runner refuses a smooth activation above it. */
export const MAL_SMOOTH_MAX_F = 18;

export const MAL_SMOOTH: Readonly<Record<SmoothActivationName, PiecewiseActivation>> = Object.freeze({ sigmoid: sigmoidApprox, silu: siluApprox, tanh: tanhApprox, gelu: geluApprox });

/**
 * Whether `name` runs here: the activation registered for the service
 * (protocol/layers/activations.ts, what the semi-honest runner and the
 * importer use) is the built-in piecewise cubic these tables are. A stand-in
 * registered in its place computes another function: the runner refuses it.
 */
export function builtInSmooth(name: SmoothActivationName): boolean {
  const reg = smoothActivation(name);
  return reg !== undefined && reg.secure === MAL_SMOOTH[name].secure;
}

export interface MalSmoothOps extends MalLayerOps {
  /** The comparison width ell of reluM / dreluM. */
  readonly ell: number;
}

/** The activation's fixed-point table at f (piecewise-fit.ts tableFor, the semi-honest encoding), made once per f. */
const tables = new Map<string, Table>();
function table(act: PiecewiseActivation, f: number): Table {
  const key = `${act.name}:${f}`;
  let t = tables.get(key);
  if (!t) tables.set(key, (t = tableFor(act.spec, act.segments, f)));
  return t;
}

/** [act(x)] for MACed x (n elements) at f fractional bits, steps 0-6 above. */
export async function smoothM(o: MalSmoothOps, name: SmoothActivationName, x: MShare): Promise<MShare> {
  const act = MAL_SMOOTH[name];
  assert(act, 'E_INTERNAL', `malicious runner: no piecewise table for '${name}'`);
  const { s, f, ell } = o, k = s.ctx.kernels, n = x.n;
  const t = table(act, f), K = t.B.length, odd = act.spec.symmetry === 'odd';
  const filled = (v: bigint) => filled128(v, n);
  // Step 0: the masks of the sign's n comparisons and of the K n below, in one call.
  const masks = await compareMaskM(s, n * (K + 1), ell, odd ? 0 : 1); // with one payload (rho) when the sign is a ReLU (compare-fold.ts); unused by the K n DReLUs
  // Step 1: the sign. even-relu: r = ReLU(x), |x| = 2 r - x. odd: d = DReLU(x), |x| = 2 d x - x.
  let d: MShare | null = null, r: MShare | null = null, dx: MShare;
  if (odd) {
    d = await dreluM(s, x, ell, sliceMask(masks, 0, n));
    dx = await mulM(s, d, x);
  } else {
    dx = r = await reluM(s, x, ell, sliceMask(masks, 0, n));
  }
  const abs = subM(addM(dx, dx, k), x, k);
  // Step 2: e_k = DReLU(|x| - B_k 2^f), the K positive breakpoints in one call.
  const e = await dreluM(s, concatM(t.B.map((b) => addPublicM(s.party, s.alpha, abs, filled(-b), k))), ell, sliceMask(masks, n, n * (K + 1)));
  // Step 3: T_0 + sum_k e_k (T_{k+1} - T_k), local; u = |x| - m.
  const col = (T: readonly bigint[]): MShare => {
    let out = constantM(s.party, s.alpha, filled(T[0]!), k);
    for (let j = 0; j < K; j++) {
      const delta = T[j + 1]! - T[j]!;
      if (delta !== 0n) out = addM(out, mulPublicM(sliceM(e, j * n, (j + 1) * n), scalar128(delta), k), k);
    }
    return out;
  };
  const u = subM(abs, col(t.M), k);
  const [a0, a1, a2, a3] = [0, 1, 2, 3].map((j) => col(t.A.map((row) => row[j]!))) as [MShare, MShare, MShare, MShare];
  // Step 4: u u, a_3 u, a_1 u in one product; w = 4 u u, z = a_3 u + a_2 2^f, truncated by f in one call.
  const prod = await mulM(s, concatM([u, a3, a1]), concatM([u, u, u]));
  const w = shlM(sliceM(prod, 0, n), W_EXTRA_BITS);
  const z = addM(sliceM(prod, n, 2 * n), shlM(a2, f), k);
  const wz = await o.trunc(concatM([w, z]), f);
  // Step 5: p = z w; h = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)).
  const p = await mulM(s, sliceM(wz, n, 2 * n), sliceM(wz, 0, n));
  const rest = shlM(addM(sliceM(prod, 2 * n, 3 * n), shlM(a0, f), k), W_EXTRA_BITS);
  const h = await o.trunc(addM(p, rest, k), t.F + W_EXTRA_BITS);
  // Step 6: unfold. even-relu: y = h + r. odd: y = c 2^f + 2 d h - h.
  if (!odd) return addM(h, r!, k);
  const dh = await mulM(s, d!, h);
  const y = subM(addM(dh, dh, k), h, k);
  return t.C === 0n ? y : addPublicM(s.party, s.alpha, y, filled(t.C), k);
}

/** Declared cost of smoothM on n elements (trunc: the primitives table's truncation cost), in the order of steps 0-6. */
export function smoothCostM(name: SmoothActivationName, n: number, f: number, ell: number, trunc: (n: number, bits: number) => Cost[]): Cost[] {
  const act = MAL_SMOOTH[name], K = act.spec.breakpoints.length, odd = act.spec.symmetry === 'odd';
  const sign = odd ? addCost(msbOnlineCostM(n, ell), mulCostM(n)) : reluOnlineCostM(n, ell);
  return [
    compareMaskCostM(n * (K + 1), ell, odd ? 0 : 1), sign, msbOnlineCostM(n * K, ell),
    mulCostM(3 * n), ...trunc(2 * n, f), mulCostM(n), ...trunc(n, f + COEF_EXTRA_BITS + W_EXTRA_BITS),
    ...(odd ? [mulCostM(n)] : []),
  ];
}
