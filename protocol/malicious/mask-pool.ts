/**
 * The offline phase of the malicious mode: the input-independent masks of
 * whole inferences made ahead, in batches, and kept in a pool until a
 * session takes them (the preprocessing model of SPDZ, Damgård, Pastro,
 * Smart, Zakarias, CRYPTO 2012; its MAC check over a whole batch, SPDZ_2k,
 * Cramer et al. 2018, Pi_MACCheck, as mac-check.ts runs it).
 *
 *  1. Plan: the sequence of mask requests of one forward pass of the model
 *     at its batch size (kind, n, parameters: mask-source.ts), recorded by a
 *     MaskRecorder on one run. It is deterministic: the runner asks for the
 *     same masks in the same order on every run of the same model and batch.
 *  2. Batch (`offlineBatch`), on a session with the epoch's key (epoch.ts):
 *     for each of `count` inferences, every request of the plan in order,
 *     made by its registered maker (the same code a run uses inline), with
 *     an interim MAC check after a request once the requests since the last
 *     check declare at least `checkEveryBytes` (default
 *     MAL_CHECK_EVERY_BYTES, the online runner's bound: runner.ts), decided
 *     from the declared costs alone so the three parties agree; then one
 *     batched MAC check over everything made since. The interim checks free
 *     the session's pending values (the random bits and products a mask is
 *     made from, 64 bytes per element at a party) as the online runner's
 *     do. Only after the last check passes are the masks entries of the
 *     pool, so an entry is usable only after every check covering it
 *     passed; a failed check is E_INTEGRITY and nothing of the batch is
 *     kept (the epoch is then discarded: epoch.ts).
 *  3. Use: a session agrees on one entry id with the other two parties
 *     (parties/malicious-desk.ts) and takes it as its mask source; each mask
 *     is used once, in the recorded order (MaskEntry checks every request).
 *
 * Cost of a batch: the session set-up (setupCost), count times the plan's
 * masks (masksCost: sequential, rounds add up), one MAC check
 * (macCheckCost) per interim check and one at the end: offlineBatchCost. The online run then saves exactly the
 * plan's cost: malForwardCost + inputMaskCost - masksCost(plan).
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { MpcError } from '../errors.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { makeMask, masksCost, MaskEntry, type MaskRequest } from './mask-source.js';
import { MAL_CHECK_EVERY_BYTES } from './runner.js';
import { commitWaitRounds, setupCost, type MalSession } from './session.js';

export interface OfflineBatchOptions {
  /** Run a MAC check after a request once the requests since the last one declare this many bytes (default MAL_CHECK_EVERY_BYTES). */
  checkEveryBytes?: number;
}

/**
 * The interim checks of a batch: the positions k (in the batch's sequence
 * of count x plan.length requests) after which a MAC check runs; from the
 * declared costs only. None after the last request (the final check follows).
 */
export function offlineChecks(plan: readonly MaskRequest[], count: number, opts: OfflineBatchOptions = {}): Set<number> {
  const every = opts.checkEveryBytes ?? MAL_CHECK_EVERY_BYTES;
  const per = plan.map((r) => masksCost([r]).bytes), total = count * plan.length;
  const out = new Set<number>();
  let since = 0;
  for (let k = 0; k < total; k++) {
    since += per[k % plan.length]!;
    if (since >= every && k < total - 1) { out.add(k); since = 0; }
  }
  return out;
}

/** The declared cost of offlineBatch on a fresh session (its set-up included): count inferences of `plan`, its interim MAC checks and the last one. */
export const offlineBatchCost = (plan: readonly MaskRequest[], count: number, opts: OfflineBatchOptions = {}): Cost =>
  addCost(setupCost(), { rounds: commitWaitRounds(masksCost(plan).rounds), bytes: 0 }, ...Array.from({ length: count }, () => masksCost(plan)), ...[...offlineChecks(plan, count, opts)].map(() => macCheckCost()), macCheckCost());

/**
 * Step 2: the masks of `count` inferences of `plan`, verified by the interim
 * MAC checks and one at the end; entry j is named `${batchId}.${j}` (the
 * same at the three parties) and exists only once every check passed.
 */
export function offlineBatch(s: MalSession, plan: readonly MaskRequest[], count: number, batchId: string, opts: OfflineBatchOptions = {}): Promise<MaskEntry[]> {
  return s.guard('mal.offline', async () => {
    if (!Number.isInteger(count) || count < 1) throw new MpcError('E_BAD_ARGUMENT', `malicious.offline: the batch must make at least one inference's masks, got ${count}`, { party: s.party, step: 'mal.offline' });
    const checks = offlineChecks(plan, count, opts);
    const made: unknown[][] = [];
    for (let j = 0, k = 0; j < count; j++) {
      const items: unknown[] = [];
      for (const req of plan) {
        items.push(await makeMask(s, req));
        if (checks.has(k++)) await macCheck(s);
      }
      made.push(items);
    }
    await macCheck(s);
    return made.map((items, j) => new MaskEntry(`${batchId}.${j}`, plan, items));
  });
}

/** The bytes of the typed arrays reachable from a value (a mask's memory at one party). */
export function materialBytes(x: unknown, seen = new Set<unknown>()): number {
  if (x === null || typeof x !== 'object' || seen.has(x)) return 0;
  seen.add(x);
  if (ArrayBuffer.isView(x)) return x.byteLength;
  let t = 0;
  for (const v of Object.values(x as Record<string, unknown>)) t += materialBytes(v, seen);
  return t;
}

/**
 * The pool of one epoch at one party: entries in the order made, each with
 * a sequence number (its offline batch's, the same at the three parties); a
 * session proposes the oldest free one (reserving it), takes it when the
 * three parties proposed the same number, else releases it (the session
 * then makes its masks inline). An entry is never proposed to two sessions
 * at once, and once taken it is gone: no mask is used twice.
 *
 * Re-convergence (parties/malicious-epoch.ts): the floor is the lowest
 * sequence number this party has not consumed (taken or retired). The
 * hello carries it; every party raises its floor to the highest of the
 * three (`raiseFloor`), retiring (deleting unused) every entry below it: an
 * entry below another party's floor may have been used there, so it is
 * never used by anyone. A reserved entry below the floor is retired when
 * its session releases it; one added below the floor is retired at once.
 * `consumed` counts taken and retired entries (the refill count).
 */
export class MaskPool {
  private readonly entries = new Map<string, { entry: MaskEntry; seq: number; bytes: number }>();
  private readonly reserved = new Set<string>();
  private bytesHeld = 0;
  private next = 0;
  private floorMark = 0;
  private taken = 0;
  private retiredCount = 0;

  /** Free and reserved entries. */
  get size(): number { return this.entries.size; }
  /** Free entries (not proposed to a session). */
  get free(): number { return this.entries.size - this.reserved.size; }
  /** The memory held by the masks of the pool at this party. */
  get bytes(): number { return this.bytesHeld; }
  /** Entries taken by a session or retired unused (each counted once). */
  get consumed(): number { return this.taken + this.retiredCount; }
  /** Entries retired unused (below the floor). */
  get retired(): number { return this.retiredCount; }
  /** The lowest sequence number not consumed here (entries not yet made included). */
  get floor(): number {
    let f = this.next;
    for (const v of this.entries.values()) f = Math.min(f, v.seq);
    return Math.max(f, this.floorMark);
  }

  /** Entries of one batch, numbered seq0, seq0 + 1, ... (default: after the last added). */
  add(entries: MaskEntry[], bytesEach: number, seq0 = this.next): void {
    entries.forEach((e, j) => {
      const seq = seq0 + j;
      this.next = Math.max(this.next, seq + 1);
      if (seq < this.floorMark) { this.retiredCount++; return; }
      this.entries.set(e.id, { entry: e, seq, bytes: bytesEach });
      this.bytesHeld += bytesEach;
    });
  }

  /** The sequence number of a held entry (undefined when gone). */
  seqOf(id: string): number | undefined { return this.entries.get(id)?.seq; }

  /** The oldest free entry's id, reserved for the caller; null when none is free. */
  propose(): string | null {
    for (const id of this.entries.keys()) if (!this.reserved.has(id)) { this.reserved.add(id); return id; }
    return null;
  }

  /** Give back a reserved entry that the three parties did not agree on (retired when below the floor). */
  release(id: string): void {
    this.reserved.delete(id);
    const v = this.entries.get(id);
    if (v && v.seq < this.floorMark) this.drop(id);
  }

  /** Take a reserved entry out of the pool (used once). */
  take(id: string): MaskEntry {
    const v = this.entries.get(id);
    if (!v || !this.reserved.has(id)) throw new MpcError('E_INTERNAL', `malicious.pool: entry ${id} is not reserved here`, { step: 'mal.pool' });
    this.remove(id);
    this.taken++;
    return v.entry;
  }

  /** Retire a reserved entry unused: a session may have used it at another party (it failed after its hello). */
  retire(id: string): void {
    if (!this.reserved.has(id)) throw new MpcError('E_INTERNAL', `malicious.pool: entry ${id} is not reserved here`, { step: 'mal.pool' });
    this.reserved.delete(id);
    this.drop(id);
  }

  /** Retire every entry below `m` (reserved ones when released); returns how many were retired now. */
  raiseFloor(m: number): number {
    if (m <= this.floorMark) return 0;
    this.floorMark = m;
    let n = 0;
    for (const [id, v] of [...this.entries]) if (v.seq < m && !this.reserved.has(id)) { this.drop(id); n++; }
    return n;
  }

  /**
   * Drop every free entry (the epoch is discarded). An entry reserved by a session whose hellos are in flight stays
   * until that session decides: it takes it, as the other two parties decide from the same three hellos, or releases
   * it (it then dies with the pool). Dropping it too made that session's take fail with E_INTERNAL at this party only,
   * when another session discarded the epoch in between (two sessions at once, parties/malicious-epoch.ts).
   */
  clear(): void {
    for (const id of [...this.entries.keys()]) if (!this.reserved.has(id)) this.remove(id);
  }

  private remove(id: string): void {
    const v = this.entries.get(id);
    if (!v) return;
    this.entries.delete(id);
    this.reserved.delete(id);
    this.bytesHeld -= v.bytes;
  }

  private drop(id: string): void {
    if (!this.entries.has(id)) return;
    this.remove(id);
    this.retiredCount++;
  }
}
