/**
 * Party CPU of two deployments side by side: launches two sets of three party
 * processes as `npm run bench` does (parties/launch.ts), A and B, and
 * alternates predictions between them (A, B, A, B, ...), so that both see the
 * same moments of a shared machine's load. Per arm it prints the median
 * latency, each party's CPU time per prediction (utime + stime from /proc,
 * Linux only; the offline phase finishing after each prediction counts in
 * it, as in bench/party-cpu.ts; the part during predict() alone, as bench/run.ts
 * counts it, is printed too), the mark-compact GCs per prediction (from
 * --trace-gc), and the machine's load while it ran.
 *
 *   npx tsx bench/ab-party-cpu.ts <cnn|a|resnet50> [--rounds 3] [--warmup 1]
 *       [--a-dir <worktree>] [--b-dir <worktree>] [--a-args "<node options>"] [--b-args "<node options>"]
 *       [--a-env K=V]... [--b-env K=V]... [--a-link grpc|h2] [--b-link grpc|h2] [--batch 1..8 | --batch 1,3,8]
 *
 * --a-dir / --b-dir: launch that arm's parties from another checkout (its
 * parties/launch.ts, hence its own party bundle and protocol code): an A/B of
 * two commits in one sitting (bench/ab-worktrees.sh makes such checkouts).
 * --a-link / --b-link: the mesh's link kind (mesh.link; default h2, the config default).
 * Node options default to parties/launch.ts's LOCAL_PARTY_NODE_ARGS; --trace-gc
 * is added to both. Models as bench/party-cpu.ts: the seed CNN (MaxPool) at
 * batch 8 (--batch: another batch size, seed CNN only; a list such as 1,3,8: round i uses the i-th size, cyclically,
 * in both arms, as a load's runs vary in size, and the CPU is also printed per image), Network A at batch 1, ResNet-50 (bench/zoo-models.ts: random weights,
 * f = 13, exact truncation, 32-bit comparisons) at batch 1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { LOCAL_PARTY_NODE_ARGS, type launchLocal as LaunchFn, type Launched } from '../parties/launch.js';
import { waitPrepIdle } from './prep-wait.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { resnet50 } from './zoo-models.js';

const argv = process.argv.slice(2);
const which = argv.shift();
if (which !== 'cnn' && which !== 'a' && which !== 'resnet50') throw new Error(`model: 'cnn', 'a' or 'resnet50', got '${which}'`);
const arm0 = () => ({ dir: '.', args: LOCAL_PARTY_NODE_ARGS.join(' '), env: {} as Record<string, string>, link: 'h2' as 'grpc' | 'h2' });
const arms = [arm0(), arm0()];
let rounds = 3, warm = 1, batchOpt: number[] | null = null;
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i]!, v = argv[i + 1];
  if (v === undefined) throw new Error(`${k}: missing value`);
  const m = /^--([ab])-(dir|args|env|link)$/.exec(k);
  if (m) {
    const arm = arms[m[1] === 'a' ? 0 : 1]!;
    if (m[2] === 'dir') arm.dir = v;
    else if (m[2] === 'args') arm.args = v;
    else if (m[2] === 'link') { if (v !== 'grpc' && v !== 'h2') throw new Error(`${k}: grpc or h2, got '${v}'`); arm.link = v; }
    else { const e = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(v); if (!e) throw new Error(`${k}: KEY=VALUE, got '${v}'`); arm.env[e[1]!] = e[2]!; }
  } else if (k === '--rounds') rounds = Number(v);
  else if (k === '--warmup') warm = Number(v);
  else if (k === '--batch') batchOpt = v.split(',').map(Number);
  else throw new Error(`unknown option ${k}`);
}
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(warm) || warm < 0) throw new Error('--rounds >= 1 and --warmup >= 0, integers');

const heavy = which === 'resnet50';
const model = which === 'a' ? networkA() : heavy ? resnet50() : seedCnn('maxpool2d');
if (batchOpt !== null && (which !== 'cnn' || batchOpt.some((b) => !Number.isInteger(b) || b < 1 || b > 8))) throw new Error('--batch: 1..8 (or a list of them), seed CNN only');
const sizes = which === 'cnn' ? batchOpt ?? [8] : [1], N = Math.max(...sizes);
const f = which === 'a' ? 16 : 13;
/** Images of round i (warm-ups included): the sizes in turn. */
const imagesOf = (i: number): number => sizes[i % sizes.length]!;
const shape = [...model.inputShape], n = shape.reduce((a, b) => a * b, 1);
const inputs = Array.from({ length: N }, (_, i) => ({ data: uniform(seededPrg(i + 1), n, 0.5).map((v) => v + 0.5), shape }));
const MC = /Mark-Compact\S*\s+[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

interface Arm { l: Launched; client: PrivateInferenceClient; timing: boolean; mc: number[]; cpu: number[][]; online: number[][]; ms: number[] }
async function launch(a: (typeof arms)[number]): Promise<Arm> {
  const saved = { ...process.env };
  Object.assign(process.env, a.env, { PARTY_NODE_ARGS: `${a.args} --trace-gc` });
  try {
    const { launchLocal } = (await import(path.resolve(a.dir, 'parties/launch.ts'))) as { launchLocal: typeof LaunchFn };
    const arm = { timing: false, mc: [0, 0, 0], cpu: [], online: [], ms: [] } as unknown as Arm;
    arm.l = await launchLocal({
      plain: model, fracBits: f, logLevel: 'warn', meshLink: a.link, ...(heavy ? { truncation: 'exact' as const, warmup: { runs: 0 } } : {}),
      batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 3_600_000, maxDeadlineMs: 3_600_000 }, readyTimeoutMs: 900_000,
      onLine: (p, line) => { if (arm.timing && MC.test(line)) arm.mc[p]!++; },
    });
    arm.client = new PrivateInferenceClient({ parties: arm.l.urls, token: arm.l.token, timeoutMs: 3_600_000, expectedModelHash: arm.l.modelHash });
    return arm;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const cpuMs = (l: Launched): number[] => l.children.map((c) => { const s = readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(s[11]) + Number(s[12])) * 10; });
const load = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const d: Arm[] = [];
const loads: number[] = [];
try {
  for (const a of arms) d.push(await launch(a));
  for (let i = 0; i < warm + rounds; i++) {
    for (const arm of d) {
      arm.timing = i >= warm;
      const c0 = cpuMs(arm.l), t = performance.now();
      const ni = imagesOf(i);
      if (sizes.length === 1 && N === 1) await arm.client.predict(inputs[0]!); else await arm.client.predict(inputs.slice(0, ni), { batch: true });
      const ms = performance.now() - t, cm = cpuMs(arm.l);
      await waitPrepIdle(arm.l.urls[0]);
      arm.timing = false;
      if (i >= warm) { const c1 = cpuMs(arm.l); arm.cpu.push(c1.map((v, p) => v - c0[p]!)); arm.online.push(cm.map((v, p) => v - c0[p]!)); arm.ms.push(ms); loads.push(load()); }
    }
  }
} finally {
  await Promise.all(d.map((x) => x.l.stop()));
}
const med = (a: number[]): number => { const b = [...a].sort((q, r) => q - r); return b.length % 2 ? b[b.length >> 1]! : (b[b.length / 2 - 1]! + b[b.length / 2]!) / 2; };
console.log(`${which === 'a' ? 'Network A, batch 1' : heavy ? 'ResNet-50 (exact truncation), batch 1' : `seed CNN MaxPool, batch ${sizes.join(',')}`}: ${rounds} alternating rounds after ${warm} warm-up(s); load average ${Math.min(...loads).toFixed(1)}..${Math.max(...loads).toFixed(1)}; ${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]}`);
d.forEach((arm, i) => {
  // Means over the rounds (/proc counts 10 ms ticks: a Network A prediction takes less than one).
  const a = arms[i]!, per = [0, 1, 2].map((p) => arm.cpu.reduce((t, c) => t + c[p]!, 0) / rounds);
  const sums = arm.cpu.map((c) => c[0]! + c[1]! + c[2]!);
  const on = [0, 1, 2].map((p) => arm.online.reduce((t, c) => t + c[p]!, 0) / rounds);
  console.log(`${'AB'[i]} (dir ${a.dir}, link ${a.link}, node options "${a.args}"${Object.keys(a.env).length ? `, ${Object.entries(a.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}):`);
  const images = Array.from({ length: rounds }, (_, r) => imagesOf(warm + r)).reduce((x, y) => x + y, 0);
  if (sizes.length > 1) console.log(`  party CPU per image over the ${images} images: ${(sums.reduce((x, y) => x + y, 0) / images).toFixed(1)} ms`);
  console.log(`  median ${med(arm.ms).toFixed(2)} ms; party CPU per prediction (means) ${per.map((v) => v.toFixed(1)).join(' / ')} ms, sum ${(per[0]! + per[1]! + per[2]!).toFixed(1)} ms${rounds <= 10 ? ` (each round: ${sums.map((v) => v.toFixed(0)).join(', ')})` : ''}; of it during predict() (online, as bench/run.ts counts it) ${on.map((v) => v.toFixed(1)).join(' / ')} ms, sum ${(on[0]! + on[1]! + on[2]!).toFixed(1)} ms; mark-compacts per prediction ${arm.mc.map((v) => (v / rounds).toFixed(1)).join(' / ')}`);
});
// Paired per round (A's and B's predictions of one round ran back to back): in how many rounds B was faster, and the median ratio.
const pair = d[1]!.ms.map((b, i) => b / d[0]!.ms[i]!), cpuPair = d[1]!.cpu.map((b, i) => (b[0]! + b[1]! + b[2]!) / (d[0]!.cpu[i]![0]! + d[0]!.cpu[i]![1]! + d[0]!.cpu[i]![2]!));
console.log(`B / A per round: latency lower in ${pair.filter((r) => r < 1).length} of ${rounds}, median ratio ${med(pair).toFixed(3)}; party CPU median ratio ${med(cpuPair).toFixed(3)}`);
process.exit(0);
