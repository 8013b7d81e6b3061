/**
 * Where a malicious-mode run takes its input-independent masks from: made
 * inline (no source: the default), recorded (one forward pass, to learn the
 * sequence of requests), or taken from a pool entry made ahead in an offline
 * batch (mask-pool.ts). The offline/online split of SPDZ (Damgård, Pastro,
 * Smart, Zakarias, CRYPTO 2012, §1 "preprocessing model"), here without
 * per-layer code: a primitive that needs a mask asks the session
 * (`takeMask`) with a request (kind, n, parameters) and a function that makes
 * it inline; each kind has a maker registered here (`registerMaskMaker`,
 * called by the file that defines the kind: trunc.ts, compare.ts,
 * client-io.ts) so that an offline batch can replay a recorded sequence of
 * requests without knowing the layers.
 *
 * A mask's correctness never depends on where it was made: the same maker
 * makes it, under the same MAC key (the epoch's, epoch.ts), and every value
 * it holds is verified by a passed MAC check before it is used (the offline
 * batch's check, or the session's own when made inline).
 *
 * A source is consumed in order: the entry checks every request against the
 * one it recorded (kind, n, parameters) and fails loudly with E_INTERNAL on
 * a mismatch (a bug: a run whose requests differ from the recording),
 * never handing out a mask made for another request.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { MpcError } from '../errors.js';
import type { MalSession } from './session.js';

/** One request for an input-independent mask: its kind, its number of elements, and its parameters (f, ell, ...). */
export interface MaskRequest {
  readonly kind: string;
  readonly n: number;
  readonly params: readonly number[];
}

/** A supplier of masks for one run (MalSession.masks). */
export interface MaskSource {
  take<T>(s: MalSession, req: MaskRequest, make: () => Promise<T>): Promise<T>;
}

interface Maker {
  make: (s: MalSession, n: number, params: readonly number[]) => Promise<unknown>;
  cost: (n: number, params: readonly number[]) => Cost;
  /** What a run saves online when the mask comes from a source instead of inline (default: `cost`). */
  saved?: (n: number, params: readonly number[]) => Cost;
}

const makers = new Map<string, Maker>();

/**
 * Register how a kind of mask is made (and its declared cost): by the file that defines the kind, at load. `saved`:
 * what a run saves online when it takes the mask from a pool entry, where that differs from `cost` (the binary
 * triples: made inline, the verification runs in the triples' own rounds, binary/verify.ts).
 */
export function registerMaskMaker(kind: string, make: Maker['make'], cost: Maker['cost'], saved?: Maker['saved']): void {
  makers.set(kind, saved ? { make, cost, saved } : { make, cost });
}

function makerOf(kind: string): Maker {
  const m = makers.get(kind);
  if (!m) throw new MpcError('E_INTERNAL', `malicious.masks: no maker registered for mask kind '${kind}'`, { step: 'mal.masks' });
  return m;
}

/** Make the mask of one request inline, with its registered maker. */
export const makeMask = (s: MalSession, req: MaskRequest): Promise<unknown> => makerOf(req.kind).make(s, req.n, req.params);

/** The declared cost of making the masks of a sequence of requests (sequential: rounds add up). */
export const masksCost = (plan: readonly MaskRequest[]): Cost => addCost(...plan.map((r) => makerOf(r.kind).cost(r.n, r.params)));

/** What a run with a pool entry of `plan` saves online against the same run with every mask made inline (masksCost but for the kinds that register `saved`). */
export const savedCost = (plan: readonly MaskRequest[]): Cost => addCost(...plan.map((r) => { const m = makerOf(r.kind); return (m.saved ?? m.cost)(r.n, r.params); }));

export const sameRequest = (a: MaskRequest, b: MaskRequest): boolean =>
  a.kind === b.kind && a.n === b.n && a.params.length === b.params.length && a.params.every((v, i) => v === b.params[i]);

export const describeRequest = (r: MaskRequest): string => `${r.kind}(n = ${r.n}${r.params.length ? `, ${r.params.join(', ')}` : ''})`;

/** The mask for `req`: from the session's source when it has one, else made inline by `make`. */
export function takeMask<T>(s: MalSession, req: MaskRequest, make: () => Promise<T>): Promise<T> {
  return s.masks ? s.masks.take(s, req, make) : make();
}

/** A source that makes every mask inline and records the requests (one forward pass: the plan an offline batch replays). */
export class MaskRecorder implements MaskSource {
  readonly plan: MaskRequest[] = [];
  take<T>(_s: MalSession, req: MaskRequest, make: () => Promise<T>): Promise<T> {
    this.plan.push({ kind: req.kind, n: req.n, params: [...req.params] });
    return make();
  }
}

/**
 * The masks of one inference made ahead (mask-pool.ts): handed out in the
 * recorded order, each once. A request that differs from the recording is
 * E_INTERNAL (a bug), and the entry is then spent: nothing of it is used.
 */
export class MaskEntry implements MaskSource {
  private next = 0;
  constructor(readonly id: string, readonly plan: readonly MaskRequest[], private items: unknown[]) {}

  get remaining(): number { return this.plan.length - this.next; }

  take<T>(s: MalSession, req: MaskRequest): Promise<T> {
    const i = this.next;
    const want = this.plan[i];
    if (!want || !sameRequest(want, req)) {
      this.next = this.plan.length;
      this.items = [];
      throw new MpcError('E_INTERNAL', `malicious.masks: request ${i} of the run is ${describeRequest(req)}, the pool entry ${this.id} recorded ${want ? describeRequest(want) : 'no more requests'} (the run differs from the recorded forward pass)`, { party: s.party, step: 'mal.masks' });
    }
    this.next++;
    const item = this.items[i];
    this.items[i] = undefined; // each mask once
    return Promise.resolve(item as T);
  }
}
