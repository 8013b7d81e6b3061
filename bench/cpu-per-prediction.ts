/**
 * CPU per Network A prediction in each of the four processes (the client and
 * P0, P1, P2), batch 1, sequential predictions through the SDK, as
 * `npm run bench` launches the parties (parties/launch.ts: the party bundle,
 * mTLS, the default mesh link):
 *
 *   npx tsx bench/cpu-per-prediction.ts [--warmup 1000] [--blocks 6] [--block 200]
 *       [--a-dir .] [--b-dir <worktree>] [--prep wait|off] [--curve] [--client-warmup N] [--tombstones N]
 *
 * With --b-dir it launches two deployments, A (--a-dir, default this checkout)
 * and B (another checkout: its parties/launch.ts and party bundle, and its
 * client-sdk), and alternates blocks of predictions between them (A, B, A,
 * B, ...), so both see the same moments of a shared machine's load. Without it
 * one deployment runs.
 *
 * What counts, per prediction:
 * - client: this process's CPU (process.cpuUsage, all threads) inside
 *   predict() only: encoding, sharing, the three requests, reconstruction;
 * - P0, P1, P2: each party process's CPU, all its threads, from the
 *   nanosecond run-time counters of /proc/<pid>/task/<tid>/schedstat (Linux
 *   only; /proc/<pid>/stat counts 10 ms ticks), in two windows: "online",
 *   the time of predict(), and "offline", from the end of predict() until P0
 *   has no offline phase in flight (prep wait: the next run's bundle is dealt
 *   then, as between predictions in service; the benchmark's polling of P0's
 *   /metrics falls in this window too, so it is an upper bound);
 * - latency: the median of predict() over the timed blocks;
 * - with prep wait, P0's preprocessing counters over the timed blocks: bundles
 *   made and the mean wall time of one.
 * --curve prints each timed block as it ends (latency median and CPU per
 * prediction of each process in that block): with --warmup 0, the curve of a
 * fresh deployment (which process is slower in its first hundreds).
 * --client-warmup N first runs N predictions of each arm's SDK against a
 * throwaway deployment of that arm (stopped before the measured one starts),
 * so that the measured curve has a warm client (as bench/cold-start.ts does)
 * and shows the parties' own cold start; without it the client is as cold as
 * `npm run bench`'s (its warm-up curve includes the client's JIT tiering).
 * The machine's 1-minute load is printed at the start and the end: the CPU per
 * prediction rises with load too (caches, core sharing), so compare A and B of
 * one run, not runs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type launchLocal as LaunchFn, type Launched } from '../parties/launch.js';
import { prepStats, waitPrepIdle, type PrepStats } from './prep-wait.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

interface Opts { warmup: number; blocks: number; block: number; dirs: string[]; prep: 'wait' | 'off'; curve: boolean; clientWarmup: number; tombstones: number }
function parse(argv: string[]): Opts {
  const o: Opts = { warmup: 1000, blocks: 6, block: 200, dirs: ['.'], prep: 'wait', curve: false, clientWarmup: 0, tombstones: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!, v = argv[i + 1];
    if (k === '--curve') { o.curve = true; i--; continue; }
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--warmup' || k === '--blocks' || k === '--block' || k === '--client-warmup' || k === '--tombstones') {
      const n = Number(v), min = k === '--blocks' || k === '--block' ? 1 : 0;
      if (!Number.isInteger(n) || n < min) throw new Error(`${k}: an integer >= ${min}, got '${v}'`);
      if (k === '--client-warmup') o.clientWarmup = n;
      else if (k === '--tombstones') o.tombstones = n;
      else o[k.slice(2) as 'warmup' | 'blocks' | 'block'] = n;
    } else if (k === '--a-dir') o.dirs[0] = v;
    else if (k === '--b-dir') o.dirs[1] = v;
    else if (k === '--prep') { if (v !== 'wait' && v !== 'off') throw new Error(`--prep: wait or off, got '${v}'`); o.prep = v; }
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

/** CPU time of all threads of a process, ms, from the schedstat run-time counters (ns). */
export function processThreadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* the thread ended */ }
  }
  return ns / 1e6;
}
const selfMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
const median = (a: number[]): number => { const b = [...a].sort((x, y) => x - y); return b.length % 2 ? b[b.length >> 1]! : (b[b.length / 2 - 1]! + b[b.length / 2]!) / 2; };

interface Client { predict(x: { data: Float64Array; shape: number[] }): Promise<unknown> }
interface Arm { dir: string; l: Launched; client: Client; ms: number[]; client_: number; online: number[]; offline: number[]; n: number; prep: PrepStats[] }

/**
 * --tombstones N: before the warm-up, P1 gets N sessions (POST /v1/sessions, deadline 1 ms, a fresh id and key each)
 * that fail at their deadline and are forgotten after the retention (1 s with this option, for the measured
 * predictions too): P1's store then holds its burnt ids as after N sessions of service (parties/sessions.ts keeps at
 * most 100 000 tombstones; its id journal holds them too). P1 only, to keep the set-up short (~1k requests a second
 * here); P0 and P2 are as without the option but for the retention. No model data is involved; P1's error counters
 * count them.
 */
async function burnIds(l: Launched, n: number): Promise<void> {
  const key = (): string => randomBytes(33).toString('base64url').slice(0, 43);
  for (const url of [l.urls[1]!]) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        const r = await fetch(`${url}/v1/sessions`, {
          method: 'POST', body: JSON.stringify({ sessionId: randomUUID(), deadlineMs: 1 }),
          headers: { authorization: `Bearer ${l.token}`, 'content-type': 'application/json', 'x-session-key': key() },
        });
        if (r.status !== 201) throw new Error(`--tombstones: POST ${url}/v1/sessions answered ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
  }
  await new Promise((r) => setTimeout(r, 3000)); // the last ones fail (1 ms) and are forgotten (1 s)
}

async function launch(dir: string, prep: 'wait' | 'off', clientWarmup: number, tombstones: number): Promise<Arm> {
  const { launchLocal } = (await import(path.resolve(dir, 'parties/launch.ts'))) as { launchLocal: typeof LaunchFn };
  const sdk = (await import(path.resolve(dir, 'client-sdk/src/index.ts'))) as { PrivateInferenceClient: new (o: object) => Client };
  const up = (): Promise<Launched> => launchLocal({
    plain: networkA(), fracBits: 16, logLevel: 'warn', ...(prep === 'off' ? { preprocess: { enabled: false } } : {}),
    batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000, ...(tombstones ? { retentionMs: 1000 } : {}) }, readyTimeoutMs: 120_000,
  });
  const mk = (l: Launched): Client => new sdk.PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
  if (clientWarmup > 0) {
    // This arm's SDK code warms up on a throwaway deployment, which is gone before the measured one starts.
    const t = await up();
    try { const c = mk(t); for (let i = 0; i < clientWarmup; i++) { await c.predict(x); if (prep === 'wait') await waitPrepIdle(t.urls[0]); } } finally { await t.stop(); }
  }
  const l = await up();
  if (tombstones) await burnIds(l, tombstones);
  const client = mk(l);
  return { dir, l, client, ms: [], client_: 0, online: [0, 0, 0], offline: [0, 0, 0], n: 0, prep: [] };
}

const o = parse(process.argv.slice(2));
const x = { data: uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5), shape: [784] };
const arms: Arm[] = [];
const load0 = load();
try {
  for (const dir of o.dirs) arms.push(await launch(dir, o.prep, o.clientWarmup, o.tombstones));
  const pids = (a: Arm): number[] => a.l.children.map((c) => c.pid!);
  const cpu = (a: Arm): number[] => pids(a).map(processThreadsCpuMs);
  // Warm-up in blocks too, alternating, so that both deployments warm up at the same moments.
  const warmBlocks = Math.ceil(o.warmup / o.block);
  for (let b = 0; b < warmBlocks + o.blocks; b++) {
    for (const a of arms) {
      const timed = b >= warmBlocks;
      if (timed && o.prep === 'wait' && a.prep.length === 0) a.prep.push(await prepStats(a.l.urls[0]));
      const at = { n: a.n, ms: a.ms.length, client: a.client_, online: [...a.online] };
      for (let i = 0; i < (timed ? o.block : Math.min(o.block, o.warmup - b * o.block)); i++) {
        const p0 = timed ? cpu(a) : [], s0 = selfMs(), t0 = performance.now();
        await a.client.predict(x);
        const ms = performance.now() - t0, s1 = selfMs(), p1 = timed ? cpu(a) : [];
        if (o.prep === 'wait') await waitPrepIdle(a.l.urls[0]);
        if (!timed) continue;
        const p2 = cpu(a);
        a.ms.push(ms); a.client_ += s1 - s0; a.n++;
        for (let p = 0; p < 3; p++) { a.online[p]! += p1[p]! - p0[p]!; a.offline[p]! += p2[p]! - p1[p]!; }
      }
      if (o.curve && timed) {
        const n = a.n - at.n, on = a.online.map((v, p) => (v - at.online[p]!) / n);
        console.log(`${arms.length > 1 ? 'AB'[arms.indexOf(a)] + ' ' : ''}block ${b - warmBlocks + 1} (predictions ${at.n + 1}-${a.n} after ${o.warmup}): latency median ${median(a.ms.slice(at.ms)).toFixed(3)} ms; CPU per prediction, ms: client ${((a.client_ - at.client) / n).toFixed(3)}, P0 ${on[0]!.toFixed(3)}, P1 ${on[1]!.toFixed(3)}, P2 ${on[2]!.toFixed(3)}; load ${load()}`);
      }
    }
  }
  if (o.prep === 'wait') for (const a of arms) a.prep.push(await prepStats(a.l.urls[0]));
} finally {
  await Promise.all(arms.map((a) => a.l.stop()));
}
const f = (v: number): string => v.toFixed(3);
console.log(`Network A, batch 1, ${o.blocks} blocks of ${o.block} timed predictions per deployment after ${o.warmup} warm-ups${o.clientWarmup ? ` (the client warmed by ${o.clientWarmup} predictions on a throwaway deployment)` : ''}${arms.length > 1 ? ', blocks alternating between A and B' : ''}; prep ${o.prep}; ${cpus().length} x ${cpus()[0]?.model}; 1-minute load ${load0} at the start, ${load()} at the end`);
arms.forEach((a, i) => {
  const on = a.online.map((v) => v / a.n), off = a.offline.map((v) => v / a.n), c = a.client_ / a.n;
  // P0's preprocessing counters over the timed blocks: bundles made and the mean wall time of one (request to both reports).
  const [p0, p1] = a.prep;
  const bundles = p0 && p1 ? `; offline bundles ${p1.made - p0.made}, mean ${f((1000 * (p1.seconds - p0.seconds)) / Math.max(1, p1.made - p0.made))} ms each` : '';
  console.log(`${arms.length > 1 ? 'AB'[i] + ' ' : ''}(${a.dir}, party program ${a.l.runtime}): latency median ${f(median(a.ms))} ms; CPU per prediction, ms: client ${f(c)}, P0 ${f(on[0]!)}, P1 ${f(on[1]!)}, P2 ${f(on[2]!)} (online, during predict()), all four ${f(c + on[0]! + on[1]! + on[2]!)}; offline phase after it: P0 ${f(off[0]!)}, P1 ${f(off[1]!)}, P2 ${f(off[2]!)}${bundles}`);
});
process.exit(0);
