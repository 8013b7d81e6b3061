/**
 * CPU and GC of the three party processes per prediction (the
 * development measurements: the bundle vs tsx, GC settings, lanes):
 *
 *   npx tsx bench/party-cpu.ts [cnn|a|resnet50] [batch = 8] [reps = 5] [prep = wait|off]
 *
 * Launches the parties as `npm run bench` does (parties/launch.ts; PARTY_NODE_ARGS
 * and PARTY_RUNTIME apply, `--trace-gc` is added), runs 2 warm-up and `reps`
 * timed predictions of the seed CNN (MaxPool), Network A or ResNet-50 (bench/zoo-models.ts:
 * random weights, f = 13, exact truncation and 32-bit comparisons as the importer's chooser
 * takes for it; 1 warm-up, batch 1 only), and prints the median
 * latency, each party's CPU time per run (utime + stime from /proc, Linux only),
 * how busy the machine's CPUs were, and each party's scavenges and mark-compacts
 * per run with their pause times (from --trace-gc). prep: 'wait' (default) lets
 * the offline phase (parties/preprocessing.ts) finish between predictions, as
 * `npm run bench` does, and its CPU counts in the run's; 'off' disables it.
 * COMPARE_RADIX=2|4 sets the parties' compareRadix (default: the config's, 4), COMPARE_BITS=32|64
 * their compareBits (default 32; a model whose sound range bound needs 64 runs there); SOUND_LAYERS=1 marks the
 * layers whose sound bound needs the 64-bit ring, as mpc-import does (the rest stays on the parties' ring).
 * GC_DUMP=<party> prints that party's mark-compact lines; GC_RAW=<file> appends every party line of the timed runs to
 * the file (with PARTY_NODE_ARGS="... --trace-gc-nvp": the phases of each GC).
 * MESH_LINK=grpc runs the pairs' messages over their gRPC streams (mesh.link 'grpc') instead of the default raw HTTP/2 data link (parties/mesh-h2.ts).
 * CPU_PROF=<dir> adds `--cpu-prof --cpu-prof-dir=<dir>` to the parties' node options and, once they have exited,
 * renames each profile P<party>-<pid>.cpuprofile (the profile covers the party's whole life: start-up, warm-ups and
 * the timed runs); `npx tsx bench/cpuprof-summary.ts <dir>/P*.cpuprofile` groups them.
 */
import { appendFileSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, partyNodeArgs } from '../parties/launch.js';
import { waitPrepIdle } from './prep-wait.js';
import { soundRangesFor, wideLayers } from '../model-import/sound-ring.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { resnet50 } from './zoo-models.js';

const which = process.argv[2] ?? 'cnn';
if (which !== 'cnn' && which !== 'a' && which !== 'resnet50') throw new Error(`model: 'cnn', 'a' or 'resnet50', got '${which}'`);
const heavy = which === 'resnet50';
const N = Number(process.argv[3] ?? (heavy ? 1 : 8)), reps = Number(process.argv[4] ?? (heavy ? 2 : 5));
if (!Number.isInteger(N) || N < 1 || N > (heavy ? 1 : 8) || !Number.isInteger(reps) || reps < 1) throw new Error(`batch must be 1..${heavy ? 1 : 8} and reps >= 1`);
const prep = process.argv[5] ?? 'wait';
if (prep !== 'wait' && prep !== 'off') throw new Error(`prep: 'wait' or 'off', got '${prep}'`);
const WARMUP = heavy ? 1 : 2;
const model = which === 'a' ? networkA() : heavy ? resnet50() : seedCnn('maxpool2d');
const f = which === 'a' ? 16 : 13;
const label = which === 'a' ? 'Network A' : heavy ? 'ResNet-50 (exact truncation)' : 'seed CNN MaxPool';
// SOUND_LAYERS=1: the layers whose sound range bound over the declared input range ([0, 1]: x/255 pixels, Network A's
// inputs) leaves the 32-bit ring run on the 64-bit one, as mpc-import marks them (IR compareBits: 64).
const marked: string[] = [];
if (process.env.SOUND_LAYERS === '1') {
  const w = wideLayers(soundRangesFor(model, undefined, [0, 1], false)!, [], f, 4);
  if (!w.ok) throw new Error('the sound bound does not fit the 64-bit ring');
  for (const n of model.nodes) if (w.layers.includes(n.name)) { n.compareBits = 64; marked.push(n.name); }
}
const profDir = process.env.CPU_PROF ? path.resolve(process.env.CPU_PROF) : null;
process.env.PARTY_NODE_ARGS = [...partyNodeArgs(), '--trace-gc', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])].join(' ');

const gc = [0, 1, 2].map(() => ({ n: 0, ms: 0, major: 0, majorMs: 0, reasons: new Map<string, number>() }));
let timing = false;
const GC_LINE = /(Scavenge|Mark-Compact)\S*\s+[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;
const meshLink = process.env.MESH_LINK === 'grpc' ? 'grpc' as const : 'h2' as const;
const l = await launchLocal({
  meshLink, plain: model, fracBits: f, logLevel: 'warn', ...(heavy ? { truncation: 'exact' as const, warmup: { runs: 0 } } : {}), ...(process.env.COMPARE_RADIX ? { compareRadix: Number(process.env.COMPARE_RADIX) as 2 | 4 } : {}), ...(process.env.COMPARE_BITS ? { compareBits: Number(process.env.COMPARE_BITS) as 32 | 64 } : {}), ...(prep === 'off' ? { preprocess: { enabled: false } } : {}), batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 },
  sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: heavy ? 900_000 : 60_000,
  onLine: (p, line) => {
    if (process.env.GC_DUMP && p === Number(process.env.GC_DUMP) && timing && /Mark-Compact/.test(line)) console.log(line.slice(0, 300));
    if (process.env.GC_RAW && timing) appendFileSync(process.env.GC_RAW, `P${p} ${line}\n`);
    const m = GC_LINE.exec(line);
    if (!m || !timing) return;
    const g = gc[p]!, ms = Number(m[2]);
    g.n++; g.ms += ms;
    if (m[1] !== 'Scavenge') {
      g.major++; g.majorMs += ms;
      // What started it: the text after the mutator-utilisation note ("... mu = 0.123) external memory pressure; ...").
      const why = /mu = [\d.]+\)\s*([^;\n]+)/.exec(line)?.[1]?.trim() ?? '?';
      g.reasons.set(why, (g.reasons.get(why) ?? 0) + 1);
    }
  },
});
const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
const shape = [...model.inputShape];
const n = shape.reduce((a, b) => a * b, 1);
const inputs = Array.from({ length: N }, (_, i) => ({ data: uniform(seededPrg(i + 1), n, 0.5).map((v) => v + 0.5), shape }));
const machine = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
// Per party: [user + system ms, system ms, minor page faults] (/proc/<pid>/stat fields 14 + 15, 15, 10; clock ticks of 10 ms).
const partyStat = () => l.children.map((c) => { const s = readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return [(Number(s[11]) + Number(s[12])) * 10, Number(s[12]) * 10, Number(s[7])]; });
const partyMs = () => partyStat().map((v) => v[0]!);
const times: number[] = [];
let m0: number[] = [], p0: number[] = [], s0: number[][] = [];
try {
  for (let i = 0; i < WARMUP + reps; i++) {
    if (i === WARMUP) { timing = true; m0 = machine(); p0 = partyMs(); s0 = partyStat(); }
    const t = performance.now();
    if (N === 1) await client.predict(inputs[0]!); else await client.predict(inputs, { batch: true });
    if (i >= WARMUP) times.push(performance.now() - t);
    if (prep === 'wait') await waitPrepIdle(l.urls[0]);
  }
  const s1 = partyStat(), p1 = partyMs(), d = machine().map((v, i) => v - m0[i]!);
  await new Promise((r) => setTimeout(r, 200)); // the last GC lines
  const all = d.reduce((a, b) => a + b, 0);
  const cpu = p1.map((v, i) => (v - p0[i]!) / reps);
  times.sort((a, b) => a - b);
  console.log(`${label}, batch ${N}, ${reps} runs after ${WARMUP} warm-ups (party program: ${l.runtime}, link: ${meshLink}, preprocessing: ${prep}, compareRadix: ${process.env.COMPARE_RADIX ?? 'default'}, compareBits: ${process.env.COMPARE_BITS ?? 'default'}${marked.length ? ` with ${marked.join(', ')} on 64` : ''}, node args: ${process.env.PARTY_NODE_ARGS})`);
  console.log(`median ${times[times.length >> 1]!.toFixed(1)} ms; load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}; party CPU per run ${cpu.map((v) => v.toFixed(0)).join(' / ')} ms, sum ${cpu.reduce((a, b) => a + b, 0).toFixed(0)} ms; CPUs busy ${(100 * (all - d[3]! - d[4]!) / all).toFixed(0)}%`);
  console.log(`per run, system CPU ${s1.map((v, p) => ((v[1]! - s0[p]![1]!) / reps).toFixed(0)).join(' / ')} ms, minor page faults ${s1.map((v, p) => ((v[2]! - s0[p]![2]!) / reps / 1000).toFixed(0)).join(' / ')} thousand`);
  gc.forEach((g, p) => console.log(`P${p} per run: ${(g.n / reps).toFixed(1)} GCs, ${(g.ms / reps).toFixed(1)} ms; mark-compact ${(g.major / reps).toFixed(1)}, ${(g.majorMs / reps).toFixed(1)} ms${g.reasons.size ? ` (started by: ${[...g.reasons].map(([r, c]) => `${r} ${c}`).join(', ')})` : ''}`));
} finally {
  await l.stop();
}
if (profDir) {
  // Node names a profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, written when the process exits.
  const pids = l.children.map((c) => c.pid);
  for (const f of readdirSync(profDir)) {
    const p = pids.findIndex((pid) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.`).test(f));
    if (p >= 0) { renameSync(path.join(profDir, f), path.join(profDir, `P${p}-${pids[p]}.cpuprofile`)); console.log(`P${p}: ${path.join(profDir, `P${p}-${pids[p]}.cpuprofile`)}`); }
  }
}
process.exit(0);
