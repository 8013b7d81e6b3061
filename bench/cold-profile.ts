/**
 * Where a fresh deployment's extra CPU goes (issue 28 item 2): V8 CPU profiles
 * of the three parties over their start-up and then blocks of Network A
 * client predictions (batch 1, through the SDK, as bench/cpu-per-prediction.ts
 * runs them), split by block, self time per source module per prediction:
 *
 *   npx tsx bench/cold-profile.ts [--client-warmup 300] [--blocks 6] [--block 100]
 *       [--dir .] [--interval 200] [--top 25]
 *
 * The measured deployment's parties run with PARTY_NODE_ARGS = the launcher's
 * GC options plus `--cpu-prof --cpu-prof-interval <µs>`; the profiles are
 * written when the parties stop. Samples carry V8's monotonic clock, the
 * same clock as process.hrtime here, so each sample is put in the block the
 * benchmark was in (the offline phase after each prediction, and the
 * benchmark's polling of P0's /metrics for it, fall in the block too, as in
 * cpu-per-prediction's online + offline). A function of the party bundle
 * (parties/party.bundle.mjs) is put in its source module by esbuild's `// path`
 * comments; packages by their node_modules folder; Node's own as `node:...`.
 * Printed per party: ms of samples per prediction per module in block 1 and in
 * the last block, sorted by the difference, then the functions with the largest
 * difference. Sampling counts the main thread only (not GC or compiler threads:
 * `(garbage collector)` is the main thread's GC pauses).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { type launchLocal as LaunchFn, type Launched } from '../parties/launch.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { waitPrepIdle } from './prep-wait.js';

interface Opts { clientWarmup: number; blocks: number; block: number; dir: string; interval: number; top: number }
function parse(argv: string[]): Opts {
  const o: Opts = { clientWarmup: 300, blocks: 6, block: 100, dir: '.', interval: 200, top: 25 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--dir') { o.dir = v; continue; }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${k}: an integer >= 0, got '${v}'`);
    if (k === '--client-warmup') o.clientWarmup = n;
    else if (k === '--blocks') o.blocks = Math.max(2, n);
    else if (k === '--block') o.block = Math.max(1, n);
    else if (k === '--interval') o.interval = Math.max(50, n);
    else if (k === '--top') o.top = n;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

interface Profile { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; startTime: number; samples: number[]; timeDeltas: number[] }
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Module of a 0-based line of the party bundle, from esbuild's `// path` comments. */
function bundleLines(file: string): (line: number) => string {
  const mods: string[] = [];
  let cur = '(bundle prelude)';
  try {
    for (const l of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.(?:ts|js|mjs|cjs|json))$/.exec(l);
      if (m) cur = m[1]!;
      mods.push(cur);
    }
  } catch { /* unreadable: every line is the prelude */ }
  return (line) => mods[line] ?? cur;
}
function moduleOf(url: string, line: number, inBundle: (l: number) => string): string {
  if (!url) return '(V8: program, GC, idle, natives)';
  if (url.endsWith('party.bundle.mjs')) return inBundle(line);
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) { const r = url.slice(nm + 13).split('/'); return `node_modules/${r[0]!.startsWith('@') ? `${r[0]}/${r[1]}` : r[0]}`; }
  return url;
}

const o = parse(process.argv.slice(2));
const x = { data: uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5), shape: [784] };
const { launchLocal } = (await import(path.resolve(o.dir, 'parties/launch.ts'))) as { launchLocal: typeof LaunchFn };
const sdk = (await import(path.resolve(o.dir, 'client-sdk/src/index.ts'))) as { PrivateInferenceClient: new (o: object) => { predict(x: object): Promise<unknown> } };
const base = { plain: networkA(), fracBits: 16, logLevel: 'warn', batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: 180_000 };
const mk = (l: Launched) => new sdk.PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
const load0 = load();
if (o.clientWarmup > 0) {
  const t = await launchLocal(base);
  try { const c = mk(t); for (let i = 0; i < o.clientWarmup; i++) { await c.predict(x); await waitPrepIdle(t.urls[0]); } } finally { await t.stop(); }
}
const dir = mkdtempSync(path.join(tmpdir(), 'cold-profile-'));
const env = process.env.PARTY_NODE_ARGS;
process.env.PARTY_NODE_ARGS = `--single-threaded-gc --no-incremental-marking --cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval ${o.interval}`;
let l: Launched;
try { l = await launchLocal(base); } finally { if (env === undefined) delete process.env.PARTY_NODE_ARGS; else process.env.PARTY_NODE_ARGS = env; }
const bounds = [nowUs()];
const pids = l.children.map((c) => c.pid!);
try {
  const client = mk(l);
  for (let b = 1; b <= o.blocks; b++) {
    for (let i = 0; i < o.block; i++) { await client.predict(x); await waitPrepIdle(l.urls[0]); }
    bounds.push(nowUs());
  }
} finally {
  await l.stop();
}
const inBundle = bundleLines(path.resolve(o.dir, 'parties/party.bundle.mjs'));
console.log(`cold-profile: Network A, batch 1; ${o.blocks} blocks of ${o.block} client predictions after the parties' start-up${o.clientWarmup ? ` (client warmed by ${o.clientWarmup} predictions on an unprofiled throwaway deployment)` : ''}; sampling every ${o.interval} µs; ${cpus().length} x ${cpus()[0]?.model}; 1-minute load ${load0} at the start, ${load()} at the end; checkout ${path.resolve(o.dir)}`);
const files = readdirSync(dir);
for (let p = 0; p < 3; p++) {
  const f = files.find((n) => n.includes(`.${pids[p]}.`));
  if (!f || !existsSync(path.join(dir, f))) { console.log(`P${p}: no profile written`); continue; }
  const prof = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  // Per block: ms of samples per module and per function (self time).
  const mods = Array.from({ length: o.blocks }, () => new Map<string, number>());
  const fns = Array.from({ length: o.blocks }, () => new Map<string, number>());
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i]!;
    t += dt;
    let b = -1;
    for (let k = 0; k < o.blocks; k++) if (t >= bounds[k]! && t < bounds[k + 1]!) { b = k; break; }
    if (b < 0) continue;
    const n = byId.get(prof.samples[i]!)!;
    if (n.callFrame.functionName === '(idle)') continue;
    const mod = moduleOf(n.callFrame.url, n.callFrame.lineNumber, inBundle);
    const ms = (prof.timeDeltas[i + 1] ?? dt) / 1000;
    mods[b]!.set(mod, (mods[b]!.get(mod) ?? 0) + ms);
    const fk = `${mod}:${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
    fns[b]!.set(fk, (fns[b]!.get(fk) ?? 0) + ms);
  }
  const last = o.blocks - 1;
  const total = (m: Map<string, number>): number => [...m.values()].reduce((a, v) => a + v, 0) / o.block;
  console.log(`\nP${p}: sampled main-thread ms per prediction (not idle), by block: ${mods.map((m, k) => `${k + 1}: ${total(m).toFixed(2)}`).join(', ')}`);
  const diff = (a: Map<string, number>, z: Map<string, number>, n: number): string[] => {
    const keys = new Set([...a.keys(), ...z.keys()]);
    return [...keys].map((k) => ({ k, a: (a.get(k) ?? 0) / o.block, z: (z.get(k) ?? 0) / o.block })).sort((u, v) => (v.a - v.z) - (u.a - u.z)).slice(0, n)
      .map((r) => `    ${r.k}: ${r.a.toFixed(3)} -> ${r.z.toFixed(3)} ms (${(r.a - r.z >= 0 ? '+' : '') + (r.a - r.z).toFixed(3)})`);
  };
  console.log(`P${p}: modules, block 1 -> block ${o.blocks}, ms per prediction, largest difference first:`);
  for (const r of diff(mods[0]!, mods[last]!, Math.min(o.top, 20))) console.log(r);
  console.log(`P${p}: functions, block 1 -> block ${o.blocks}:`);
  for (const r of diff(fns[0]!, fns[last]!, o.top)) console.log(r);
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
