/**
 * Malicious-mode comparisons against the semi-honest ones:
 * `npx tsx bench/malicious-compare.ts [--n 2000] [--reps 3]`.
 *
 * Three parties in one process on the in-memory transport, one sitting:
 * semi-honest ReLU (the default 'direct' route on the 32-bit comparison ring
 * and the paper route) and MaxPool 2x2, then the malicious msbM / reluM
 * (ell = 32 and 64) and maxPoolM 2x2 (ell = 32) on the same number of
 * elements (protocol/malicious/compare.ts, maxpool.ts); one ReLU row with
 * its mask made before the clock (the online part), and the batched MAC
 * check after a ReLU timed apart (it must run before anything leaves; the
 * same convention as bench/malicious-prims.ts). Inputs are shared before the clock starts. Reports ms and bytes per
 * element, rounds, and the malicious / semi-honest ratios of this sitting.
 * Prints a Markdown table (BENCHMARKS.md, "Malicious comparisons").
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { maxPool } from '../protocol/primitives/maxpool.js';
import { relu } from '../protocol/primitives/relu.js';
import { reluDirect } from '../protocol/primitives/relu-direct.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { randomSigned } from '../protocol/testing/values.js';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { getKernels } from '../protocol/kernels/index.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import type { MShare } from '../protocol/malicious/rep.js';
import type { MalSession } from '../protocol/malicious/session.js';
import { inputM } from '../protocol/malicious/input.js';
import { macCheck } from '../protocol/malicious/mac-check.js';
import { compareMaskM, msbM, reluM, type CompareMask } from '../protocol/malicious/compare.js';
import { maxPoolM } from '../protocol/malicious/maxpool.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const n = arg('n', 2000), reps = arg('reps', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row { what: string; ms: number; rounds: number; bytes: number; elements: number }

async function timed(what: string, elements: number, once: () => Promise<{ ms: number; rounds: number; bytes: number }>): Promise<Row> {
  await once(); // warm-up
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(await once());
  const row = { what, ms: median(runs.map((r) => r.ms)), rounds: runs[0]!.rounds, bytes: runs[0]!.bytes, elements };
  console.error(`${what}: ${row.ms.toFixed(0)} ms, ${row.rounds} rounds, ${(row.bytes / elements).toFixed(0)} B/element`);
  return row;
}

/** A semi-honest protocol over run3 (shares dealt before the clock). */
function semiHonest(fn: Parameters<typeof run3>[0], opts: Parameters<typeof run3>[1] = {}) {
  return async () => {
    const t = performance.now();
    const r = await run3(fn, opts);
    return { ms: performance.now() - t, rounds: r.rounds, bytes: r.bytes };
  };
}

/** A malicious protocol: input by P1 and `pre` untimed, then op timed (the slowest party; bytes and rounds of that part), then the MAC check, timed apart. */
function malicious<P>(xs: BigUint64Array, op: (s: MalSession, x: MShare, pre: P) => Promise<unknown>, pre?: (s: MalSession, x: MShare) => Promise<P>) {
  return async () => {
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 1, s.party === 1 ? liftSigned(xs) : null, xs.length);
      const p = pre ? await pre(s, x) : (undefined as P);
      const c = s.ctx.transport.counters, b0 = c.bytesSent, d0 = c.depth, t = performance.now();
      await op(s, x, p);
      return { ms: performance.now() - t, bytes: c.bytesSent - b0, d0, d1: c.depth };
    }, { watchdogMs: 600_000 });
    const v = values(r);
    // Rounds: from the deepest party before to the deepest after (the input leaves the parties at unequal depths).
    return { ms: Math.max(...v.map((p) => p.ms)), rounds: Math.max(...v.map((p) => p.d1)) - Math.max(...v.map((p) => p.d0)), bytes: v.reduce((t, p) => t + p.bytes, 0) };
  };
}

async function main() {
  const k = getKernels();
  const x = randomSigned(n, 28), w = randomSigned(4 * n, 28);
  const X = shareFor3(x), W = shareFor3(w);
  const rows: Row[] = [];
  rows.push(await timed('semi-honest ReLU, direct, 32-bit comparison ring (default)', n, semiHonest((ctx) => reluDirect(ctx, X[ctx.party]), { compareBits: 32 })));
  rows.push(await timed('semi-honest ReLU, paper route (ShareConvert + ComputeMSB)', n, semiHonest((ctx) => relu(ctx, X[ctx.party]))));
  rows.push(await timed('semi-honest MaxPool 2x2, direct, 32-bit ring (per window)', n, semiHonest((ctx) => maxPool(ctx, W[ctx.party], n, 4), { compareBits: 32 })));
  rows.push(await timed('malicious msbM, ell = 32', n, malicious(x, (s, v) => msbM(s, v, 32))));
  rows.push(await timed('malicious reluM, ell = 32', n, malicious(x, (s, v) => reluM(s, v, 32))));
  rows.push(await timed('malicious reluM, ell = 32, online part (compareMaskM made before the clock)', n, malicious<CompareMask>(x, (s, v, mask) => reluM(s, v, 32, mask), (s) => compareMaskM(s, n, 32))));
  rows.push(await timed('malicious macCheck after reluM, ell = 32 (every value it made and opened)', n, malicious(x, (s) => macCheck(s), async (s, v) => { await reluM(s, v, 32); })));
  rows.push(await timed('malicious reluM, ell = 64', n, malicious(x, (s, v) => reluM(s, v, 64))));
  // n windows: a 2 x 2 x n image (n channels), one 2x2 window per channel.
  rows.push(await timed('malicious maxPoolM 2x2, ell = 32 (per window)', n, malicious(w, (s, v) => maxPoolM(s, v, { h: 2, w: 2, c: n }, { kh: 2, kw: 2, sh: 2, sw: 2 }, 32))));
  const base = (i: number) => rows[i]!;
  const ratio = (r: Row, b: Row) => `${(r.ms / b.ms).toFixed(1)}x time, ${(r.bytes / b.bytes).toFixed(0)}x bytes, ${r.rounds} vs ${b.rounds} rounds`;
  const note = (r: Row, i: number) => (i < 3 ? '' : r.what.includes('maxPool') ? ratio(r, base(2)) : r.what.includes('macCheck') ? `${(r.ms / base(0).ms).toFixed(1)}x the semi-honest ReLU's time` : ratio(r, base(0)));
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`Command: \`npx tsx bench/malicious-compare.ts --n ${n} --reps ${reps}\`, ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model}, kernels: ${k.name}, load average at the end ${load} (shared machine), medians of ${reps} after one warm-up.\n`);
  console.log('| what | n | ms | ms / element | rounds | bytes / element | against the semi-honest row (this sitting) |');
  console.log('|---|---|---|---|---|---|---|');
  rows.forEach((r, i) => console.log(`| ${r.what} | ${r.elements} | ${r.ms.toFixed(0)} | ${(r.ms / r.elements).toFixed(3)} | ${r.rounds} | ${(r.bytes / r.elements).toFixed(0)} | ${note(r, i)} |`));
}

main().catch((e) => { console.error(e); process.exit(1); });
