/**
 * IdJournal when opening the compacted file fails (EMFILE: out of
 * descriptors): the ids added afterwards must still reach the journal file,
 * not a descriptor left to the replaced, unlinked one (their appends would
 * "succeed" and be lost at the next restart). node:fs's openSync is wrapped
 * to fail once on request (a file of its own: the mock is per test file).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const failOpen = vi.hoisted(() => ({ next: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const openSync = ((...args: Parameters<typeof real.openSync>) => {
    if (failOpen.next) {
      failOpen.next = false;
      throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
    }
    return real.openSync(...args);
  }) as typeof real.openSync;
  return { ...real, openSync, default: { ...real, openSync } };
});

const { IdJournal } = await import('./id-journal.js');

describe('IdJournal: the compacted file cannot be opened once', () => {
  it('reports the failure, then appends the next ids to the journal file (a restart refuses them)', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-journal-')), 'ids.log');
    const errors: unknown[] = [];
    // The clock is the test's: the first 10 001 ids have expired (ttl 1 s) by the write, so their lines trigger a
    // compaction (to an empty file); the id added after the failure has not (with the real clock and ttl 0 it
    // expired too when a millisecond passed, and a second compaction dropped it: the test depended on timing).
    let now = 1_000_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    const k = IdJournal.open(file, 1_000, (e) => errors.push(e));
    for (let i = 0; i < 10_001; i++) k.add(randomUUID());
    now += 5_000;
    failOpen.next = true; // the open of the compacted file, right after its rename
    await k.flush();
    expect(failOpen.next).toBe(false); // the failure was taken by the compaction's open
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['EMFILE']);
    const later = randomUUID();
    k.add(later);
    await k.close();
    const text = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(text).toHaveLength(1); // the compacted (empty) file, then the one id added after the failure
    const again = IdJournal.open(file, 3_600_000); // a restart
    expect(again.has(later)).toBe(true);
    await again.close();
    clock.mockRestore();
    expect(errors).toHaveLength(1);
  });
});
