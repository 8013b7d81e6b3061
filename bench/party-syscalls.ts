/**
 * System calls and young-generation GCs per Network A prediction at each party:
 *
 *   npx tsx bench/party-syscalls.ts [--warmup 500] [--n 300]
 *
 * Launches the parties as `npm run bench` does (bundle, mTLS, h2 link) with
 * --trace-gc added to their Node options, runs `warmup` predictions through
 * the SDK (each after the offline phase of the one before, as the benchmark
 * does), then attaches `strace -f -c` to the three party processes (all
 * threads) for `n` more and prints each party's calls per prediction (the
 * offline phase and the benchmark's polling of P0's /metrics included: they
 * fall between predictions) and its scavenges per prediction with their mean
 * pause. Needs strace (Linux); without it only the GC line is printed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, partyNodeArgs } from '../parties/launch.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { waitPrepIdle } from './prep-wait.js';

const args = process.argv.slice(2);
const opt = (k: string, d: number): number => { const i = args.indexOf(k); const v = i >= 0 ? Number(args[i + 1]) : d; if (!Number.isInteger(v) || v < 1) throw new Error(`${k}: an integer >= 1`); return v; };
const warmup = opt('--warmup', 500), n = opt('--n', 300);
const haveStrace = spawnSync('strace', ['-V']).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'party-syscalls-'));
let counting = false;
const gc = [0, 1, 2].map(() => ({ scavenges: 0, ms: 0, markCompacts: 0 }));
process.env.PARTY_NODE_ARGS = [...partyNodeArgs(), '--trace-gc'].join(' ');
const load0 = loadavg()[0]!;
const l = await launchLocal({
  plain: networkA(), fracBits: 16, logLevel: 'warn', batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: 120_000,
  onLine: (p, line) => {
    if (!counting) return;
    const m = /Scavenge.*?MB, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (m) { gc[p]!.scavenges++; gc[p]!.ms += Number(m[1]); }
    if (/Mark-Compact/.test(line)) gc[p]!.markCompacts++;
  },
});
const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
const x = { data: uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5), shape: [784] };
let tracers: ChildProcess[] = [];
try {
  for (let i = 0; i < warmup; i++) { await client.predict(x); await waitPrepIdle(l.urls[0]); }
  if (haveStrace) {
    tracers = l.children.map((c, p) => spawn('strace', ['-f', '-c', '-o', path.join(dir, `P${p}.txt`), '-p', String(c.pid)], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 1500)); // strace attached to every thread
  }
  counting = true;
  for (let i = 0; i < n; i++) { await client.predict(x); await waitPrepIdle(l.urls[0]); }
  counting = false;
} finally {
  await Promise.all(tracers.map((t) => new Promise((r) => { t.once('exit', r); t.kill('SIGINT'); })));
  await l.stop();
}
console.log(`Network A, batch 1: ${n} predictions after ${warmup}, each after the offline phase of the one before; ${cpus().length} x ${cpus()[0]?.model}; 1-minute load ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
gc.forEach((g, p) => console.log(`P${p}: ${(g.scavenges / n).toFixed(3)} scavenges per prediction (mean pause ${(g.ms / Math.max(1, g.scavenges)).toFixed(2)} ms), ${(g.markCompacts / n).toFixed(3)} mark-compacts`));
if (haveStrace) {
  for (let p = 0; p < 3; p++) {
    // strace -c's table: "% time  seconds  usecs/call  calls  errors  syscall".
    const rows = readFileSync(path.join(dir, `P${p}.txt`), 'utf8').split('\n').map((s) => s.trim().split(/\s+/)).filter((c) => c.length >= 5 && /^\d/.test(c[0]!) && c[c.length - 1] !== 'total');
    const per = rows.map((c) => ({ call: c[c.length - 1]!, calls: Number(c[3]), errors: c.length === 6 ? Number(c[4]) : 0 })).filter((r) => r.calls / n >= 0.05);
    console.log(`P${p} system calls per prediction (all threads): ${per.map((r) => `${r.call} ${(r.calls / n).toFixed(1)}${r.errors ? ` (${(r.errors / n).toFixed(1)} failed)` : ''}`).join(', ')}`);
  }
} else console.log('strace not found: no system call counts');
rmSync(dir, { recursive: true, force: true });
process.exit(0);
