/**
 * The privacy accountant's state on disk (protocol/privacy/accountant.ts does
 * no I/O; it reads and writes through this store): one JSON file per party,
 * replaced atomically: a temp file in the same directory, fsync, rename over
 * the old one, fsync the directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AccountantStore } from '../protocol/privacy/index.js';

/** Replace `file` atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  try {
    const d = await open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  } catch {
    // Directory fsync is not supported everywhere (e.g. some network file systems); the rename is still atomic.
  }
}

/** The accountant's state in `file` (its folder is created on first use; a missing file is no state yet). */
export function fileStore(file: string): AccountantStore {
  let dirMade: Promise<unknown> | null = null;
  const ensureDir = () => (dirMade ??= mkdir(dirname(file), { recursive: true }));
  return {
    async read() {
      await ensureDir();
      try {
        return await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async write(text) {
      await ensureDir();
      await writeFileAtomic(file, text);
    },
  };
}
