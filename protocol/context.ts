/**
 * A party's view of a protocol run: who it is, how it talks, its randomness
 * and its kernels. Protocol functions take a PartyContext first and branch
 * on ctx.party; the same code runs in-process (tests, benchmarks) and in the
 * party servers over gRPC.
 */
import { randomBytes } from 'node:crypto';
import { assert } from './errors.js';
import { Prg, type PartySeeds } from './correlated/prg.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from './fixed-point/fixed-point.js';
import { provision } from './kernels/provision.js';
import type { RingKernels } from './kernels/types.js';
import type { PartyId } from './ring/types.js';
import type { StepCounters, Transport } from './transport/transport.js';
import type { WeightMaskSession } from './correlated/weight-masks.js';
import { bundleDealer, liveDealer, type DealScript, type Dealer, type PartyBundle } from './correlated/dealer.js';

export interface PartyContext {
  readonly party: PartyId;
  readonly transport: Transport;
  readonly kernels: RingKernels;
  /** Fixed-point fractional bits f. */
  readonly fracBits: number;
  /**
   * How comparisons (ReLU, MaxPool) run: 'direct' (relu-direct.ts, 3 rounds,
   * default) or 'securenn' (the paper's ShareConvert + ComputeMSB route).
   */
  readonly comparison: ComparisonMode;
  /**
   * Width l of the ring the 'direct' comparisons (relu-direct.ts) work in:
   * 64 (default: exact for every value of Z_2^64) or 32 (exact for values
   * |a| < 2^31 in ring units, i.e. 2^(31-f) in real units; 40% less traffic
   * and half the PrivateCompare randomness). The party servers use 32.
   */
  readonly compareBits: 32 | 64;
  /**
   * Digits of the PrivateCompare on the 32-bit comparison ring: 4 (default)
   * radix-4 digits (private-compare-radix4.ts: half the bytes P0 and P1 send
   * to P2, 1.5x the dealt shares), 2 the paper's bits (private-compare.ts).
   * The 64-bit ring always uses bits.
   */
  readonly compareRadix: 2 | 4;
  /**
   * How products are truncated: 'local' (default: SecureML's rule as SecureNN
   * uses it, truncate.ts; 0 rounds, wrong with probability ~|x| / 2^64 per
   * element) or 'exact' (truncate-exact.ts, with P2: 2 rounds, 32 bytes per
   * element, no failure for |x| < 2^62). A property of the model (its bundle).
   */
  readonly truncation: TruncationMode;
  /** Kept masks of the model's weights (correlated/weight-masks.ts); undefined: every product runs Alg. 1 afresh. */
  readonly weightMasks?: WeightMaskSession;
  /** PRG whose seed this party shares with party k (k != party). */
  pairPrg(k: PartyId): Prg;
  /** Where P2's dealt values come from (correlated/dealer.ts): live (the run's pairPrg streams) or a preprocessed bundle. */
  readonly dealer: Dealer;
  /** This party's private PRG (seeded from the OS CSPRNG). */
  readonly ownPrg: Prg;
  /** Run fn and add its bytes, messages and rounds to the counters of `label`. */
  step<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Takes a sample of every value compared on the 32-bit ring (relu-direct.ts
   * calls it before the comparison) for the run-time range sentinel
   * (primitives/range-sentinel.ts); undefined: nothing is sampled.
   */
  readonly compareSampler?: CompareSampler;
}

/** See PartyContext.compareSampler: gets this party's shares of the values one narrow comparison call compares. */
export interface CompareSampler {
  collect(a: BigUint64Array): void;
}

export type ComparisonMode = 'direct' | 'securenn';
export type TruncationMode = 'local' | 'exact';
export const TRUNCATION_MODES: readonly TruncationMode[] = ['local', 'exact'];

export interface ContextOptions {
  fracBits?: number;
  comparison?: ComparisonMode;
  /** See PartyContext.compareBits (default 64). */
  compareBits?: 32 | 64;
  /** See PartyContext.compareRadix (default 4). */
  compareRadix?: 2 | 4;
  /** See PartyContext.truncation (default 'local'). */
  truncation?: TruncationMode;
  /** The kernels (the runtime chooses them: runtime/kernels.ts kernelsFor); default: the runtime's default (provision.ts), the TS kernels when none was handed in. */
  kernels?: RingKernels;
  /** See PartyContext.weightMasks. */
  weightMasks?: WeightMaskSession;
  /** This party's part of a preprocessed bundle (correlated/dealer.ts); default: live dealing. */
  bundle?: PartyBundle;
  /** P2, live dealing: record every dealt job here (to make bundles for later runs of the same shape). */
  dealScript?: DealScript;
}

class Context implements PartyContext {
  readonly kernels: RingKernels;
  readonly fracBits: number;
  readonly comparison: ComparisonMode;
  readonly compareBits: 32 | 64;
  readonly compareRadix: 2 | 4;
  readonly truncation: TruncationMode;
  readonly ownPrg: Prg;
  readonly weightMasks?: WeightMaskSession;
  readonly dealer: Dealer;
  private readonly prgs: (Prg | undefined)[];
  constructor(readonly party: PartyId, readonly transport: Transport, seeds: PartySeeds, opts: ContextOptions) {
    assert(transport.party === party, 'E_BAD_ARGUMENT', `context: transport is for P${transport.party}, not P${party}`);
    this.kernels = opts.kernels ?? provision().contextDefault();
    this.fracBits = checkFracBits(opts.fracBits ?? DEFAULT_FRAC_BITS);
    this.comparison = opts.comparison ?? 'direct';
    this.compareBits = opts.compareBits ?? 64;
    this.compareRadix = opts.compareRadix ?? 4;
    this.truncation = opts.truncation ?? 'local';
    assert(TRUNCATION_MODES.includes(this.truncation), 'E_BAD_ARGUMENT', `context: truncation must be 'local' or 'exact', got '${String(this.truncation)}'`);
    assert(this.compareRadix === 2 || this.compareRadix === 4, 'E_BAD_ARGUMENT', `context: compareRadix must be 2 or 4, got ${String(this.compareRadix)}`);
    assert(this.compareBits === 32 || this.compareBits === 64, 'E_BAD_ARGUMENT', `context: compareBits must be 32 or 64, got ${String(this.compareBits)}`);
    assert(this.comparison === 'direct' || this.comparison === 'securenn', 'E_BAD_ARGUMENT', `context: comparison must be 'direct' or 'securenn', got '${String(this.comparison)}'`);
    this.prgs = seeds.pair.map((s, k) => (k === party || !s ? undefined : new Prg(s)));
    this.ownPrg = new Prg(seeds.own ?? randomBytes(16));
    if (opts.weightMasks) this.weightMasks = opts.weightMasks;
    if (opts.bundle) assert(opts.bundle.party === party, 'E_BAD_ARGUMENT', `context: bundle is P${opts.bundle.party}'s, not P${party}'s`);
    this.dealer = opts.bundle ? bundleDealer(opts.bundle) : liveDealer(this, opts.dealScript);
  }
  pairPrg(k: PartyId): Prg {
    const g = this.prgs[k];
    assert(g, 'E_BAD_ARGUMENT', `context: P${this.party} has no PRG shared with P${k}`);
    return g;
  }
  async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const c = this.transport.counters;
    const b0 = c.bytesSent, m0 = c.messagesSent, d0 = c.depth;
    try {
      return await fn();
    } finally {
      let s: StepCounters | undefined = this.transport.steps.get(label);
      if (!s) this.transport.steps.set(label, (s = { bytesSent: 0, messagesSent: 0, rounds: 0, calls: 0 }));
      s.bytesSent += c.bytesSent - b0;
      s.messagesSent += c.messagesSent - m0;
      s.rounds += c.depth - d0;
      s.calls += 1;
    }
  }
}

/**
 * The context with the 64-bit comparison ring for one layer (IR node
 * compareBits, protocol/layers/runner.ts): the same party, transport, PRGs and
 * dealer (reached through the prototype), only compareBits differs.
 */
export function withCompareBits(ctx: PartyContext, bits: 32 | 64): PartyContext {
  if (ctx.compareBits === bits) return ctx;
  return Object.create(ctx, { compareBits: { value: bits, enumerable: true } }) as PartyContext;
}

/** The context with a sampler of the 32-bit ring's compared values (PartyContext.compareSampler); otherwise the same. */
export function withCompareSampler(ctx: PartyContext, sampler: CompareSampler): PartyContext {
  return Object.create(ctx, { compareSampler: { value: sampler, enumerable: true } }) as PartyContext;
}

/**
 * A public offset that pushes a value below every value in range while
 * keeping differences comparable: 2^60 on the 64-bit comparison ring, 2^29
 * on the 32-bit one (values |x| < 2^29 then stay strictly above x - 2^29,
 * and every difference stays below 2^31). Used for MaxPool 'same' padding
 * and to mask the winner out in the secure argmax.
 */
export const pushDown = (ctx: { compareBits: 32 | 64 }): bigint => (ctx.compareBits === 32 ? 1n << 29n : 1n << 60n);

export function createContext(party: PartyId, transport: Transport, seeds: PartySeeds, opts: ContextOptions = {}): PartyContext {
  return new Context(party, transport, seeds, opts);
}
