/**
 * One malicious ReLU's online part, CPU time:
 * `npx tsx bench/malicious-relu-online.ts [--n 128] [--reps 30] [--ell 32]`.
 *
 * Three parties in one process on the in-memory transport. Per run: the
 * input (inputM by P1) and the comparison's mask (compareMaskM) made before
 * the clock; then a barrier, and reluM(x, ell, mask) timed from the moment
 * the three parties are all past the barrier until the last one is done:
 * process CPU (user + system, all three parties, so the wait for a core on
 * a loaded machine is left out) and wall. No MAC check (timed by
 * bench/malicious-compare.ts). The protocol's own files only: the same
 * script runs on a checkout of main, of s36-mal and of this branch (the
 * rows "radix-4 level, CPU" in BENCHMARKS.md). Prints one line of medians
 * with the CPU name and the load average.
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { randomSigned } from '../protocol/testing/values.js';
import { getKernels } from '../protocol/kernels/index.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import { inputM } from '../protocol/malicious/input.js';
import { compareMaskM, reluM } from '../protocol/malicious/compare.js';

const arg = (name: string, dflt: number): number => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };
const n = arg('n', 128), reps = arg('reps', 30), ell = arg('ell', 32), label = process.argv.includes('--label') ? process.argv[process.argv.indexOf('--label') + 1]! : '';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A gate the three parties pass together; `at` holds the process CPU and wall clock when the last one arrived. */
function barrier(): { wait: () => Promise<void>; at: () => { cpu: NodeJS.CpuUsage; t: number } } {
  let count = 0, open!: () => void, at = { cpu: process.cpuUsage(), t: 0 };
  const gate = new Promise<void>((r) => { open = r; });
  return { wait: () => { if (++count === 3) { at = { cpu: process.cpuUsage(), t: performance.now() }; open(); } return gate; }, at: () => at };
}

async function once(xs: BigUint64Array): Promise<{ cpu: number; wall: number }> {
  const start = barrier(), end = barrier();
  await runMal3(async (s) => {
    const x = await inputM(s, 1, s.party === 1 ? liftSigned(xs) : null, xs.length);
    const mask = await compareMaskM(s, n, ell);
    await start.wait();
    await reluM(s, x, ell, mask);
    await end.wait();
  }, { watchdogMs: 600_000 }).then(values);
  const a = start.at(), b = end.at();
  return { cpu: (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000, wall: b.t - a.t };
}

async function main(): Promise<void> {
  const xs = randomSigned(n, ell - 4);
  for (let i = 0; i < 5; i++) await once(xs); // warm-up (JIT)
  const runs: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < reps; i++) runs.push(await once(xs));
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`${label ? label + ': ' : ''}reluM ell = ${ell}, n = ${n}, online part: median CPU ${median(runs.map((r) => r.cpu)).toFixed(2)} ms, median wall ${median(runs.map((r) => r.wall)).toFixed(2)} ms (${reps} runs after 5 warm-ups; ${cpus().length} x ${cpus()[0]?.model}, kernels ${getKernels().name}, load ${load})`);
}

main().catch((e) => { console.error(e); process.exit(1); });
