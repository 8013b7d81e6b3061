/**
 * The seam for smooth activations inside the network (sigmoid, silu/swish,
 * tanh, gelu): each is a secure approximation written as a protocol
 * primitive elsewhere and registered here with its plaintext twins, its
 * error bound over its input range and its declared cost. The IR, the
 * runner, the importer and both plaintext forward passes look an activation
 * up here; one with no registered implementation is refused at import
 * (E_UNSUPPORTED_LAYER, 'secure approximation not available') and by the
 * runner.
 */
import type { PartyContext } from '../context.js';
import { MpcError } from '../errors.js';
import type { SmoothActivationName } from '../ir.js';
import type { Cost } from '../primitives/cost.js';
import type { AShare } from '../ring/types.js';
import { geluApprox, gelu } from '../primitives/gelu.js';
import { sigmoid, sigmoidApprox } from '../primitives/sigmoid.js';
import { silu, siluApprox } from '../primitives/silu.js';
import { tanhApprox } from '../primitives/tanh.js';

export interface SmoothActivation {
  name: SmoothActivationName;
  /** This party's share of act(x) for shares of x with f fractional bits. */
  secure(ctx: PartyContext, x: AShare, f: number, label: string): Promise<AShare>;
  /** What `secure` computes, on ring values (two's complement, f fractional bits). */
  fixed(x: BigUint64Array, f: number): BigUint64Array;
  /** The exact function on reals. */
  float(x: number): number;
  /** Declared cost of `secure` on n elements (rounds; bytes sent by all parties). */
  cost(n: number, f: number): Cost;
  /** Largest |secure - float| over inputRange, in real units. */
  maxAbsError: number;
  /** Inputs the bound holds for (real units). */
  inputRange: [number, number];
}

/**
 * The built-in approximations (protocol/primitives/sigmoid.ts, silu.ts,
 * tanh.ts, gelu.ts: piecewise cubics over shares). Their `float` here is the
 * exact function (what Keras computes, for the plaintext reference); `fixed`
 * and `secure` are the approximation, so the fixed-point simulation shows the
 * approximation's error on the samples.
 */
const BUILT_IN: readonly SmoothActivation[] = [
  { ...sigmoidApprox, float: sigmoid },
  { ...siluApprox, float: silu },
  { ...tanhApprox, float: Math.tanh },
  { ...geluApprox, float: gelu },
];

const registry = new Map<SmoothActivationName, SmoothActivation>(BUILT_IN.map((a) => [a.name, a]));

export function registerSmoothActivation(a: SmoothActivation): void {
  registry.set(a.name, a);
}

/** Remove a registration (tests that register a stand-in): the built-in approximation, if any, serves again. */
export function unregisterSmoothActivation(name: SmoothActivationName): void {
  const b = BUILT_IN.find((a) => a.name === name);
  if (b) registry.set(name, b);
  else registry.delete(name);
}

/** Tests of the refusal path: take `names` out of the registry (built-ins too); returns the function that puts them back. */
export function suspendSmoothActivations(...names: SmoothActivationName[]): () => void {
  const kept = names.map((n) => [n, registry.get(n)] as const);
  for (const n of names) registry.delete(n);
  return () => { for (const [n, a] of kept) if (a) registry.set(n, a); };
}

export function smoothActivation(name: SmoothActivationName | string): SmoothActivation | undefined {
  return registry.get(name as SmoothActivationName);
}

/** The registered implementation, or E_UNSUPPORTED_LAYER naming the layer. */
export function requireSmoothActivation(name: SmoothActivationName, layer: string): SmoothActivation {
  const a = registry.get(name);
  if (!a) throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${layer}': activation '${name}': secure approximation not available`);
  return a;
}
