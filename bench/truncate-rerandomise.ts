/**
 * What truncate.ts's re-randomisation (step 1: u from the P0-P1 PRG, x_j +- u)
 * costs on top of the local division (step 2), per party per element, on
 * the runtime's kernels (runtime/kernels.ts: the native addon and AES-NI PRG
 * where built, as the parties run). The two are timed interleaved in one run
 * (the median of `reps` each), so the ratio holds on a loaded machine.
 *
 *   npx tsx bench/truncate-rerandomise.ts [n = 1048576] [reps = 15]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { installRuntimeKernels } from '../runtime/kernels.js';
import { provision } from '../protocol/kernels/provision.js';
import { truncate } from '../protocol/primitives/truncate.js';
import type { AShare } from '../protocol/ring/types.js';
import { makeContexts } from '../protocol/testing/run3.js';
import { randomU64s } from '../protocol/testing/values.js';

installRuntimeKernels();
const n = Number(process.argv[2] ?? 2 ** 20), reps = Number(process.argv[3] ?? 15);
const { contexts, transports } = makeContexts({ fracBits: 13 });
const x = randomU64s(n) as AShare, d = Uint32Array.of(2 ** 13);
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[a.length >> 1]!;
const old: number[] = [], now: number[] = [];
for (let i = 0; i < reps + 2; i++) {
  for (const party of [0, 1] as const) {
    const ctx = contexts[party];
    let t = performance.now();
    const out = new BigUint64Array(n);
    ctx.kernels.divShare(x, d, party, out);
    const a = performance.now() - t;
    t = performance.now();
    truncate(ctx, x, 13);
    const b = performance.now() - t;
    if (i >= 2) { old.push(a); now.push(b); } // two warm-up rounds
  }
}
transports.forEach((tr) => tr.close(new Error('bench done')));
const mo = median(old), mn = median(now);
console.log(`kernels: ${provision().native ? 'native' : 'ts'}, PRG: ${provision().prg ? 'AES-NI' : 'node:crypto'}`);
console.log(`CPU: ${os.cpus()[0]?.model} x ${os.cpus().length}, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
console.log(`n = ${n}, ${reps} reps per party, median ms: division only ${mo.toFixed(2)} (${(1e6 * mo / n).toFixed(2)} ns/elt), re-randomise + division ${mn.toFixed(2)} (${(1e6 * mn / n).toFixed(2)} ns/elt), ratio ${(mn / mo).toFixed(2)}`);
