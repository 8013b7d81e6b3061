/**
 * Malicious-mode random bits and truncation next to the semi-honest
 * truncations: `npx tsx bench/malicious-prims.ts [--quick] [--n N] [--reps R]`.
 * Three parties in one process on the in-memory transport (no network
 * time: this measures computation and counts bytes). For each operation on
 * n elements: µs per element (median of the timed runs, the slowest party),
 * bytes per element (all parties, from the transport's counters) and rounds.
 * Prints a Markdown table with the CPU and the load average; the rows go
 * into BENCHMARKS.md by hand (with the command and the machine's state).
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { PartyContext } from '../protocol/context.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { randomSigned } from '../protocol/testing/values.js';
import { truncate } from '../protocol/primitives/truncate.js';
import { truncateExact } from '../protocol/primitives/truncate-exact.js';
import type { MalSession } from '../protocol/malicious/session.js';
import { inputM } from '../protocol/malicious/input.js';
import { macCheck } from '../protocol/malicious/mac-check.js';
import { randBitsM } from '../protocol/malicious/randbits.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import { TRUNC_ELL, truncM, truncMaskM, type TruncMask } from '../protocol/malicious/trunc.js';

const quick = process.argv.includes('--quick');
const nArg = process.argv.indexOf('--n');
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : quick ? 200 : 2000;
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : quick ? 1 : 3;
const F = 16;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row { name: string; ms: number; bytes: number; rounds: number }

/** Times `op` inside a malicious run (after `prep`, which is not timed): the slowest party's ms, all parties' bytes, rounds. */
async function mal<T>(name: string, prep: (s: MalSession) => Promise<T>, op: (s: MalSession, p: T) => Promise<unknown>): Promise<Row> {
  const runs: Row[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const r = await runMal3(async (s) => {
      const p = await prep(s);
      const c = s.ctx.transport.counters;
      const b0 = c.bytesSent, d0 = c.depth, t0 = performance.now();
      await op(s, p);
      return { ms: performance.now() - t0, bytes: c.bytesSent - b0, d0, d1: c.depth };
    }, { watchdogMs: 600_000 });
    const v = values(r);
    if (i > 0) runs.push({ name, ms: Math.max(...v.map((x) => x.ms)), bytes: v.reduce((t, x) => t + x.bytes, 0), rounds: Math.max(...v.map((x) => x.d1)) - Math.max(...v.map((x) => x.d0)) }); // run 0 warms up
  }
  return { name, ms: median(runs.map((r) => r.ms)), bytes: runs[0]!.bytes, rounds: runs[0]!.rounds };
}

/** The same for a semi-honest operation (timed inside each party, as above: context set-up excluded). */
async function semi(name: string, op: (ctx: PartyContext) => unknown): Promise<Row> {
  const runs: Row[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const r = await run3(async (ctx) => {
      const t0 = performance.now();
      await op(ctx);
      return performance.now() - t0;
    });
    if (i > 0) runs.push({ name, ms: Math.max(...r.results), bytes: r.bytes, rounds: r.rounds });
  }
  return { name, ms: median(runs.map((r) => r.ms)), bytes: runs[0]!.bytes, rounds: runs[0]!.rounds };
}

async function main(): Promise<void> {
  const xs = randomSigned(N, 41); // |x| < 2^40 < 2^(TRUNC_ELL - 1): a product of two f = 16 values
  const X = shareFor3(xs);
  const input = (s: MalSession) => inputM(s, 0, s.party === 0 ? liftSigned(xs) : null, N);
  const rows: Row[] = [
    await semi(`semi-honest truncate, local (SecureML), f = ${F}`, (ctx) => truncate(ctx, X[ctx.party], F)),
    await semi(`semi-honest truncateExact, f = ${F}`, (ctx) => truncateExact(ctx, X[ctx.party], F)),
    await mal('malicious randBitsM (per bit)', async () => undefined, (s) => randBitsM(s, N)),
    await mal(`malicious truncMaskM, ell = ${TRUNC_ELL} (offline part)`, async () => undefined, (s) => truncMaskM(s, N, F)),
    await mal(`malicious truncM with a mask made before (online part), f = ${F}`, async (s): Promise<[TruncMask, Awaited<ReturnType<typeof input>>]> => [await truncMaskM(s, N, F), await input(s)], (s, [mask, x]) => truncM(s, x, F, TRUNC_ELL, mask)),
    await mal(`malicious truncM without a mask, f = ${F}, ell = ${TRUNC_ELL}`, input, (s, x) => truncM(s, x, F)),
    await mal('malicious macCheck after truncM without a mask', async (s) => { await truncM(s, await input(s), F); }, (s) => macCheck(s)),
  ];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`n = ${N} elements, ${REPS} timed runs (median) after one warm-up; ${cpu}, ${cpus().length} cores; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  const base = rows[1]!; // semi-honest truncateExact: the semi-honest truncation that communicates
  console.log('| operation | µs per element | bytes per element | rounds | time / semi-honest truncateExact |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${((1000 * r.ms) / N).toFixed(2)} | ${(r.bytes / N).toFixed(1)} | ${r.rounds} | ${(r.ms / base.ms).toFixed(1)}x |`);
}

await main();
