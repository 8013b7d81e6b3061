/**
 * P2 as a dealer, online or ahead of time (an offline phase; not an
 * algorithm of the paper, which has P2 deal during the run).
 *
 * In SecureNN, part of what P2 does depends on no input: the Beaver triples
 * of Alg. 1 (C_1 = op(A, B) - C_0 for P1) and the masks r of a comparison
 * with the Z_p bit shares of r (relu-direct.ts step 1, P1's shares sent).
 * Those values come from PRGs P2 shares with P0 (A_0, C_0, r_0, P0's bit
 * shares) and with P1 (A_1, r_1), plus one correction P2 sends to P1.
 * A Dealer is where a protocol file gets them:
 *  - live (the default): the PRGs are the run's pairPrg streams and P2
 *    sends each correction during the run, as the paper does;
 *  - preprocessed: a bundle made before the run (prepareBundle) with its own
 *    seeds s02, s12: P1 already holds every correction, P2 only what it keeps
 *    for the online part (a comparison's bit r_31 or r_63), P0 and P1 draw
 *    their dealt values from PRGs seeded with s02, s12. The run sends none of
 *    the dealt bytes, and P2 computes none of the triples.
 * A recorded live run at P2 (DealScript) lists every job in order; replaying
 * it with fresh seeds makes the next run's bundle. The parties agree on the
 * bundle through P0's plan (parties/preprocessing.ts); each bundle serves
 * one run and is then dropped (correlated randomness is never reused).
 *
 * What each party sees is what it sees in the live protocol: P1 gets the
 * same corrections, only earlier; the online messages are unchanged.
 * Cost: a bundle is one round before the run, jobs' bytesToP1 bytes (P2 to
 * P1), and moves those bytes out of the run's own cost.
 */
import type { RingKernels } from '../kernels/types.js';
import { assert, MpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { recvBytes, sendPooled, type Wire } from '../transport/messages.js';
import { Prg } from './prg.js';

/** What P2 deals for one protocol step, computed from the dealing PRGs alone. */
export interface DealJob {
  /** Bytes of P1's correction (what P2 sends, or what the bundle holds for P1). */
  readonly bytesToP1: number;
  /** P2: draw from g0 (shared with P0) and g1 (shared with P1); P1's correction and what P2 keeps for the online part, both fresh arrays (not scratch). Synchronous. */
  run(k: RingKernels, g0: Prg, g1: Prg): { toP1: Uint8Array; keep?: Uint8Array };
}

/** P2's record of a live run: its jobs in order, with their message tags. */
export type DealScript = { tag: string; job: DealJob }[];

export interface Dealer {
  /** P0, P1: the dealing PRG shared with P2 (k = 2). P2 (live only): shared with P_k. */
  prg(k: PartyId): Prg;
  /** P2: deal `job` under `tag`; returns what P2 keeps (an empty array if nothing). Live: runs it and sends P1's part now. */
  deal(tag: string, job: DealJob): Uint8Array;
  /** P1: P2's correction under `tag`, n bytes. */
  take(tag: string, n: number): Promise<Uint8Array>;
}

/** Bundle seeds: s02 (P0 and P2), s12 (P1 and P2). */
export interface BundleSeeds { s02?: Uint8Array; s12?: Uint8Array }

/** One party's part of a bundle. */
export interface PartyBundle {
  readonly party: PartyId;
  readonly seeds: BundleSeeds;
  /** P1: corrections by tag (FIFO for repeated tags); P2: kept parts by tag. Empty at P0. */
  readonly items: Map<string, Uint8Array[]>;
  /** Bytes of items. */
  readonly bytes: number;
}

const EMPTY = new Uint8Array(0);

/** Items by tag (FIFO for repeated tags, in list order) and their bytes. */
function byTag(list: { tag: string; data: Uint8Array }[]): { items: Map<string, Uint8Array[]>; bytes: number } {
  const items = new Map<string, Uint8Array[]>();
  let bytes = 0;
  for (const { tag, data } of list) {
    const q = items.get(tag);
    if (q) q.push(data); else items.set(tag, [data]);
    bytes += data.byteLength;
  }
  return { items, bytes };
}

/** What the live dealer needs of its run: the transport, the kernels and the pair PRG streams (a PartyContext has them). */
export interface LiveDealerContext extends Wire {
  readonly kernels: RingKernels;
  pairPrg(k: PartyId): Prg;
}

/**
 * The live dealer of ctx's run (its pairPrg streams and transport); with `script` at P2, every job is also
 * recorded. ctx's constructor builds it, so it only keeps ctx and uses it once the run is under way.
 */
export function liveDealer(ctx: LiveDealerContext, script?: DealScript): Dealer {
  return {
    prg: (k) => ctx.pairPrg(k),
    deal(tag, job) {
      assert(ctx.party === 2, 'E_INTERNAL', `dealer: P${ctx.party} cannot deal`);
      const { toP1, keep } = job.run(ctx.kernels, ctx.pairPrg(0), ctx.pairPrg(1));
      // A job may fill toP1 in a send buffer (ring/send-pool.ts): back to the pool once written.
      sendPooled(ctx, 1, tag, toP1);
      script?.push({ tag, job });
      return keep ?? EMPTY;
    },
    take(tag, n) {
      assert(ctx.party === 1, 'E_INTERNAL', `dealer: only P1 takes corrections, not P${ctx.party}`);
      return recvBytes(ctx, 2, tag, n);
    },
  };
}

function popItem(b: PartyBundle, tag: string, n: number | null): Uint8Array {
  const q = b.items.get(tag);
  const v = q?.shift();
  if (!v) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessed bundle: P${b.party} holds nothing (more) for '${tag}' (the run does not match the bundle)`, { party: b.party, step: tag });
  if (q!.length === 0) b.items.delete(tag);
  if (n !== null && v.byteLength !== n) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessed bundle: '${tag}' holds ${v.byteLength} bytes at P${b.party}, the run needs ${n}`, { party: b.party, step: tag });
  return v;
}

/** The dealer of a run that uses `bundle` (this party's part). */
export function bundleDealer(bundle: PartyBundle): Dealer {
  const { party, seeds } = bundle;
  let g: Prg | null = null;
  return {
    prg(k) {
      assert(party !== 2 && k === 2, 'E_INTERNAL', `dealer: P${party} draws no dealing PRG with P${k} in a preprocessed run`);
      const s = party === 0 ? seeds.s02 : seeds.s12;
      assert(s, 'E_INTERNAL', `dealer: P${party}'s bundle has no seed`);
      return (g ??= new Prg(s));
    },
    // The job ran when the bundle was made: P2 takes what it kept.
    deal(tag) {
      assert(party === 2, 'E_INTERNAL', `dealer: P${party} cannot deal`);
      return popItem(bundle, tag, null);
    },
    async take(tag, n) {
      assert(party === 1, 'E_INTERNAL', `dealer: only P1 takes corrections, not P${party}`);
      return popItem(bundle, tag, n);
    },
  };
}

/**
 * P2: replay `script` with the dealing PRGs of seeds s02, s12: P1's part
 * (its corrections, to send) and P2's own part of the bundle.
 */
export function prepareBundle(kernels: RingKernels, script: DealScript, s02: Uint8Array, s12: Uint8Array): { forP1: { tag: string; data: Uint8Array }[]; p2: PartyBundle } {
  const g0 = new Prg(s02), g1 = new Prg(s12);
  const forP1: { tag: string; data: Uint8Array }[] = [];
  const kept: { tag: string; data: Uint8Array }[] = [];
  for (const { tag, job } of script) {
    const { toP1, keep } = job.run(kernels, g0, g1);
    assert(toP1.byteLength === job.bytesToP1, 'E_INTERNAL', `dealer: job '${tag}' made ${toP1.byteLength} bytes, declared ${job.bytesToP1}`);
    forP1.push({ tag, data: toP1 });
    kept.push({ tag, data: keep ?? EMPTY });
  }
  return { forP1, p2: { party: 2, seeds: { s02, s12 }, ...byTag(kept) } };
}

/** P1: its part of a bundle from the corrections P2 sent (in script order). */
export function p1Bundle(s12: Uint8Array, items: { tag: string; data: Uint8Array }[]): PartyBundle {
  return { party: 1, seeds: { s12 }, ...byTag(items) };
}

/** P0: its part of a bundle (its seed only). */
export function p0Bundle(s02: Uint8Array): PartyBundle {
  return { party: 0, seeds: { s02 }, items: new Map(), bytes: 0 };
}

/** Bytes P1 receives for a script (the bundle's transfer). */
export const scriptBytes = (script: DealScript): number => script.reduce((a, s) => a + s.job.bytesToP1, 0);
