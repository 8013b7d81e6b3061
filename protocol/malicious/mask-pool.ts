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
 *     made by its registered maker (the same code a run uses inline); then
 *     one batched MAC check over everything made. Only after it passes are
 *     the masks entries of the pool; a failed check is E_INTEGRITY and
 *     nothing of the batch is kept (the epoch is then discarded: epoch.ts).
 *  3. Use: a session agrees on one entry id with the other two parties
 *     (parties/malicious-desk.ts) and takes it as its mask source; each mask
 *     is used once, in the recorded order (MaskEntry checks every request).
 *
 * Cost of a batch: the session set-up (setupCost), count times the plan's
 * masks (masksCost: sequential, rounds add up), one MAC check
 * (macCheckCost): offlineBatchCost. The online run then saves exactly the
 * plan's cost: malForwardCost + inputMaskCost - masksCost(plan).
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { MpcError } from '../errors.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { makeMask, masksCost, MaskEntry, type MaskRequest } from './mask-source.js';
import { setupCost, type MalSession } from './session.js';

/** The declared cost of offlineBatch on a fresh session (its set-up included): count inferences of `plan`, one MAC check. */
export const offlineBatchCost = (plan: readonly MaskRequest[], count: number): Cost =>
  addCost(setupCost(), ...Array.from({ length: count }, () => masksCost(plan)), macCheckCost());

/**
 * Step 2: the masks of `count` inferences of `plan`, verified by one MAC
 * check; entry j is named `${batchId}.${j}` (the same at the three parties).
 */
export function offlineBatch(s: MalSession, plan: readonly MaskRequest[], count: number, batchId: string): Promise<MaskEntry[]> {
  return s.guard('mal.offline', async () => {
    if (!Number.isInteger(count) || count < 1) throw new MpcError('E_BAD_ARGUMENT', `malicious.offline: the batch must make at least one inference's masks, got ${count}`, { party: s.party, step: 'mal.offline' });
    const made: unknown[][] = [];
    for (let j = 0; j < count; j++) {
      const items: unknown[] = [];
      for (const req of plan) items.push(await makeMask(s, req));
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
 * The pool of one epoch at one party: entries in the order made; a session
 * proposes the oldest free one (reserving it), takes it when the three
 * parties proposed the same id, else releases it (the session then makes
 * its masks inline). An entry is never proposed to two sessions at once,
 * and once taken it is gone: no mask is used twice.
 */
export class MaskPool {
  private readonly entries = new Map<string, MaskEntry>();
  private readonly reserved = new Set<string>();
  private bytesHeld = 0;
  private readonly sizes = new Map<string, number>();

  /** Free and reserved entries. */
  get size(): number { return this.entries.size; }
  /** Free entries (not proposed to a session). */
  get free(): number { return this.entries.size - this.reserved.size; }
  /** The memory held by the masks of the pool at this party. */
  get bytes(): number { return this.bytesHeld; }

  add(entries: MaskEntry[], bytesEach: number): void {
    for (const e of entries) { this.entries.set(e.id, e); this.sizes.set(e.id, bytesEach); this.bytesHeld += bytesEach; }
  }

  /** The oldest free entry's id, reserved for the caller; null when none is free. */
  propose(): string | null {
    for (const id of this.entries.keys()) if (!this.reserved.has(id)) { this.reserved.add(id); return id; }
    return null;
  }

  /** Give back a reserved entry that the three parties did not agree on. */
  release(id: string): void { this.reserved.delete(id); }

  /** Take a reserved entry out of the pool (used once). */
  take(id: string): MaskEntry {
    const e = this.entries.get(id);
    if (!e || !this.reserved.has(id)) throw new MpcError('E_INTERNAL', `malicious.pool: entry ${id} is not reserved here`, { step: 'mal.pool' });
    this.entries.delete(id);
    this.reserved.delete(id);
    this.bytesHeld -= this.sizes.get(id) ?? 0;
    this.sizes.delete(id);
    return e;
  }

  clear(): void { this.entries.clear(); this.reserved.clear(); this.sizes.clear(); this.bytesHeld = 0; }
}
