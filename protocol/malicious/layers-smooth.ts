/**
 * The smooth activations (sigmoid, silu/swish, tanh, gelu) in the malicious
 * mode: the same piecewise cubics as the semi-honest protocol
 * (protocol/primitives/piecewise-poly.ts: SecureML's piecewise evaluation,
 * Mohassel and Zhang, S&P 2017, §4.3, with cubic pieces as Falcon, Wagh et
 * al., PoPETs 2021), their breakpoints and fitted real coefficients read
 * from the exported activation objects (sigmoidApprox.spec / .segments, ...)
 * and encoded here exactly as piecewise-poly.ts's tables (midpoints at f
 * bits, coefficients at F = f + COEF_EXTRA_BITS), over MACed shares:
 *
 *  1. d_k = DReLU(x - B_k 2^f) for the K breakpoints: one dreluM call on
 *     n K elements (compare.ts; MACed bits 0/1 mod 2^k).
 *  2. Local selection: each per-segment public column T (midpoint m,
 *     coefficients a_0..a_3, lambda) is T_0 + sum_k d_k (T_{k+1} - T_k);
 *     u = x - m.
 *  3. One mulM: u u, a_3 u, a_1 u (and lambda x where some lambda is 1);
 *     w = 4 u u, z = a_3 u + a_2 2^f, one truncM call by f on both.
 *  4. One mulM: p = z w; y = truncM(p + 4 (a_1 u + a_0 2^f), F + 2) + lambda x.
 *
 * Accuracy: truncM gives floor or floor + 1, as the semi-honest local
 * truncation, so the output has the semi-honest protocol's distribution and
 * its stated bound: |y - g(x)| <= maxAbsError of the activation (3.5e-4
 * sigmoid, 4e-4 silu, 9e-4 tanh and gelu) at f = 13..18 (the test checks
 * it on random and edge inputs).
 *
 * Range precondition: dreluM needs |x - B_k 2^f| < 2^(ell-1) for every
 * breakpoint (ell the runner's comparison width, MAL_COMPARE_BITS = 32 by
 * default): |x| < 2^(ell-1-f) - max|B_k| in reals (2^18 - 12 at f = 13).
 * The truncations need |value| < 2^(TRUNC_ELL - 1) = 2^47: inside the
 * pieces 4 u^2 2^(2f) and |P(u)| 2^(2f+7) are below it for f <= 18; in the
 * tails (|x| beyond the outermost breakpoint) a_1 = a_2 = a_3 = 0 and m = 0,
 * so z = truncM(0) = 0 exactly and p = 0 whatever w is, even when 4 x^2
 * exceeds the truncation's range; lambda x is an exact product.
 *
 * Soundness (SPDZ_2k, docs/MALICIOUS.md): dreluM, truncM and mulM are
 * correct modulo 2^k given their inputs modulo 2^k, and steps 2 and the
 * public additions are linear, so y mod 2^k depends only on x mod 2^k and
 * on values the MAC check verifies.
 *
 * Cost (smoothCostM): dreluCostM(n K, ell) + mulCostM(3 n, or 4 n with
 * lambda) + truncCost(2 n, f) + mulCostM(n) + truncCost(n, F + 2), one after
 * the other.
 */
import { assert } from '../errors.js';
import type { SmoothActivationName } from '../ir.js';
import type { Cost } from '../primitives/cost.js';
import { COEF_EXTRA_BITS, type PiecewiseActivation } from '../primitives/piecewise-poly.js';
import { sigmoidApprox } from '../primitives/sigmoid.js';
import { siluApprox } from '../primitives/silu.js';
import { tanhApprox } from '../primitives/tanh.js';
import { geluApprox } from '../primitives/gelu.js';
import { smoothActivation } from '../layers/activations.js';
import { constantM } from './bit-ops.js';
import { dreluCostM, dreluM } from './compare.js';
import { concatM, shlM, sliceM } from './mvec.js';
import { mulCostM, mulM } from './product.js';
import { addM, addPublicM, mulPublicM, subM, type MShare } from './rep.js';
import { scalar128 } from './ring128.js';
import { filled128, type MalLayerOps } from './layers-linear.js';

/** The piecewise approximations run here, by activation name (piecewise-poly.ts's exported objects). */
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

/** w = u^2 at f + 2 fractional bits (piecewise-poly.ts's W_EXTRA_BITS). */
const W_EXTRA_BITS = 2;

export interface MalSmoothOps extends MalLayerOps {
  /** The comparison width ell of dreluM. */
  readonly ell: number;
}

const enc = (v: number, bits: number): bigint => BigInt(Math.round(v * 2 ** bits));

/** The approximation's fixed-point table at f: breakpoints and midpoints at f bits, coefficients at F bits, lambda. */
function table(act: PiecewiseActivation, f: number) {
  const F = f + COEF_EXTRA_BITS;
  return {
    F,
    B: act.spec.breakpoints.map((b) => enc(b, f)),
    M: act.segments.map((s) => enc(s.m, f)),
    A: [0, 1, 2, 3].map((j) => act.segments.map((s) => enc(s.c[j]!, F))),
    L: act.segments.map((s) => BigInt(s.lambda)),
  };
}

/** [act(x)] for MACed x (n elements) at f fractional bits, steps 1-4 above. */
export async function smoothM(o: MalSmoothOps, name: SmoothActivationName, x: MShare): Promise<MShare> {
  const act = MAL_SMOOTH[name];
  assert(act, 'E_INTERNAL', `malicious runner: no piecewise table for '${name}'`);
  const { s, f } = o, k = s.ctx.kernels, n = x.n;
  const t = table(act, f), K = t.B.length;
  const filled = (v: bigint) => filled128(v, n);
  // Step 1: d_k = DReLU(x - B_k 2^f), all breakpoints in one call.
  const d = await dreluM(s, concatM(t.B.map((b) => addPublicM(s.party, s.alpha, x, filled(-b), k))), o.ell);
  // Step 2: T_0 + sum_k d_k (T_{k+1} - T_k), local.
  const col = (T: readonly bigint[]): MShare => {
    let out = constantM(s.party, s.alpha, filled(T[0]!), k);
    for (let j = 0; j < K; j++) {
      const delta = T[j + 1]! - T[j]!;
      if (delta !== 0n) out = addM(out, mulPublicM(sliceM(d, j * n, (j + 1) * n), scalar128(delta), k), k);
    }
    return out;
  };
  const u = subM(x, col(t.M), k);
  const [a0, a1, a2, a3] = t.A.map(col) as [MShare, MShare, MShare, MShare];
  const lam = t.L.some((l) => l !== 0n) ? col(t.L) : null;
  // Step 3: u u, a_3 u, a_1 u (, lambda x) in one product; w = 4 u u, z = a_3 u + a_2 2^f, truncated by f in one call.
  const prod = await mulM(s, concatM(lam ? [u, a3, a1, lam] : [u, a3, a1]), concatM(lam ? [u, u, u, x] : [u, u, u]));
  const w = shlM(sliceM(prod, 0, n), W_EXTRA_BITS);
  const z = addM(sliceM(prod, n, 2 * n), shlM(a2, f), k);
  const wz = await o.trunc(concatM([w, z]), f);
  // Step 4: p = z w; y = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)) + lambda x.
  const p = await mulM(s, sliceM(wz, n, 2 * n), sliceM(wz, 0, n));
  const rest = shlM(addM(sliceM(prod, 2 * n, 3 * n), shlM(a0, f), k), W_EXTRA_BITS);
  const y = await o.trunc(addM(p, rest, k), t.F + W_EXTRA_BITS);
  return lam ? addM(y, sliceM(prod, 3 * n, 4 * n), k) : y;
}

/** Declared cost of smoothM on n elements (trunc: the primitives table's truncation cost). */
export function smoothCostM(name: SmoothActivationName, n: number, f: number, ell: number, trunc: (n: number, bits: number) => Cost[]): Cost[] {
  const act = MAL_SMOOTH[name], K = act.spec.breakpoints.length, lam = act.spec.lambda.some((l) => l !== 0);
  return [dreluCostM(n * K, ell), mulCostM((lam ? 4 : 3) * n), ...trunc(2 * n, f), mulCostM(n), ...trunc(n, f + COEF_EXTRA_BITS + W_EXTRA_BITS)];
}
