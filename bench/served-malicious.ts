/**
 * `npm run bench -- --security malicious --model networkA [--reps N] [--warmup N] [--no-write]`
 * (bench/run.ts hands over here): the malicious mode as served, end to end.
 * Two deployments of three real party processes (parties/launch.ts: mTLS on
 * loopback), one after the other, the same model and input: semi-honest, then
 * security 'malicious' (replicated weight shares, parties/malicious-desk.ts);
 * predictions through the Node SDK over HTTP (the malicious flow: mask, d,
 * checked output; each session also runs the weights' copy check and MACs).
 * Per mode: median latency of the timed predictions after the warm-up, bytes
 * sent by the three parties per prediction (from the parties' 'run done' /
 * 'malicious run done' log lines), rounds (P0's), max error against the
 * plaintext; the ratio malicious / semi-honest. Network A only (the seed CNN's
 * comparisons would send several GB per image at the current per-element
 * costs: docs/MALICIOUS.md). Writes the section between
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

interface ModeResult { mode: string; medianMs: number; p90Ms: number; bytes: number; rounds: number; maxErr: number; n: number }

async function oneMode(mode: 'semi-honest' | 'malicious', warmup: number, reps: number): Promise<ModeResult> {
  const model = networkA();
  const x = uniform(seededPrg(11), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  const runs: { party: number; bytes: number; rounds: number }[] = [];
  const msg = mode === 'malicious' ? '"msg":"malicious run done"' : '"msg":"run done"';
  const l = await launchLocal({
    plain: model, fracBits: F, security: mode, logLevel: 'info', warmup: { runs: 0 }, readyTimeoutMs: 120_000,
    onLine: (p, line) => {
      if (!line.includes(msg)) return;
      const j = JSON.parse(line) as { bytesSent?: number; rounds?: number };
      runs.push({ party: p, bytes: j.bytesSent ?? 0, rounds: j.rounds ?? 0 });
    },
  });
  try {
    const c = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 120_000 });
    const input = { data: Float32Array.from(x), shape: [784] };
    for (let i = 0; i < warmup; i++) await c.predict(input);
    const before = runs.length;
    const ms: number[] = [];
    let maxErr = 0;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const r = await c.predict(input);
      ms.push(performance.now() - t);
      maxErr = Math.max(maxErr, ...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!)));
    }
    // Let the last run's log lines arrive.
    const t0 = Date.now();
    while (runs.length - before < 3 * reps && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    const timed = runs.slice(before);
    const bytes = timed.reduce((a, r) => a + r.bytes, 0) / reps;
    const rounds = median(timed.filter((r) => r.party === 0).map((r) => r.rounds));
    const sorted = [...ms].sort((a, b) => a - b);
    return { mode, medianMs: median(ms), p90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]!, bytes, rounds, maxErr, n: reps };
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
  const sh = await oneMode('semi-honest', warmup, reps);
  const mal = await oneMode('malicious', warmup, reps);
  const load1 = loadavg()[0]!;
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
  const md = [
    `Command: \`npm run bench -- ${argv.join(' ')}\`; ${cpus().length} x ${cpu}; load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (machine shared with other jobs: read the ratio, not the absolute times). Three party processes with mTLS on loopback per mode (one deployment after the other), the Node SDK over HTTP, batch 1, ${warmup} warm-up + ${reps} timed predictions per mode. Bytes: all three parties' sent bytes per prediction (the malicious figure includes each session's weight copy check and MACs, 48 bytes per weight); rounds: P0's.`,
    '',
    '| Network A, batch 1 | median ms | p90 ms | MB sent (3 parties) | rounds | max abs error vs plaintext |',
    '|---|---|---|---|---|---|',
    ...[sh, mal].map((r) => `| ${r.mode} | ${r.medianMs.toFixed(0)} | ${r.p90Ms.toFixed(0)} | ${mb(r.bytes)} | ${r.rounds} | ${r.maxErr.toExponential(2)} |`),
    `| malicious / semi-honest | ${(mal.medianMs / sh.medianMs).toFixed(1)}x | | ${(mal.bytes / sh.bytes).toFixed(1)}x | ${(mal.rounds / sh.rounds).toFixed(1)}x | |`,
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
