/**
 * Burnt session ids that outlive the process. A session id is accepted once:
 * the session store keeps used ids in memory (tombstones), and this journal
 * keeps them on disk, so that a party that restarts still refuses an id it
 * accepted before (a logged id replayed after a restart gets E_CONFLICT).
 *
 * One file per party (`sessions.idJournal`), one line per id:
 * `<ms since epoch> <first 128 bits of SHA-256(id) in hex>`; the ids
 * themselves are never written (Party opens it with idJournalTtlMs: an hour
 * after the session is forgotten). At start the lines younger than `ttlMs` are
 * loaded and the file is rewritten with only those (write to a temporary
 * file and fsync it, rename it over the journal, fsync the directory: a
 * crash, power loss included, leaves the old file or the whole new one, never
 * an empty or partial journal; a crash mid-way can leave the temporary file,
 * which is never read and is removed by the next open). New ids are appended in one write per event-loop turn,
 * to a descriptor kept open in append mode (one `write` on libuv's thread
 * pool per turn; `appendFile` took three, open, write and close, on every
 * prediction); the file is compacted the same way once it holds more than
 * twice the live lines, and the descriptor opened again on the new file. A
 * failed write is reported through `onError` and the party goes on: the
 * in-memory tombstones still refuse replays until the next restart.
 * If opening the compacted file fails, no descriptor is kept to the replaced
 * one (the failure is reported) and the next write opens it again.
 * `close()` writes what is pending and closes the descriptor.
 */
import { createHash } from 'node:crypto';
import { close as fsClose, closeSync, existsSync, fsync, fsyncSync, mkdirSync, open as fsOpen, openSync, readdirSync, readFileSync, rename, rmSync, renameSync, write as fsWrite, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import type { BurntIds } from './sessions.js';

const idHash = (id: string): string => createHash('sha256').update('securenn/session-id/v1\0').update(id, 'utf8').digest('hex').slice(0, 32);
const LINE = /^(\d{1,15}) ([0-9a-f]{32})$/;

/** A node:fs callback call as a promise. */
const call = <T>(f: (cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => f((e, v) => (e ? reject(e) : resolve(v))));
/** Where a directory cannot be opened or synced (not Linux), its rename stays as durable as the platform makes it. */
const dirSyncUnsupported = (e: unknown): boolean => ['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * Replaces `file` with `text`, durably: written to a temporary file and synced before the rename (else a power loss
 * after the rename can leave an empty or partial journal: the ids of the last ttl forgotten, replays accepted after the
 * restart), then the directory synced (the rename itself). A crash before the rename leaves the old file whole.
 */
function replaceSync(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try { writeFileSync(fd, text); fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, file);
  let dir: number | undefined;
  try { dir = openSync(path.dirname(file), 'r'); fsyncSync(dir); } catch (e) { if (!dirSyncUnsupported(e)) throw e; } finally { if (dir !== undefined) closeSync(dir); }
}

/** replaceSync on libuv's thread pool (the compaction while serving). */
async function replace(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = await call<number>((cb) => fsOpen(tmp, 'w', 0o600, cb));
  try {
    let buf = Buffer.from(text, 'latin1');
    while (buf.length > 0) buf = buf.subarray(await call<number>((cb) => fsWrite(fd, buf, 0, buf.length, null, cb)));
    await call<void>((cb) => fsync(fd, cb));
  } finally { await call<void>((cb) => fsClose(fd, cb)); }
  await call<void>((cb) => rename(tmp, file, cb));
  let dir: number | undefined;
  try { dir = await call<number>((cb) => fsOpen(path.dirname(file), 'r', cb)); await call<void>((cb) => fsync(dir!, cb)); } catch (e) { if (!dirSyncUnsupported(e)) throw e; } finally { if (dir !== undefined) await call<void>((cb) => fsClose(dir!, cb)); }
}

/**
 * How long the journal keeps an id: it stamps the id when the session is created, and the session may live until its
 * deadline (at most maxDeadlineMs) and then be retained (retentionMs) before it is forgotten, from when the id must
 * stay refused for `tombstoneMs` (SECURITY.md), across restarts too.
 */
export const idJournalTtlMs = (tombstoneMs: number, s: { maxDeadlineMs: number; retentionMs: number }): number => tombstoneMs + s.maxDeadlineMs + s.retentionMs;

export class IdJournal implements BurntIds {
  /** Entries, oldest first; those before `head` have expired (dropped from the array in bulk, see expire). */
  private entries: { at: number; h: string }[] = [];
  private head = 0;
  private readonly known = new Set<string>();
  private pending: string[] = [];
  private lines = 0;
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** The journal file opened for appending; undefined once closed, or after a reopen that failed (opened again by the next write). */
  private fd: number | undefined;
  /** close() was called: no descriptor is opened again. */
  private closed = false;
  /** The last id hashed, and its hash (hashOf). */
  private last: { id: string; h: string } | null = null;

  private constructor(private readonly file: string, private readonly ttlMs: number, private readonly onError: (e: unknown) => void) {}

  /** Load `file` (absent: start empty), keep the entries younger than ttlMs, rewrite it compacted. */
  static open(file: string, ttlMs: number, onError: (e: unknown) => void = () => {}): IdJournal {
    const j = new IdJournal(file, ttlMs, onError);
    const cutoff = Date.now() - ttlMs;
    if (existsSync(file)) {
      let text: string;
      try { text = readFileSync(file, 'utf8'); } catch (e) { throw new MpcError('E_BAD_ARGUMENT', `sessions.idJournal: ${path.basename(file)} cannot be read`, { cause: e }); }
      for (const line of text.split('\n')) {
        const m = LINE.exec(line);
        // A torn last line (a crash mid-append) is skipped; every whole line counts.
        if (!m || Number(m[1]) < cutoff) continue;
        j.remember(Number(m[1]), m[2]!);
      }
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
    }
    try {
      replaceSync(file, j.render());
      j.fd = openSync(file, 'a', 0o600);
      // Temporary files left by an earlier process that died mid-replacement (empty or partial; never read: the journal
      // is the renamed file, whole): removed, so they do not pile up across crashes.
      const base = path.basename(file);
      try {
        for (const name of readdirSync(path.dirname(file))) if (name.startsWith(`${base}.`) && /^\d+\.tmp$/.test(name.slice(base.length + 1))) rmSync(path.join(path.dirname(file), name), { force: true });
      } catch (e) { onError(e); }
    } catch (e) {
      throw new MpcError('E_BAD_ARGUMENT', `sessions.idJournal: ${path.basename(file)} cannot be written (persistent, writable storage is needed)`, { cause: e });
    }
    j.lines = j.live;
    return j;
  }

  has(id: string): boolean { return this.known.has(this.hashOf(id)); }

  add(id: string): void {
    const at = Date.now();
    const h = this.hashOf(id);
    this.remember(at, h);
    this.pending.push(`${at} ${h}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; this.flushing = this.flushing.then(() => this.write()); });
    }
  }

  /** Resolves when every id added so far is written. */
  async flush(): Promise<void> {
    if (this.pending.length) this.flushing = this.flushing.then(() => this.write());
    await this.flushing;
  }

  /** Writes what is pending, then closes the file (the party's close; an id added after it is kept in memory only, and its write reported through onError). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The store asks has(id) twice and then add(id) for one new session: the last id's hash is kept (a SHA-256 each). */
  private hashOf(id: string): string {
    if (this.last?.id !== id) this.last = { id, h: idHash(id) };
    return this.last.h;
  }

  private remember(at: number, h: string): void {
    this.entries.push({ at, h });
    this.known.add(h);
  }

  /** Entries not expired. */
  private get live(): number { return this.entries.length - this.head; }

  private render(): string { return this.entries.slice(this.head).map((e) => `${e.at} ${e.h}\n`).join(''); }

  private async write(): Promise<void> {
    const chunk = this.pending.join('');
    const n = this.pending.length;
    this.pending = [];
    if (n === 0) return;
    try {
      await this.append(chunk);
      this.lines += n;
      this.expire();
      if (this.lines > 2 * this.live + 10_000) {
        await replace(this.file, this.render());
        // The kept descriptor still points at the replaced file: drop it first, then open the new one. Should the
        // open fail (EMFILE), no descriptor is left to the unlinked file (whose appends would "succeed" and be lost):
        // the error is reported and the next write opens the file again (append).
        const old = this.fd;
        this.fd = undefined;
        if (old !== undefined) closeSync(old);
        this.fd = openSync(this.file, 'a', 0o600);
        this.lines = this.live;
      }
    } catch (e) {
      this.onError(e);
    }
  }

  /** Appends `chunk` (ASCII lines) at the end of the file through the kept descriptor, all of it. */
  private async append(chunk: string): Promise<void> {
    let buf = Buffer.from(chunk, 'latin1');
    // No descriptor while open: a reopen after a compaction failed (write); opened here again.
    if (this.fd === undefined && !this.closed) this.fd = openSync(this.file, 'a', 0o600);
    while (buf.length > 0) {
      const fd = this.fd;
      if (fd === undefined) throw new MpcError('E_INTERNAL', 'sessions.idJournal: closed with ids pending');
      const n = await new Promise<number>((resolve, reject) => fsWrite(fd, buf, 0, buf.length, null, (e, written) => (e ? reject(e) : resolve(written))));
      if (n <= 0) throw new MpcError('E_INTERNAL', 'sessions.idJournal: the file took no bytes');
      buf = buf.subarray(n);
    }
  }

  private expire(): void {
    const cutoff = Date.now() - this.ttlMs;
    let k = this.head;
    while (k < this.entries.length && this.entries[k]!.at < cutoff) this.known.delete(this.entries[k++]!.h);
    this.head = k;
    // Copy the live entries down only once the expired ones are most of the array: slicing on every write that
    // expired one cost O(live ids) per prediction once the journal was ttlMs old (~1 h of ids, e.g. 500k).
    if (this.head > 1024 && this.head * 2 > this.entries.length) { this.entries = this.entries.slice(this.head); this.head = 0; }
  }
}
