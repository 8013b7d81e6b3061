/**
 * What the dealing PRG's Z_p draws cost alone: `Prg.zpInto` (rejection sampling, native AES-NI + scan when the addon
 * is loaded) for one seed-CNN comparison's dealt shares (75,600 values x 48 digits, radix-4 PrivateCompare), and
 * `u64Into` for its 75,600 masks, in one process on one thread, into buffers already touched.
 *   npx tsx bench/prg-zp.ts [--n 75600] [--reps 20]
 * Prints the CPU, the load, the PRG backend and the median / min ms of each. Used to read the CPU profiles' share of
 * `rejectInto` in the party processes (BENCHMARKS.md "Seed CNN at batch 1: where the time goes").
 */
import '../runtime/install.js';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Prg } from '../protocol/correlated/prg.js';
import { R4_DEALT } from '../protocol/kernels/radix4.js';

const arg = (k: string, d: number): number => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const n = arg('--n', 75600), reps = arg('--reps', 20);
const g = new Prg(randomBytes(16));
const zp = new Uint8Array(n * R4_DEALT).fill(1), u = new BigUint64Array(n).fill(1n);
const tz: number[] = [], tu: number[] = [];
for (let r = 0; r < reps + 2; r++) {
  let t = performance.now();
  g.zpInto(zp);
  const a = performance.now() - t;
  t = performance.now();
  g.u64Into(u);
  const b = performance.now() - t;
  if (r >= 2) { tz.push(a); tu.push(b); }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!;
console.log(`CPU ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(2)}, PRG backend ${g.backend}, ${reps} reps after 2`);
console.log(`zpInto ${n} x ${R4_DEALT} = ${(n * R4_DEALT / 2 ** 20).toFixed(2)} MiB: median ${med(tz).toFixed(3)} ms, min ${Math.min(...tz).toFixed(3)} ms`);
console.log(`u64Into ${n}: median ${med(tu).toFixed(3)} ms, min ${Math.min(...tu).toFixed(3)} ms`);
