/**
 * The malicious runner's piecewise-linear activations and secret products
 * (runner.ts dispatches here), exact up to fixed-point rounding and built
 * only from the primitives table's reluM and truncM (primitives.ts) and the
 * verified product mulM (product.ts), in the same order of operations as
 * the semi-honest protocol/layers/activations-pl.ts, so the float64 twin
 * (ir-kit/forward.ts) is the reference for both:
 *
 *  - relu(x) = reluM(x);  relu6(x) = relu(x) - relu(x - 6) (one reluM call on 2n);
 *  - clampLinear(x; a, b) = clip(a x + b, 0, 1) = relu(t) - relu(t - 1),
 *    t = trunc24(x round(a 2^24)) + b: Keras 3 hard_sigmoid (a = 1/6,
 *    b = 1/2), Keras 2 hard_sigmoid_k2 (a = 0.2);
 *  - hard_silu(x) = trunc_f(x · hard_sigmoid(x)) (mulM);
 *  - leaky_relu(x) = trunc24(x round(alpha 2^24) + relu(x) round((1 - alpha) 2^24))
 *    (both public products in one truncM call, as the semi-honest runner);
 *  - prelu(x) = relu(x) + trunc_f(alpha ∘ (x - relu(x))), alpha the secret
 *    per-channel MACed weights tiled over H and W (mulM);
 *  - maximum(x_0, ..., x_{k-1}) = pairwise acc + relu(x_i - acc) (k - 1 reluM calls);
 *  - multiply(x, y) = trunc_f(x ∘ y) with numpy broadcasting of equal-rank
 *    shapes (squeeze-excite's [1, 1, C] over [H, W, C]; an index map);
 *  - sigmoid, silu, tanh, gelu: layers-smooth.ts (activateM dispatches).
 *
 * Range precondition (reluM's, compare.ts): every compared value below
 * 2^(ell-1) in magnitude, ell the runner's comparison width (MAL_COMPARE_BITS
 * = 32 by default): x for relu / leaky / prelu, x and x - 6 2^f for relu6,
 * t and t - 2^f for the hard sigmoids, x_i - acc for Maximum. truncM runs
 * the divisions by 2^24 (slopes, hard sigmoids) at ell = scaledTruncEll(ell)
 * (57 at ell = 32: exact for every result in the comparisons' range) and those
 * by f (PReLU, Multiply, hard_silu) at ell = productTruncEll(f, ell)
 * (max(48, ell + f): exact for a product whose truncation is in the range;
 * ranges.ts). reluM and truncM depend only on the low k bits of their
 * inputs and of what they open (compare.ts, trunc.ts), so errors in
 * multiples of 2^k that the MAC check cannot see change no result here.
 *
 * Cost (malActivationCost, malNonlinearCost; n elements; truncScaled(n) is
 * trunc(n, 24) at scaledTruncEll, truncProduct(n) trunc(n, f) at
 * productTruncEll): relu reluCost(n);
 * relu6 reluCost(2n); hard_sigmoid truncScaled(n) + reluCost(2n); hard_silu
 * that + mulCostM(n) + truncProduct(n); leaky reluCost(n) + truncScaled(2n);
 * prelu reluCost(n) + mulCostM(n) + truncProduct(n); maximum (k - 1) reluCost(n);
 * multiply mulCostM(n) + truncProduct(n). The parts run one after the other.
 */
import { assert } from '../errors.js';
import { HARD_SIGMOID, type Activation, type LayerNode } from '../ir.js';
import { SCALE_BITS } from '../ir-kit/arith.js';
import type { Cost } from '../primitives/cost.js';
import { mulCostM, mulM } from './product.js';
import { addM, addPublicM, subM, type MShare } from './rep.js';
import type { MalSession } from './session.js';
import { concatM, sliceM } from './mvec.js';
import type { MTensor } from './tensor.js';
import { broadcastM, publicFixed, scaleEachM, tensorM, tileLastM, type MalTruncCosts } from './layers-linear.js';
import { smoothCostM, smoothM, type MalSmoothOps } from './layers-smooth.js';
import { leakyWeight } from './ranges.js';

/** The runner's operations for this module: its truncation and ReLU at the comparison width (primitives table). */
export interface MalActOps extends MalSmoothOps {
  relu(x: MShare): Promise<MShare>;
}

/** The piecewise-linear activations run here (the smooth ones: layers-smooth.ts). */
export const MAL_PL_ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'relu6', 'hard_sigmoid', 'hard_sigmoid_k2', 'hard_silu'];

const constant = (s: MalSession, x: MShare, v: number, bits: number): MShare => addPublicM(s.party, s.alpha, x, publicFixed(new Float64Array(x.n).fill(v), bits), s.ctx.kernels);

/** relu(v) - relu(w) for two vectors of n elements in one ReLU call. */
async function reluDiff(o: MalActOps, v: MShare, w: MShare): Promise<MShare> {
  const r = await o.relu(concatM([v, w]));
  return subM(sliceM(r, 0, v.n), sliceM(r, v.n, 2 * v.n), o.s.ctx.kernels);
}

/** clip(a x + b, 0, 1) in fixed point: t = trunc24(x round(a 2^24)) + b, then relu(t) - relu(t - 1). */
async function clampLinearM(o: MalActOps, x: MShare, a: number, b: number): Promise<MShare> {
  const t = constant(o.s, await o.truncScaled(scaleEachM(o.s, x, publicFixed(new Float64Array(x.n).fill(a), SCALE_BITS))), b, o.f);
  return reluDiff(o, t, constant(o.s, t, -1, o.f));
}

/** trunc_f(x ∘ y): the verified product, then truncation by f (productTruncEll). */
async function multiplyM(o: MalActOps, x: MShare, y: MShare): Promise<MShare> {
  return o.truncProduct(await mulM(o.s, x, y));
}

/** A layer's activation over MACed values (linear: x itself). */
export async function activateM(o: MalActOps, x: MShare, act: Activation): Promise<MShare> {
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return o.relu(x);
    case 'relu6':
      return reluDiff(o, x, constant(o.s, x, -6, o.f));
    case 'hard_sigmoid':
    case 'hard_sigmoid_k2':
      return clampLinearM(o, x, HARD_SIGMOID[act][0], HARD_SIGMOID[act][1]);
    case 'hard_silu':
      return multiplyM(o, x, await clampLinearM(o, x, HARD_SIGMOID.hard_sigmoid[0], HARD_SIGMOID.hard_sigmoid[1]));
    case 'sigmoid':
    case 'silu':
    case 'tanh':
    case 'gelu':
      return smoothM(o, act, x);
    default:
      assert(false, 'E_INTERNAL', `malicious runner: activation '${act}' reached the runner after the model check`);
  }
}

/** LeakyReLU, PReLU, Maximum and Multiply. */
export async function nonlinearM(o: MalActOps, node: LayerNode<MTensor>, ins: MTensor[]): Promise<MTensor> {
  const x = ins[0]!, k = o.s.ctx.kernels;
  switch (node.kind) {
    case 'leaky_relu': {
      const r = await o.relu(x.data), n = x.data.n;
      // Each term truncated: alpha x and (1 - alpha) relu(x) may leave the range for alpha > 1 (ranges.ts leakyWeight).
      const t = await o.truncScaled(concatM([scaleEachM(o.s, x.data, publicFixed(new Float64Array(n).fill(node.alpha), SCALE_BITS)), scaleEachM(o.s, r, publicFixed(new Float64Array(n).fill(1 - node.alpha), SCALE_BITS))]), leakyWeight(node.alpha));
      return tensorM(x.shape, addM(sliceM(t, 0, n), sliceM(t, n, 2 * n), k));
    }
    case 'prelu': {
      const C = node.kernel.data.n;
      assert(C >= 1 && x.data.n % C === 0 && x.shape[x.shape.length - 1] === C, 'E_SHAPE', `layer '${node.name}' (prelu): ${C} slopes for the last axis of [${x.shape.join(', ')}]`);
      const r = await o.relu(x.data);
      return tensorM(x.shape, addM(r, await multiplyM(o, subM(x.data, r, k), tileLastM(node.kernel.data, x.data.n)), k));
    }
    case 'maximum': {
      assert(ins.length >= 2 && ins.every((t) => t.data.n === x.data.n), 'E_SHAPE', `layer '${node.name}' (maximum) needs two or more inputs of the same shape`);
      let acc = x.data;
      for (const t of ins.slice(1)) acc = addM(acc, await o.relu(subM(t.data, acc, k)), k);
      return tensorM(x.shape, acc);
    }
    case 'multiply': {
      assert(ins.length === 2 && ins[0]!.shape.length === ins[1]!.shape.length, 'E_SHAPE', `layer '${node.name}' (multiply) needs two inputs of equal rank`);
      const [a, b] = ins as [MTensor, MTensor];
      const shape = [x.shape[0]!, ...a.shape.slice(1).map((d, i) => Math.max(d, b.shape[i + 1]!))];
      for (const t of ins) assert(t.shape.slice(1).every((d, i) => d === 1 || d === shape[i + 1]), 'E_SHAPE', `layer '${node.name}' (multiply): [${t.shape.slice(1)}] does not broadcast to [${shape.slice(1)}]`);
      return tensorM(shape, await multiplyM(o, broadcastM(a, shape), broadcastM(b, shape)));
    }
    default:
      assert(false, 'E_INTERNAL', `malicious runner: layer '${node.name}' (${node.kind}) dispatched to nonlinearM`);
  }
}

/** Costs of the parts, in the order they run (the truncations: layers-linear.ts MalTruncCosts). */
export interface MalCostParts extends MalTruncCosts {
  relu(n: number): Cost;
}

/** Declared cost of a layer's activation on n elements (ell: the comparison width). */
export function malActivationCost(act: Activation, n: number, f: number, ell: number, c: MalCostParts): Cost[] {
  const hs = () => [...c.truncScaled(n), c.relu(2 * n)];
  switch (act) {
    case 'relu': return [c.relu(n)];
    case 'relu6': return [c.relu(2 * n)];
    case 'hard_sigmoid':
    case 'hard_sigmoid_k2': return hs();
    case 'hard_silu': return [...hs(), mulCostM(n), ...c.truncProduct(n)];
    case 'sigmoid':
    case 'silu':
    case 'tanh':
    case 'gelu': return smoothCostM(act, n, f, ell, c.trunc);
    default: return [];
  }
}

/** Declared cost of LeakyReLU, PReLU, Maximum (k inputs) and Multiply on `out` output elements; null for another kind. */
export function malNonlinearCost(node: LayerNode<unknown>, out: number, c: MalCostParts): Cost[] | null {
  switch (node.kind) {
    case 'leaky_relu': return [c.relu(out), ...c.truncScaled(2 * out, leakyWeight(node.alpha))];
    case 'prelu': return [c.relu(out), mulCostM(out), ...c.truncProduct(out)];
    case 'maximum': return Array.from({ length: node.inputs.length - 1 }, () => c.relu(out));
    case 'multiply': return [mulCostM(out), ...c.truncProduct(out)];
    default: return null;
  }
}
