/**
 * Where one Network A prediction's time goes, client and parties on one clock:
 * the median time of each stage of a prediction, from the client's start.
 *
 *   git apply bench/timeline.patch        # development instrumentation (never committed to parties/ or client-sdk/; made at 4f140be)
 *   npx tsx bench/timeline.ts [--warmup 1500] [--n 800] [--sequences 3]
 *   git apply -R bench/timeline.patch
 *
 * The patch adds parties/timeline-trace.ts and calls of T(stage) in the client
 * SDK (c-start, c-send: the three requests leave, c-ans<p>: party p's answer is
 * in, c-done) and in the parties: req / body (a POST or PUT arrived at the
 * client API; its body is read), h (the session route's handler starts),
 * created (the session exists, with its share at P0 and P1), plan (P0 sends
 * its plan) / planrx (P1, P2 receive it), run0 (the run executor starts),
 * fwd (the forward pass is done), done (the output shares are stored), out
 * (the PUT's handler has its output share), resp (the answer has been sent).
 * With TIMELINE_DIR set, each process writes "<stage> <µs>" lines
 * (process.hrtime: CLOCK_MONOTONIC, one clock for all processes of the
 * machine). This script launches the parties as `npm run bench` does (bundle,
 * mTLS, h2 link, the offline phase finishing between predictions), runs
 * `warmup` predictions and then `n` timed ones with the client in this process,
 * and prints, per stage, the median of (stage time − the client's c-start) over
 * the timed predictions, and the last `sequences` predictions in full.
 * The instrumentation itself costs a few µs per stage.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (k: string, d: number): number => { const i = args.indexOf(k); const v = i >= 0 ? Number(args[i + 1]) : d; if (!Number.isInteger(v) || v < 0) throw new Error(`${k}: an integer >= 0`); return v; };
const warmup = opt('--warmup', 1500), n = opt('--n', 800), sequences = opt('--sequences', 3);
if (!readdirSync(path.resolve('parties')).includes('timeline-trace.ts')) {
  console.error('bench/timeline.ts needs the instrumentation: git apply bench/timeline.patch (and git apply -R bench/timeline.patch afterwards)');
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), 'timeline-'));
process.env.TIMELINE_DIR = dir; // the parties inherit it; the SDK in this process reads it at import
const { PrivateInferenceClient } = await import('../client-sdk/src/index.js');
const { launchLocal } = await import('../parties/launch.js');
const { waitPrepIdle } = await import('./prep-wait.js');
const { networkA, seededPrg, uniform } = await import('../protocol/seed-models.js');

const load0 = loadavg()[0]!;
const l = await launchLocal({ plain: networkA(), fracBits: 16, logLevel: 'warn', batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: 120_000 });
const pids = l.children.map((c) => c.pid!);
const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
const x = { data: uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5), shape: [784] };
try {
  for (let i = 0; i < warmup + n; i++) { await client.predict(x); await waitPrepIdle(l.urls[0]); }
} finally {
  await l.stop();
}
process.emit('exit', 0); // flush this process's own lines (the module's exit handler)

type Ev = [name: string, us: number];
const read = (pid: number): Ev[] => { try { return readFileSync(path.join(dir, `${pid}.txt`), 'utf8').split('\n').filter(Boolean).map((s) => { const [a, b] = s.split(' '); return [a!, Number(b)]; }); } catch { return []; } };
const client_ = read(process.pid);
const parties = pids.map(read);
rmSync(dir, { recursive: true, force: true });
// The client's predictions: [c-start, c-done] windows, the last n.
const wins: Record<string, number>[] = [];
let cur: Record<string, number> | null = null;
for (const [a, t] of client_) {
  if (a === 'c-start') cur = { 'c-start': t };
  else if (cur) { cur[a] = t; if (a === 'c-done') { wins.push(cur); cur = null; } }
}
const timed = wins.slice(-n);
const offs = new Map<string, number[]>();
const push = (k: string, v: number): void => { let a = offs.get(k); if (!a) offs.set(k, (a = [])); a.push(v); };
const seqs: string[][] = [];
timed.forEach((w, wi) => {
  const seq: [number, string][] = Object.entries(w).map(([k, t]) => [t - w['c-start']!, `C ${k}`]);
  for (const [k, t] of Object.entries(w)) push(`C ${k}`, t - w['c-start']!);
  parties.forEach((evs, p) => {
    const seen = new Set<string>();
    // A party's stages of this prediction: between the client's start and its end (plus 50 µs for the last answers).
    for (const [a, t] of evs) {
      if (t < w['c-start']! || t > w['c-done']! + 50) continue;
      seq.push([t - w['c-start']!, `P${p} ${a}`]);
      if (!seen.has(a)) { seen.add(a); push(`P${p} ${a}`, t - w['c-start']!); }
    }
  });
  if (wi >= timed.length - sequences) seqs.push(seq.sort((a, b) => a[0] - b[0]).map(([t, k]) => `${t.toFixed(0).padStart(6)} µs  ${k}`));
});
const median = (a: number[]): number => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]!; };
console.log(`Network A, batch 1: ${timed.length} predictions after ${warmup}; ${cpus().length} x ${cpus()[0]?.model}; 1-minute load ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
console.log('median µs after the client\'s c-start (n = predictions that had the stage):');
for (const [m, k, c] of [...offs].map(([k, v]) => [median(v), k, v.length] as const).sort((a, b) => a[0] - b[0])) console.log(`${m.toFixed(0).padStart(6)} µs  ${k.padEnd(14)} n = ${c}`);
seqs.forEach((s, i) => console.log(`--- prediction ${timed.length - seqs.length + i + 1} of ${timed.length}, every stage in order\n${s.join('\n')}`));
process.exit(0);
