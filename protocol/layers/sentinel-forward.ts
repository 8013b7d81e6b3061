/**
 * A secure forward pass with the run-time range sentinel
 * (primitives/range-sentinel.ts): every comparison the model makes on the
 * 32-bit ring gives a sample of its compared values (PartyContext.
 * compareSampler, taken in relu-direct.ts), and after the last layer one
 * batched 64-bit check of the whole sample gives shares of s, which P0 and
 * P1 send to the client with the output (s != 0: a sampled value left the
 * ring; the client refuses the result, client-sdk/src/range-sentinel.ts).
 *
 * The sample's positions and the check's weights come from one PRG per run,
 * seeded by P0 and P1 from the PRG they share (P2 and the client do not know
 * them; P2 follows the counts only). A probabilistic detector: a value left
 * out of the sample can overflow unseen (README, "Run-time range sentinel").
 */
import { Prg } from '../correlated/prg.js';
import { withCompareSampler, type PartyContext } from '../context.js';
import type { ModelIR } from '../ir.js';
import { NARROW_RING_BOUND, RangeSampler, rangeSentinel } from '../primitives/range-sentinel.js';
import type { AShare } from '../ring/types.js';
import { secureForward, type ForwardOptions } from './runner.js';
import type { ShareTensor } from './types.js';

export interface CheckedForward {
  /** This party's share of the output, as secureForward returns it. */
  output: ShareTensor;
  /** This party's share of the sentinel s (one element; P2: a placeholder). Goes to the client only. */
  sentinel: AShare;
  /** Values checked and narrow comparison calls sampled (the same at all three parties). */
  checked: number;
  calls: number;
}

/**
 * A fresh sampler for one run. seed: 16 bytes the same at P0 and P1 and
 * unknown to the client (ignored at P2); without it P0 and P1 draw one from
 * the PRG they share (which shifts that stream for the rest of the run). P2
 * gets a sampler without positions.
 */
export function sessionSampler(ctx: PartyContext, seed?: Uint8Array): { sampler: RangeSampler; prg: Prg | null } {
  const prg = ctx.party === 2 ? null : new Prg(seed ?? ctx.pairPrg(ctx.party === 0 ? 1 : 0).bytes(16));
  return { sampler: new RangeSampler(prg), prg };
}

export interface CheckedForwardOptions extends ForwardOptions {
  /** The sample's seed (sessionSampler); default: drawn from the P0-P1 PRG. */
  sentinelSeed?: Uint8Array;
}

/** secureForward, then the sentinel over the sample of every 32-bit comparison (3 more rounds when any was sampled). */
export async function secureForwardChecked(ctx: PartyContext, model: ModelIR<ShareTensor>, input: ShareTensor, opts: CheckedForwardOptions = {}): Promise<CheckedForward> {
  const { sampler, prg } = sessionSampler(ctx, opts.sentinelSeed);
  const output = await secureForward(withCompareSampler(ctx, sampler), model, input, opts);
  const sentinel = await rangeSentinel(ctx, sampler.values(), prg, NARROW_RING_BOUND, 'sentinel');
  return { output, sentinel, checked: sampler.count, calls: sampler.calls };
}
