/**
 * The malicious ReLU through the binary domain (protocol/malicious/binary/,
 * `reluBinM`) against the arithmetic one (compare.ts `reluM`), ell = 32:
 * `npx tsx bench/malicious-relu-bin.ts [--n 128] [--reps 10] [--ell 32]`.
 *
 * Three parties in one process on the in-memory transport, the input by P1
 * and a MAC check first (so the parties start each phase at the same depth).
 * Three phases, each between barriers, timed as process CPU (all three
 * parties) and wall, with bytes (all parties) and rounds (the largest
 * depth step of a party) from the transport's counters:
 *  - offline (input-independent): reluM's `compareMaskM`; reluBinM's daBits
 *    (`daBitsM`) and the verified triples for its ANDs (`stockTriplesB`);
 *  - online: `reluM(x, ell, mask)` / `reluBinM(x, ell, daBits)`;
 *  - check: the MAC check (for reluBinM it first verifies the ANDs with the
 *    stocked triples).
 * Prints one line per protocol with the medians, the CPU name and the load.
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { randomSigned } from '../protocol/testing/values.js';
import { getKernels } from '../protocol/kernels/index.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import { inputM } from '../protocol/malicious/input.js';
import { macCheck } from '../protocol/malicious/mac-check.js';
import { compareMaskM, reluM } from '../protocol/malicious/compare.js';
import type { MalSession } from '../protocol/malicious/session.js';
import { andWordsB, daBitsM, reluBinM } from '../protocol/malicious/binary/compare-bin.js';
import { stockTriplesB } from '../protocol/malicious/binary/verify.js';

const arg = (name: string, dflt: number): number => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };
const n = arg('n', 128), reps = arg('reps', 10), ell = arg('ell', 32);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Mark { cpu: NodeJS.CpuUsage; t: number; bytes: number[]; depth: number[] }
/** A gate the three parties pass together, noting CPU, wall and each party's counters when the last one arrives. */
function barrier(): { wait: (s: MalSession) => Promise<void>; at: () => Mark } {
  let count = 0, open!: () => void;
  const bytes = [0, 0, 0], depth = [0, 0, 0];
  let at: Mark = { cpu: process.cpuUsage(), t: 0, bytes, depth };
  const gate = new Promise<void>((r) => { open = r; });
  return {
    wait: (s) => {
      const c = s.ctx.transport.counters;
      bytes[s.party] = c.bytesSent; depth[s.party] = c.depth;
      if (++count === 3) { at = { cpu: process.cpuUsage(), t: performance.now(), bytes, depth }; open(); }
      return gate;
    },
    at: () => at,
  };
}

type Phase = { cpu: number; wall: number; bytes: number; rounds: number };
const phase = (a: Mark, b: Mark): Phase => ({
  cpu: (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000,
  wall: b.t - a.t,
  bytes: b.bytes.reduce((t, v) => t + v, 0) - a.bytes.reduce((t, v) => t + v, 0),
  rounds: Math.max(...b.depth.map((d, p) => d - a.depth[p]!)),
});

async function once(kind: 'reluM' | 'reluBinM', xs: BigUint64Array): Promise<Phase[]> {
  const g = [barrier(), barrier(), barrier(), barrier()];
  await runMal3(async (s) => {
    const x = await inputM(s, 1, s.party === 1 ? liftSigned(xs) : null, xs.length);
    await macCheck(s);
    await g[0]!.wait(s);
    if (kind === 'reluM') {
      const mask = await compareMaskM(s, n, ell);
      await g[1]!.wait(s);
      await reluM(s, x, ell, mask);
    } else {
      const d = await daBitsM(s, n);
      await stockTriplesB(s, andWordsB(n, ell));
      await g[1]!.wait(s);
      await reluBinM(s, x, ell, d);
    }
    await g[2]!.wait(s);
    await macCheck(s);
    await g[3]!.wait(s);
  }, { watchdogMs: 600_000 }).then(values);
  const m = g.map((b) => b.at());
  return [phase(m[0]!, m[1]!), phase(m[1]!, m[2]!), phase(m[2]!, m[3]!)];
}

async function main(): Promise<void> {
  const xs = randomSigned(n, ell - 4);
  const kinds = ['reluM', 'reluBinM'] as const;
  for (let i = 0; i < 2; i++) for (const k of kinds) await once(k, xs); // warm-up (JIT)
  const runs: Record<string, Phase[][]> = { reluM: [], reluBinM: [] };
  for (let i = 0; i < reps; i++) for (const k of kinds) runs[k]!.push(await once(k, xs)); // alternating
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`n = ${n}, ell = ${ell}, ${reps} runs each (alternating, after 2 warm-ups); ${cpus().length} x ${cpus()[0]?.model}, kernels ${getKernels().name}, load ${load}`);
  for (const k of kinds) {
    const cells = ['offline', 'online', 'check'].map((name, p) => {
      const ph = runs[k]!.map((r) => r[p]!);
      const bytes = median(ph.map((r) => r.bytes)), rounds = median(ph.map((r) => r.rounds));
      return `${name}: ${rounds} rounds, ${bytes} B (${(bytes / n).toFixed(0)} B/elem), CPU ${median(ph.map((r) => r.cpu)).toFixed(2)} ms (${(1000 * median(ph.map((r) => r.cpu)) / n).toFixed(1)} us/elem), wall ${median(ph.map((r) => r.wall)).toFixed(2)} ms`;
    });
    console.log(`${k.padEnd(8)} | ${cells.join(' | ')}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
