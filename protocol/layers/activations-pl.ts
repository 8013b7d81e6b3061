/**
 * Piecewise-linear layers over shares, exact up to fixed-point rounding:
 * composed of ReLUs (one protocol call per layer), public-constant products
 * (x round(c 2^24), truncated by 24 bits) and Beaver elementwise products
 * (matmul.ts mulShares, truncated by f). Not algorithms of the paper; each
 * declares its cost (rounds, bytes of all parties) from its parts, and
 * runner.test.ts checks the declarations against the transport counters.
 *  - clampLinear(x; a, b) = clip(a x + b, 0, 1) = relu(t) - relu(t - 1), t = a x + b:
 *    Keras 3 hard_sigmoid (a = 1/6, b = 1/2: relu6(x + 3) / 6), Keras 2 (a = 0.2);
 *  - hard_silu(x) = x * hard_sigmoid(x);
 *  - leaky_relu(x) = alpha x + (1 - alpha) relu(x) (public alpha);
 *  - prelu(x) = relu(x) + alpha (x - relu(x)) (secret per-channel alpha);
 *  - maximum(x, y) = x + relu(y - x);  multiply(x, y) = x * y.
 */
import type { PartyContext } from '../context.js';
import { HARD_SIGMOID } from '../ir.js';
import { SCALE_BITS } from '../ir-kit/arith.js';
import { mulCost, mulShares } from '../primitives/matmul.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { reluCost } from '../primitives/relu.js';
import { reluDirectCost } from '../primitives/relu-direct.js';
import { truncateExactCost } from '../primitives/truncate-exact.js';
import { concatU64 } from '../ring/ops.js';
import type { AShare } from '../ring/types.js';

/** The runner's ReLU (chunked, direct or SecureNN route) and truncation (local or exact) as this module uses them. */
export interface PlOps {
  relu(x: BigUint64Array, label: string): Promise<AShare>;
  trunc(x: BigUint64Array, bits: number, label: string): Promise<AShare>;
}

/** Declared cost of one ReLU call on n elements under ctx's comparison settings. */
export const reluCostFor = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix'>, n: number): Cost =>
  ctx.comparison === 'direct' ? reluDirectCost(n, ctx.compareBits, ctx.compareRadix) : reluCost(n);
/** Declared cost of one truncation call on n elements. */
export const truncCostFor = (ctx: Pick<PartyContext, 'truncation'>, n: number): Cost => (ctx.truncation === 'exact' ? truncateExactCost(n) : { rounds: 0, bytes: 0 });

const enc = (v: number, bits: number): bigint => BigInt.asUintN(64, BigInt(Math.round(v * 2 ** bits)));

/** Add a public constant (ring units): P0 adds it. */
export function addPublicShare(ctx: PartyContext, x: BigUint64Array, c: bigint): BigUint64Array {
  const out = new BigUint64Array(x.length);
  if (ctx.party === 0) ctx.kernels.addScalar(x, c, out);
  else out.set(x);
  return out;
}

/** x round(c 2^24), not yet truncated. */
function timesPublic(ctx: PartyContext, x: BigUint64Array, c: number): BigUint64Array {
  const out = new BigUint64Array(x.length);
  ctx.kernels.mulScalar(x, enc(c, SCALE_BITS), out);
  return out;
}

/** clip(a x + b, 0, 1) in fixed point. */
export async function clampLinear(ctx: PartyContext, ops: PlOps, x: BigUint64Array, a: number, b: number, label: string): Promise<AShare> {
  const t = addPublicShare(ctx, await ops.trunc(timesPublic(ctx, x, a), SCALE_BITS, `${label}.scale`), enc(b, ctx.fracBits));
  const n = x.length;
  const r = await ops.relu(concatU64([t, addPublicShare(ctx, t, enc(-1, ctx.fracBits))]), label);
  const out = new BigUint64Array(n);
  ctx.kernels.sub(r.subarray(0, n), r.subarray(n), out);
  return out as AShare;
}
export const clampLinearCost = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix' | 'truncation'>, n: number): Cost => addCost(truncCostFor(ctx, n), reluCostFor(ctx, 2 * n));


/** Truncated elementwise product x * y (both with f fractional bits). */
export async function multiply(ctx: PartyContext, ops: PlOps, x: AShare, y: AShare, label: string): Promise<AShare> {
  return ops.trunc(await mulShares(ctx, x, y, label), ctx.fracBits, label);
}
export const multiplyCost = (ctx: Pick<PartyContext, 'truncation'>, n: number): Cost => addCost(mulCost(n), truncCostFor(ctx, n));

export async function hardSilu(ctx: PartyContext, ops: PlOps, x: AShare, label: string): Promise<AShare> {
  const [a, b] = HARD_SIGMOID.hard_sigmoid;
  return multiply(ctx, ops, x, await clampLinear(ctx, ops, x, a, b, `${label}.hs`), label);
}
export const hardSiluCost = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix' | 'truncation'>, n: number): Cost => addCost(clampLinearCost(ctx, n), multiplyCost(ctx, n));

/** alpha x + (1 - alpha) relu(x), both public products truncated in one call. */
export async function leakyRelu(ctx: PartyContext, ops: PlOps, x: AShare, alpha: number, label: string): Promise<AShare> {
  const r = await ops.relu(x, label);
  const n = x.length;
  const t = await ops.trunc(concatU64([timesPublic(ctx, x, alpha), timesPublic(ctx, r, 1 - alpha)]), SCALE_BITS, `${label}.scale`);
  const out = new BigUint64Array(n);
  ctx.kernels.add(t.subarray(0, n), t.subarray(n), out);
  return out as AShare;
}
export const leakyReluCost = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix' | 'truncation'>, n: number): Cost => addCost(reluCostFor(ctx, n), truncCostFor(ctx, 2 * n));

/** relu(x) + alpha (x - relu(x)), alpha the per-channel secret weights tiled over the leading axes. */
export async function prelu(ctx: PartyContext, ops: PlOps, x: AShare, alpha: BigUint64Array, label: string): Promise<AShare> {
  const n = x.length, C = Math.max(alpha.length, 1);
  const r = await ops.relu(x, label);
  const d = new BigUint64Array(n);
  ctx.kernels.sub(x, r, d);
  const tiled = new BigUint64Array(n);
  if (ctx.party !== 2) for (let o = 0; o < n; o += C) tiled.set(alpha, o);
  const p = await multiply(ctx, ops, d as AShare, tiled as AShare, `${label}.alpha`);
  const out = new BigUint64Array(n);
  ctx.kernels.add(r, p, out);
  return out as AShare;
}
export const preluCost = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix' | 'truncation'>, n: number): Cost => addCost(reluCostFor(ctx, n), multiplyCost(ctx, n));

/** max(x, y) = x + relu(y - x) for k pairs at once (one ReLU call). */
export async function maximum2(ctx: PartyContext, ops: PlOps, x: BigUint64Array, y: BigUint64Array, label: string): Promise<AShare> {
  const d = new BigUint64Array(x.length);
  ctx.kernels.sub(y, x, d);
  const r = await ops.relu(d, label);
  const out = new BigUint64Array(x.length);
  ctx.kernels.add(x, r, out);
  return out as AShare;
}
export const maximumCost = (ctx: Pick<PartyContext, 'comparison' | 'compareBits' | 'compareRadix'>, n: number, inputs: number): Cost => addCost(...Array.from({ length: inputs - 1 }, () => reluCostFor(ctx, n)));
