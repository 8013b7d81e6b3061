/**
 * Burnt session ids once the tables are full (steady service): the store's tombstones drop only from the front
 * (oldest first: the expired ones and those over maxTombstones) and stop at the first kept one; the id journal
 * expires entries without copying the live ones on every write, and what it writes at a compaction and loads again
 * is exactly the live ids; the mesh's recently closed views (refused for 10 minutes) are swept oldest first.
 * bench/burnt-ids-steady.ts measures the cost per session.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MpcError } from '../protocol/errors.js';
import { IdJournal } from './id-journal.js';
import { PeerMesh } from './mesh.js';
import { sessionKeyHash, SessionStore } from './sessions.js';

const KEY = sessionKeyHash('k'.repeat(43));
afterEach(() => { vi.useRealTimers(); });

describe('session store tombstones at their cap', () => {
  const store = (maxTombstones: number, tombstoneMs: number): SessionStore =>
    new SessionStore({ maxSessions: 100, maxPerClient: 100, retentionMs: 10, tombstoneMs, maxTombstones });
  /** Create and fail a session, then let its retention pass: it becomes a tombstone. */
  const burn = (s: SessionStore, id: string): void => {
    s.fail(s.create(id, 1, 60_000, 'c', KEY), new MpcError('E_INTERNAL', 'test'));
    vi.advanceTimersByTime(11);
  };
  const refused = (s: SessionStore, id: string): boolean => { try { s.checkFree(id); return false; } catch (e) { return (e as MpcError).code === 'E_CONFLICT'; } };

  it('over the cap, the oldest ids are freed first and the newest stay refused', () => {
    vi.useFakeTimers();
    const s = store(3, 3_600_000);
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const id of ids) burn(s, id);
    expect(ids.map((id) => refused(s, id))).toEqual([false, false, false, true, true, true]);
    s.close();
  });

  it('expired tombstones at the front go when the cap is passed; an unexpired one stays', () => {
    vi.useFakeTimers();
    const s = store(3, 1000);
    const old = [randomUUID(), randomUUID()];
    for (const id of old) burn(s, id);
    vi.advanceTimersByTime(500);
    const mid = [randomUUID(), randomUUID()];
    for (const id of mid) burn(s, id); // 4 > 3: the oldest goes (over the cap), the second is kept (not expired yet)
    expect([...old, ...mid].map((id) => refused(s, id))).toEqual([false, true, true, true]);
    vi.advanceTimersByTime(700); // old[1] is expired now (> 1000 ms), mid not
    const last = randomUUID();
    burn(s, last); // 4 > 3 again: old[1] goes; mid and last stay (3, not expired)
    expect([...old, ...mid, last].map((id) => refused(s, id))).toEqual([false, false, true, true, true]);
    vi.advanceTimersByTime(2000); // all expired; the next one over the cap frees every expired one at the front
    const more = [randomUUID()];
    burn(s, more[0]!); // 4 > 3: mid[0], mid[1], last expired and go; more[0] stays
    expect([...mid, last, ...more].map((id) => refused(s, id))).toEqual([false, false, false, true]);
    s.close();
  });

  it('a wall clock stepped forward frees no tombstone before its time (monotonic clock; over the cap, the oldest go)', () => {
    vi.useFakeTimers();
    const s = store(3, 3_600_000);
    const [a, b, c, d] = Array.from({ length: 4 }, () => randomUUID()) as [string, string, string, string];
    burn(s, a);
    burn(s, b);
    vi.setSystemTime(Date.now() + 2 * 3_600_000); // the wall clock jumps 2 h; a and b were burnt milliseconds ago
    burn(s, c);
    burn(s, d); // 4 > 3: a goes (over the cap); b is neither expired nor over the cap
    expect([a, b, c, d].map((id) => refused(s, id))).toEqual([false, true, true, true]);
    s.close();
  });
});

describe('id journal expiry without copying the live entries on every write', () => {
  const tmpFile = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'securenn-burnt-')), 'ids.log');
  const lineCount = (file: string): number => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

  it('expires the oldest ids, compacts to the live ones only, and a reopened journal knows exactly those', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const file = tmpFile();
    const j = IdJournal.open(file, 1000);
    const add = async (n: number): Promise<string[]> => { const ids = Array.from({ length: n }, () => randomUUID()); for (const id of ids) j.add(id); await j.flush(); return ids; };
    const a = await add(11_001);
    vi.setSystemTime(t0 + 1100);
    const b = await add(11_000); // the write expires all of a: more than half the array, so the live ones are copied down
    expect(a.some((id) => j.has(id))).toBe(false);
    expect(b.every((id) => j.has(id))).toBe(true);
    expect(lineCount(file)).toBe(22_001); // no compaction yet: 22 001 lines <= 2 x 11 000 live + 10 000
    vi.setSystemTime(t0 + 1700);
    const c = await add(11_000);
    vi.setSystemTime(t0 + 2200);
    const d = await add(1); // expires b (not more than half the array: not copied down); 33 002 lines > 2 x 11 001 + 10 000: a compaction that skips the expired entries in place
    expect(b.some((id) => j.has(id))).toBe(false);
    expect([...c, ...d].every((id) => j.has(id))).toBe(true);
    expect(lineCount(file)).toBe(11_001);
    await j.close();
    const again = IdJournal.open(file, 3_600_000);
    expect([...c, ...d].every((id) => again.has(id))).toBe(true);
    expect([...a, ...b].some((id) => again.has(id))).toBe(false);
    await again.close();
  });
});

describe('mesh: views closed in the last 10 minutes stay refused, older ones are swept', () => {
  it('the sweep frees the ids closed over 10 minutes ago and keeps the recent ones', async () => {
    vi.useFakeTimers();
    const m = new PeerMesh({ party: 0, tls: null });
    try {
      for (const id of ['a', 'b', 'c']) m.openSession(id).close();
      vi.advanceTimersByTime(5 * 60_000);
      m.openSession('d').close();
      expect(() => m.openSession('a')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
      vi.advanceTimersByTime(5 * 60_000 + 2_000); // a, b, c are 10 min + 2 s old, d 5 min + 2 s: one sweep a second
      for (const id of ['a', 'b', 'c']) expect(() => m.openSession(id).close()).not.toThrow();
      expect(() => m.openSession('d')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
    } finally {
      vi.useRealTimers();
      await m.close();
    }
  });

  // The sweep stops at the first recent view, so "oldest first" must also be "closed earliest": the age is kept on the
  // process's monotonic clock. With the wall clock, a step back held every later view past its 10 minutes (a view
  // closed before the step looked recent: memory for the whole step) and a step forward freed them all at once (a
  // late message of a just-closed session no longer refused).
  it('a wall clock stepped back or forward neither holds the sweep nor frees views early', async () => {
    vi.useFakeTimers();
    const m = new PeerMesh({ party: 0, tls: null });
    try {
      m.openSession('before').close();
      vi.setSystemTime(Date.now() - 3_600_000); // the wall clock steps back an hour
      m.openSession('after').close();
      vi.advanceTimersByTime(10 * 60_000 + 2_000);
      for (const id of ['before', 'after']) expect(() => m.openSession(id).close()).not.toThrow();
      m.openSession('x').close();
      vi.setSystemTime(Date.now() + 3_600_000); // and forward an hour
      vi.advanceTimersByTime(2_000);
      expect(() => m.openSession('x')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
    } finally {
      vi.useRealTimers();
      await m.close();
    }
  });
});
