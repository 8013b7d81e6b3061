/**
 * A client sees only its own run: its own session id, never the run's id (shared by every session of the batch)
 * nor a batch-mate's session id, in the run view and in a failed run's error message.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MpcError } from '../protocol/errors.js';
import { clientError, clientRunView, operatorRunView } from './run-view.js';
import type { RunRecord } from './party.js';
import { SessionStore } from './sessions.js';

const mine = randomUUID(), other = randomUUID(), runId = randomUUID();
const record: RunRecord = { runId, sessions: [other, mine], images: 3, ok: true, ms: 123, bytesSent: 4096, rounds: 17, messages: 40, waitMs: 5, layers: [{ name: 'd', kind: 'dense', rounds: 17, ms: 100, waitMs: 5, bytesSent: 4096, messages: 40 }] };

describe('run view by caller (parties/run-view.ts)', () => {
  it('a client gets its own session id and coarse stats; no run id, no batch-mate, no image count', () => {
    const v = clientRunView(record, mine);
    const text = JSON.stringify(v);
    expect(v).toEqual({ sessionId: mine, ok: true, ms: 130, rounds: 17, layers: [{ name: 'd', kind: 'dense', rounds: 17 }] });
    expect(text).not.toContain(runId);
    expect(text).not.toContain(other);
    // Operators keep the run id and the sizes, never the batch's session ids.
    const op = JSON.stringify(operatorRunView(record));
    expect(op).toContain(runId);
    expect(op).not.toContain(other);
    expect(op).not.toContain(mine);
  });

  it('a run failure shown to a client names no run and no other session; code, party and step kept', () => {
    const e = new MpcError('E_DEADLINE', `run ${runId} passed its deadline of 50 ms (session ${other.toUpperCase()}, session ${mine})`, { party: 1, step: 'run' });
    const c = clientError(e, mine);
    expect(c.message).toBe(`run <run> passed its deadline of 50 ms (session <run>, session ${mine})`);
    expect(c).toMatchObject({ code: 'E_DEADLINE', party: 1, step: 'run' });
    const plain = new MpcError('E_SHAPE', 'input share: expected 8 bytes');
    expect(clientError(plain, mine)).toBe(plain);
  });

  it('the session store keeps the client-facing error: a batch-mate reading its own failed session sees no run id', () => {
    const store = new SessionStore({ maxSessions: 10, maxPerClient: 10, retentionMs: 60_000, tombstoneMs: 60_000, maxTombstones: 10 });
    const s = store.create(mine, 1, 10_000, 'client-a', Buffer.alloc(32));
    let logged: MpcError | undefined;
    const store2 = new SessionStore({ maxSessions: 10, maxPerClient: 10, retentionMs: 60_000, tombstoneMs: 60_000, maxTombstones: 10 }, (_s, e) => { logged = e; });
    const s2 = store2.create(other, 1, 10_000, 'client-b', Buffer.alloc(32));
    const e = new MpcError('E_NOT_READY', `run ${runId} deferred by P1: a planned session had not reached it`, { party: 1 });
    store.fail(s, e);
    store2.fail(s2, e);
    expect(s.error!.message).toBe('run <run> deferred by P1: a planned session had not reached it');
    expect(s2.error!.message).not.toContain(runId);
    expect(logged).toBe(e); // the party's own log keeps the run id
    store.close();
    store2.close();
  });
});
