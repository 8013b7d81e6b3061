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
import { MpcError } from '../errors.js';
import type { SmoothActivationName } from '../ir.js';
import type { SmoothActivation } from '../primitives/approx.js';
import { geluApprox, gelu } from '../primitives/gelu.js';
import { sigmoid, sigmoidApprox } from '../primitives/sigmoid.js';
import { silu, siluApprox } from '../primitives/silu.js';
import { tanhApprox } from '../primitives/tanh.js';

/** The contract (protocol/primitives/approx.ts). In this registry `float` is the exact function (the plaintext reference compared with Keras); `fixed` and `secure` are the approximation. */
export type { SmoothActivation };

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
