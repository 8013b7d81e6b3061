/**
 * One comparison call of the seed CNN's first pool in one process (three parties, in-memory transport, native
 * kernels, 32-bit ring, radix 4): the unfused H pass + the ReLU after it (maxOfPairs, then reluDirect: 6 rounds) against
 * the fused ReLU(max) of pairs (relu-max-pairs.ts: 3 rounds), alternating, median wall time of the three parties
 * together (no round latency: this counts the compute and the in-memory copies only).
 *
 *   npx tsx bench/relu-max-pairs.ts [--reps 12]
 */
import '../runtime/install.js';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { adjacentPairIndices } from '../protocol/layers/pool-pairs.js';
import { maxOfPairs } from '../protocol/primitives/maxpool.js';
import { reluDirect } from '../protocol/primitives/relu-direct.js';
import { reluMaxOfPairs } from '../protocol/primitives/relu-max-pairs.js';
import type { AShare } from '../protocol/ring/types.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] ?? 12) || 12;
// The first pool's H pass: u = [75, 62, 16] after the W pass.
const [h, w, C] = [75, 62, 16];
const nE = h * w * C;
const e = BigUint64Array.from({ length: nE }, (_, i) => BigInt.asUintN(64, BigInt((i * 7919) % 200001 - 100000)));
const es = shareFor3(e);
const { iX, iY } = adjacentPairIndices(1, h, w, C, 'h');
const nP = iX.length;
const opts = { compareBits: 32 as const };
const unfused = () => run3(async (ctx) => {
  const X = new BigUint64Array(nP), Y = new BigUint64Array(nP);
  if (ctx.party !== 2) { X.set(es[ctx.party].subarray(0, nP)); Y.set(es[ctx.party].subarray(w * C)); }
  return reluDirect(ctx, await maxOfPairs(ctx, X, Y, 'a'), 'b');
}, opts);
const fused = () => run3((ctx) => reluMaxOfPairs(ctx, es[ctx.party] as AShare, iX, iY, 'c'), opts);
for (let i = 0; i < 3; i++) { await unfused(); await fused(); }
const t: Record<'unfused' | 'fused', number[]> = { unfused: [], fused: [] };
for (let i = 0; i < reps; i++) {
  // Both orders: even reps unfused first, odd reps fused first.
  for (const arm of (i % 2 ? ['fused', 'unfused'] : ['unfused', 'fused']) as ('unfused' | 'fused')[]) {
    const t0 = performance.now();
    const r = await (arm === 'fused' ? fused() : unfused());
    t[arm].push(performance.now() - t0);
    if (i === 0) console.log(`${arm}: ${r.rounds} rounds, ${r.bytes} bytes`);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`${new Date().toISOString()} load ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${nE} elements, ${nP} pairs, ${reps} reps each`);
console.log(`unfused (pair pass + ReLU) median ${med(t.unfused).toFixed(1)} ms; fused median ${med(t.fused).toFixed(1)} ms; fused / unfused ${(med(t.fused) / med(t.unfused)).toFixed(2)}`);
