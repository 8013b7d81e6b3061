/**
 * `npm run bench -- --security malicious --model networkA [--reps N] [--warmup N] [--no-write]`
 * (bench/run.ts hands over here): the malicious mode as served, end to end.
 * Three deployments of three real party processes (parties/launch.ts: mTLS
 * on loopback), one after the other, the same model and input: semi-honest;
 * security 'malicious' with a warm mask pool (config malicious.poolInferences
 * 1: after each prediction the parties make the next one's masks in an
 * offline batch, and the bench waits for it before the next prediction, so
 * every timed prediction takes its masks from the pool); 'malicious' with the
 * pool off (poolInferences 0: every mask made inline, as before the offline
 * phase). In every malicious deployment the weights' MACs are made once, in
 * the epoch's set-up (the first, warm-up, prediction).
 * Per mode: median latency of the timed predictions after the warm-up, bytes
 * sent by the three parties per prediction (from the parties' 'run done' /
 * 'malicious run done' log lines), rounds (P0's), max error against the
 * plaintext, the predictions whose masks came from the pool; for the pool,
 * the offline cost per inference ('malicious offline batch done' lines:
 * bytes of the three parties, P0's time and rounds, the pool's memory per
 * inference at a party). Network A only (the seed CNN's comparisons would
 * send several GB per image: docs/MALICIOUS.md). Writes the section between
 * <!-- bench:malicious-served:begin/end --> of BENCHMARKS.md unless --no-write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal } from '../parties/launch.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { median, replaceSection } from './report.js';

const F = 13;

interface Offline { bytes: number; ms: number; rounds: number; entryBytes: number; batches: number }
interface ModeResult { mode: string; medianMs: number; p90Ms: number; bytes: number; rounds: number; maxErr: number; n: number; pooled: number; offline?: Offline }

type Mode = 'semi-honest' | 'malicious, warm pool' | 'malicious, pool off';

async function oneMode(mode: Mode, warmup: number, reps: number): Promise<ModeResult> {
  const model = networkA();
  const x = uniform(seededPrg(11), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  const runs: { party: number; bytes: number; rounds: number; pooled: boolean }[] = [];
  const batches: { party: number; bytes: number; rounds: number; ms: number; entryBytes: number }[] = [];
  const malicious = mode !== 'semi-honest';
  const pool = mode === 'malicious, warm pool';
  const msg = malicious ? '"msg":"malicious run done"' : '"msg":"run done"';
  const l = await launchLocal({
    plain: model, fracBits: F, security: malicious ? 'malicious' : 'semi-honest', logLevel: 'info', warmup: { runs: 0 }, readyTimeoutMs: 120_000,
    ...(malicious ? { malicious: { poolInferences: pool ? 1 : 0 } } : {}),
    onLine: (p, line) => {
      if (line.includes('"msg":"malicious offline batch done"')) {
        const j = JSON.parse(line) as { bytesSent: number; rounds: number; ms: number; entryBytes: number };
        batches.push({ party: p, bytes: j.bytesSent, rounds: j.rounds, ms: j.ms, entryBytes: j.entryBytes });
        return;
      }
      if (!line.includes(msg)) return;
      const j = JSON.parse(line) as { bytesSent?: number; rounds?: number; pooled?: boolean };
      runs.push({ party: p, bytes: j.bytesSent ?? 0, rounds: j.rounds ?? 0, pooled: j.pooled === true });
    },
  });
  /** With the pool: wait until the three parties have made the next prediction's masks (one batch each per prediction). */
  const refilled = async (want: number): Promise<void> => {
    const t0 = Date.now();
    while (pool && batches.length < 3 * want && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    const c = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 120_000 });
    const input = { data: Float32Array.from(x), shape: [784] };
    for (let i = 0; i < warmup; i++) { await c.predict(input); await refilled(i + 1); }
    const before = runs.length, batchesBefore = batches.length;
    const ms: number[] = [];
    let maxErr = 0;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const r = await c.predict(input);
      ms.push(performance.now() - t);
      maxErr = Math.max(maxErr, ...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!)));
      await refilled(warmup + i + 1);
    }
    // Let the last run's log lines arrive.
    const t0 = Date.now();
    while (runs.length - before < 3 * reps && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    const timed = runs.slice(before);
    const bytes = timed.reduce((a, r) => a + r.bytes, 0) / reps;
    const rounds = median(timed.filter((r) => r.party === 0).map((r) => r.rounds));
    const sorted = [...ms].sort((a, b) => a - b);
    const pooled = timed.filter((r) => r.party === 0 && r.pooled).length;
    const ob = batches.slice(batchesBefore);
    const k = ob.filter((b) => b.party === 0).length;
    const offline = pool && k > 0 ? {
      bytes: ob.reduce((a, b) => a + b.bytes, 0) / k,
      ms: median(ob.filter((b) => b.party === 0).map((b) => b.ms)),
      rounds: median(ob.filter((b) => b.party === 0).map((b) => b.rounds)),
      entryBytes: ob[0]!.entryBytes,
      batches: k,
    } : undefined;
    return { mode, medianMs: median(ms), p90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]!, bytes, rounds, maxErr, n: reps, pooled, ...(offline ? { offline } : {}) };
  } finally {
    await l.stop();
  }
}

export async function benchServedMalicious(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  if (opt('--security') !== 'malicious') throw new Error(`--security must be semi-honest or malicious, got '${opt('--security')}'`);
  const model = opt('--model') ?? 'networkA';
  if (model !== 'networkA') throw new Error(`--security malicious: only --model networkA is served in a benchmark (got '${model}'; see docs/MALICIOUS.md)`);
  const reps = Number(opt('--reps') ?? 20);
  const warmup = Number(opt('--warmup') ?? 5);
  if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--reps must be >= 1, --warmup >= 0');
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const load0 = loadavg()[0]!;
  if (warmup < 1) throw new Error('--warmup must be >= 1 here (the first malicious prediction sets up the epoch and records the mask plan)');
  const sh = await oneMode('semi-honest', warmup, reps);
  const warm = await oneMode('malicious, warm pool', warmup, reps);
  const off = await oneMode('malicious, pool off', warmup, reps);
  const load1 = loadavg()[0]!;
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
  const o = warm.offline;
  const md = [
    `Command: \`npm run bench -- ${argv.join(' ')}\`; ${cpus().length} x ${cpu}; load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (machine shared with other jobs: read the ratios, not the absolute times). Three party processes with mTLS on loopback per mode (one deployment after the other), the Node SDK over HTTP, batch 1, ${warmup} warm-up + ${reps} timed predictions per mode. Malicious: the epoch (key, the weights' copy check and MACs, a MAC check) is set up in the first warm-up prediction, not in the timed ones; "warm pool": malicious.poolInferences 1, the bench waits for each offline batch before the next prediction; "pool off": poolInferences 0, every mask made inline. Bytes: all three parties' sent bytes per prediction (online only: the offline batches are below); rounds: P0's; pooled: timed predictions whose masks came from the pool.`,
    '',
    '| Network A, batch 1 | median ms | p90 ms | MB sent (3 parties) | rounds | pooled | max abs error vs plaintext |',
    '|---|---|---|---|---|---|---|',
    ...[sh, warm, off].map((r) => `| ${r.mode} | ${r.medianMs.toFixed(0)} | ${r.p90Ms.toFixed(0)} | ${mb(r.bytes)} | ${r.rounds} | ${r.mode === 'semi-honest' ? '' : `${r.pooled}/${r.n}`} | ${r.maxErr.toExponential(2)} |`),
    ...[warm, off].map((r) => `| ${r.mode} / semi-honest | ${(r.medianMs / sh.medianMs).toFixed(1)}x | | ${(r.bytes / sh.bytes).toFixed(1)}x | ${(r.rounds / sh.rounds).toFixed(1)}x | | |`),
    '',
    o ? `Offline phase (warm pool), per inference: ${mb(o.bytes)} MB sent by the three parties, ${o.rounds} rounds, ${o.ms.toFixed(0)} ms at P0 (median of ${o.batches} batches, run while the parties were otherwise idle); the pool holds ${mb(o.entryBytes)} MB per inference at each party.` : 'Offline phase: no batch was logged.',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (!argv.includes('--no-write')) {
    const docUrl = new URL('../BENCHMARKS.md', import.meta.url);
    const doc = readFileSync(docUrl, 'utf8');
    const begin = '<!-- bench:malicious-served:begin -->', end = '<!-- bench:malicious-served:end -->';
    const withSection = doc.includes(begin) ? doc : `${doc.trimEnd()}\n\n## Malicious mode served by the party servers (bench/served-malicious.ts)\n\n${begin}\n${end}\n`;
    writeFileSync(docUrl, replaceSection(withSection, begin, end, md));
  }
}
