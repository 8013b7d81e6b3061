/**
 * The offline phase of the party servers: P2 deals the next run's correlated
 * randomness while the parties are idle (protocol/correlated/dealer.ts).
 *
 * 1. A live run whose shape (model, batch sizes and policies in plan order,
 *    comparison ring, weight-mask epoch) P2 has not recorded yet runs as
 *    the paper does; P2 records its dealt jobs (a DealScript) on success.
 * 2. When P0 is idle a moment after a run (PREP_AFTER_RUN_MS in party.ts: the
 *    sessions' HTTP answers go first; a busy P0 asks after its next run, one
 *    shape at a time), it asks P1 and P2 for a bundle of that
 *    shape (control 'prep' {prepId, key}; P2's also carries s02). Over the
 *    mesh session prepId, P1 sends P2 a fresh s12, P2 replays the script with
 *    (s02, s12) and sends P1 a manifest and P1's corrections. P1 and P2 keep
 *    their parts under prepId and report 'prepared' {prepId, ok, bytes} to P0.
 * 3. P0's next plan of that shape names the bundle (plan field `prep`); the
 *    three parties take their parts out of their pools (a bundle serves one
 *    run), and the run sends none of the dealt bytes. A plan naming a bundle
 *    a party does not hold, or of another shape, fails with E_PROTOCOL_DESYNC.
 * Bounds: one bundle per shape, a shape whose bundle exceeds maxBytes is not
 * prepared (VGG16), P1 and P2 hold at most 2 maxBytes (oldest dropped).
 * Pools are emptied when a peer link drops, the weight masks are rebuilt
 * (the epoch is in the key), or a run fails at P0 ('prep-drop' to peers).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PartyBundle, DealScript } from '../protocol/correlated/dealer.js';
import type { PlanMasks } from './weight-masks.js';

export interface PreprocessOptions {
  /** Make bundles while idle (default true). */
  enabled: boolean;
  /** Largest bundle (bytes P1 holds) to prepare; P1 and P2 hold at most twice this. */
  maxBytes: number;
  /** A prep not reported by both peers within this time is dropped. */
  timeoutMs: number;
}

export const DEFAULT_PREPROCESS: PreprocessOptions = { enabled: true, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000 };

/** The shape of a run, as the three parties compute it from the plan: the same key means the same sequence of dealt jobs. */
export function shapeKey(modelHash: string, compareBits: number, compareRadix: number, masks: PlanMasks | null, sessions: { batch: number; policy: string }[], rangeSentinel: boolean): string {
  // The range sentinel (range-sentinel.ts) adds P2-dealt jobs at the end of a run: a bundle made without it never serves a run with it.
  return JSON.stringify([modelHash, compareBits, compareRadix, masks ? masks.epoch : null, sessions.map((e) => [e.batch, e.policy]), rangeSentinel]);
}

interface Ready { prepId: string; s02: Uint8Array; bytes: number }
interface InFlight { prepId: string; key: string; s02: Uint8Array; t0: number; ok: Set<number>; bytes: number; timer: NodeJS.Timeout }

/** P0: bundles ready at P1 and P2 (one per shape), the prep in flight, shapes too large to prepare. */
export class PrepPool {
  private readonly ready = new Map<string, Ready>();
  private inflight: InFlight | null = null;
  private readonly tooLarge = new Set<string>();
  constructor(private readonly opts: PreprocessOptions) {}

  get readyCount(): number { return this.ready.size; }
  get readyBytes(): number { let b = 0; for (const r of this.ready.values()) b += r.bytes; return b; }
  get inFlight(): boolean { return this.inflight !== null; }

  /** The bundle for a run of this shape, taken out of the pool; null: run live. */
  take(key: string): Ready | null {
    const r = this.ready.get(key);
    if (!r) return null;
    this.ready.delete(key);
    return r;
  }

  /** Whether to start a prep of this shape now. */
  wanted(key: string): boolean {
    return this.opts.enabled && this.inflight === null && !this.ready.has(key) && !this.tooLarge.has(key) && this.readyBytes < this.opts.maxBytes;
  }

  /** Start one: its id and s02; onTimeout runs if the peers do not both report in time. */
  start(key: string, onTimeout: (prepId: string) => void): { prepId: string; s02: Uint8Array } {
    const prepId = randomUUID(), s02 = randomBytes(16);
    const timer = setTimeout(() => { if (this.inflight?.prepId === prepId) { this.inflight = null; onTimeout(prepId); } }, this.opts.timeoutMs);
    timer.unref();
    this.inflight = { prepId, key, s02, t0: performance.now(), ok: new Set(), bytes: 0, timer };
    return { prepId, s02 };
  }

  /** A peer's 'prepared' report: 'ready' when both reported success (with the prep's wall time), 'failed' if one refused. */
  reported(from: number, prepId: string, ok: boolean, bytes: number, reason: string | undefined): { result: 'ready' | 'failed'; ms: number; bytes: number } | null {
    const f = this.inflight;
    if (!f || f.prepId !== prepId) return null;
    if (!ok) {
      clearTimeout(f.timer);
      this.inflight = null;
      if (reason === 'too-large') this.tooLarge.add(f.key);
      return { result: 'failed', ms: performance.now() - f.t0, bytes: 0 };
    }
    f.ok.add(from);
    if (from === 1) f.bytes = bytes;
    if (f.ok.size < 2) return null;
    clearTimeout(f.timer);
    this.inflight = null;
    this.ready.set(f.key, { prepId, s02: f.s02, bytes: f.bytes });
    return { result: 'ready', ms: performance.now() - f.t0, bytes: f.bytes };
  }

  /** Forget everything (ids of the bundles the peers should drop). */
  clear(): string[] {
    const ids = [...this.ready.values()].map((r) => r.prepId);
    if (this.inflight) { clearTimeout(this.inflight.timer); ids.push(this.inflight.prepId); this.inflight = null; }
    this.ready.clear();
    this.tooLarge.clear();
    return ids;
  }
}

/** P1, P2: the parts of bundles this party holds, by prep id; P2 also its recorded scripts by shape. */
export class PrepHoldings {
  private readonly held = new Map<string, { key: string; bundle: PartyBundle }>();
  private readonly scripts = new Map<string, DealScript>();
  constructor(private readonly opts: PreprocessOptions) {}

  get count(): number { return this.held.size; }
  get bytes(): number { let b = 0; for (const h of this.held.values()) b += h.bundle.bytes; return b; }

  add(prepId: string, key: string, bundle: PartyBundle): void {
    this.held.set(prepId, { key, bundle });
    // Oldest first: drop until within the bound (P0 forgot them, or they would not fit).
    for (const id of this.held.keys()) { if (this.bytes <= 2 * this.opts.maxBytes || id === prepId) break; this.held.delete(id); }
  }

  /** The part of bundle prepId, taken out; null if not held or of another shape. */
  take(prepId: string, key: string): PartyBundle | null {
    const h = this.held.get(prepId);
    if (!h) return null;
    this.held.delete(prepId);
    return h.key === key ? h.bundle : null;
  }

  drop(prepId: string): void { this.held.delete(prepId); }

  /** P2: the script of a successful live run of this shape (the newest 8 shapes are kept). */
  record(key: string, script: DealScript): void {
    this.scripts.delete(key);
    this.scripts.set(key, script);
    for (const k of this.scripts.keys()) { if (this.scripts.size <= 8) break; this.scripts.delete(k); }
  }

  script(key: string): DealScript | undefined { return this.scripts.get(key); }

  clear(): void { this.held.clear(); this.scripts.clear(); }
}
