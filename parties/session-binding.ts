/**
 * One session, the same request at the three parties. The client picks the
 * session id and sends the same create request (with a fresh 32-byte
 * `requestNonce`) to P0, P1 and P2; each party creates its own session, and
 * nothing else ties them together. Without a check, the id used at P0 and a
 * different request under it at P1 (another batch, privacy options, model,
 * or a session someone else created at P1 with that id) would run as one:
 * P0's share of one input against P1's share of another, a wrong answer
 * that looks like any other.
 *
 * Each party keeps a digest of the request it accepted: SHA-256 over a
 * domain tag and the canonical JSON of (session id, model hash the client
 * named, batch, privacy options, request nonce). P0's plan carries its
 * digest per session (PlanEntry.bind); P1 and P2 compare it with their own
 * before the run takes the session's input, and a difference fails that
 * session there with E_SESSION_BINDING (run-executor.ts) and, through the
 * control message 'unbound', at the other two parties (run-planner.ts). The client
 * reconstructs only from P0 and P1 together, so a session P1 refused gives
 * an error, never a result. The nonce makes the digest unknowable to anyone
 * but the client and the parties: a caller who learnt a session id cannot
 * create a matching session at one party.
 */
import { createHash } from 'node:crypto';
import type { CreateSessionRequest } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';

/** JSON with object keys sorted at every level (arrays keep their order). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The digest of a create request as this party accepted it (`id` lower-cased, `batch` resolved). */
export function sessionBinding(req: CreateSessionRequest, id: string, batch: number): string {
  const fields = { id: id.toLowerCase(), modelHash: req.modelHash?.toLowerCase() ?? null, batch, privacy: req.privacy ?? null, nonce: req.requestNonce ?? null };
  return createHash('sha256').update('securenn/session-binding/v1\0').update(canonical(fields)).digest('hex');
}

/** Whether this party's session and P0's plan entry come from the same request (both digests present and equal). */
export const sameBinding = (mine: string | undefined, planned: string | undefined): boolean => mine !== undefined && planned !== undefined && mine === planned;

export function bindingError(id: string, party: number): MpcError {
  return new MpcError('E_SESSION_BINDING', `session ${id}: the request P${party} accepted under this id differs from P0's (another batch, model, privacy options or request nonce): the session does not run`, { party, step: 'run.plan' });
}
