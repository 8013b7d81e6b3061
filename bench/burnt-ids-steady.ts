/**
 * What a party's burnt-id bookkeeping costs per session once it is in steady service, i.e. after its tables
 * are full: the session store's tombstones (parties/sessions.ts: at most maxTombstones = 100 000, reached after
 * ~100k sessions, ~10 minutes of Network A at batch 1) and the id journal (parties/id-journal.ts: the ids of the
 * last hour; once the journal is an hour old, every write expires some). A short benchmark (a few thousand
 * predictions) never gets there; this one starts with the tables full:
 *
 *   npx tsx bench/burnt-ids-steady.ts [--a-dir .] [--b-dir <checkout>] [--blocks 6] [--block 2000]
 *       [--tombstones 100000] [--journal 500000] [--views 100000]
 *
 * Per arm (the checkout's own parties/sessions.ts and parties/id-journal.ts):
 * - store: a SessionStore with maxTombstones tombstones already (created and forgotten sessions), then per
 *   session: create, forget (the store's retention timer's call; here called directly), CPU µs per session;
 * - journal: an IdJournal opened on a file of `--journal` ids of the last ttl (10 min here), spread so that some
 *   expire at every write during the run (~4 per ms), then per id: add, flush (one write per id, as one prediction per
 *   event-loop turn does), CPU µs per id (process.cpuUsage: the write's thread-pool time included).
 * - mesh sweep: a PeerMesh (no links) with `--views` views closed in the last 10 minutes (run and offline views,
 *   ~2 per prediction), none expired; CPU µs of one of its once-a-second sweeps (parties/mesh.ts).
 * With --b-dir the two arms alternate block by block (A, B, A, B, ...) in this one process.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

interface Opts { dirs: string[]; blocks: number; block: number; tombstones: number; journal: number; views: number }
function parse(argv: string[]): Opts {
  const o: Opts = { dirs: ['.'], blocks: 6, block: 2000, tombstones: 100_000, journal: 500_000, views: 100_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--a-dir') o.dirs[0] = v;
    else if (k === '--b-dir') o.dirs[1] = v;
    else if (k === '--blocks' || k === '--block' || k === '--tombstones' || k === '--journal' || k === '--views') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${k}: a positive integer, got '${v}'`);
      o[k.slice(2) as 'blocks' | 'block' | 'tombstones' | 'journal' | 'views'] = n;
    } else throw new Error(`unknown option ${k}`);
  }
  return o;
}

const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system; };
const median = (a: number[]): number => { const b = [...a].sort((x, y) => x - y); return b[b.length >> 1]!; };
const load = (): string => loadavg()[0]!.toFixed(2);

interface StoreLike { create(id: string, batch: number, deadlineMs: number, owner: string, keyHash: Buffer): unknown }
interface JournalLike { add(id: string): void; flush(): Promise<void>; close(): Promise<void> }

interface MeshLike { openSession(id: string): { close(): void }; close(): Promise<void> }
interface Arm { name: string; store: StoreLike; journal: JournalLike; mesh: MeshLike; storeUs: number[]; journalUs: number[]; sweepUs: number[] }

async function arm(dir: string, o: Opts, work: string, idx: number): Promise<Arm> {
  const root = path.resolve(dir);
  const { SessionStore } = await import(path.join(root, 'parties/sessions.ts')) as { SessionStore: new (opts: object) => StoreLike };
  const { IdJournal } = await import(path.join(root, 'parties/id-journal.ts')) as { IdJournal: { open(file: string, ttlMs: number, onError?: (e: unknown) => void): JournalLike } };
  const store = new SessionStore({ maxSessions: 1e9, maxPerClient: 1e9, retentionMs: 1000, tombstoneMs: 3_600_000, maxTombstones: o.tombstones });
  const key = Buffer.alloc(32);
  for (let i = 0; i < o.tombstones + 10; i++) { const id = randomUUID(); store.create(id, 1, 60_000, 'c', key); (store as unknown as { forget(id: string): void }).forget(id); }
  // The journal: `journal` ids of the last ttl (10 min), the oldest about to expire, the rest expiring evenly over the
  // next 120 s (~4 per ms: every write of the run expires some, as every write does once a journal is ttl old).
  const ttl = 600_000, now = Date.now(), spread = 120_000;
  const lines: string[] = [];
  for (let i = 0; i < o.journal; i++) lines.push(`${Math.floor(now - ttl + 1000 + (i * spread) / o.journal)} ${randomUUID().replace(/-/g, '')}\n`);
  const file = path.join(work, `journal-${idx}.log`);
  writeFileSync(file, lines.join(''));
  const journal = IdJournal.open(file, ttl, (e) => { throw e; });
  const { PeerMesh } = await import(path.join(root, 'parties/mesh.ts')) as { PeerMesh: new (opts: object) => MeshLike };
  const mesh = new PeerMesh({ party: 0, tls: null });
  for (let i = 0; i < o.views; i++) mesh.openSession(randomUUID()).close();
  return { name: dir, store, journal, mesh, storeUs: [], journalUs: [], sweepUs: [] };
}

async function block(a: Arm, n: number): Promise<void> {
  const key = Buffer.alloc(32);
  const ids = Array.from({ length: n }, () => randomUUID());
  let t = cpuUs();
  for (const id of ids) { a.store.create(id, 1, 60_000, 'c', key); (a.store as unknown as { forget(id: string): void }).forget(id); }
  a.storeUs.push((cpuUs() - t) / n);
  t = cpuUs();
  for (const id of ids) { a.journal.add(id); await a.journal.flush(); }
  a.journalUs.push((cpuUs() - t) / n);
  t = cpuUs();
  for (let i = 0; i < 20; i++) (a.mesh as unknown as { sweep(): void }).sweep();
  a.sweepUs.push((cpuUs() - t) / 20);
}

const o = parse(process.argv.slice(2));
const work = mkdtempSync(path.join(tmpdir(), 'burnt-ids-'));
try {
  const loadStart = load();
  const arms: Arm[] = [];
  for (let i = 0; i < o.dirs.length; i++) arms.push(await arm(o.dirs[i]!, o, work, i));
  // Warm-up: one block each (JIT), not counted.
  for (const a of arms) { await block(a, Math.min(500, o.block)); a.storeUs.length = 0; a.journalUs.length = 0; a.sweepUs.length = 0; }
  for (let b = 0; b < o.blocks; b++) for (const a of arms) await block(a, o.block);
  console.log(`burnt ids in steady service: ${o.tombstones} tombstones, a journal of ${o.journal} ids (ttl 10 min, some expiring at every write), ${o.views} recently closed views; ${o.blocks} blocks of ${o.block} sessions per arm, alternating; ${cpus().length} x ${cpus()[0]?.model.trim()}; 1-minute load ${loadStart} at the start, ${load()} at the end`);
  for (const a of arms) console.log(`(${a.name}): store create + forget ${median(a.storeUs).toFixed(2)} µs CPU per session (blocks: ${a.storeUs.map((x) => x.toFixed(1)).join(' ')}); journal add + write ${median(a.journalUs).toFixed(2)} µs CPU per id (blocks: ${a.journalUs.map((x) => x.toFixed(1)).join(' ')}); mesh sweep with ${o.views} recent views ${median(a.sweepUs).toFixed(1)} µs CPU per sweep (blocks: ${a.sweepUs.map((x) => x.toFixed(1)).join(' ')})`);
  for (const a of arms) { await a.journal.close(); await a.mesh.close(); }
} finally {
  rmSync(work, { recursive: true, force: true });
}
