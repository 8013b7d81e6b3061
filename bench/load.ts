/**
 * Load benchmark: N concurrent clients (client SDK over real HTTP on
 * loopback) against three party processes with the mTLS mesh, for a fixed
 * time; every result is checked against the plaintext output of its own input.
 * Writes its row into the "Load" section of BENCHMARKS.md (between its
 * markers; a row of the same model, clients and batching is replaced).
 *
 *   npx tsx bench/load.ts [--clients 100] [--seconds 30] [--model networkA|cnn|cnn-avg96]
 *     [--window 5] [--max-batch 8] [--runs-at-once 2] [--balance on|off] [--prep on|off] [--check inline|after] [--link grpc|h2] [--note TEXT] [--no-write]
 *
 * `cnn` is the seed CNN (MaxPool, 150x125x1, f = 13); `cnn-avg96` its
 * AvgPool twin on 96x96x1. Batching flags left out take the parties' config
 * defaults (parties/config.ts DEFAULTS.batch). `--check after` (the default
 * for the CNNs) checks every result after the time budget, so the plaintext
 * forward passes do not take the parties' CPU (test/testing/load.ts).
 *
 * It also prints the parties' scheduler time over the time budget (on a CPU, and runnable but waiting for one:
 * /proc/<pid>/task/<tid>/schedstat): their demand in cores, which a machine shared with other work does not show in the
 * CPU column.
 *
 * The same harness (test/testing/load.ts) runs in test/load.test.ts for 8 s.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../parties/config.js';
import { launchLocal } from '../parties/launch.js';
import { networkA, seedCnn } from '../protocol/seed-models.js';
import { runLoad, type LoadReport } from '../test/testing/load.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = args.indexOf(name); return i >= 0 && args[i + 1] ? args[i + 1]! : def; };
const clients = Number(opt('--clients', '100'));
const seconds = Number(opt('--seconds', '30'));
const which = opt('--model', 'networkA');
const write = !args.includes('--no-write');
// The mesh's link between the parties (config mesh.link; parties/mesh-h2.ts), default the config's.
const meshLink = args.includes('--link') ? opt('--link', '') : undefined;
if (meshLink !== undefined && meshLink !== 'grpc' && meshLink !== 'h2') throw new Error(`--link must be grpc or h2, got '${meshLink}'`);
/** Config batch.balance (parties/batcher.ts): the config default unless `--balance on|off`. */
const balance = args.includes('--balance') ? opt('--balance', 'off') === 'on' : DEFAULTS.batch.balance;
const batch = {
  windowMs: Number(opt('--window', String(DEFAULTS.batch.windowMs))),
  maxBatch: Number(opt('--max-batch', String(DEFAULTS.batch.maxBatch))),
  maxConcurrentRuns: Number(opt('--runs-at-once', String(DEFAULTS.batch.maxConcurrentRuns))),
  balance,
};
const prep = opt('--prep', 'on') !== 'off';
/** Free text appended to the batching column (e.g. which build ran): rows with different notes are kept apart. */
const note = opt('--note', '');
const checkAfter = opt('--check', which === 'networkA' ? 'inline' : 'after') === 'after';

const MODELS = {
  networkA: { plain: () => networkA(), name: 'MNIST Network A (784-128-128-10, f = 16)', fracBits: 16, tolerance: 5e-3 },
  cnn: { plain: () => seedCnn('maxpool2d'), name: 'seed CNN (MaxPool, 150x125x1, f = 13)', fracBits: 13, tolerance: 0.05 },
  'cnn-avg96': { plain: () => seedCnn('avgpool2d', 1, [96, 96, 1]), name: 'seed CNN (AvgPool, 96x96x1, f = 13)', fracBits: 13, tolerance: 0.05 },
} as const;

const BEGIN = '<!-- load:begin -->';
const END = '<!-- load:end -->';
const HEAD = [
  '| model | clients | batching (window, max images, runs at once, balance) | time | predictions | throughput | latency p50 | p90 | p99 | max | errors | wrong / crossed | duplicated | lost | runs (by images), mean images / run, mean run time, preprocessed | CPU: parties + clients / wall / cores | load avg (1 min) start → end | party RSS before → peak (MiB) | run at |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];
const FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** Sum of every sample of a metric (any labels) in Prometheus text; `match` filters the label text. */
function metric(text: string, name: string, match = ''): number {
  let s = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (match && !rest.includes(match)) continue;
    s += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return s;
}

/**
 * Scheduler time of a process's threads so far (/proc/<pid>/task/<tid>/schedstat: ns on a CPU, ns runnable but
 * waiting for one), in seconds; zeros where the kernel has no schedstat. "Demand" over the load is (on CPU + waiting
 * for a CPU) / wall: the cores the parties would have kept busy had every runnable moment got a core (on a machine
 * shared with other work, the CPU column alone cannot tell waiting for a core from having nothing to do).
 */
function schedSeconds(pid: number): { run: number; wait: number } {
  let run = 0, wait = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const [r, w] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      run += r! / 1e9; wait += w! / 1e9;
    }
  } catch { /* gone, or no schedstat */ }
  return { run, wait };
}

interface RunStats { runs: number; images: number; runSeconds: number; preprocessed: number; deferred: number; byImages: number[] }
/** mpc_run_batch_images buckets (cumulative counts at le = 1, 2, 4, 8, 16, 32, 64). */
const IMAGE_BUCKETS = [1, 2, 4, 8, 16, 32, 64];
async function runStats(url: string): Promise<RunStats> {
  let t = '';
  try {
    t = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
  } catch (e) {
    // The row is still written (its run columns read 0); the cause is printed, since a party that died would show here.
    process.stderr.write(`load: P0 /metrics not read: ${String(e)} ${String((e as { cause?: unknown }).cause ?? '')}\n`);
  }
  return {
    runs: metric(t, 'mpc_runs_total', 'result="ok"'),
    images: metric(t, 'mpc_inferences_total'),
    runSeconds: metric(t, 'mpc_run_duration_seconds_sum', 'result="ok"'),
    preprocessed: metric(t, 'mpc_prep_total', 'result="ready"'),
    deferred: metric(t, 'mpc_runs_total', 'result="deferred"'),
    byImages: IMAGE_BUCKETS.map((b) => metric(t, 'mpc_run_batch_images_bucket', `le="${b}"`)),
  };
}

function row(r: LoadReport, s: RunStats, load: [number, number], modelName: string, batching: string): string {
  const f = (v: number, d = 0) => v.toFixed(d);
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const partyCpu = r.cpuS.parties.reduce((a, b) => a + b, 0);
  const cores = cpus().length;
  const cpu = `${f(partyCpu, 1)} + ${f(r.cpuS.clients, 1)} s / ${f(r.durationS, 1)} s / ${cores} = ${f((100 * (partyCpu + r.cpuS.clients)) / r.durationS / cores)}% (${f((1000 * partyCpu) / Math.max(1, r.ok))} ms party CPU per image)`;
  // Runs by images: the cumulative buckets as counts per range (1, 2, 3-4, 5-8, ...).
  const sizes = s.byImages.map((c, i) => c - (i ? s.byImages[i - 1]! : 0)).map((c, i) => (c ? `${c}×${i < 2 ? IMAGE_BUCKETS[i] : `${IMAGE_BUCKETS[i - 1]! + 1}-${IMAGE_BUCKETS[i]}`}` : '')).filter(Boolean).join(' ');
  const runs = `${s.runs} (${sizes}), ${f(s.images / Math.max(1, s.runs), 1)}, ${f((1000 * s.runSeconds) / Math.max(1, s.runs))} ms, ${s.preprocessed} bundles made${s.deferred ? `, ${s.deferred} deferred` : ''}`;
  return `| ${modelName} | ${r.clients} | ${batching} | ${f(r.durationS, 1)} s | ${r.ok} | ${f(r.throughput, 1)} /s | ${f(r.latencyMs.p50)} ms | ${f(r.latencyMs.p90)} ms | ${f(r.latencyMs.p99)} ms | ${f(r.latencyMs.max)} ms | ${errs} | ${r.wrong} | ${r.duplicates} | ${r.lost} | ${runs} | ${cpu} | ${f(load[0], 1)} → ${f(load[1], 1)} | ${r.rssMiB.map((m, i) => `P${i} ${f(m.before)} → ${f(m.peak)}`).join(', ')} | ${new Date().toISOString().slice(0, 16)}Z |`;
}

function section(rows: string[]): string {
  return [
    BEGIN,
    `Command: \`npx tsx bench/load.ts --model <networkA|cnn> --clients N --seconds 30 [--window W --max-batch B --runs-at-once R --balance on|off]\`, one row per run (a new run replaces the row of the same model, clients and batching); ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.`,
    'Three party processes (`parties/main.ts`, mTLS gRPC mesh, HTTP API) and the clients in one more process, all on this machine\'s loopback. Each client is its own `PrivateInferenceClient` and sends predictions back to back, each with a distinct input checked against the plaintext forward pass of that input (for the CNN after the 30 s, so the check does not take the parties\' CPU). "runs" are P0\'s successful protocol runs during the load (its /metrics), "preprocessed" the bundles of dealt randomness made between runs (parties/prep-driver.ts). CPU is user + system time of the three party processes and of the clients\' process over the load. The test `test/load.test.ts` runs the Network A load for 8 s and asserts the correctness and memory columns.',
    '',
    ...HEAD,
    ...rows,
    END,
  ].join('\n');
}

async function main(): Promise<void> {
  const m = MODELS[which as keyof typeof MODELS];
  if (!m) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${which}'`);
  const plain = m.plain();
  const l = await launchLocal({ ...(meshLink ? { meshLink: meshLink as 'grpc' | 'h2' } : {}), plain, fracBits: m.fracBits, logLevel: 'warn', batch, preprocess: { enabled: prep }, readyTimeoutMs: 180_000 });
  try {
    process.stdout.write(`load: ${clients} clients for ${seconds} s, ${m.name}, batch ${JSON.stringify(batch)}, prep ${prep}, against ${l.urls.join(' ')}\n`);
    const s0 = await runStats(l.urls[0]);
    const load0 = loadavg()[0]!;
    const pids = l.children.map((c) => c.pid!);
    const sched0 = pids.map(schedSeconds), wall0 = performance.now();
    // Taken when the time budget ends (before the plaintext checks, which leave the parties idle).
    let sched1 = sched0, wall1 = wall0;
    const snap = setTimeout(() => { sched1 = pids.map(schedSeconds); wall1 = performance.now(); }, seconds * 1000);
    const r = await runLoad({ urls: l.urls, token: l.token, modelHash: l.modelHash, plain, clients, durationMs: seconds * 1000, tolerance: m.tolerance, timeoutMs: 120_000, pids: l.children.map((c) => c.pid!), checkAfter });
    const load1 = loadavg()[0]!;
    clearTimeout(snap);
    const sched = sched1.map((s, i) => ({ run: s.run - sched0[i]!.run, wait: s.wait - sched0[i]!.wait }));
    const wallS = (wall1 - wall0) / 1000, runS = sched.reduce((a, s) => a + s.run, 0), waitS = sched.reduce((a, s) => a + s.wait, 0);
    const s1 = await runStats(l.urls[0]);
    const s = { runs: s1.runs - s0.runs, images: s1.images - s0.images, runSeconds: s1.runSeconds - s0.runSeconds, preprocessed: s1.preprocessed - s0.preprocessed, deferred: s1.deferred - s0.deferred, byImages: s1.byImages.map((c, i) => c - s0.byImages[i]!) };
    process.stdout.write(`${JSON.stringify({ ...r, runs: s, loadavg: [load0, load1] }, null, 2)}\n`);
    const batching = `${batch.windowMs} ms, ${batch.maxBatch}, ${batch.maxConcurrentRuns}${balance ? ', balanced' : ', window only'}${prep ? '' : ', no preprocessing'}${note ? ` (${note})` : ''}`;
    const line = row(r, s, [load0, load1], m.name, batching);
    process.stdout.write(`${line}\n`);
    process.stdout.write(`scheduler (parties' threads over the ${wallS.toFixed(1)} s time budget): on a CPU ${runS.toFixed(1)} s, runnable but waiting for a CPU ${waitS.toFixed(1)} s; demand ${((runS + waitS) / wallS).toFixed(2)} cores of ${cpus().length} (${sched.map((s, i) => `P${i} ${((s.run + s.wait) / wallS).toFixed(2)}`).join(', ')})\n`);
    if (write) {
      const old = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
      const i = old.indexOf(BEGIN), j = old.indexOf(END);
      const key = (l: string) => l.split('|').slice(1, 4).map((c) => c.trim()).join('|');
      const rows = i >= 0 && j > i ? old.slice(i, j).split('\n').filter((x) => x.startsWith('| ') && !HEAD.includes(x) && x.split('|').length === HEAD[0]!.split('|').length) : [];
      const kept = rows.filter((x) => key(x) !== key(line));
      const text = section([...kept, line]);
      const next = i >= 0 && j > i ? old.slice(0, i) + text + old.slice(j + END.length) : `${old.replace(/\n*$/, '\n')}\n## Load\n\n${text}\n`;
      writeFileSync(FILE, next);
      process.stdout.write(`wrote the row into the load section of ${FILE}\n`);
    }
    if (r.wrong || r.duplicates || r.lost || Object.keys(r.errors).length) process.exitCode = 1;
  } finally {
    await l.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? e.stack ?? e.message : String(e)}${e instanceof Error && e.cause ? ` (cause: ${String(e.cause)})` : ''}\n`);
  process.exit(1);
});
