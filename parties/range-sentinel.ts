/**
 * The run-time range sentinel at the party servers (the primitive:
 * protocol/primitives/range-sentinel.ts; README "Run-time range sentinel").
 *
 * Setting (config rangeSentinel): 'auto' runs it for a model whose manifest
 * says compareBound 'samples-only' (its 32-bit comparison ring rests on the
 * import's samples only) or 'unsound-override' (an explicit ring the import
 * showed the sound bound does not hold), 'on' for every model, 'off' never; never in
 * malicious mode (protocol/malicious/ does not run it). The effective value
 * is announced in the model info (ModelInfo.rangeSentinel, so the SDK
 * requires the shares of s) and compared at HELLO (link-hello.ts) and per
 * run (the plan carries it): it changes what the parties compute.
 *
 * A run with the sentinel carries ONE client session (run-planner.ts): one s
 * covers every value sampled in the run, and the comparison calls mix the
 * run's images (ReLU6 joins two arrays, large layers are chunked), so a
 * batch of two clients would let one client's overflow refuse, and so tell,
 * the other. The sample's positions and the weights come from the P0-P1 PRG
 * of the run (sessionSampler), drawn before the forward pass.
 *
 * Order in a run (the same in warm-up runs, whose dealt jobs prepare later
 * runs' bundles, preprocessing.ts): forward pass(es) and the output step with
 * the sampler in the context, then one rangeSentinel call over the sample.
 */
import type { CompareBound } from '../protocol/api-contract.js';
import { withCompareSampler, type PartyContext } from '../protocol/context.js';
import { sessionSampler } from '../protocol/layers/sentinel-forward.js';
import { NARROW_RING_BOUND, rangeSentinel } from '../protocol/primitives/range-sentinel.js';

export type RangeSentinelSetting = 'auto' | 'on' | 'off';

/** Whether this party runs the sentinel for a model (file comment). */
export function rangeSentinelOn(setting: RangeSentinelSetting | undefined, compareBound: CompareBound | undefined, security: 'semi-honest' | 'malicious' | undefined): boolean {
  if (security === 'malicious') return false;
  const s = setting ?? 'auto';
  // 'unsound-override': an explicit ring the import showed the sound bound does NOT hold: at least as exposed.
  return s === 'on' || (s === 'auto' && (compareBound === 'samples-only' || compareBound === 'unsound-override'));
}

/** One run's sentinel: the context to run the forward and output step in, and the check after them. */
export interface RunSentinel {
  ctx: PartyContext;
  /** rangeSentinel over the run's sample: this party's share of s (one element; P2: a placeholder), or null when off. */
  finish(): Promise<BigUint64Array | null>;
}

/** Wraps a run's context (on) or passes it through (off). Call before the run's first layer at all three parties. */
export function runSentinel(ctx: PartyContext, on: boolean): RunSentinel {
  if (!on) return { ctx, finish: () => Promise.resolve(null) };
  const { sampler, prg } = sessionSampler(ctx);
  return { ctx: withCompareSampler(ctx, sampler), finish: () => rangeSentinel(ctx, sampler.values(), prg, NARROW_RING_BOUND, 'sentinel') };
}

/** This party's share of s on the wire (OUTPUT_SENTINEL_HEADER): 16 lowercase hex digits. */
export const sentinelHeaderValue = (s: BigUint64Array): string => s[0]!.toString(16).padStart(16, '0');
