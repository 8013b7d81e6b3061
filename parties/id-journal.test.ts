import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdJournal } from './id-journal.js';

const tmpFile = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'securenn-journal-')), 'ids.log');
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('IdJournal (burnt session ids on disk, one kept descriptor)', () => {
  it('appends one line per id through the kept descriptor, in order, and reloads them', async () => {
    const file = tmpFile();
    const j = IdJournal.open(file, 3_600_000);
    const ids = Array.from({ length: 50 }, () => randomUUID());
    for (const id of ids.slice(0, 20)) j.add(id);
    await j.flush();
    expect(lines(file)).toHaveLength(20);
    for (const id of ids.slice(20)) j.add(id);
    await j.close();
    const text = readFileSync(file, 'utf8');
    expect(lines(file)).toHaveLength(50);
    for (const l of lines(file)) expect(l).toMatch(/^\d{1,15} [0-9a-f]{32}$/);
    for (const id of ids) expect(text).not.toContain(id);
    const again = IdJournal.open(file, 3_600_000);
    for (const id of ids) expect(again.has(id)).toBe(true);
    expect(again.has(randomUUID())).toBe(false);
    await again.close();
  });

  it('a temporary file left by a crash mid-compaction (empty) is never read and is removed at the next open', async () => {
    const file = tmpFile();
    const j = IdJournal.open(file, 3_600_000);
    const id = randomUUID();
    j.add(id);
    await j.close();
    const stale = `${file}.4242424.tmp`;
    writeFileSync(stale, '');
    writeFileSync(`${file}.other.tmp`, ''); // not one of the journal's names: left alone
    const again = IdJournal.open(file, 3_600_000);
    expect(again.has(id)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(`${file}.other.tmp`)).toBe(true);
    expect(lines(file)).toHaveLength(1);
    await again.close();
  });

  it('after compacting, appends to the new file (the descriptor is opened again), not to the replaced one', async () => {
    const file = tmpFile();
    // ttl 0: every entry has expired by the next write, so 10 001 lines trigger a compaction to an empty file.
    const j = IdJournal.open(file, 0);
    for (let i = 0; i < 10_001; i++) j.add(randomUUID());
    await j.flush();
    expect(lines(file)).toHaveLength(0);
    const last = randomUUID();
    j.add(last);
    await j.close();
    expect(lines(file)).toHaveLength(1);
    const reopened = IdJournal.open(file, 3_600_000);
    expect(reopened.has(last)).toBe(true);
    await reopened.close();
  });

  it('an id added after close is reported through onError (coded, no id in the message) and not written', async () => {
    const file = tmpFile();
    const errors: unknown[] = [];
    const j = IdJournal.open(file, 3_600_000, (e) => errors.push(e));
    j.add(randomUUID());
    await j.close();
    const late = randomUUID();
    j.add(late);
    await j.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'E_INTERNAL' });
    expect(String((errors[0] as Error).message)).not.toContain(late);
    expect(lines(file)).toHaveLength(1);
  });
});
