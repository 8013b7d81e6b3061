/**
 * What is still cold in a freshly started deployment (issue 28 item 2): V8's
 * optimising compiler at the three parties over their start-up (warm-up
 * included) and then over client predictions of Network A, batch 1, through
 * the SDK, as bench/cpu-per-prediction.ts runs them:
 *
 *   npx tsx bench/cold-trace.ts [--client-warmup 300] [--blocks 6] [--block 100] [--dir .]
 *       [--warmup-runs N] [--list 40]
 *
 * The measured deployment's parties run with PARTY_NODE_ARGS = the launcher's
 * GC options plus `--trace-opt --trace-deopt --print-opt-source`: every
 * function TurboFan optimises prints `--- FUNCTION SOURCE (url:name) id{n,-1}
 * start{offset} ---`, which names its script and where it starts. A function of
 * the party bundle (parties/party.bundle.mjs) is put in its source module by
 * the `// path.ts` comments esbuild writes before each module; a package's by
 * its node_modules folder; Node's own as `node:`. Each line is tagged with the
 * phase the benchmark was in when it arrived: 'start' (launch to the three
 * /readyz ready: the warm-up) or 'block k' (client predictions). Printed per
 * party: optimisations and deoptimisations per phase, then the functions
 * optimised in client blocks that were never optimised during start-up,
 * counted per module, and the first --list of them. With --client-warmup N
 * the SDK is warmed first on a throwaway deployment (untraced), so the client
 * side is the same as in the measured benchmarks. Tracing costs the parties
 * CPU (the printing): the CPU per prediction printed here is not comparable
 * with other benchmarks, only the phases with each other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type launchLocal as LaunchFn, type Launched } from '../parties/launch.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { waitPrepIdle } from './prep-wait.js';

interface Opts { clientWarmup: number; blocks: number; block: number; dir: string; warmupRuns?: number; list: number }
function parse(argv: string[]): Opts {
  const o: Opts = { clientWarmup: 300, blocks: 6, block: 100, dir: '.', list: 40 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--dir') { o.dir = v; continue; }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${k}: an integer >= 0, got '${v}'`);
    if (k === '--client-warmup') o.clientWarmup = n;
    else if (k === '--blocks') o.blocks = Math.max(1, n);
    else if (k === '--block') o.block = Math.max(1, n);
    else if (k === '--warmup-runs') o.warmupRuns = n;
    else if (k === '--list') o.list = n;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* the thread ended */ }
  }
  return ns / 1e6;
}
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;

/** Module of an offset in the party bundle, from esbuild's `// path` comments. */
function bundleModules(file: string): (offset: number) => string {
  let src = '';
  try { src = readFileSync(file, 'utf8'); } catch { return () => 'party bundle (unreadable)'; }
  const marks: { at: number; mod: string }[] = [];
  const re = /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.(?:ts|js|mjs|cjs|json))$/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) marks.push({ at: m.index, mod: m[1]! });
  return (offset) => {
    let lo = 0, hi = marks.length - 1, best = '(bundle prelude)';
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (marks[mid]!.at <= offset) { best = marks[mid]!.mod; lo = mid + 1; } else hi = mid - 1; }
    return best;
  };
}

function moduleOf(url: string, offset: number, inBundle: (o: number) => string): string {
  if (url.endsWith('party.bundle.mjs')) return inBundle(offset);
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) { const rest = url.slice(nm + 13).split('/'); return `node_modules/${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`; }
  return url || '(no script)';
}

interface Opt { phase: string; key: string; mod: string }
const o = parse(process.argv.slice(2));
const x = { data: uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5), shape: [784] };
const { launchLocal } = (await import(path.resolve(o.dir, 'parties/launch.ts'))) as { launchLocal: typeof LaunchFn };
const sdk = (await import(path.resolve(o.dir, 'client-sdk/src/index.ts'))) as { PrivateInferenceClient: new (o: object) => { predict(x: object): Promise<unknown> } };
const base = { plain: networkA(), fracBits: 16, batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: 180_000, ...(o.warmupRuns !== undefined ? { warmup: { runs: o.warmupRuns } } : {}) };
const mk = (l: Launched) => new sdk.PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });

const load0 = load();
if (o.clientWarmup > 0) {
  const t = await launchLocal({ ...base, logLevel: 'warn' });
  try { const c = mk(t); for (let i = 0; i < o.clientWarmup; i++) { await c.predict(x); await waitPrepIdle(t.urls[0]); } } finally { await t.stop(); }
}

let phase = 'start';
const opts: Opt[][] = [[], [], []], deopts: { phase: string; name: string }[][] = [[], [], []];
const pending: { url: string; name: string; start: number; phase: string }[][] = [[], [], []];
const HEAD = /^--- FUNCTION SOURCE \((.*):([^:()]*)\) id\{(\d+),(-?\d+)\} start\{(\d+)\} ---$/;
const DEOPT = /^\[bailout \(kind: ([^,]+), reason: ([^)]*)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction ([^ >]*) ?\(sfi/;
const onLine = (p: number, line: string): void => {
  const h = HEAD.exec(line);
  if (h) { if (h[4] === '-1') pending[p]!.push({ url: h[1]!, name: h[2]!, start: Number(h[5]), phase }); return; }
  const d = DEOPT.exec(line);
  if (d) deopts[p]!.push({ phase, name: `${d[3] || '(anonymous)'} (${d[2]})` });
};
const env = process.env.PARTY_NODE_ARGS;
process.env.PARTY_NODE_ARGS = '--single-threaded-gc --no-incremental-marking --trace-opt --trace-deopt --print-opt-source';
let l: Launched;
try { l = await launchLocal({ ...base, logLevel: 'warn', onLine }); } finally { if (env === undefined) delete process.env.PARTY_NODE_ARGS; else process.env.PARTY_NODE_ARGS = env; }
const inBundle = bundleModules(path.resolve(o.dir, 'parties/party.bundle.mjs'));
const cpuRows: string[] = [];
try {
  const client = mk(l);
  const pids = l.children.map((c) => c.pid!);
  for (let b = 1; b <= o.blocks; b++) {
    phase = `block ${b}`;
    const c0 = pids.map(threadsCpuMs);
    for (let i = 0; i < o.block; i++) { await client.predict(x); await waitPrepIdle(l.urls[0]); }
    const c1 = pids.map(threadsCpuMs);
    cpuRows.push(`block ${b}: party CPU per prediction (traced, offline phase included) P0 ${((c1[0]! - c0[0]!) / o.block).toFixed(2)}, P1 ${((c1[1]! - c0[1]!) / o.block).toFixed(2)}, P2 ${((c1[2]! - c0[2]!) / o.block).toFixed(2)} ms; load ${load()}`);
  }
  await new Promise((r) => setTimeout(r, 500)); // the last lines through the pipes
} finally {
  await l.stop();
}
for (let p = 0; p < 3; p++) for (const f of pending[p]!) opts[p]!.push({ phase: f.phase, key: `${moduleOf(f.url, f.start, inBundle)}:${f.name || '(anonymous)'}@${f.start}`, mod: moduleOf(f.url, f.start, inBundle) });

console.log(`cold-trace: Network A, batch 1; ${o.blocks} blocks of ${o.block} client predictions after the parties' start-up${o.clientWarmup ? ` (client warmed by ${o.clientWarmup} predictions on an untraced throwaway deployment)` : ''}; ${cpus().length} x ${cpus()[0]?.model}; 1-minute load ${load0} at the start, ${load()} at the end; checkout ${path.resolve(o.dir)} (${fileURLToPath(import.meta.url).includes(path.resolve(o.dir)) ? 'this one' : 'another'})`);
for (const r of cpuRows) console.log(`  ${r}`);
const phases = ['start', ...Array.from({ length: o.blocks }, (_, i) => `block ${i + 1}`)];
for (let p = 0; p < 3; p++) {
  const per = (a: { phase: string }[]): string => phases.map((ph) => `${ph} ${a.filter((e) => e.phase === ph).length}`).join(', ');
  console.log(`\nP${p}: TurboFan optimisations (top-level functions) per phase: ${per(opts[p]!)}`);
  console.log(`P${p}: deoptimisations per phase: ${per(deopts[p]!)}`);
  const warm = new Set(opts[p]!.filter((e) => e.phase === 'start').map((e) => e.key));
  const late = new Map<string, { mod: string; phase: string; n: number }>();
  for (const e of opts[p]!) {
    if (e.phase === 'start' || warm.has(e.key)) continue;
    const g = late.get(e.key);
    if (g) g.n++; else late.set(e.key, { mod: e.mod, phase: e.phase, n: 1 });
  }
  const reopt = opts[p]!.filter((e) => e.phase !== 'start' && warm.has(e.key)).length;
  const byMod = new Map<string, number>();
  for (const g of late.values()) byMod.set(g.mod, (byMod.get(g.mod) ?? 0) + 1);
  console.log(`P${p}: ${late.size} functions first optimised after client predictions began (never during start-up); ${reopt} re-optimisations of functions also optimised during start-up`);
  console.log(`P${p}: per module: ${[...byMod].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ')}`);
  const list = [...late].slice(0, o.list);
  for (const [k, g] of list) console.log(`    ${g.phase}: ${k}${g.n > 1 ? ` (x${g.n})` : ''}`);
  const dl = new Map<string, number>();
  for (const d of deopts[p]!) if (d.phase !== 'start') dl.set(d.name, (dl.get(d.name) ?? 0) + 1);
  if (dl.size) console.log(`P${p}: deoptimised in client blocks: ${[...dl].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([n, c]) => `${n} x${c}`).join('; ')}`);
}
process.exit(0);
