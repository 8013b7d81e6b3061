/**
 * What GET /v1/sessions/:id/run serves, by caller. A run serves several
 * clients' sessions in one batch (parties/run-planner.ts), so its record is shared:
 *
 *  - every caller: no session ids. The record names the sessions of the whole
 *    batch; a client would learn who shared its batch (and, until sessions are
 *    bound to their creators, could fetch their outputs).
 *  - clients: only their own run: their own session id, never the run's id
 *    (one id for every session of the batch: two clients comparing it would
 *    learn they were batched together; the same holds for error messages,
 *    see clientError), the run's outcome, its total time rounded up to ROUND_MS, its
 *    rounds, and per layer name, kind and rounds (fixed by the model). No
 *    per-layer times, no byte or message counts, no image count (all of these
 *    depend on the other sessions of the batch), no process memory. Per-layer
 *    times are the side channel between a party's local work (among it the
 *    DP sampler, whose running time grows with |noise|; protocol/privacy/
 *    README.md) and the client.
 *  - operators (a token listed in `operatorTokens`): the full record (per-layer
 *    wall ms, wait ms, bytes, messages, rounds) and the process's peak RSS,
 *    as the benchmarks need.
 */
import { MpcError } from '../protocol/errors.js';
import type { RunRecord } from './party.js';

/** Granularity of the run time a client sees (ms). */
export const ROUND_MS = 10;

export type OperatorRunView = Omit<RunRecord, 'sessions'>;

export interface ClientRunView {
  /** The caller's own session (the run's id is shared by the batch and not shown). */
  sessionId: string;
  ok: boolean;
  code?: RunRecord['code'];
  /** Whole run at this party, rounded up to a multiple of ROUND_MS. */
  ms: number;
  rounds: number;
  layers?: { name: string; kind: string; rounds: number }[];
}

export function operatorRunView(r: RunRecord): OperatorRunView {
  const { sessions: _batch, ...rest } = r;
  return rest;
}

export function clientRunView(r: RunRecord, sessionId: string): ClientRunView {
  return {
    sessionId, ok: r.ok, ...(r.code ? { code: r.code } : {}),
    ms: Math.max(ROUND_MS, Math.ceil(r.ms / ROUND_MS) * ROUND_MS), rounds: r.rounds,
    ...(r.layers ? { layers: r.layers.map((l) => ({ name: l.name, kind: l.kind, rounds: l.rounds })) } : {}),
  };
}

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The error a session's client sees: a run's failure is shared by every
 * session of the batch, and its message may name the run (or, in principle,
 * another session); every id other than the session's own becomes '<run>'.
 * Code, party and step are kept; the original stays the cause (for the log).
 */
export function clientError(e: MpcError, sessionId: string): MpcError {
  const own = sessionId.toLowerCase();
  const message = e.message.replace(UUIDS, (id) => (id.toLowerCase() === own ? id : '<run>'));
  if (message === e.message) return e;
  return new MpcError(e.code, message, { ...(e.party !== undefined ? { party: e.party } : {}), ...(e.step !== undefined ? { step: e.step } : {}), cause: e });
}
