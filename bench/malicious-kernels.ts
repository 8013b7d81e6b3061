/**
 * The malicious mode's products (protocol/malicious/product.ts: matmulM and
 * mulM; the three parties in one process over the in-memory transport) on
 * three kernel sets, in one run:
 *  - native Z_2^128: the addon's gemm128 / mul128 (native/ring128.cc);
 *  - native Z_2^64 fallback: the same addon without its 128-bit members, so
 *    gemm128.ts computes each product from 19 Z_2^64 products (what ran
 *    before the 128-bit kernels);
 *  - TS fallback: the same on the TS kernels;
 * beside the semi-honest Z_2^64 products of the same shape (Beaver,
 * primitives/matmul.ts) on the native kernels. Per product: median wall ms
 * and median process CPU ms (user + system, every thread) of the three
 * parties together, after one warm-up. The MACed operands are made once,
 * outside the timed runs (as the semi-honest shares are); the column
 * "mul + check" is one mulM followed by the batched MAC check (macCheck)
 * over its output, what a product costs once verified.
 *   npx tsx bench/malicious-kernels.ts [m k n elements]   (default 64 256 64 100000)
 * MPC_BENCH_QUICK=1 runs fewer repetitions.
 */
import '../runtime/install.js';
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import { loadNativeKernels, nativeKernelInfo, nativeLoadError } from '../runtime/native-addon.js';
import { createContext } from '../protocol/context.js';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { tsKernels } from '../protocol/kernels/ts.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { publicM } from '../protocol/malicious/input.js';
import { macCheck } from '../protocol/malicious/mac-check.js';
import { matmulM, mulM } from '../protocol/malicious/product.js';
import { alloc128, type Vec128 } from '../protocol/malicious/ring128.js';
import { createMalSession, type MalSession } from '../protocol/malicious/session.js';
import { beaverBilinear, matmulOp, mulShares } from '../protocol/primitives/matmul.js';
import type { PartyId } from '../protocol/ring/types.js';
import { makeContexts, shareFor3 } from '../protocol/testing/run3.js';
import { memoryTransports } from '../protocol/transport/memory.js';

const QUICK = process.env.MPC_BENCH_QUICK === '1';
const REPS = QUICK ? 3 : 7;
const [m, k, n, ne] = process.argv.slice(2, 6).map(Number).concat([64, 256, 64, 100_000].slice(process.argv.slice(2, 6).length)) as [number, number, number, number];

const native = loadNativeKernels();
const words = (e: number): Vec128 => {
  const v = alloc128(e);
  randomFillSync(v);
  return v;
};
const u64s = (e: number): BigUint64Array => {
  const v = new BigUint64Array(e);
  randomFillSync(v);
  return v;
};
const median = (a: number[]): number => a.slice().sort((x, y) => x - y)[a.length >> 1]!;

/** Median wall and CPU ms of `REPS` runs of fn after one warm-up. */
async function time(fn: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  await fn();
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

async function malSessions(kernels: RingKernels): Promise<MalSession[]> {
  const mem = memoryTransports(), seeds = dealSeeds();
  return Promise.all(([0, 1, 2] as PartyId[]).map((p) => createMalSession(createContext(p, mem[p]!, seeds[p]!, { kernels }))));
}

interface Times { matmul: { ms: number; cpuMs: number }; mul: { ms: number; cpuMs: number }; mulCheck?: { ms: number; cpuMs: number } }

async function malicious(kernels: RingKernels): Promise<Times> {
  const ss = await malSessions(kernels);
  const A = words(m * k), B = words(k * n), x = words(ne), y = words(ne);
  const [As, Bs, xs, ys] = [A, B, x, y].map((v) => ss.map((s) => publicM(s, v)));
  const matmul = await time(() => Promise.all(ss.map((s, p) => matmulM(s, As![p]!, Bs![p]!, m, k, n))));
  const mul = await time(() => Promise.all(ss.map((s, p) => mulM(s, xs![p]!, ys![p]!))));
  const mulCheck = await time(() => Promise.all(ss.map(async (s, p) => { await mulM(s, xs![p]!, ys![p]!); await macCheck(s); })));
  return { matmul, mul, mulCheck };
}

async function semiHonest(kernels: RingKernels): Promise<Times> {
  const { contexts } = makeContexts({ kernels });
  const A = shareFor3(u64s(m * k)), B = shareFor3(u64s(k * n)), x = shareFor3(u64s(ne)), y = shareFor3(u64s(ne));
  const matmul = await time(() => Promise.all(contexts.map((ctx) => beaverBilinear(ctx, matmulOp(m, k, n), A[ctx.party], B[ctx.party]))));
  const mul = await time(() => Promise.all(contexts.map((ctx) => mulShares(ctx, x[ctx.party], y[ctx.party]))));
  return { matmul, mul };
}

const fmt = (t: { ms: number; cpuMs: number }): string => `${t.ms.toFixed(1).padStart(9)} ms (${t.cpuMs.toFixed(1).padStart(8)} CPU ms)`;

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(native ? `native: ${JSON.stringify(nativeKernelInfo())}` : `native: not available (${nativeLoadError()})`);
console.log(`matmulM ${m}x${k}x${n}, mulM ${ne} elements; three parties in one process, median of ${REPS} after a warm-up\n`);
const rows: [string, () => Promise<Times>][] = [];
if (native) {
  if (native.gemm128) rows.push(['malicious, native Z_2^128 kernels', () => malicious(native)]);
  rows.push(['malicious, native Z_2^64 fallback', () => malicious({ ...native, gemm128: undefined, mul128: undefined, mulScalar128: undefined, add128: undefined, sub128: undefined })]);
}
rows.push(['malicious, TS fallback', () => malicious(tsKernels)]);
if (native) rows.push(['semi-honest Z_2^64, native', () => semiHonest(native)]);
const results: Record<string, Times> = {};
console.log(`${''.padEnd(36)} ${'matmul'.padEnd(30)}${'mul'.padEnd(30)}mul + check`);
for (const [name, run] of rows) {
  const r = await run();
  results[name] = r;
  console.log(`${name.padEnd(36)} ${fmt(r.matmul)}  ${fmt(r.mul)}  ${r.mulCheck ? fmt(r.mulCheck) : ''}`);
}
const a = results['malicious, native Z_2^128 kernels'], b = results['malicious, native Z_2^64 fallback'], sh = results['semi-honest Z_2^64, native'];
if (a && b && sh) {
  const ratio = (x: number, y: number): string => (x / y).toFixed(2);
  console.log(`\nfallback / Z_2^128 kernels: matmul ${ratio(b.matmul.ms, a.matmul.ms)}x wall, ${ratio(b.matmul.cpuMs, a.matmul.cpuMs)}x CPU; mul ${ratio(b.mul.ms, a.mul.ms)}x wall, ${ratio(b.mul.cpuMs, a.mul.cpuMs)}x CPU`);
  console.log(`malicious / semi-honest (native): with the Z_2^128 kernels matmul ${ratio(a.matmul.ms, sh.matmul.ms)}x, mul ${ratio(a.mul.ms, sh.mul.ms)}x; with the fallback matmul ${ratio(b.matmul.ms, sh.matmul.ms)}x, mul ${ratio(b.mul.ms, sh.mul.ms)}x (wall)`);
}
