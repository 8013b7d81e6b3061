/**
 * The seed CNN (MaxPool, 150x125x1, f = 13, 32-bit comparison ring, local
 * truncation) with the three parties in one process on the in-memory
 * transport: CPU time (process.cpuUsage, user + system, all three parties)
 * and wall time per image (issue 28):
 *
 *   npx tsx bench/cnn-cpu.ts [--batch 1] [--reps 10] [--warmup 3] [--hash]
 *
 * --hash: every run uses the same fixed seeds (pair and own PRG seeds, input
 * and weight shares), so the run is a deterministic function of the code, and
 * the SHA-256 of P0's and P1's output shares is printed: two checkouts whose
 * protocol does the same computation print the same hash (a change claimed to
 * be bit-identical must keep it). Without --hash the seeds are fresh per run.
 * For a profile: node --cpu-prof --import tsx bench/cnn-cpu.ts ...
 */
import '../runtime/install.js';
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createContext } from '../protocol/context.js';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { memoryTransports } from '../protocol/transport/memory.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';

const argv = process.argv.slice(2);
const opt = (name: string, d: number): number => { const i = argv.indexOf(name); const v = i >= 0 ? Number(argv[i + 1]) : d; if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: a non-negative integer, got ${argv[i + 1]}`); return v; };
const N = opt('--batch', 1), reps = opt('--reps', 10), warmup = opt('--warmup', 3), fixed = argv.includes('--hash');
const f = 13, opts = { fracBits: f, compareBits: 32 as const };
const model = seedCnn('maxpool2d');
const k = getKernels();
const x = encode(uniform(seededPrg(11), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5), f);
const parts = shareModel(k, model, f);
// --hash: the weights' shares re-drawn from a seeded PRG (same weights: s0 + s1 unchanged).
if (fixed) {
  const g = seededPrg(13);
  const redraw = (a: BigUint64Array, b: BigUint64Array) => { const full = new BigUint64Array(a.length); k.add(a, b, full); g.u64Into(a); k.sub(full, a, b); };
  parts[0].nodes.forEach((n0, i) => {
    const n1 = parts[1].nodes[i]!;
    if ('kernel' in n0 && 'kernel' in n1) {
      redraw(n0.kernel.data, n1.kernel.data);
      if (n0.bias && n1.bias) redraw(n0.bias.data, n1.bias.data);
    }
  });
}
// Fixed shares of x for --hash: s0 from a seeded PRG, s1 = x - s0.
const fixedShares = (): [AShare, AShare, AShare] => { const s0 = seededPrg(12).u64(x.length), s1 = new BigUint64Array(x.length); k.sub(x, s0, s1); return [s0 as AShare, s1 as AShare, new BigUint64Array(x.length) as AShare]; };
const seed = (i: number) => seededPrg(100 + i).bytes(16);
const fixedSeeds = (): [PartySeeds, PartySeeds, PartySeeds] => [
  { pair: [undefined, seed(1), seed(2)], own: seed(10) }, { pair: [seed(1), undefined, seed(3)], own: seed(11) }, { pair: [seed(2), seed(3), undefined], own: seed(12) }];

async function once() {
  const xs = fixed ? fixedShares() : shareFor3(x);
  const run = (ctx: Parameters<Parameters<typeof run3>[0]>[0]) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] });
  if (!fixed) { const r = await run3(run, opts); return { out: [r.results[0].data, r.results[1].data], rounds: r.rounds, bytes: r.bytes }; }
  const t = memoryTransports(), seeds = fixedSeeds();
  const res = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => run(createContext(p, t[p], seeds[p], opts))));
  return { out: [res[0]!.data, res[1]!.data], rounds: Math.max(...t.map((q) => q.counters.depth)), bytes: t.reduce((s, q) => s + q.counters.bytesSent, 0) };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (let i = 0; i < warmup; i++) await once();
const cpu: number[] = [], wall: number[] = [], hashes = new Set<string>();
let rounds = 0, bytes = 0;
const load0 = loadavg()[0]!;
for (let i = 0; i < reps; i++) {
  const c0 = process.cpuUsage(), t0 = performance.now();
  const r = await once();
  const c = process.cpuUsage(c0);
  wall.push(performance.now() - t0);
  cpu.push((c.user + c.system) / 1e3);
  rounds = r.rounds; bytes = r.bytes;
  if (fixed) hashes.add(createHash('sha256').update(new Uint8Array(r.out[0]!.buffer, r.out[0]!.byteOffset, r.out[0]!.byteLength)).update(new Uint8Array(r.out[1]!.buffer, r.out[1]!.byteOffset, r.out[1]!.byteLength)).digest('hex').slice(0, 16));
}
console.log(`seed CNN MaxPool in-process, batch ${N}, ${reps} runs after ${warmup} warm-ups; ${cpus()[0]?.model} x ${cpus().length}, load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`);
console.log(`cpu/image median ${(median(cpu) / N).toFixed(1)} ms, min ${(Math.min(...cpu) / N).toFixed(1)} ms; wall/image median ${(median(wall) / N).toFixed(1)} ms, min ${(Math.min(...wall) / N).toFixed(1)} ms; rounds ${rounds}, bytes ${bytes}${fixed ? `; output shares sha256 ${[...hashes].join(', ')}` : ''}`);
