/**
 * The seed CNN (MaxPool, 150x125x1, f = 13, 32-bit comparison ring, local
 * truncation) with the three parties in one process on the in-memory
 * transport: CPU time (process.cpuUsage, user + system, all three parties)
 * and wall time per image (issue 28):
 *
 *   npx tsx bench/cnn-cpu.ts [--batch 1] [--reps 10] [--warmup 3] [--hash] [--baseline DIR]
 *
 * --hash: every run uses the same fixed seeds (pair and own PRG seeds, input
 * and weight shares), so the run is a deterministic function of the code, and
 * the SHA-256 of P0's and P1's output shares is printed: two checkouts whose
 * protocol does the same computation print the same hash (a change claimed to
 * be bit-identical must keep it). Without --hash the seeds are fresh per run.
 * --baseline DIR: another checkout of this repository (e.g. `git worktree add
 * /tmp/base <commit>`, with its node_modules and build/): its protocol code and
 * native addon run in turn with this one's (A, B, A, B, ... in one process, so
 * a shared machine's load hits both alike); the ratio of the medians is printed.
 * For a profile: node --cpu-prof --import tsx bench/cnn-cpu.ts ...
 */
import '../runtime/install.js';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import * as context from '../protocol/context.js';
import * as fixedPoint from '../protocol/fixed-point/fixed-point.js';
import * as kernelsIndex from '../protocol/kernels/index.js';
import * as runner from '../protocol/layers/runner.js';
import * as shareModelMod from '../protocol/layers/share-model.js';
import * as seedModels from '../protocol/seed-models.js';
import * as memory from '../protocol/transport/memory.js';

const argv = process.argv.slice(2);
const opt = (name: string, d: number): number => { const i = argv.indexOf(name); const v = i >= 0 ? Number(argv[i + 1]) : d; if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: a non-negative integer, got ${argv[i + 1]}`); return v; };
const N = opt('--batch', 1), reps = opt('--reps', 10), warmup = opt('--warmup', 3), fixed = argv.includes('--hash');
const baselineDir = argv.includes('--baseline') ? argv[argv.indexOf('--baseline') + 1] : undefined;
const f = 13, opts = { fracBits: f, compareBits: 32 as const };

/** The modules a run needs, from this checkout or from the baseline's. */
interface Impl { name: string; context: typeof context; fixedPoint: typeof fixedPoint; kernels: typeof kernelsIndex; runner: typeof runner; shareModel: typeof shareModelMod; seedModels: typeof seedModels; memory: typeof memory }
const impls: Impl[] = [{ name: 'this', context, fixedPoint, kernels: kernelsIndex, runner, shareModel: shareModelMod, seedModels, memory }];
if (baselineDir) {
  const url = (p: string) => pathToFileURL(path.resolve(baselineDir, p)).href;
  await import(url('runtime/install.ts'));
  const [c, fp, ki, r, sm, s, m] = await Promise.all(['protocol/context.ts', 'protocol/fixed-point/fixed-point.ts', 'protocol/kernels/index.ts', 'protocol/layers/runner.ts', 'protocol/layers/share-model.ts', 'protocol/seed-models.ts', 'protocol/transport/memory.ts'].map((p) => import(url(p))));
  impls.push({ name: `baseline ${baselineDir}`, context: c, fixedPoint: fp, kernels: ki, runner: r, shareModel: sm, seedModels: s, memory: m });
}

function setup(im: Impl) {
  const k = im.kernels.getKernels();
  const model = im.seedModels.seedCnn('maxpool2d');
  const x = im.fixedPoint.encode(im.seedModels.uniform(im.seedModels.seededPrg(11), N * model.inputShape.reduce((a, b) => a * b, 1), 0.5).map((v) => v + 0.5), f);
  const parts = im.shareModel.shareModel(k, model, f);
  // Fixed seeds and shares for --hash (the weights' shares re-drawn from a seeded PRG: s0 + s1 unchanged); fresh otherwise.
  const g = im.seedModels.seededPrg(13);
  const redraw = (a: BigUint64Array, b: BigUint64Array) => { const full = new BigUint64Array(a.length); k.add(a, b, full); g.u64Into(a); k.sub(full, a, b); };
  if (fixed) parts[0].nodes.forEach((n0, i) => { const n1 = parts[1].nodes[i]!; if ('kernel' in n0 && 'kernel' in n1) { redraw(n0.kernel.data, n1.kernel.data); if (n0.bias && n1.bias) redraw(n0.bias.data, n1.bias.data); } });
  const seed = (i: number) => im.seedModels.seededPrg(100 + i).bytes(16);
  const seeds = (): [PartySeeds, PartySeeds, PartySeeds] => [
    { pair: [undefined, seed(1), seed(2)], own: seed(10) }, { pair: [seed(1), undefined, seed(3)], own: seed(11) }, { pair: [seed(2), seed(3), undefined], own: seed(12) }];
  return async () => {
    const s0 = fixed ? im.seedModels.seededPrg(12).u64(x.length) : freshU64(x.length), s1 = new BigUint64Array(x.length);
    k.sub(x, s0, s1);
    const xs = [s0, s1, new BigUint64Array(x.length)] as AShare[];
    const t = im.memory.memoryTransports(), sd = fixed ? seeds() : freshSeeds();
    const res = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => im.runner.secureForward(im.context.createContext(p, t[p], sd[p], opts), parts[p], { shape: [N, ...model.inputShape], data: xs[p]! })));
    return { out: [res[0]!.data, res[1]!.data], rounds: Math.max(...t.map((q) => q.counters.depth)), bytes: t.reduce((s, q) => s + q.counters.bytesSent, 0) };
  };
}
const freshU64 = (n: number) => { const a = new BigUint64Array(n); randomFillSync(new Uint8Array(a.buffer)); return a; };
const freshSeed = () => randomBytes(16);
const freshSeeds = (): [PartySeeds, PartySeeds, PartySeeds] => { const s01 = freshSeed(), s02 = freshSeed(), s12 = freshSeed(); return [{ pair: [undefined, s01, s02], own: freshSeed() }, { pair: [s01, undefined, s12], own: freshSeed() }, { pair: [s02, s12, undefined], own: freshSeed() }]; };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = impls.map(setup);
for (let i = 0; i < warmup; i++) for (const r of runs) await r();
const cpu = impls.map(() => [] as number[]), wall = impls.map(() => [] as number[]), hashes = impls.map(() => new Set<string>());
let rounds = 0, bytes = 0;
const load0 = loadavg()[0]!;
const bytesOf = (a: BigUint64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
for (let i = 0; i < reps; i++) {
  for (const [j, run] of runs.entries()) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const r = await run();
    const c = process.cpuUsage(c0);
    wall[j]!.push(performance.now() - t0);
    cpu[j]!.push((c.user + c.system) / 1e3);
    rounds = r.rounds; bytes = r.bytes;
    if (fixed) hashes[j]!.add(createHash('sha256').update(bytesOf(r.out[0]!)).update(bytesOf(r.out[1]!)).digest('hex').slice(0, 16));
  }
}
console.log(`seed CNN MaxPool in-process, batch ${N}, ${reps} runs${impls.length > 1 ? ' each, alternating' : ''} after ${warmup} warm-ups; ${cpus()[0]?.model} x ${cpus().length}, load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`);
impls.forEach((im, j) => console.log(`${im.name}: cpu/image median ${(median(cpu[j]!) / N).toFixed(1)} ms, min ${(Math.min(...cpu[j]!) / N).toFixed(1)} ms; wall/image median ${(median(wall[j]!) / N).toFixed(1)} ms, min ${(Math.min(...wall[j]!) / N).toFixed(1)} ms; rounds ${rounds}, bytes ${bytes}${fixed ? `; output shares sha256 ${[...hashes[j]!].join(', ')}` : ''}`));
if (impls.length > 1) console.log(`this / baseline: cpu median ${(median(cpu[0]!) / median(cpu[1]!)).toFixed(2)}x, wall median ${(median(wall[0]!) / median(wall[1]!)).toFixed(2)}x`);
