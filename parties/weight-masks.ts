/**
 * The party's kept weight masks (protocol/correlated/weight-masks.ts): one
 * store for the loaded model, filled by a 'build' run and used by later runs.
 * P0 decides per run and carries the decision in the plan
 * ({ epoch, build } or null for "none: plain Alg. 1"):
 *  - build when it holds no complete store for the model (first run, after a
 *    failed run, after a peer link went down: the peer may have restarted
 *    and lost its store, or after the model changed);
 *  - use once its build run's forward pass completed (by then P1 and P2 have
 *    kept every mask too: P0's last layer waits on messages they send after);
 *  - none while a build run is in flight (concurrent runs).
 * P1 and P2 follow the plan: build starts a new epoch (the old store is
 * dropped); use requires the same epoch, else the run fails with
 * E_PROTOCOL_DESYNC and P0 builds again at the next run.
 * Memory: F (P0, P1) or B (P2), 8 bytes per weight.
 */
import { randomUUID } from 'node:crypto';
import { MemoryWeightMasks, type WeightMaskSession } from '../protocol/correlated/weight-masks.js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';

/** The plan's field. */
export interface PlanMasks { epoch: string; build: boolean }

export function isPlanMasks(v: unknown): v is PlanMasks | null {
  return v === null || (typeof v === 'object' && typeof (v as PlanMasks).epoch === 'string' && (v as PlanMasks).epoch.length <= 64 && typeof (v as PlanMasks).build === 'boolean');
}

interface Held { modelHash: string; epoch: string; store: MemoryWeightMasks; ready: boolean }

export class WeightMaskState {
  private held: Held | null = null;
  /** P0: the run building the current epoch, if in flight. */
  private building: string | null = null;
  /** Runs cut on purpose whose failure does not drop the masks (spare). */
  private readonly spared = new Set<string>();

  constructor(private readonly party: PartyId, private readonly enabled: boolean) {}

  /** P0: the plan's masks for a new run. */
  plan(runId: string, modelHash: string): PlanMasks | null {
    if (!this.enabled) return null;
    const h = this.held;
    if (h && h.modelHash === modelHash && h.ready) return { epoch: h.epoch, build: false };
    if (this.building) return null;
    this.held = { modelHash, epoch: randomUUID(), store: new MemoryWeightMasks(), ready: false };
    this.building = runId;
    return { epoch: this.held.epoch, build: true };
  }

  /** The session a run uses (undefined: none), or an E_PROTOCOL_DESYNC when this party cannot follow the plan. */
  session(runId: string, masks: PlanMasks | null, modelHash: string): WeightMaskSession | undefined {
    if (!masks) return undefined;
    if (masks.build) {
      if (this.party !== 0) this.held = { modelHash, epoch: masks.epoch, store: new MemoryWeightMasks(), ready: false };
      return this.held!.store.session('build');
    }
    const h = this.held;
    if (!h || h.epoch !== masks.epoch || h.modelHash !== modelHash) {
      throw new MpcError('E_PROTOCOL_DESYNC', `P${this.party} cannot run plan ${runId}: it holds no weight masks of epoch ${masks.epoch} for this model`, { party: this.party });
    }
    return h.store.session('use');
  }

  /** After the forward pass of a build run completed at this party. */
  built(masks: PlanMasks | null): void {
    if (masks?.build && this.held?.epoch === masks.epoch) this.held.ready = true;
  }

  /** A run ended; a failed run makes P0 build again (the failure may be a peer without the store), unless spared. */
  ended(runId: string, masks: PlanMasks | null, ok: boolean): void {
    if (this.building === runId) this.building = null;
    const spared = this.spared.delete(runId) && masks !== null && !masks.build;
    if (!ok && !spared && (this.party === 0 || (masks?.build && this.held?.epoch === masks.epoch))) this.held = null;
  }

  /**
   * Run `runId` is being cut on purpose (the warm-up's client-path predictions, parties/warmup-client.ts: a client is
   * waiting or the budget is spent): if it is a 'use' run, its failure leaves the masks valid (no party changed its store).
   */
  spare(runId: string): void {
    this.spared.add(runId);
  }

  /** Forget the store (a peer link went down, the model changed). */
  reset(): void {
    this.held = null;
  }

  /** For stats and tests: the epoch held, whether it is complete, bytes kept. */
  get info(): { epoch: string; ready: boolean; bytes: number } | null {
    return this.held ? { epoch: this.held.epoch, ready: this.held.ready, bytes: this.held.store.bytes } : null;
  }
}
