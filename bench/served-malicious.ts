/**
 * `npm run bench -- --security malicious [--model networkA|cnn-maxpool] [--reps N] [--warmup N] [--frac-bits F (13)] [--batch N (1)]
 *  [--modes semi-honest,warm-pool,pool-off,warm-pool-binary,pool-off-binary] [--pool-max-mib N] [--rss-cap-gib G] [--no-write]`
 * (bench/run.ts hands over here): the malicious mode as served, end to end.
 * Deployments of three real party processes (parties/launch.ts: mTLS on
 * loopback), one after the other, the same model and input, one per mode:
 * 'semi-honest'; 'warm-pool': security 'malicious' with a warm mask pool
 * (config malicious.poolInferences 1: after each prediction the parties make
 * the next one's masks in an offline batch, and the bench waits for it before
 * the next prediction, so every timed prediction takes its masks from the
 * pool); 'pool-off': 'malicious' with poolInferences 0 (every mask made
 * inline); 'warm-pool-binary' and 'pool-off-binary': the same with config
 * malicious.comparisons 'binary' (ReLU and MaxPool in protocol/malicious/binary/;
 * the others run 'arithmetic', the default). In every malicious deployment the weights' MACs are made once, in
 * the epoch's set-up (the first prediction: a warm-up one unless --warmup 0,
 * and then the one timed prediction includes the set-up; the output says so).
 * Per mode: median latency of the timed predictions, bytes sent by the three
 * parties per prediction (from the parties' 'run done' / 'malicious run done'
 * log lines), rounds (P0's), max error against the plaintext, the predictions
 * whose masks came from the pool, each party's peak RSS (VmHWM of its process,
 * read before it stops); for the pool, the offline cost per inference
 * ('malicious offline batch done' lines: bytes of the three parties, P0's time
 * and rounds, the pool's memory per inference at a party, materialBytes).
 * A watchdog stops a deployment whose three parties together pass
 * --rss-cap-gib of resident memory (default 12: the machine is shared) and
 * reports how far it got. --batch N: each prediction is one session of N
 * images (predict(images, { batch: true })); semi-honest and pool-off only
 * (the pool serves one image per session). Defaults: Network A, all three modes, 20 reps after
 * 5 warm-ups; the seed CNN (cnn-maxpool), semi-honest and pool-off. Writes
 * the model's section of BENCHMARKS.md (<!-- bench:malicious-served:begin/end -->
 * for Network A, <!-- bench:malicious-served-cnn:begin/end --> for the CNN)
 * unless --no-write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal } from '../parties/launch.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { median, replaceSection } from './report.js';

/** Fractional bits unless --frac-bits (the peers' sitting passes 16 for Network A, as MP-SPDZ's program). */
const F = 13;

interface Served { label: string; make: () => ModelIR<FloatTensor>; inputSize: number; section: string; modes: Mode[]; reps: number; warmup: number }
const SERVED: Record<string, Served> = {
  networkA: { label: 'Network A', make: () => networkA(), inputSize: 784, section: 'malicious-served', modes: ['semi-honest', 'warm-pool', 'pool-off'], reps: 20, warmup: 5 },
  'cnn-maxpool': { label: 'seed CNN MaxPool 150x125x1', make: () => seedCnn('maxpool2d'), inputSize: 150 * 125, section: 'malicious-served-cnn', modes: ['semi-honest', 'pool-off'], reps: 1, warmup: 0 },
};

interface Offline { bytes: number; ms: number; rounds: number; entryBytes: number; batches: number }
interface ModeResult {
  mode: Mode; medianMs: number; p90Ms: number; bytes: number; rounds: number; maxErr: number; n: number; pooled: number; offline?: Offline;
  /** Peak RSS of each party process (bytes). */
  rss: number[];
  /** Set when the watchdog or an error stopped the deployment: what happened, and after how long. */
  stopped?: string;
  /**
   * Each timed prediction's start and end on CLOCK_MONOTONIC in µs (process.hrtime, the clock of V8's CPU profiles):
   * `bench/cpuprof-summary.ts --window START:END` restricts a party's profile (PARTY_NODE_ARGS="... --cpu-prof") to it.
   */
  windowsUs: [number, number][];
}

type Mode = 'semi-honest' | 'warm-pool' | 'pool-off' | 'warm-pool-binary' | 'pool-off-binary';
const MODE_NAME: Record<Mode, string> = {
  'semi-honest': 'semi-honest', 'warm-pool': 'malicious, warm pool', 'pool-off': 'malicious, pool off',
  'warm-pool-binary': "malicious, comparisons 'binary', warm pool", 'pool-off-binary': "malicious, comparisons 'binary', pool off",
};
const isPool = (m: Mode): boolean => m === 'warm-pool' || m === 'warm-pool-binary';

/** VmHWM / VmRSS of a process in bytes (0 once it has exited). */
function procMem(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

interface Opts { warmup: number; reps: number; poolMaxBytes: number; rssCap: number; fracBits: number; batch: number }

async function oneMode(sv: Served, mode: Mode, o: Opts): Promise<ModeResult> {
  const model = sv.make();
  // Image k of a batch: the bench input for k = 0 (bench/run.ts's), others from seeds 12, 13, ...
  const xs = Array.from({ length: o.batch }, (_, k) => uniform(seededPrg(11 + k), sv.inputSize, 0.5).map((v) => v + 0.5));
  const wants = xs.map((x) => plainForward(model, x, 1).data);
  const runs: { party: number; bytes: number; rounds: number; pooled: boolean }[] = [];
  const batches: { party: number; bytes: number; rounds: number; ms: number; entryBytes: number }[] = [];
  const malicious = mode !== 'semi-honest';
  const pool = isPool(mode);
  const msg = malicious ? '"msg":"malicious run done"' : '"msg":"run done"';
  const l = await launchLocal({
    plain: model, fracBits: o.fracBits, security: malicious ? 'malicious' : 'semi-honest', logLevel: 'info', warmup: { runs: 0 }, readyTimeoutMs: 300_000,
    sessions: { defaultDeadlineMs: 600_000 },
    ...(malicious ? { malicious: { poolInferences: pool ? 1 : 0, poolMaxBytes: o.poolMaxBytes, comparisons: mode.endsWith('-binary') ? 'binary' as const : 'arithmetic' as const } } : {}),
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
  const pids = l.children.map((c) => c.pid);
  const rss = (): number[] => pids.map((pid) => procMem(pid, 'VmHWM'));
  let peak = [0, 0, 0];
  const t0 = performance.now();
  let stopped: string | undefined;
  let stopping: Promise<void> | undefined;
  // The watchdog: the three parties' resident memory together, every 250 ms; past the cap, stop the deployment.
  const dog = setInterval(() => {
    peak = rss().map((v, i) => Math.max(v, peak[i]!));
    const now = pids.reduce<number>((a, pid) => a + procMem(pid, 'VmRSS'), 0);
    if (now > o.rssCap && !stopped) {
      stopped = `stopped by the watchdog after ${((performance.now() - t0) / 1000).toFixed(0)} s: the three parties held ${(now / 2 ** 30).toFixed(1)} GiB resident (cap ${(o.rssCap / 2 ** 30).toFixed(1)} GiB)`;
      // A party deep in a computation may not see SIGTERM for a while: kill them now (memory is short), then clean up.
      for (const ch of l.children) ch.kill('SIGKILL');
      stopping = l.stop();
    }
  }, 250);
  /** With the pool: wait until the three parties have made the next prediction's masks (one batch each per prediction). */
  const refilled = async (n: number): Promise<void> => {
    const t1 = Date.now();
    while (pool && !stopped && batches.length < 3 * n && Date.now() - t1 < 900_000) await new Promise((r) => setTimeout(r, 10));
  };
  const ms: number[] = [];
  const windowsUs: [number, number][] = [];
  const usNow = (): number => Number(process.hrtime.bigint() / 1000n);
  let maxErr = 0;
  const before = { runs: 0, batches: 0 };
  try {
    const c = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000 });
    const images = xs.map((x) => ({ data: Float32Array.from(x), shape: [...model.inputShape] }));
    /** One prediction of the batch (one session): the logits of each image. */
    const run = async (): Promise<number[][]> => {
      if (o.batch === 1) return [Array.from((await c.predict(images[0]!)).logits)];
      const r = await c.predict(images, { batch: true });
      if (!('logits' in r) || !Array.isArray(r.logits[0])) throw new Error('expected a batch of logits');
      return r.logits as number[][];
    };
    for (let i = 0; i < o.warmup; i++) { await run(); await refilled(i + 1); }
    // The warm-ups' 'run done' lines (three per prediction) may arrive after the client's answer: wait for them, so none is counted as timed.
    const tw = Date.now();
    while (runs.length < 3 * o.warmup && Date.now() - tw < 5_000) await new Promise((r) => setTimeout(r, 10));
    before.runs = runs.length; before.batches = batches.length;
    for (let i = 0; i < o.reps; i++) {
      const t = performance.now(), w0 = usNow();
      const rows = await run();
      ms.push(performance.now() - t);
      windowsUs.push([w0, usNow()]);
      rows.forEach((row, k) => { maxErr = Math.max(maxErr, ...row.map((g, j) => Math.abs(g - wants[k]![j]!))); });
      await refilled(o.warmup + i + 1);
    }
    // Let the last run's log lines arrive.
    const t1 = Date.now();
    while (runs.length - before.runs < 3 * o.reps && Date.now() - t1 < 5_000) await new Promise((r) => setTimeout(r, 20));
  } catch (e) {
    stopped ??= `stopped after ${((performance.now() - t0) / 1000).toFixed(0)} s: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    clearInterval(dog);
    peak = rss().map((v, i) => Math.max(v, peak[i]!));
    await (stopping ?? l.stop());
  }
  const timed = runs.slice(before.runs);
  const done = Math.max(1, ms.length);
  const sorted = [...ms].sort((a, b) => a - b);
  const ob = batches.slice(before.batches);
  const k = ob.filter((b) => b.party === 0).length;
  const offline = pool && k > 0 ? {
    bytes: ob.reduce((a, b) => a + b.bytes, 0) / k,
    ms: median(ob.filter((b) => b.party === 0).map((b) => b.ms)),
    rounds: median(ob.filter((b) => b.party === 0).map((b) => b.rounds)),
    entryBytes: ob[0]!.entryBytes,
    batches: k,
  } : undefined;
  return {
    mode, medianMs: ms.length ? median(ms) : Number.NaN, p90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] ?? Number.NaN,
    bytes: timed.reduce((a, r) => a + r.bytes, 0) / done, rounds: median(timed.filter((r) => r.party === 0).map((r) => r.rounds)), maxErr, n: ms.length,
    pooled: timed.filter((r) => r.party === 0 && r.pooled).length, rss: peak, windowsUs, ...(offline ? { offline } : {}), ...(stopped ? { stopped } : {}),
  };
}

export async function benchServedMalicious(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  if (opt('--security') !== 'malicious') throw new Error(`--security must be semi-honest or malicious, got '${opt('--security')}'`);
  const key = opt('--model') ?? 'networkA';
  const sv = SERVED[key];
  if (!sv) throw new Error(`--security malicious: --model must be one of ${Object.keys(SERVED).join(', ')} (got '${key}')`);
  const reps = Number(opt('--reps') ?? sv.reps);
  const warmup = Number(opt('--warmup') ?? sv.warmup);
  if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--reps must be >= 1, --warmup >= 0');
  const modes = (opt('--modes')?.split(',').map((m) => m.trim()) ?? sv.modes) as Mode[];
  for (const m of modes) if (!(m in MODE_NAME)) throw new Error(`--modes: each of ${Object.keys(MODE_NAME).join(', ')} (got '${m}')`);
  if (modes.some(isPool) && warmup < 1) throw new Error('--modes warm-pool needs --warmup >= 1 (the first malicious prediction sets up the epoch and records the mask plan)');
  const poolMaxBytes = Number(opt('--pool-max-mib') ?? 256) * 2 ** 20;
  const rssCap = Number(opt('--rss-cap-gib') ?? 12) * 2 ** 30;
  const fracBits = Number(opt('--frac-bits') ?? F);
  const batch = Number(opt('--batch') ?? 1);
  if (!Number.isInteger(batch) || batch < 1 || batch > 8) throw new Error('--batch must be an integer in 1..8 (the parties\' default batch.maxBatch)');
  if (batch > 1 && modes.some(isPool)) throw new Error('--batch > 1: the pool serves one image per session (its masks are made inline at batch N); use --modes semi-honest,pool-off');
  if (!Number.isInteger(fracBits) || fracBits < 8 || fracBits > 24) throw new Error('--frac-bits must be an integer in 8..24');
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const load0 = loadavg()[0]!;
  const t0 = new Date();
  const results: ModeResult[] = [];
  for (const m of modes) {
    const r = await oneMode(sv, m, { warmup, reps, poolMaxBytes, rssCap, fracBits, batch });
    results.push(r);
    process.stderr.write(`${MODE_NAME[m]}: ${JSON.stringify(r)}\n`);
  }
  const load1 = loadavg()[0]!;
  const md = report(sv, results, { argv, cpu, load0, load1, warmup, reps, t0, t1: new Date(), poolMaxBytes, fracBits, batch });
  process.stdout.write(`${md}\n`);
  if (!argv.includes('--no-write')) {
    const docUrl = new URL('../BENCHMARKS.md', import.meta.url);
    const doc = readFileSync(docUrl, 'utf8');
    const begin = `<!-- bench:${sv.section}:begin -->`, end = `<!-- bench:${sv.section}:end -->`;
    const withSection = doc.includes(begin) ? doc : `${doc.trimEnd()}\n\n## Malicious mode served by the party servers: ${sv.label} (bench/served-malicious.ts)\n\n${begin}\n${end}\n`;
    writeFileSync(docUrl, replaceSection(withSection, begin, end, md));
  }
}

interface Ctx { argv: string[]; cpu: string; load0: number; load1: number; warmup: number; reps: number; t0: Date; t1: Date; poolMaxBytes: number; fracBits: number; batch: number }

function report(sv: Served, rs: ModeResult[], c: Ctx): string {
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
  const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
  const num = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const sh = rs.find((r) => r.mode === 'semi-honest' && !r.stopped);
  const hhmm = (d: Date): string => d.toISOString().slice(11, 16);
  const pooled = rs.filter((r) => isPool(r.mode));
  const set = c.warmup === 0 ? ' With --warmup 0 the one timed malicious prediction also sets up the epoch (its bytes and time include the weights\' copy check and MACs and a MAC check).' : ' The epoch (key, the weights\' copy check and MACs, a MAC check) is set up in the first warm-up prediction, not in the timed ones.';
  return [
    `Command: \`npm run bench -- ${c.argv.join(' ')}\`; ${c.t0.toISOString().slice(0, 10)} ${hhmm(c.t0)}-${hhmm(c.t1)} UTC; ${cpus().length} x ${c.cpu}; load average ${c.load0.toFixed(1)} -> ${c.load1.toFixed(1)} (machine shared with other jobs: read the ratios, not the absolute times). Three party processes with mTLS on loopback per mode (one deployment after the other), the Node SDK over HTTP, batch ${c.batch}${c.batch > 1 ? ' (one session of all the images per prediction; times and bytes per batch)' : ''}, f = ${c.fracBits}, ${c.warmup} warm-up + ${c.reps} timed prediction(s) per mode.${set} "warm pool": malicious.poolInferences 1 (poolMaxBytes ${mb(c.poolMaxBytes)} MiB), the bench waits for each offline batch before the next prediction; "pool off": poolInferences 0, every mask made inline. Bytes: all three parties' sent bytes per prediction (online only: the offline batches are below); rounds: P0's; pooled: timed predictions whose masks came from the pool; peak RSS: VmHWM of each party process (P0 / P1 / P2).`,
    '',
    `| ${sv.label}, batch ${c.batch} | median ms | p90 ms | MiB sent (3 parties) | rounds | pooled | max abs error vs plaintext | peak RSS GiB (P0 / P1 / P2) |`,
    '|---|---|---|---|---|---|---|---|',
    ...rs.map((r) => `| ${MODE_NAME[r.mode]}${r.stopped ? ' (stopped: see below)' : ''} | ${num(r.medianMs, 0)} | ${num(r.p90Ms, 0)} | ${mb(r.bytes)} | ${num(r.rounds, 0)} | ${r.mode === 'semi-honest' ? '' : `${r.pooled}/${r.n}`} | ${r.n ? r.maxErr.toExponential(2) : 'n/a'} | ${r.rss.map(gib).join(' / ')} |`),
    ...(sh ? rs.filter((r) => r.mode !== 'semi-honest' && !r.stopped).map((r) => `| ${MODE_NAME[r.mode]} / semi-honest | ${(r.medianMs / sh.medianMs).toFixed(1)}x | | ${(r.bytes / sh.bytes).toFixed(1)}x | ${(r.rounds / sh.rounds).toFixed(1)}x | | | |`) : []),
    '',
    ...rs.filter((r) => r.stopped).map((r) => `${MODE_NAME[r.mode]}: ${r.stopped}; ${r.n} of ${c.reps} timed prediction(s) done.`),
    ...pooled.map(({ mode, offline: o }) => (o ? `Offline phase (${MODE_NAME[mode]}), per inference: ${mb(o.bytes)} MiB sent by the three parties, ${o.rounds} rounds, ${o.ms.toFixed(0)} ms at P0 (median of ${o.batches} batches, run while the parties were otherwise idle); the pool holds ${mb(o.entryBytes)} MiB per inference at each party.` : `Offline phase (${MODE_NAME[mode]}): no batch was logged.`)),
  ].filter((line, i, a) => line !== '' || (i > 0 && a[i - 1] !== '')).join('\n').trimEnd();
}
