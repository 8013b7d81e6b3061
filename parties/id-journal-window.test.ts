/**
 * The window SECURITY.md states: a used session id is refused for an hour (tombstoneMs) after the session is
 * forgotten, across restarts too. The journal stamps an id when the session is created, and a session can live up to
 * its deadline (at most sessions.maxDeadlineMs) plus the retention before it is forgotten, so the journal must keep
 * an id that much longer than tombstoneMs (idJournalTtlMs, what Party opens it with). A journal kept for tombstoneMs
 * only refused the id, after a restart, for as little as 45 minutes after it was forgotten (defaults: 10 min + 5 min).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdJournal, idJournalTtlMs } from './id-journal.js';
import { sessionKeyHash, SessionStore } from './sessions.js';

afterEach(() => { vi.useRealTimers(); });

describe('the id journal keeps an id for the whole window after the session is forgotten', () => {
  it('a session that ran to its longest deadline and was retained is refused after a restart until tombstoneMs after its forgetting', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'performance'] });
    const cfg = { maxDeadlineMs: 600_000, retentionMs: 300_000 };
    const tombstoneMs = 3_600_000;
    const ttl = idJournalTtlMs(tombstoneMs, cfg);
    const opts = { maxSessions: 10, maxPerClient: 10, retentionMs: cfg.retentionMs, tombstoneMs, maxTombstones: 100 };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-window-')), 'ids.log');
    const key = sessionKeyHash('k'.repeat(43));
    const id = randomUUID();
    const j1 = IdJournal.open(file, ttl);
    const before = new SessionStore(opts, () => undefined, j1);
    const s = before.create(id, 1, cfg.maxDeadlineMs, 'c', key);
    await j1.flush();
    vi.advanceTimersByTime(cfg.maxDeadlineMs + 1); // E_DEADLINE
    expect(s.state).toBe('failed');
    vi.advanceTimersByTime(cfg.retentionMs + 1); // forgotten: a tombstone now, refused for tombstoneMs from here
    expect(before.get(id)).toBeUndefined();
    await j1.close();
    before.close();
    vi.setSystemTime(Date.now() + tombstoneMs - 60_000); // the restart, a minute before the window ends
    const j2 = IdJournal.open(file, ttl);
    const after = new SessionStore(opts, () => undefined, j2);
    expect(() => after.create(id, 1, 10_000, 'c', key)).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
    await j2.close();
    after.close();
    vi.setSystemTime(Date.now() + 2 * 60_000); // past the window: the journal lets it go (no endless growth)
    const j3 = IdJournal.open(file, ttl);
    expect(j3.has(id)).toBe(false);
    await j3.close();
  });
});
