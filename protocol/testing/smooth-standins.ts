/**
 * Test-only stand-ins for the smooth-activation seam (layers/activations.ts):
 * exact piecewise-linear functions, not approximations worth serving, so the
 * seam (import, runner, twins, declared cost) can be tested before the real
 * secure approximations exist. Their `float` is the exact smooth function
 * (the plaintext reference compared with Keras), `fixed` and `secure` the
 * stand-in, and maxAbsError the stand-in's distance from the exact function
 * over inputRange:
 *  - sigmoid ~ clip(x / 4 + 1/2, 0, 1) (max error 0.1192 at |x| = 2);
 *  - silu ~ x * that (max error about 0.24, near x = 2).
 */
import { clampLinear, clampLinearCost, multiply, multiplyCost, type PlOps } from '../layers/activations-pl.js';
import { registerSmoothActivation, unregisterSmoothActivation, type SmoothActivation } from '../layers/activations.js';
import { SCALE_BITS } from '../ir-kit/arith.js';
import type { PartyContext } from '../context.js';
import { reluDirect } from '../primitives/relu-direct.js';
import { relu } from '../primitives/relu.js';
import { truncate } from '../primitives/truncate.js';
import { truncateExact } from '../primitives/truncate-exact.js';
import { addCost } from '../primitives/cost.js';
import type { AShare } from '../ring/types.js';

const ops = (ctx: PartyContext): PlOps => ({
  relu: (v, label) => (ctx.comparison === 'direct' ? reluDirect : relu)(ctx, v as AShare, label),
  trunc: async (v, bits, label) => (ctx.truncation === 'exact' ? truncateExact(ctx, v as AShare, bits, `${label}:trunc`) : truncate(ctx, v as AShare, bits)),
});

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const nearest = (a: bigint, bits: number) => (a + (1n << BigInt(bits - 1))) >> BigInt(bits);
function plSigmoidRing(x: BigUint64Array, f: number): bigint[] {
  const w = BigInt(Math.round(0.25 * 2 ** SCALE_BITS)), half = 1n << BigInt(f - 1), one = 1n << BigInt(f);
  return Array.from(x, (v) => { const t = nearest(BigInt.asIntN(64, v) * w, SCALE_BITS) + half; return t < 0n ? 0n : t > one ? one : t; });
}

export const standinSigmoid: SmoothActivation = {
  name: 'sigmoid',
  secure: (ctx, x, _f, label) => clampLinear(ctx, ops(ctx), x, 0.25, 0.5, label),
  fixed: (x, f) => BigUint64Array.from(plSigmoidRing(x, f), (v) => BigInt.asUintN(64, v)),
  float: sig,
  cost: (n) => clampLinearCost({ comparison: 'direct', compareBits: 64, compareRadix: 4, truncation: 'local' }, n),
  maxAbsError: 0.12,
  inputRange: [-1e3, 1e3],
};

export const standinSilu: SmoothActivation = {
  name: 'silu',
  secure: async (ctx, x, _f, label) => multiply(ctx, ops(ctx), x, await clampLinear(ctx, ops(ctx), x, 0.25, 0.5, `${label}.s`), label),
  fixed: (x, f) => { const s = plSigmoidRing(x, f); return BigUint64Array.from(x, (v, i) => BigInt.asUintN(64, nearest(BigInt.asIntN(64, v) * s[i]!, f))); },
  float: (x) => x * sig(x),
  cost: (n) => addCost(clampLinearCost({ comparison: 'direct', compareBits: 64, compareRadix: 4, truncation: 'local' }, n), multiplyCost({ truncation: 'local' }, n)),
  maxAbsError: 0.25,
  inputRange: [-1e3, 1e3],
};

/** Register the stand-ins; returns the function that removes them again. */
export function registerStandins(): () => void {
  registerSmoothActivation(standinSigmoid);
  registerSmoothActivation(standinSilu);
  return () => { unregisterSmoothActivation('sigmoid'); unregisterSmoothActivation('silu'); };
}
