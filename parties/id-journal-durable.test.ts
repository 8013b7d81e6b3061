/**
 * IdJournal's replacements of its file survive a power loss: the compacted content is on disk (fsync of the
 * temporary file) before the rename puts it in place, and the rename itself is made durable (fsync of the
 * directory). Without the first, a crash after the rename can leave an empty or partial journal (every id of the
 * last hour forgotten: replays accepted after the restart). node:fs is wrapped to record the opens, fsyncs and
 * renames, with their paths (a file of its own: the mock is per test file).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const rec = vi.hoisted(() => ({ events: [] as string[], fds: new Map<number, string>() }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  type Cb = (...a: unknown[]) => void;
  const openSync = ((p: string, ...rest: unknown[]) => { const fd = (real.openSync as (...a: unknown[]) => number)(p, ...rest); rec.fds.set(fd, String(p)); return fd; }) as typeof real.openSync;
  const open = ((p: string, ...rest: unknown[]) => {
    const cb = rest.pop() as Cb;
    (real.open as (...a: unknown[]) => void)(p, ...rest, (e: unknown, fd: number) => { if (!e) rec.fds.set(fd, String(p)); cb(e, fd); });
  }) as typeof real.open;
  const fsyncSync = ((fd: number) => { rec.events.push(`fsync ${rec.fds.get(fd)}`); real.fsyncSync(fd); }) as typeof real.fsyncSync;
  const fsync = ((fd: number, cb: Cb) => { rec.events.push(`fsync ${rec.fds.get(fd)}`); real.fsync(fd, cb); }) as typeof real.fsync;
  const renameSync = ((a: string, b: string) => { rec.events.push(`rename ${String(a)} ${String(b)}`); real.renameSync(a, b); }) as typeof real.renameSync;
  const rename = ((a: string, b: string, cb: Cb) => { rec.events.push(`rename ${String(a)} ${String(b)}`); real.rename(a, b, cb); }) as typeof real.rename;
  const wrapped = { openSync, open, fsyncSync, fsync, renameSync, rename };
  return { ...real, ...wrapped, default: { ...real, ...wrapped } };
});

const { IdJournal } = await import('./id-journal.js');

/** Each rename of `tmp` over `file` is preceded by an fsync of `tmp` (after the previous rename) and followed by one of the directory. */
function expectDurableRenames(events: string[], file: string): number {
  const dir = path.dirname(file);
  let renames = 0;
  events.forEach((e, i) => {
    const m = /^rename (\S+) (\S+)$/.exec(e);
    if (!m || m[2] !== file) return;
    renames += 1;
    const before = events.slice(0, i);
    const prev = before.map((x, k) => (x.startsWith('rename ') ? k : -1)).filter((k) => k >= 0).pop() ?? -1;
    expect(before.slice(prev + 1)).toContain(`fsync ${m[1]}`);
    expect(events.slice(i + 1)).toContain(`fsync ${dir}`);
  });
  return renames;
}

describe('IdJournal: its file is replaced durably (fsync before and after the rename)', () => {
  it('at open and at a compaction, the new content is synced before the rename and the directory after it', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-journal-')), 'ids.log');
    let now = 1_000_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      rec.events.length = 0;
      const j = IdJournal.open(file, 1_000);
      expect(expectDurableRenames(rec.events, file)).toBe(1);
      const old = Array.from({ length: 10_050 }, () => randomUUID()); // then 10 061 lines > 2 x 11 live + 10 000
      for (const id of old) j.add(id);
      await j.flush();
      now += 500;
      const kept = Array.from({ length: 10 }, () => randomUUID());
      for (const id of kept) j.add(id);
      now += 700; // `old` expired, `kept` not: the write compacts to the 10 kept lines
      rec.events.length = 0;
      j.add(randomUUID());
      await j.flush();
      expect(expectDurableRenames(rec.events, file)).toBe(1);
      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(11);
      await j.close();
      const again = IdJournal.open(file, 1_000);
      expect(kept.every((id) => again.has(id))).toBe(true);
      expect(old.some((id) => again.has(id))).toBe(false);
      await again.close();
    } finally {
      clock.mockRestore();
    }
  });
});
